"""The sane range of the dates and times people type in, in one place.

Every date and time a user can enter (the schedule of a plan or a lokus, the meeting time,
when a Berita Acara was held) must lie between ``EARLIEST`` (1 January 2000, WIB) and
``YEARS_AHEAD`` (5) years from now. Nothing this product records happened before 2000 or is
planned further ahead, and some values outside the range cannot even be represented:
0001-01-01T00:00 WIB lies before ``datetime.min`` once converted to UTC (Python raises
OverflowError), and PostgreSQL stores it as a BC timestamp that psycopg2 cannot read back,
so every page showing it would fail. Rules that relate one value to another (the end after
the start, a Berita Acara not before its lokus) are in the models' ``clean()``.

``manage.py check_dates`` lists rows stored outside the range before validation existed
(``out_of_range_rows``); templates show dates through the ``wib`` filter
(core/templatetags/dates.py), which shows an unrepresentable value as invalid."""

import datetime
from collections.abc import Iterator

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import formats, timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

EARLIEST = datetime.date(2000, 1, 1)
YEARS_AHEAD = 5


def earliest() -> datetime.datetime:
    """The first moment accepted: midnight WIB at the start of ``EARLIEST``."""
    return datetime.datetime.combine(EARLIEST, datetime.time.min, tzinfo=timezone.get_default_timezone())


def latest(now: datetime.datetime | None = None) -> datetime.datetime:
    """The last moment accepted: ``YEARS_AHEAD`` years from now (29 February -> 28 February)."""
    now = timezone.localtime(now)
    try:
        return now.replace(year=now.year + YEARS_AHEAD)
    except ValueError:
        return now.replace(year=now.year + YEARS_AHEAD, day=28)


def in_range(value) -> bool:
    """Whether a date or aware datetime lies in the sane range. A value that cannot be
    compared or converted (a naive datetime, year 1 near midnight) is out of range."""
    try:
        if isinstance(value, datetime.datetime):
            if timezone.is_naive(value):
                return False
            return earliest() <= value <= latest()
        if isinstance(value, datetime.date):
            return EARLIEST <= value <= latest().date()
    except (OverflowError, ValueError):
        return False
    return False


@deconstructible
class SaneDateTimeValidator:
    """Refuses a date or time outside ``EARLIEST`` .. ``YEARS_AHEAD`` years from now, with a
    message naming the field (``label``), so that it is clear also where the message is
    shown away from its field."""

    code = "date_out_of_range"

    def __init__(self, label=None):
        self.label = label

    def __call__(self, value) -> None:
        if value is None or in_range(value):
            return
        bounds = {"earliest": formats.date_format(EARLIEST, "j F Y"), "latest": formats.date_format(latest(), "j F Y")}
        if self.label:
            message = _("%(field)s: enter a date between %(earliest)s and %(latest)s.")
            bounds["field"] = str(self.label)[:1].upper() + str(self.label)[1:]
        else:
            message = _("Enter a date between %(earliest)s and %(latest)s.")
        raise ValidationError(message, code=self.code, params=bounds)

    def __eq__(self, other) -> bool:
        return isinstance(other, SaneDateTimeValidator) and str(self.label) == str(other.label)

    def __hash__(self) -> int:
        return hash(str(self.label))


def sane_datetime(label=None) -> SaneDateTimeValidator:
    """The validator of every date and time a user can enter (model and form fields)."""
    return SaneDateTimeValidator(label)


def checked_date_fields() -> Iterator[tuple[type[models.Model], models.Field]]:
    """Every model field that carries the sane-range validator."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.DateField) and any(
                isinstance(v, SaneDateTimeValidator) for v in field.validators
            ):
                yield model, field


def out_of_range_rows() -> Iterator[tuple[type[models.Model], int, str]]:
    """(model, pk, field name) of every stored value outside the sane range. The range is
    compared in SQL and only primary keys are read, so that a value Python cannot represent
    (a BC timestamp in PostgreSQL) is found instead of failing."""
    start, end = earliest(), latest()
    for model, field in checked_date_fields():
        if isinstance(field, models.DateTimeField):
            low, high = start, end
        else:
            low, high = EARLIEST, end.date()
        outside = models.Q(**{f"{field.name}__lt": low}) | models.Q(**{f"{field.name}__gt": high})
        for pk in model._default_manager.filter(outside).order_by("pk").values_list("pk", flat=True):
            yield model, pk, field.name
