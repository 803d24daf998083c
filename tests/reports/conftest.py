"""Thin fixtures over ``tests/reports/builders.py``: the cast's Wasdin lokus after the field
work, and its report at each step of the chain."""

import pytest

from tests.reports import builders


@pytest.fixture
def field_done_lokus(cast):
    return builders.make_field_done_lokus(cast)


@pytest.fixture
def report(cast, field_done_lokus):
    """The Korlap's draft with every required section filled (version 2), not yet sent."""
    return builders.start_report(cast, field_done_lokus)


@pytest.fixture
def walk(cast):
    """``walk(report, to_state)``: move the report up the chain by the cast's officers."""

    def _walk(report, to_state):
        return builders.walk(report, to_state, cast)

    return _walk


@pytest.fixture
def report_in(cast):
    """``report_in(state, **plan_overrides)``: a fresh report already in that state."""

    def _report_in(state, **plan_overrides):
        return builders.make_report_in(cast, state, **plan_overrides)

    return _report_in
