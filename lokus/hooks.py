"""What higher apps tell the lokus app about their own records.

A lower app never imports a higher one: the reports app registers a lookup here (in
``ReportsConfig.ready``) that says which lokus already have a team report, so that the
work queue's step-6 prompt ("compile and send the team report") gives way to the report's
own task once the report exists. A lookup takes a list of lokus ids and returns the set of
those that have a report."""

from collections.abc import Callable, Iterable

REPORT_LOOKUPS: list[Callable[[list[int]], Iterable[int]]] = []


def register_report_lookup(lookup: Callable[[list[int]], Iterable[int]]) -> None:
    if lookup not in REPORT_LOOKUPS:
        REPORT_LOOKUPS.append(lookup)


def lokus_with_report(lokus_ids: Iterable[int]) -> set[int]:
    """Which of these lokus have a team report (no query when there are none to ask about)."""
    ids = list(lokus_ids)
    if not ids:
        return set()
    return {pk for lookup in REPORT_LOOKUPS for pk in lookup(ids)}
