"""The stored step occurrences (monev/occurrences.py, ``monev.models.StepOccurrence``): each
change of a plan, lokus, team or report replaces its plan's rows, so the table always holds
what a rebuild from scratch would give; after the commit in production, at once in tests; a
refresh that fails never undoes the change; the nightly rebuild repairs what no signal told;
two refreshes of one plan at once leave one copy of its rows."""

import logging

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from lokus import services as lokus_services
from lokus.models import ActivityPlan, Assignment, StepStandard
from monev import occurrences
from monev.models import StepOccurrence
from reports.enums import ReportState
from tests.helpers import race
from tests.lokus import builders as lokus_builders
from tests.reports import builders as report_builders

FIELDS = [f.attname for f in StepOccurrence._meta.concrete_fields if f.attname != "id"]


def stored(plan_ids=None) -> list[tuple]:
    rows = StepOccurrence.objects.all()
    if plan_ids is not None:
        rows = rows.filter(plan_id__in=plan_ids)
    return sorted(rows.values_list(*FIELDS), key=repr)


def rebuilt() -> list[tuple]:
    occurrences.rebuild()
    return stored()


@pytest.mark.django_db
def test_every_change_keeps_the_rows_a_rebuild_would_give(cast):
    report = report_builders.make_report(cast)
    plan_id = report.lokus.plan_id
    assert stored([plan_id]) == rebuilt()
    report_builders.walk(report, ReportState.RETURNED_TO_KORLAP, cast)
    assert stored() == rebuilt()
    report_builders.walk(report, ReportState.APPROVED, cast)
    after_approval = stored()
    assert after_approval == rebuilt()
    steps = {(kind, step) for kind, step, *_rest in StepOccurrence.objects.values_list("kind", "step", "plan_id")}
    assert {("step", n) for n in range(1, 16)} <= steps
    assert ("chain", 0) in steps and ("member", 4) in steps and ("member", 5) in steps
    # The chain ended, once, in the second round: returned once at the Kasubbid's
    # verification (step 9).
    chain = StepOccurrence.objects.get(kind="chain")
    assert chain.ended_at == ActivityPlan.objects.get(pk=plan_id).lokus.report.approved_at
    assert chain.rounds == 2
    assert StepOccurrence.objects.filter(step=9, returned=True).count() == 1

    # A plan declined, one waiting: counted for every scope (shared) until decided.
    waiting = lokus_builders.make_plan(cast["partner"], title="Menunggu")
    row = StepOccurrence.objects.get(plan_id=waiting.pk, step=2)
    assert (row.ended_at, row.shared, row.scope_id) == (None, True, None)
    lokus_services.plan_mark_not_chosen(user=cast["kasubbid"], plan_id=waiting.pk, reason="Tidak relevan")
    row = StepOccurrence.objects.get(plan_id=waiting.pk, step=2)
    assert row.ended_at is not None and not row.shared
    assert row.scope_id == cast["kasubbid"].sub_division_id
    assert stored() == rebuilt()


@pytest.mark.django_db
def test_a_removed_member_leaves_with_their_rows(cast):
    lokus = report_builders.make_running_lokus(cast)
    members = Assignment.objects.filter(lokus=lokus)
    gone = members.filter(is_coordinator=False).first()
    before = StepOccurrence.objects.filter(kind="member", actor_id=gone.member_id, lokus_id=lokus.pk).count()
    assert before >= 1
    gone.delete()
    assert not StepOccurrence.objects.filter(kind="member", actor_id=gone.member_id, lokus_id=lokus.pk).exists()
    assert stored() == rebuilt()


