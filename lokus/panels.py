"""Sections that higher apps add to the lokus pages.

A lower app never imports a higher one: the reports app registers a provider here (in
``ReportsConfig.ready``) that gives the lokus and assignment pages their team-report
section. A provider takes (user, lokus) and returns a ``Panel`` or None."""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict = field(default_factory=dict)


PROVIDERS: list[Callable] = []


def register(provider: Callable) -> None:
    if provider not in PROVIDERS:
        PROVIDERS.append(provider)


def panels_for(user, lokus) -> list[Panel]:
    return [panel for provider in PROVIDERS if (panel := provider(user, lokus)) is not None]
