"""The parts of the product a user may use, shown on the home page and in the header.

Each entry names a URL and a predicate on the user (from the app's ``permissions.py``);
apps register their entries in ``AppConfig.ready()`` so that the home page and the menu
never offer a part the user's role cannot open."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    description: str | Promise
    url_name: str
    allowed: Callable

    def url(self) -> str:
        return reverse(self.url_name)


NAV_ITEMS: list[NavItem] = []


def register(item: NavItem) -> None:
    NAV_ITEMS.append(item)


def items_for(user) -> list[NavItem]:
    return [item for item in NAV_ITEMS if item.allowed(user)]
