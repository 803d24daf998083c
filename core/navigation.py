"""The parts of the product a user may use, shown on the home page and in the header.

Each entry names a URL and a predicate on the user (from the app's ``permissions.py``);
apps register their entries in ``AppConfig.ready()`` so that the home page and the menu
never offer a part the user's role cannot open."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise


@lru_cache(maxsize=256)
def _reverse(url_name: str, script_prefix: str, urlconf: str) -> str:
    return reverse(url_name, urlconf=urlconf)


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    description: str | Promise
    url_name: str
    allowed: Callable

    def url(self) -> str:
        """The entry's address. Every page shows the menu (and the home page the entries
        again): reversed once per process for each prefix and URL conf, not on each page."""
        return _reverse(self.url_name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


NAV_ITEMS: list[NavItem] = []


def register(item: NavItem) -> None:
    NAV_ITEMS.append(item)


def items_for(user) -> list[NavItem]:
    return [item for item in NAV_ITEMS if item.allowed(user)]