@pytest.mark.django_db
def test_in_production_the_rows_are_replaced_after_the_commit(cast, settings, django_capture_on_commit_callbacks):
    settings.MONEV_OCCURRENCES_IMMEDIATE = False
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        plan = lokus_builders.make_plan(cast["partner"], title="Sesudah commit")
        assert not StepOccurrence.objects.filter(plan_id=plan.pk).exists(), "nothing before the commit"
    assert callbacks, "the refresh waits for the commit"
    assert set(StepOccurrence.objects.filter(plan_id=plan.pk).values_list("step", flat=True)) == {1, 2}


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_the_rows_as_they_were(cast, settings, django_capture_on_commit_callbacks):
    settings.MONEV_OCCURRENCES_IMMEDIATE = False
    with django_capture_on_commit_callbacks(execute=True):
        plan = lokus_builders.make_plan(cast["partner"], title="Tetap")
    before = stored([plan.pk])
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        changed = ActivityPlan.objects.get(pk=plan.pk)
        changed.submitted_at = changed.submitted_at.replace(year=2024)
        changed.save()
        raise RuntimeError("rolled back")
    assert not callbacks, "a rolled-back transaction refreshes nothing"
    assert stored([plan.pk]) == before


@pytest.mark.django_db
def test_a_failed_refresh_never_undoes_the_change(cast, settings, monkeypatch, caplog,
                                                  django_capture_on_commit_callbacks):  # fmt: skip
    settings.MONEV_OCCURRENCES_IMMEDIATE = False

    def broken(plan_ids):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(occurrences, "refresh", broken)
    with (
        caplog.at_level(logging.ERROR, logger="monev.occurrences"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        plan = lokus_builders.make_plan(cast["partner"], title="Tetap tersimpan")
    assert ActivityPlan.objects.filter(pk=plan.pk).exists()
    assert "Refreshing the step occurrences" in caplog.text
    assert not StepOccurrence.objects.filter(plan_id=plan.pk).exists()
    # The nightly rebuild (home.tasks.rebuild_occurrences) catches up.
    monkeypatch.undo()
    from home.tasks import rebuild_occurrences

    assert rebuild_occurrences.call()["rows"] >= 2
    assert StepOccurrence.objects.filter(plan_id=plan.pk).count() == 2


@pytest.mark.django_db
def test_writes_without_signals_are_caught_by_refresh_monev(cast, capsys):
    plan = lokus_builders.make_plan(cast["partner"], title="Diubah langsung")
    ActivityPlan.objects.filter(pk=plan.pk).update(submitted_at=plan.submitted_at.replace(year=2024))
    assert StepOccurrence.objects.get(plan_id=plan.pk, step=1).started_at.year != 2024, "no signal, no refresh"
    call_command("refresh_monev")
    assert "Step occurrences rebuilt" in capsys.readouterr().out
    assert StepOccurrence.objects.get(plan_id=plan.pk, step=1).started_at.year == 2024


@pytest.mark.django_db
def test_an_edited_standard_measures_the_stored_rows_anew_at_once(cast):
    report = report_builders.make_report(cast)
    report_builders.walk(report, ReportState.APPROVED, cast)
    step8 = StepOccurrence.objects.get(step=8)
    assert step8.ended_at is not None and step8.on_time
    standard = StepStandard.objects.get(number=8)
    # A standard shorter than the time the step took: the same rows, now late.
    standard.minutes = max(1, int(step8.seconds // 60) - 1) if step8.seconds >= 120 else 0
    standard.save()
    step8.refresh_from_db()
    assert step8.minutes == standard.minutes
    assert step8.late == pytest.approx(step8.seconds - standard.minutes * 60)
    assert step8.on_time is (step8.late <= occurrences.TOLERANCE)
    assert stored() == rebuilt(), "as a rebuild with the new standard gives"
    # The chain keeps the SOP's 20 hours, step 5 the plan's schedule.
    assert StepOccurrence.objects.get(kind="chain").minutes == 20 * 60
    assert not StepOccurrence.objects.filter(step=5, minutes__isnull=False).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite writes one transaction at a time")
@pytest.mark.django_db(transaction=True)
def test_refreshes_of_one_plan_at_once_leave_one_copy(cast):
    report = report_builders.make_report(cast)
    plan_id = report.lokus.plan_id
    expected = stored([plan_id])
    outcomes = race(*[lambda: occurrences.refresh([plan_id])] * 4)
    assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
    assert stored([plan_id]) == expected
