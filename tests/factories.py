import datetime

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.enums import AgencyKind, Role
from accounts.models import Agency, SubDivision, User

TEST_PASSWORD = "Sandi-uji-yang-panjang-123"


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Instansi Mitra {n}")
    kind = AgencyKind.POLRI


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"pengguna{n}")
    full_name = factory.Sequence(lambda n: f"Pengguna Uji {n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@uji.invalid")
    phone = "081234567890"
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set([Group.objects.get(name=Role(role).value) for role in extracted])


def sub_division(code: str) -> SubDivision:
    return SubDivision.objects.get(code=code)


def wib(*args) -> datetime.datetime:
    """An aware datetime in WIB (Asia/Jakarta)."""
    return timezone.make_aware(datetime.datetime(*args))
