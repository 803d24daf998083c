"""The parts of the product a user may use, shown on the home page and in the header.

Each entry names a URL and a test on the user; apps add their entries here so that the
home page and the menu never offer a part the user's role cannot open."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.enums import Role


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    description: str | Promise
    url_name: str
    allowed: Callable

    def url(self) -> str:
        return reverse(self.url_name)


def _is_admin(user) -> bool:
    return user.is_staff and (user.is_superuser or user.has_role(Role.ADMIN))


NAV_ITEMS: list[NavItem] = []


def register(item: NavItem) -> None:
    NAV_ITEMS.append(item)


def items_for(user) -> list[NavItem]:
    return [item for item in NAV_ITEMS if item.allowed(user)]


register(
    NavItem(
        _("Administration"),
        _("Configure people, roles, agencies, standards and reference areas."),
        "admin:index",
        _is_admin,
    )
)
