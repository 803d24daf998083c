import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.http import HttpRequest

from accounts.models import Agency, User

pytestmark = pytest.mark.django_db

DEMO_USERNAMES = {
    "admin",
    "mitra.polres",
    "mitra.kelurahan",
    "kasubbid.wasdin",
    "kasubbid.wasbang",
    "anggota1",
    "anggota2",
    "anggota3",
    "anggota4",
    "anggota5",
    "kabid",
    "kaban",
}


def snapshot():
    from lokus.models import ActivityPlan, Assignment, AuditEntry, Escalation, Lokus
    from reports.models import ActivityReport, ReportLog, ReportVersion

    models = [User, Agency, ActivityPlan, Lokus, Assignment, AuditEntry, Escalation, ActivityReport, ReportLog]
    return {model.__name__: model.objects.count() for model in [*models, ReportVersion]}


def test_seed_demo_is_idempotent(settings):
    call_command("seed_demo")
    first = snapshot()
    call_command("seed_demo")
    assert snapshot() == first
    assert set(User.objects.values_list("username", flat=True)) >= DEMO_USERNAMES


def test_every_demo_user_can_sign_in_with_demo_password(settings):
    call_command("seed_demo")
    for username in DEMO_USERNAMES:
        request = HttpRequest()
        request.META["REMOTE_ADDR"] = "127.0.0.1"
        assert authenticate(request=request, username=username, password=settings.DEMO_PASSWORD) is not None, username


def test_demo_users_have_their_roles():
    call_command("seed_demo")
    assert User.objects.get(username="mitra.polres").agency.name == "Polres Metro Tangerang Kota"
    assert User.objects.get(username="kasubbid.wasbang").sub_division.code == "wasbang"
    members = User.objects.filter(username__startswith="anggota")
    assert {m.sub_division.code for m in members} == {"wasdin", "wasbang"}
    assert len({frozenset(m.qualifications.values_list("pk", flat=True)) for m in members}) == 5
    admin = User.objects.get(username="admin")
    assert admin.is_staff and not admin.is_superuser
    assert User.objects.get(username="kaban").has_role("Kepala Badan")


def test_seed_demo_refuses_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo")
    assert not User.objects.filter(username="kaban").exists()


# The monitoring history (monev/demo.py) --------------------------------------------------------


def test_the_demo_holds_months_of_history_for_the_dashboard_and_the_map():
    from collections import Counter
    from datetime import timedelta

    from django.utils import timezone

    from lokus.enums import RiskLevel
    from lokus.models import ActivityPlan, Escalation, Lokus, StepStandard
    from monev.demo import KECAMATAN_CENTRES, history_titles
    from reports.enums import ReportState
    from reports.models import ActivityReport

    call_command("seed_demo")

    history = ActivityPlan.objects.filter(title__in=history_titles())
    assert history.count() == len(history_titles()) > 40
    oldest = history.order_by("submitted_at").first().submitted_at
    assert timezone.now() - oldest > timedelta(days=90)
    assert len(set(history.values_list("category", flat=True))) == 6
    assert len(set(history.values_list("kecamatan__code", flat=True))) == len(KECAMATAN_CENTRES) == 13
    assert set(history.values_list("status", flat=True)) == {"chosen", "not_chosen"}

    lokus = Lokus.objects.filter(plan__in=history)
    approved = ActivityReport.objects.filter(lokus__in=lokus, state=ReportState.APPROVED)
    assert Counter(approved.values_list("lokus__sub_division__code", flat=True)).keys() == {"wasdin", "wasbang"}
    assert min(Counter(approved.values_list("lokus__sub_division__code", flat=True)).values()) >= 10
    assert set(lokus.values_list("risk_level", flat=True)) == set(RiskLevel.values)
    assert len(set(lokus.values_list("classification", flat=True))) == 3
    assert ActivityReport.objects.filter(lokus__in=lokus, revision_round__gt=1).exists()
    assert ActivityReport.objects.filter(lokus__in=lokus).exclude(state=ReportState.APPROVED).exists()
    assert Escalation.objects.filter(lokus__in=lokus).exists()

    # Positions around Kota Tangerang, on every plan and lokus of the history.
    for row in [*history.values("latitude", "longitude"), *lokus.values("latitude", "longitude")]:
        assert -6.30 < row["latitude"] < -6.08 and 106.55 < row["longitude"] < 106.78, row

    # Some steps late, most within their standard.
    standard = {s.number: s.duration for s in StepStandard.objects.all()}
    dispatch_late = [lok.dispatched_at - lok.created_at > standard[3] for lok in lokus]
    assert 0 < sum(dispatch_late) < len(dispatch_late) / 2


def test_the_history_is_consistent_with_what_the_services_leave():
    from guardian.shortcuts import get_perms

    from lokus.enums import AssignmentState, LokusState, PlanStatus
    from lokus.models import ActivityPlan, AuditEntry, Lokus
    from monev.demo import history_titles
    from reports.enums import ReportAction, ReportState

    call_command("seed_demo")
    history = ActivityPlan.objects.filter(title__in=history_titles())

    for plan in history.filter(status=PlanStatus.NOT_CHOSEN):
        assert plan.decision_reason and plan.decided_at > plan.submitted_at
        assert not Lokus.objects.filter(plan=plan).exists()
    for lokus in Lokus.objects.filter(plan__in=history).select_related("plan", "report"):
        assert lokus.state == LokusState.FIELD_DONE
        assert lokus.plan.submitted_at < lokus.plan.decided_at == lokus.created_at < lokus.dispatched_at
        assert lokus.field_started_at < lokus.field_done_at
        team = list(lokus.assignments.select_related("member"))
        assert len(team) == 2 and sum(a.is_coordinator for a in team) == 1
        for assignment in team:
            assert assignment.state == AssignmentState.REPORTED
            assert assignment.member.sub_division_id == lokus.sub_division_id
            assert "view_lokus" in get_perms(assignment.member, lokus)
            assert ("coordinate_lokus" in get_perms(assignment.member, lokus)) == assignment.is_coordinator
        trail = list(
            AuditEntry.objects.filter(lokus=lokus).order_by("created_at", "pk").values_list("action", flat=True)
        )
        assert trail[0] == "plan_chosen" and trail[-1] == "field_done"
        report = lokus.report
        log = list(report.log.order_by("created_at", "pk"))
        assert log[0].action == ReportAction.CREATED
        moves = [entry for entry in log if entry.to_state and entry.from_state]
        assert all(a.to_state == b.from_state for a, b in zip(moves, moves[1:], strict=False))
        assert [e.created_at for e in log] == sorted(e.created_at for e in log)
        if report.state == ReportState.APPROVED:
            assert moves[-1].action == ReportAction.APPROVED
            assert report.approved_at == report.state_changed_at == moves[-1].created_at
            assert report.verification_code
        elif moves:
            assert moves[-1].to_state == report.state and moves[-1].created_at == report.state_changed_at
        assert report.version == report.versions.count() == max(e.version_number for e in log)
        returns = sum(e.action == ReportAction.RETURNED for e in log)
        assert report.revision_round == 1 + returns
