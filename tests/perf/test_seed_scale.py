"""``manage.py seed_scale`` at a tiny size: the history it writes is one the product could
have written itself. Counts in proportion, every state reached and consistent with the fields
of the steps it passed, times in the SOP's order, the team's django-guardian grants, a report
log that replays through the chain's maps, and pages that open for the demo users.

The history is seeded once for the module inside a transaction that is rolled back at the
end (each test runs in a savepoint inside it), so the other modules see an empty database."""

import io
import os
import shutil
import tempfile
from collections import Counter, defaultdict

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, Q
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification, User
from core.models import AccessLog
from home import scale
from lokus.enums import AssignmentState, AuditAction, LokusState, PlanStatus
from lokus.models import (
    ActivityPlan,
    Assignment,
    AuditEntry,
    FieldMedia,
    FieldNote,
    Lokus,
    LokusUserObjectPermission,
    MemberReport,
    RiskAssessment,
)
from reports.enums import (
    APPROVE_STATE,
    EDITABLE,
    FORWARD_STATE,
    PASS_DOWN_STATE,
    RECEIVED_STATE,
    RETURN_STATE,
    SUBMIT_STATE,
    VERIFIED_STATE,
    Level,
    ReportAction,
    ReportState,
)
from reports.models import ActivityReport, DocumentDownload, ReportLog, ReportVerification, ReportVersion
from reports.permissions import HELD_AT

PLANS = 600
YEARS = 1

