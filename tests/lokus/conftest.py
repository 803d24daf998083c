"""Thin fixtures over ``tests/lokus/builders.py``: the cast's Wasdin lokus at each step.

The plan is submitted by cast["partner"] and chosen by cast["kasubbid"] (Wasdin); the team is
cast["member"] and cast["coordinator"], the latter its Koordinator Lapangan."""

import pytest

from lokus import services
from tests.lokus import builders


@pytest.fixture
def make_plan(cast):
    """``make_plan(submitted_by, **overrides)``: a plan submitted through the service."""
    return builders.make_plan


@pytest.fixture
def team(cast):
    return [cast["member"], cast["coordinator"]]


@pytest.fixture
def plan(cast):
    return builders.make_plan(cast["partner"])


@pytest.fixture
def chosen_lokus(cast, plan):
    return services.plan_choose(user=cast["kasubbid"], plan_id=plan.pk)


@pytest.fixture
def ready_lokus(cast, chosen_lokus, team):
    services.lokus_update(user=cast["kasubbid"], lokus_id=chosen_lokus.pk, data=builders.ready_data(chosen_lokus))
    services.lokus_set_team(
        user=cast["kasubbid"], lokus_id=chosen_lokus.pk, members=team, coordinator=cast["coordinator"]
    )
    chosen_lokus.refresh_from_db()
    return chosen_lokus


@pytest.fixture
def dispatched_lokus(cast, ready_lokus):
    return services.lokus_dispatch(user=cast["kasubbid"], lokus_id=ready_lokus.pk)


@pytest.fixture
def running_lokus(cast, dispatched_lokus, team):
    return builders.advance_to_running(dispatched_lokus, team, cast["coordinator"])


@pytest.fixture
def world(cast):
    return builders.seed_world(cast)
