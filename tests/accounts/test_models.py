import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.validators import validate_nip, validate_phone
from tests.factories import UserFactory


@pytest.mark.parametrize(
    "nip",
    ["198503122010011001", "196901111996121001", "199206172015032004", ""],
)
def test_valid_nip(nip):
    validate_nip(nip)


@pytest.mark.parametrize(
    ("nip", "code"),
    [
        ("19850312201001100", "nip_format"),  # 17 digits
        ("1985031220100110011", "nip_format"),  # 19 digits
        ("19850312201001100A", "nip_format"),
        ("198513122010011001", "nip_birth_date"),  # month 13
        ("198502302010011001", "nip_birth_date"),  # 30 February
        ("198503122010131001", "nip_appointment"),  # appointment month 13
        ("198503121990011001", "nip_appointment"),  # appointed at age 4
        ("198503122010013001", "nip_sex"),
    ],
)
def test_invalid_nip(nip, code):
    with pytest.raises(ValidationError) as excinfo:
        validate_nip(nip)
    assert excinfo.value.code == code


@pytest.mark.parametrize("phone", ["081234567890", "0812-3456-7890", "+62 812 3456 7890", "6281234567"])
def test_valid_phone(phone):
    validate_phone(phone)


@pytest.mark.parametrize("phone", ["12345", "021-5555-1234", "+1 555 123 4567", "08abc"])
def test_invalid_phone(phone):
    with pytest.raises(ValidationError):
        validate_phone(phone)


def test_user_full_clean_reports_nip_in_indonesian(db):
    user = UserFactory.build(username="x", full_name="X", nip="123")
    with pytest.raises(ValidationError) as excinfo:
        user.full_clean()
    assert "NIP harus tepat 18 digit." in excinfo.value.message_dict["nip"]


def test_nip_unique_when_present(db):
    UserFactory(username="a", nip="198503122010011001")
    UserFactory(username="b", nip="")
    UserFactory(username="c", nip="")  # several users without a NIP are fine
    with pytest.raises(IntegrityError):
        UserFactory(username="d", nip="198503122010011001")


def test_user_names(db):
    user = UserFactory(username="rudi", full_name="Rudi Hartono")
    assert str(user) == "Rudi Hartono"
    assert user.get_full_name() == "Rudi Hartono"
    assert user.get_short_name() == "Rudi"
