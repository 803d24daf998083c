"""Who may see the monitoring and evaluation figures (monev), and of which sub-divisions.

- The Kabid Kesbang and the Kepala Badan see everything: the leadership's view of every lokus
  (``lokus.permissions.sees_all_lokus``).
- A Kasubbid placed in a sub-division sees the figures of that sub-division only: the lokus
  they manage (``lokus.permissions.is_lokus_manager``), their reports and the people who
  worked on them.
- Nobody else: partners, field officers (the Korlap included), the administrator. The pages
  answer 403 to them, as every other page a role cannot open (``may_view_monev``).

``monev_scope`` is the one rule; the dashboard, the map, the exports, the menu entry and every
figure's query read it. Plans that are not yet decided belong to no sub-division: every
Kasubbid may decide them (step 2 is a shared queue), so they count in every scope; a decided
plan counts for the sub-division that decided it (``plan_scope_q``)."""

from __future__ import annotations

from django.db.models import Q

from lokus import permissions as lokus_permissions
from lokus.selectors import plans_of_sub_divisions

# The scope of someone who may see no figures at all.
NOTHING: frozenset[int] = frozenset()


def monev_scope(user) -> frozenset[int] | None:
    """The sub-divisions whose figures the user may see: None for all of them (the
    leadership), the Kasubbid's own sub-division, or ``NOTHING``."""
    if lokus_permissions.sees_all_lokus(user):
        return None
    if lokus_permissions.is_lokus_manager(user):
        return frozenset({user.sub_division_id})
    return NOTHING


def may_view_monev(user) -> bool:
    """The dashboard, the map, the exports and the menu entry."""
    return monev_scope(user) != NOTHING


def narrowed(scope: frozenset[int] | None, sub_division_id: int | None) -> frozenset[int] | None:
    """The scope further limited to one chosen sub-division (a filter); a sub-division outside
    the user's scope gives ``NOTHING``, never more than the scope."""
    if sub_division_id is None:
        return scope
    if scope is None or sub_division_id in scope:
        return frozenset({sub_division_id})
    return NOTHING


def lokus_scope_q(scope: frozenset[int] | None, prefix: str = "") -> Q:
    """A filter on lokus (or on what belongs to one, through ``prefix``: "lokus__",
    "report__lokus__") for the scope."""
    if scope is None:
        return Q()
    return Q(**{f"{prefix}sub_division_id__in": sorted(scope)})


def plan_scope_q(scope: frozenset[int] | None, prefix: str = "") -> Q:
    """A filter on plans for the scope: plans still waiting for a decision (every Kasubbid's
    queue), plans chosen as a lokus of the scope, plans a Kasubbid of the scope declined
    (``lokus.selectors.plans_of_sub_divisions``, which the plan list's filter uses too)."""
    if scope is None:
        return Q()
    return plans_of_sub_divisions(scope, prefix)
