"""What higher apps tell the lokus app about their own records.

A lower app never imports a higher one: the reports app registers a lookup here (in
``ReportsConfig.ready``) that says which lokus already have a team report, so that the
work queue's step-6 prompt ("compile and send the team report") gives way to the report's
own task once the report exists. A lookup takes the name of a field that holds a lokus id
(an ``OuterRef`` target, such as ``"lokus_id"`` on an assignment) and returns a condition
that is true where that lokus has a report: the work queue filters on it in the database,
however many lokus a Korlap has coordinated."""

from collections.abc import Callable
from functools import reduce

from django.db.models import Q

REPORT_LOOKUPS: list[Callable[[str], Q]] = []


def register_report_lookup(lookup: Callable[[str], Q]) -> None:
    if lookup not in REPORT_LOOKUPS:
        REPORT_LOOKUPS.append(lookup)


def without_report(lokus_field: str) -> Q:
    """A condition true where the lokus named by ``lokus_field`` has no team report (always
    true when no app keeps reports)."""
    return reduce(lambda q, lookup: q & ~Q(lookup(lokus_field)), REPORT_LOOKUPS, Q())
