"""Addresses of many objects of one kind: the URL's pattern reversed once per process (for each
script prefix and URL conf), each object's id then put in its place. A ``reverse()`` for each
row of a list, tile of the home page or marker of the map cost more than the rest of the row."""

from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

# Stands for the id while the pattern is reversed: digits, so that it fits an <int:...> part.
_SENTINEL = "987654321"


@lru_cache(maxsize=256)
def _halves(url_name: str, script_prefix: str, urlconf: str) -> tuple[str, str]:
    head, tail = reverse(url_name, args=[_SENTINEL], urlconf=urlconf).rsplit(_SENTINEL, 1)
    return head, tail


def url_for(url_name: str) -> Callable[[int], str]:
    """A function giving, for an object's id, what ``reverse(url_name, args=[id])`` gives
    (``url_name`` must take exactly one integer argument)."""
    head, tail = _halves(url_name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    return lambda pk: f"{head}{int(pk)}{tail}"
