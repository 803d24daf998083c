"""Validators for Indonesian identifiers used on user profiles."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

NIP_LENGTH = 18


def validate_nip(value: str) -> None:
    """A civil-servant number (NIP): 18 digits laid out as
    birth date YYYYMMDD, appointment YYYYMM, sex (1 or 2), serial number (3 digits)."""
    if not value:
        return
    if not re.fullmatch(r"\d{18}", value):
        raise ValidationError(_("NIP must be exactly 18 digits."), code="nip_format")
    try:
        born = datetime.date(int(value[0:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        raise ValidationError(
            _("The first 8 digits of the NIP must be a valid birth date (YYYYMMDD)."),
            code="nip_birth_date",
        ) from None
    appointed_year, appointed_month = int(value[8:12]), int(value[12:14])
    if not 1 <= appointed_month <= 12 or appointed_year < born.year + 15:
        raise ValidationError(
            _("Digits 9-14 of the NIP must be a valid appointment month (YYYYMM)."),
            code="nip_appointment",
        )
    if value[14] not in "12":
        raise ValidationError(_("Digit 15 of the NIP must be 1 or 2."), code="nip_sex")


PHONE_RE = re.compile(r"^(\+62|62|0)8\d{7,12}$")


def normalise_phone(value: str) -> str:
    return re.sub(r"[\s\-().]", "", value or "")


def validate_phone(value: str) -> None:
    """An Indonesian mobile number such as 0812-3456-7890 or +62 812 3456 7890."""
    if value and not PHONE_RE.match(normalise_phone(value)):
        raise ValidationError(
            _("Enter an Indonesian mobile number, e.g. 0812-3456-7890 or +62 812 3456 7890."),
            code="phone",
        )