# The log action of each step of the chain and the map of its moves.
MOVES = {
    ReportAction.SUBMITTED: SUBMIT_STATE,
    ReportAction.RECEIVED: RECEIVED_STATE,
    ReportAction.VERIFIED: VERIFIED_STATE,
    ReportAction.FORWARDED: FORWARD_STATE,
    ReportAction.RETURNED: RETURN_STATE,
    ReportAction.PASSED_DOWN: PASS_DOWN_STATE,
    ReportAction.APPROVED: APPROVE_STATE,
}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo data, then the scale history on top; returns what the demo alone made."""
    media = tempfile.mkdtemp(prefix="lokus-scale-media-")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO())
        demo = {
            "plans": set(ActivityPlan.objects.values_list("pk", flat=True)),
            "lokus": set(Lokus.objects.values_list("pk", flat=True)),
            "reports": set(ActivityReport.objects.values_list("pk", flat=True)),
        }
        out = io.StringIO()
        call_command("seed_scale", plans=PLANS, years=YEARS, stdout=out)
        demo["output"] = out.getvalue()
        demo["media_root"] = media
        stored = FieldMedia.objects.values_list("file", "print_file", "thumb_file").distinct()
        demo["photo_files_exist"] = all(os.path.exists(os.path.join(media, name)) for row in stored for name in row)
        yield demo
        transaction.set_rollback(True)
    shutil.rmtree(media, ignore_errors=True)


@pytest.fixture
def scale_lokus(seeded, db):
    return Lokus.objects.exclude(pk__in=seeded["lokus"])


@pytest.fixture
def scale_reports(seeded, db):
    return ActivityReport.objects.exclude(pk__in=seeded["reports"])


def test_refuses_production_mode(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_scale", plans=100, stdout=io.StringIO())
    assert not ActivityPlan.objects.exists()
    assert not User.objects.exists()


def test_counts_in_proportion(seeded, db, scale_lokus, scale_reports):
    assert ActivityPlan.objects.exclude(pk__in=seeded["plans"]).count() == PLANS
    size = scale.Size(plans=PLANS, years=YEARS)
    assert User.objects.filter(username__startswith=scale.PREFIX).count() == size.members + size.partners
    lokus = scale_lokus.count()
    assert 0.12 * PLANS <= lokus <= 0.28 * PLANS
    # 3-6 members each (4.5 on average: about 90,000 at the full 20,000 lokus), one Korlap.
    teams = scale_lokus.annotate(
        members=Count("assignments"), korlap=Count("assignments", filter=Q(assignments__is_coordinator=True))
    )
    sizes = Counter((t.members, t.korlap) for t in teams if t.members)
    assert set(sizes) <= {(n, 1) for n in range(3, 7)}
    assert 4.0 <= sum(n * c for (n, _k), c in sizes.items()) / sum(sizes.values()) <= 5.0
    assert not teams.filter(members=0).exclude(state=LokusState.COMPOSING).exists()
    reports = scale_reports.count()
    assert 0.8 * lokus <= reports <= lokus
    # About 12 log rows per report (240,000 for 20,000), versions, verifications.
    logs = ReportLog.objects.filter(report__in=scale_reports).count()
    assert 9 * reports <= logs <= 15 * reports
    assert ReportVersion.objects.filter(report__in=scale_reports).count() >= 2 * reports * 0.9
    assert ReportVerification.objects.filter(report__in=scale_reports).exists()
    # 750,000 audit entries and 600,000 notifications for 100,000 plans.
    assert 5 * PLANS <= AuditEntry.objects.count() <= 10 * PLANS
    assert 4 * PLANS <= Notification.objects.count() <= 8 * PLANS
    assert FieldNote.objects.count() > lokus
    assert MemberReport.objects.count() > 3 * reports
    assert RiskAssessment.objects.count() > reports
    assert AccessLog.objects.count() > lokus
    assert DocumentDownload.objects.count() > reports / 2
    # Photos: a handful of real files shared by path, all present.
    photos = FieldMedia.objects.exclude(assignment__lokus__in=seeded["lokus"])
    assert photos.count() >= reports
    assert photos.values("file").distinct().count() <= 6
    assert seeded["photo_files_exist"]
    assert "Scale data ready." in seeded["output"]


def test_every_state_is_reached(seeded, db, scale_lokus, scale_reports):
    assert set(ActivityPlan.objects.values_list("status", flat=True)) == set(PlanStatus.values)
    assert set(scale_lokus.values_list("state", flat=True)) == set(LokusState.values)
    assert set(Assignment.objects.values_list("state", flat=True)) == set(AssignmentState.values)
    assert set(scale_reports.values_list("state", flat=True)) == set(ReportState.values)


def test_plans_and_lokus_states_match_their_fields(seeded, db, scale_lokus):
    for plan in ActivityPlan.objects.all():
        decided = plan.decided_at is not None and plan.decided_by_id is not None
        assert decided == (plan.status != PlanStatus.RECEIVED), plan.pk
        assert hasattr(plan, "lokus") == (plan.status == PlanStatus.CHOSEN), plan.pk
        if plan.status == PlanStatus.NOT_CHOSEN:
            assert plan.decision_reason
    grants = defaultdict(set)
    for lokus_id, user_id, codename in LokusUserObjectPermission.objects.values_list(
        "content_object_id", "user_id", "permission__codename"
    ):
        grants[lokus_id].add((user_id, codename))
    for lokus in scale_lokus.prefetch_related("assignments"):
        team = list(lokus.assignments.all())
        states = {a.state for a in team}
        dispatched = lokus.state != LokusState.COMPOSING
        assert (lokus.dispatched_at is not None) == dispatched
        assert bool(lokus.verification_code) == dispatched
        assert (lokus.field_started_at is not None) == (lokus.state in (LokusState.RUNNING, LokusState.FIELD_DONE))
        assert (lokus.field_done_at is not None) == (lokus.state == LokusState.FIELD_DONE)
        if dispatched:
            assert not lokus.missing_for_dispatch()
        # The dispatch grants what lokus.services.lokus_dispatch grants, and only then.
        expected = {(a.member_id, "view_lokus") for a in team} | {
            (a.member_id, "coordinate_lokus") for a in team if a.is_coordinator
        }
        assert grants.get(lokus.pk, set()) == (expected if dispatched else set()), lokus.pk
        if lokus.state == LokusState.COMPOSING:
            assert states <= {AssignmentState.ASSIGNED}
        elif lokus.state == LokusState.DISPATCHED:
            assert states <= {AssignmentState.ASSIGNED, AssignmentState.CONFIRMED}
        elif lokus.state == LokusState.RUNNING:
            assert states & {AssignmentState.CHECKED_IN, AssignmentState.REPORTED}
            assert states != {AssignmentState.REPORTED}
        else:
            assert states == {AssignmentState.REPORTED}
            assert lokus.field_done_at == max(a.reported_at for a in team)
        for a in team:
            assert (a.confirmed_at is not None) == (a.state != AssignmentState.ASSIGNED)
            assert (a.checked_in_at is not None) == (a.state in (AssignmentState.CHECKED_IN, AssignmentState.REPORTED))
            assert (a.reported_at is not None) == (a.state == AssignmentState.REPORTED)
            assert hasattr(a, "report") == (a.state == AssignmentState.REPORTED)


def test_report_logs_replay_through_the_chain(seeded, db, scale_reports):
    logs = defaultdict(list)
    for row in ReportLog.objects.filter(report__in=scale_reports).order_by("created_at", "pk"):
        logs[row.report_id].append(row)
    versions = defaultdict(list)
    for number, report_id in ReportVersion.objects.filter(report__in=scale_reports).values_list("number", "report_id"):
        versions[report_id].append(number)
    for report in scale_reports:
        rows = logs[report.pk]
        assert rows[0].action == ReportAction.CREATED and rows[0].to_state == ReportState.DRAFT
        state, returns = ReportState.DRAFT, 0
        for row in rows[1:]:
            if row.action == ReportAction.SAVED:
                assert state in EDITABLE and not row.to_state
                continue
            assert row.from_state == state, (report.pk, row.action)
            assert MOVES[row.action][state] == row.to_state, (report.pk, row.action, state)
            state = row.to_state
            returns += row.action == ReportAction.RETURNED
        assert state == report.state
        assert report.state_changed_at == max(r.created_at for r in rows if r.to_state)
        assert report.revision_round == 1 + returns
        assert sorted(versions[report.pk]) == list(range(1, report.version + 1))
        assert (report.approved_at is not None) == (report.state == ReportState.APPROVED)
        assert bool(report.verification_code) == (report.state == ReportState.APPROVED)


def test_times_follow_the_sop_order(seeded, db, scale_lokus, scale_reports):
    now = timezone.now()
    for plan in ActivityPlan.objects.exclude(pk__in=seeded["plans"]):
        assert plan.submitted_at < plan.starts_at < plan.ends_at
        assert plan.submitted_at <= now
        if plan.decided_at:
            assert plan.submitted_at < plan.decided_at <= now
    for lokus in scale_lokus.select_related("plan", "risk_assessment").prefetch_related("assignments"):
        assert lokus.plan.decided_at == lokus.created_at
        if lokus.dispatched_at:
            assert lokus.created_at < lokus.dispatched_at < lokus.starts_at
            assert lokus.dispatched_at <= now
        if lokus.field_started_at:
            assert lokus.dispatched_at < lokus.field_started_at <= now
            assert lokus.risk_assessment.recorded_at < lokus.field_started_at
        if lokus.field_done_at:
            assert lokus.field_started_at < lokus.field_done_at <= now
        for a in lokus.assignments.all():
            times = [lokus.dispatched_at, a.confirmed_at, a.checked_in_at, a.reported_at]
            known = [t for t in times if t is not None]
            assert known == sorted(known) and len(set(known)) == len(known), a.pk
    for report in scale_reports.select_related("lokus"):
        assert report.lokus.field_done_at < report.created_at <= report.state_changed_at <= now
    # The audit trail of each plan starts with its submission; the dispatch follows the team.
    entries = defaultdict(list)
    scale_entries = AuditEntry.objects.exclude(plan__in=seeded["plans"])
    for plan_id, action, at in scale_entries.order_by("created_at", "pk").values_list(
        "plan_id", "action", "created_at"
    ):
        entries[plan_id].append((action, at))
        assert at <= now
    for trail in entries.values():
        assert trail[0][0] == AuditAction.PLAN_SUBMITTED
        actions = [action for action, _at in trail]
        if AuditAction.DISPATCHED in actions:
            assert actions.index(AuditAction.TEAM_SET) < actions.index(AuditAction.DISPATCHED)
    for created, read in Notification.objects.values_list("created_at", "read_at"):
        assert created <= now and (read is None or created < read <= now)


def test_demo_users_carry_the_history(seeded, db):
    member = User.objects.get(username="anggota1")
    past = Assignment.objects.filter(member=member, lokus__state=LokusState.FIELD_DONE).count()
    # A demo member is picked twice as often as a generated one: more than the average share.
    members = User.objects.filter(groups__name="Anggota Mitigasi").count()
    assert past > Assignment.objects.filter(lokus__state=LokusState.FIELD_DONE).count() / members
    kasubbid = User.objects.get(username="kasubbid.wasdin")
    assert ActivityPlan.objects.filter(status=PlanStatus.RECEIVED).count() >= 10
    held = ActivityReport.objects.filter(
        lokus__sub_division=kasubbid.sub_division, state__in=HELD_AT[Level.KASUBBID]
    ).count()
    assert held >= 2
    assert Lokus.objects.filter(created_by=kasubbid).exclude(pk__in=seeded["lokus"]).exists()


def test_demo_users_open_their_pages(seeded, db, client):
    member = User.objects.get(username="anggota1")
    lokus = (
        Lokus.objects.exclude(pk__in=seeded["lokus"])
        .filter(assignments__member=member, state=LokusState.FIELD_DONE, report__isnull=False)
        .first()
    )
    client.force_login(member)
    assert client.get(reverse("lokus:assignment", args=[lokus.pk])).status_code == 200
    assert client.get(reverse("lokus:detail", args=[lokus.pk])).status_code == 200
    assert client.get(reverse("home")).status_code == 200
    # Someone not on the team does not see it.
    outsider = User.objects.filter(groups__name="Anggota Mitigasi").exclude(assignments__lokus=lokus).first()
    client.force_login(outsider)
    assert client.get(reverse("lokus:assignment", args=[lokus.pk])).status_code == 404
    assert client.get(reverse("lokus:detail", args=[lokus.pk])).status_code == 404
    # The Kasubbid opens a report held at their level, and their home page.
    kasubbid = User.objects.get(username="kasubbid.wasdin")
    report = ActivityReport.objects.filter(
        lokus__sub_division=kasubbid.sub_division, state__in=HELD_AT[Level.KASUBBID]
    ).first()
    client.force_login(kasubbid)
    assert client.get(reverse("reports:detail", args=[report.pk])).status_code == 200
    assert client.get(reverse("home")).status_code == 200


def test_refuses_to_seed_twice(seeded, db):
    plans = ActivityPlan.objects.count()
    with pytest.raises(CommandError, match="already"):
        call_command("seed_scale", plans=100, stdout=io.StringIO())
    assert ActivityPlan.objects.count() == plans
