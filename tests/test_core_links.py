"""core.links.url_for: the same address as reverse() for every id, under any script prefix
(the product mounted below a path), without reversing again per id."""

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix

from core import links

NAMES = ["lokus:detail", "lokus:plan_detail", "lokus:assignment", "reports:detail"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("prefix", ["/", "/kesbangpol/lokus/"])
def test_the_address_is_reverses(name, prefix):
    set_script_prefix(prefix)
    try:
        url = links.url_for(name)
        for pk in (1, 7, 42, 987654321, 10**12):
            assert url(pk) == reverse(name, args=[pk])
    finally:
        clear_script_prefix()


def test_the_pattern_is_reversed_once_per_prefix(monkeypatch):
    calls = []
    real = links.reverse
    monkeypatch.setattr(links, "reverse", lambda *a, **k: calls.append(a) or real(*a, **k))
    links._halves.cache_clear()

    for _ in range(3):
        [links.url_for("lokus:detail")(pk) for pk in range(50)]

    assert len(calls) == 1


def test_only_an_id_goes_in():
    url = links.url_for("lokus:detail")
    with pytest.raises((TypeError, ValueError)):
        url("1/../../admin")
