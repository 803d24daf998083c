"""Access control across the whole product.

* Every named URL of the project has an expected answer for every role: in the lokus grid
  (tests/lokus/test_permission_grid.py), the report grid (tests/reports/test_permission_grid.py)
  or the table in this file, which is tested here too. A new URL without an entry fails.
* Mass assignment: fields a form does not offer are ignored, whatever a request sends.
* The administrator configures people and reference data but cannot read field content.
* Object permissions disappear with their user; classified views are logged, append-only."""

import io
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import ProtectedError
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm, get_perms
from PIL import Image

from accounts.enums import Role
from accounts.models import Notification, User
from core.enums import Classification
from core.models import AccessLog
from lokus import services as lokus_services
from lokus.enums import AssignmentState, LokusState, MediaKind, PlanStatus
from lokus.forms import DATETIME_FORMAT
from lokus.models import (
    ActivityPlan,
    Assignment,
    AuditEntry,
    BeritaAcara,
    Escalation,
    FieldMedia,
    FieldNote,
    Lokus,
    LokusUserObjectPermission,
    MemberReport,
    PlanAttachment,
    RiskAssessment,
)
from lokus.uploads import clean_image
from reports.enums import ReportState
from reports.models import (
    ActivityReport,
    DocumentDownload,
    ReportExcuse,
    ReportLog,
    ReportVerification,
    ReportVersion,
)
from tests.factories import UserFactory, sub_division
from tests.helpers import ROLES
from tests.lokus import builders as lokus_builders
from tests.lokus import test_permission_grid as lokus_grid
from tests.reports import builders as report_builders
from tests.reports import test_permission_grid as reports_grid

pytestmark = pytest.mark.django_db

LOGIN, HOME, SETUP, OUT, NEXT = "login", "home", "setup", "signed out", "back to next"


# The URLs the other two grids do not cover. The cast's Kabid, Kepala Badan and
# Administrator have their second factor (the ``client`` fixture gives it); the others have
# no authenticator, so the verify page sends them to the (voluntary) enrolment page.
# fmt: off
GRID = {
    #                         anon   partnr o.part kasub  o.kasb member korlap o.memb kabid  kaban  admin  norole
    "login":                 (200,   HOME,  HOME,  HOME,  HOME,  HOME,  HOME,  HOME,  HOME,  HOME,  HOME,  HOME),
    "logout":                (OUT,   OUT,   OUT,   OUT,   OUT,   OUT,   OUT,   OUT,   OUT,   OUT,   OUT,   OUT),
    "logout:get":            (405,   405,   405,   405,   405,   405,   405,   405,   405,   405,   405,   405),
    "password_change":       (LOGIN, 200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200),
    "password_change_done":  (LOGIN, 200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200),
    "two_factor_verify":     (LOGIN, SETUP, SETUP, SETUP, SETUP, SETUP, SETUP, SETUP, HOME,  HOME,  HOME,  SETUP),
    "two_factor_setup":      (LOGIN, 200,   200,   200,   200,   200,   200,   200,   HOME,  HOME,  HOME,  200),
    "set_language":          (NEXT,  NEXT,  NEXT,  NEXT,  NEXT,  NEXT,  NEXT,  NEXT,  NEXT,  NEXT,  NEXT,  NEXT),
    "lokus:access_log":      (LOGIN, 403,   403,   403,   403,   403,   403,   403,   403,   200,   403,   403),
    # The monitoring map: the leadership and each Kasubbid (own sub-division), nobody else.
    "monev:map":             (LOGIN, 403,   403,   200,   200,   403,   403,   403,   200,   200,   403,   403),
    "monev:map_markers":     (LOGIN, 403,   403,   200,   200,   403,   403,   403,   200,   200,   403,   403),
    "monev:map_items":       (LOGIN, 403,   403,   200,   200,   403,   403,   403,   200,   200,   403,   403),
    # The monitoring dashboard, the list behind its figures and its exports: the same people.
    "monev:dashboard":       (LOGIN, 403,   403,   200,   200,   403,   403,   403,   200,   200,   403,   403),
    "monev:trend":           (LOGIN, 403,   403,   200,   200,   403,   403,   403,   200,   200,   403,   403),
    "monev:occurrences":     (LOGIN, 403,   403,   200,   200,   403,   403,   403,   200,   200,   403,   403),
    "monev:export_xlsx":     (LOGIN, 403,   403,   200,   200,   403,   403,   403,   200,   200,   403,   403),
    "monev:export_pdf":      (LOGIN, 403,   403,   200,   200,   403,   403,   403,   200,   200,   403,   403),
    # Health checks: open to everyone (a load balancer has no account), they say only ok/failing.
    "healthz":               (200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200),
    "healthz:post":          (405,   405,   405,   405,   405,   405,   405,   405,   405,   405,   405,   405),
    "readyz":                (200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200),
    "readyz:post":           (405,   405,   405,   405,   405,   405,   405,   405,   405,   405,   405,   405),
}
# fmt: on
# The URL name and method of each row.
REQUESTS = {
    "login": ("login", "GET"),
    "logout": ("logout", "POST"),
    "logout:get": ("logout", "GET"),
    "password_change": ("password_change", "GET"),
    "password_change_done": ("password_change_done", "GET"),
    "two_factor_verify": ("two_factor_verify", "GET"),
    "two_factor_setup": ("two_factor_setup", "GET"),
    "set_language": ("set_language", "POST"),
    "lokus:access_log": ("lokus:access_log", "GET"),
    "monev:map": ("monev:map", "GET"),
    "monev:map_markers": ("monev:map_markers", "GET"),
    "monev:map_items": ("monev:map_items", "GET"),
    "monev:dashboard": ("monev:dashboard", "GET"),
    "monev:trend": ("monev:trend", "GET"),
    "monev:occurrences": ("monev:occurrences", "GET"),
    "monev:export_xlsx": ("monev:export_xlsx", "GET"),
    "monev:export_pdf": ("monev:export_pdf", "GET"),
    "healthz": ("healthz", "GET"),
    "healthz:post": ("healthz", "POST"),
    "readyz": ("readyz", "GET"),
    "readyz:post": ("readyz", "POST"),
}


# The whole URL configuration --------------------------------------------------------------------


def project_url_names() -> tuple[set[str], list[str]]:
    """Every named URL outside the admin, and the routes of any unnamed ones."""
    names, unnamed = set(), []

    def walk(patterns, namespace=None, prefix=""):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin" or route.startswith(("static", "media")):
                    continue
                walk(entry.url_patterns, entry.namespace or namespace, route)
            elif isinstance(entry, URLPattern):
                if route.startswith(("static", "media")):
                    continue
                if entry.name:
                    names.add(f"{namespace}:{entry.name}" if namespace else entry.name)
                else:
                    unnamed.append(route)

    walk(get_resolver().url_patterns)
    return names, unnamed


def covered_url_names() -> set[str]:
    lokus = {cell.url_name for cell in lokus_grid.CELLS.values()}
    reports = {f"reports:{cell.url_name}" for cell in reports_grid.CELLS.values()}
    here = {url_name for url_name, _method in REQUESTS.values()}
    return lokus | reports | here


def test_every_url_of_the_project_has_expected_answers():
    names, unnamed = project_url_names()

    assert unnamed == [], "every URL needs a name to be in a permission grid"
    assert len(names) > 40
    assert names - covered_url_names() == set(), "add these URLs to a permission grid"
    assert set(GRID) == set(REQUESTS)
    assert all(len(row) == len(ROLES) for row in GRID.values())
    for grid in (lokus_grid.GRID, reports_grid.GRID):
        assert all(len(row) == len(ROLES) for row in grid.values())


def test_the_grids_name_only_real_urls():
    names, _unnamed = project_url_names()
    assert covered_url_names() - names == set()


@pytest.mark.parametrize("row", list(GRID))
def test_access_grid(client_for, cast, subtests, row):
    url_name, method = REQUESTS[row]
    url = reverse(url_name)
    for role, expected in zip(ROLES, GRID[row], strict=True):
        with subtests.test(role=role or "anonymous", expected=expected):
            client = client_for(role)
            notifications_before = Notification.objects.count()
            if method == "GET":
                response = client.get(url)
            else:
                data = {"language": "en", "next": reverse("notifications")} if url_name == "set_language" else {}
                response = client.post(url, data)
            check_answer(client, response, expected)
            assert Notification.objects.count() == notifications_before


def check_answer(client, response, expected) -> None:
    location = urlsplit(response.get("Location", ""))
    if expected == LOGIN:
        assert response.status_code == 302
        assert location.path == reverse("login")
        assert parse_qs(location.query)["next"] == [response.wsgi_request.get_full_path()]
    elif expected == HOME:
        assert response.status_code == 302
        assert location.path == reverse("home")
    elif expected == SETUP:
        assert response.status_code == 302
        assert location.path == reverse("two_factor_setup")
    elif expected == OUT:
        assert response.status_code == 302
        assert location.path == reverse("login")
        assert "_auth_user_id" not in client.session
    elif expected == NEXT:
        assert response.status_code == 302
        assert location.path == reverse("notifications")
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    else:
        assert response.status_code == expected
        if expected == 200 and response.wsgi_request.user.is_authenticated:
            assert "_auth_user_id" in client.session


def test_only_the_kepala_badan_sees_the_access_log_rows(client_for, cast):
    lokus = lokus_builders.make_ready_lokus(
        cast["kasubbid"], cast["partner"], [cast["member"]], cast["member"], title="Lokus tercatat"
    )
    client_for("kabid").get(reverse("lokus:detail", args=[lokus.pk]))
    assert AccessLog.objects.count() == 1

    page = client_for("kaban").get(reverse("lokus:access_log"))

    assert page.status_code == 200
    assert [row.user for row in page.context["page"].object_list] == [cast["kabid"]]
    assert "Lokus tercatat" in page.content.decode()
    for role in ("kabid", "kasubbid", "admin", "member"):
        refused = client_for(role).get(reverse("lokus:access_log"))
        assert refused.status_code == 403
        assert "Lokus tercatat" not in refused.content.decode()


# Mass assignment -------------------------------------------------------------------------------------


def _wib(moment) -> str:
    return timezone.localtime(moment).strftime(DATETIME_FORMAT)


def test_plan_create_ignores_fields_the_form_does_not_offer(client_for, cast):
    client = client_for("partner")
    data = lokus_builders.plan_data(title="Rencana dengan kolom selundupan")
    offered = {
        **{k: v for k, v in data.items() if k not in ("kecamatan", "kelurahan", "starts_at", "ends_at")},
        "starts_at": _wib(data["starts_at"]),
        "ends_at": _wib(data["ends_at"]),
        "kecamatan": data["kecamatan"].pk,
        "kelurahan": data["kelurahan"].pk,
    }
    smuggled = {
        "status": PlanStatus.CHOSEN,
        "state": LokusState.DISPATCHED,
        "classification": Classification.BIASA,
        "submitted_by": cast["other_partner"].pk,
        "decided_by": cast["kasubbid"].pk,
        "decided_at": _wib(timezone.now()),
        "source_agency": cast["other_partner"].agency_id,
        "source_name": "Nama palsu",
        "sub_division": sub_division("wasbang").pk,
    }

    response = client.post(reverse("lokus:plan_create"), offered | smuggled)

    assert response.status_code == 302
    plan = ActivityPlan.objects.get(title="Rencana dengan kolom selundupan")
    assert plan.status == PlanStatus.RECEIVED
    assert plan.submitted_by == cast["partner"]
    assert (plan.decided_by, plan.decided_at) == (None, None)
    assert plan.source_agency == cast["partner"].agency
    assert plan.source_name == ""
    assert not Lokus.objects.filter(plan=plan).exists()


def test_lokus_edit_ignores_fields_the_form_does_not_offer(client_for, cast):
    lokus = lokus_builders.make_ready_lokus(cast["kasubbid"], cast["partner"], [cast["member"]], cast["member"])
    before = {
        "state": lokus.state,
        "sub_division": lokus.sub_division_id,
        "plan": lokus.plan_id,
        "created_by": lokus.created_by_id,
        "verification_code": lokus.verification_code,
        "team": list(Assignment.objects.filter(lokus=lokus).values_list("member", "is_coordinator")),
    }
    offered = {
        "problem": "Masalah diperbarui dengan kolom selundupan.",
        "location": lokus.location,
        "latitude": lokus.latitude,
        "longitude": lokus.longitude,
        "assembly_point": lokus.assembly_point,
        "assembly_at": _wib(lokus.assembly_at),
        "starts_at": _wib(lokus.starts_at),
        "ends_at": _wib(lokus.ends_at),
        "risk_level": lokus.risk_level,
        "classification": Classification.RAHASIA,  # offered here: it changes
        "surat_tugas_number": lokus.surat_tugas_number,
    }
    smuggled = {
        "state": LokusState.DISPATCHED,
        "sub_division": sub_division("wasbang").pk,
        "plan": lokus_builders.make_plan(cast["partner"]).pk,
        "created_by": cast["kabid"].pk,
        "dispatched_by": cast["kasubbid"].pk,
        "dispatched_at": _wib(timezone.now()),
        "verification_code": "PALSU1234",
        "assignments": [cast["other_member"].pk],
        "is_coordinator": "on",
    }

    response = client_for("kasubbid").post(reverse("lokus:edit", args=[lokus.pk]), offered | smuggled)

    assert response.status_code == 302
    lokus.refresh_from_db()
    assert lokus.problem == "Masalah diperbarui dengan kolom selundupan."
    assert lokus.classification == Classification.RAHASIA
    after = {
        "state": lokus.state,
        "sub_division": lokus.sub_division_id,
        "plan": lokus.plan_id,
        "created_by": lokus.created_by_id,
        "verification_code": lokus.verification_code,
        "team": list(Assignment.objects.filter(lokus=lokus).values_list("member", "is_coordinator")),
    }
    assert after == before
    assert (lokus.dispatched_by, lokus.dispatched_at) == (None, None)


def test_report_edit_ignores_fields_the_form_does_not_offer(client_for, cast):
    report = report_builders.make_report(cast)
    before = ActivityReport.objects.filter(pk=report.pk).values(
        "state", "lokus", "created_by", "approved_at", "verification_code", "revision_round", "state_changed_at"
    )[0]
    offered = report_builders.filled_data(
        facts="Kronologi dengan kolom selundupan.", classification=Classification.TERBATAS
    )
    smuggled = {
        "state": ReportState.APPROVED,
        "status": ReportState.APPROVED,
        "version": 99,
        "approved_at": _wib(timezone.now()),
        "created_by": cast["kabid"].pk,
        "submitted_by": cast["kabid"].pk,
        "lokus": lokus_builders.make_chosen_lokus(cast["kasubbid"], cast["partner"]).pk,
        "verification_code": "PALSU1234",
        "revision_round": 7,
        "state_changed_at": _wib(timezone.now()),
        "decided_by": cast["kaban"].pk,
    }

    response = client_for("coordinator").post(reverse("reports:edit", args=[report.pk]), offered | smuggled)

    assert response.status_code == 302
    report.refresh_from_db()
    assert report.facts == "Kronologi dengan kolom selundupan."
    assert report.version == 3  # the ordinary next version, not the one sent
    after = ActivityReport.objects.filter(pk=report.pk).values(*before)[0]
    assert after == before


def test_the_member_report_ignores_fields_the_form_does_not_offer(client_for, cast):
    member, coordinator = cast["member"], cast["coordinator"]
    lokus = lokus_builders.make_dispatched_lokus(cast["kasubbid"], cast["partner"], [member, coordinator], coordinator)
    lokus_builders.advance_to_running(lokus, [member, coordinator], coordinator)
    mine = Assignment.objects.get(lokus=lokus, member=member)
    theirs = Assignment.objects.get(lokus=lokus, member=coordinator)
    offered = {"summary": "Massa bubar tertib.", "situation": "kondusif", "crowd_estimate": 120}
    smuggled = {
        "is_coordinator": "on",
        "assignment": theirs.pk,
        "member": coordinator.pk,
        "submitted_at": _wib(timezone.now() - timezone.timedelta(days=3)),
        "state": LokusState.FIELD_DONE,
        "assignment_state": AssignmentState.REPORTED,
        "sub_division": sub_division("wasbang").pk,
        "decided_by": cast["kabid"].pk,
    }

    response = client_for("member").post(reverse("lokus:member_report", args=[lokus.pk]), offered | smuggled)

    assert response.status_code == 302
    report = MemberReport.objects.get()
    assert report.assignment == mine
    assert report.summary == "Massa bubar tertib."
    assert abs(report.submitted_at - timezone.now()) < timezone.timedelta(minutes=5)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.is_coordinator, theirs.is_coordinator) == (False, True)
    assert not MemberReport.objects.filter(assignment=theirs).exists()
    assert Lokus.objects.get(pk=lokus.pk).state == LokusState.RUNNING  # the Korlap has not reported


def _admin_form_data(admin_client, user: User) -> dict:
    page = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        elif value is not None:
            data[name] = str(value)
    return data


def test_the_administrator_cannot_make_a_superuser(client_for, cast):
    client = client_for("admin")
    member, admin_user = cast["member"], cast["admin"]
    some_permission = admin_user.groups.get().permissions.first()
    smuggled = {
        "is_superuser": "on",
        "user_permissions": [some_permission.pk],
        "session_epoch": 0,
        "password": "md5$palsu$palsu",
    }

    for target in (member, admin_user):
        data = _admin_form_data(client, target)
        data["full_name"] = f"{target.full_name} (diubah)"
        response = client.post(reverse("admin:accounts_user_change", args=[target.pk]), data | smuggled)
        assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
        target.refresh_from_db()
        assert target.full_name.endswith("(diubah)")  # the offered fields do change
        assert not target.is_superuser
        assert not target.user_permissions.exists()
        assert not target.password.startswith("md5$palsu")


def test_the_administrator_cannot_take_over_a_superuser(client_for, cast):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client = client_for("admin")

    assert client.get(reverse("admin:accounts_user_change", args=[root.pk])).status_code == 200  # may look
    data = {"username": "root", "full_name": "Diambil alih", "email": "penyerang@uji.invalid"}
    assert client.post(reverse("admin:accounts_user_change", args=[root.pk]), data).status_code == 403
    password_url = reverse("admin:auth_user_password_change", args=[root.pk])
    new = "Sandi-pengambilalihan-99"
    assert client.post(password_url, {"password1": new, "password2": new}).status_code == 403
    root.refresh_from_db()
    assert root.full_name != "Diambil alih"
    assert not root.check_password(new)
    assert root.is_active


def test_a_superuser_may_make_a_superuser(client_for, cast):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client = client_for(None)
    client.force_login(root)
    member = cast["member"]

    data = _admin_form_data(client, member)
    response = client.post(reverse("admin:accounts_user_change", args=[member.pk]), data | {"is_superuser": "on"})

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.is_superuser


# The administrator and field content ------------------------------------------------------------------

FIELD_CONTENT = [
    ActivityPlan,
    PlanAttachment,
    Lokus,
    Assignment,
    FieldNote,
    FieldMedia,
    MemberReport,
    RiskAssessment,
    Escalation,
    BeritaAcara,
    AuditEntry,
    AccessLog,
    LokusUserObjectPermission,
    ActivityReport,
    ReportVersion,
    ReportLog,
    ReportVerification,
    ReportExcuse,
    DocumentDownload,
    Notification,
]
CONFIGURATION = {
    "accounts.User",
    "accounts.Agency",
    "accounts.SubDivision",
    "accounts.Qualification",
    "accounts.RolePolicy",
    "auth.Group",
    "lokus.Kecamatan",
    "lokus.Kelurahan",
    "lokus.StepStandard",
    "reports.Letterhead",
    "axes.AccessAttempt",
    "axes.AccessFailureLog",
    "axes.AccessLog",
    # Operations, not field content: how each e-mail's delivery went (the subject and text
    # are not shown) and the background job queue (superusers only).
    "accounts.OutgoingMail",
    "django_tasks_database.DBTaskResult",
    # The overdue reminders sent (read-only): step numbers, times and object numbers, no content.
    "monev.Reminder",
}


def test_no_field_content_is_registered_in_the_admin():
    registered = {model._meta.label for model in admin.site._registry}
    for model in FIELD_CONTENT:
        assert not admin.site.is_registered(model), model._meta.label
    assert registered <= CONFIGURATION, "only configuration belongs in the admin"


def test_the_administrator_gets_404_on_field_content(client_for, cast):
    report = report_builders.make_report_in(cast, ReportState.AT_KABID)
    lokus = report.lokus
    media = _photo_in(
        lokus_builders.make_dispatched_lokus(
            cast["kasubbid"],
            cast["partner"],
            [cast["member"]],
            cast["member"],
            starts_at=lokus_builders.future_wib(days=40),
        ),
        cast,
    )
    client = client_for("admin")
    urls = [
        reverse("lokus:detail", args=[lokus.pk]),
        reverse("lokus:plan_detail", args=[lokus.plan_id]),
        reverse("reports:detail", args=[report.pk]),
        reverse("reports:versions", args=[report.pk]),
        reverse("reports:report_pdf", args=[report.pk]),
        reverse("reports:surat_tugas", args=[lokus.pk]),
        reverse("lokus:media_file", args=[media.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert report.facts not in response.content.decode()
    assert AccessLog.objects.count() == 0


# Object permissions ---------------------------------------------------------------------------------


def test_deleting_a_user_removes_their_object_permissions(cast):
    lokus = lokus_builders.make_dispatched_lokus(cast["kasubbid"], cast["partner"], [cast["member"]], cast["member"])
    visitor = UserFactory(username="tamu.sementara", roles=[Role.MEMBER], sub_division=sub_division("wasdin"))
    assign_perm("lokus.view_lokus", visitor, lokus)
    assign_perm("lokus.coordinate_lokus", visitor, lokus)
    assert set(get_perms(visitor, lokus)) == {"view_lokus", "coordinate_lokus"}
    assert LokusUserObjectPermission.objects.filter(user=visitor).count() == 2
    team_grants = LokusUserObjectPermission.objects.exclude(user=visitor).count()
    assert team_grants > 0

    visitor_pk = visitor.pk
    visitor.delete()

    assert not LokusUserObjectPermission.objects.filter(user_id=visitor_pk).exists()
    assert LokusUserObjectPermission.objects.count() == team_grants
    # A new account that happens to get the same username inherits nothing.
    newcomer = UserFactory(username="tamu.sementara", roles=[Role.MEMBER], sub_division=sub_division("wasdin"))
    assert get_perms(newcomer, lokus) == []


def test_a_team_member_with_history_cannot_be_deleted(cast):
    """Deletion would take the evidence with it: deactivate instead."""
    lokus = lokus_builders.make_dispatched_lokus(cast["kasubbid"], cast["partner"], [cast["member"]], cast["member"])
    with pytest.raises(ProtectedError):
        cast["member"].delete()
    assert LokusUserObjectPermission.objects.filter(user=cast["member"], content_object=lokus).exists()


# The access log ------------------------------------------------------------------------------------


def _png() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), "green").save(out, format="PNG")
    return SimpleUploadedFile("lokasi.png", out.getvalue(), content_type="image/png")


def _photo_in(lokus: Lokus, cast) -> FieldMedia:
    team = list(User.objects.filter(assignments__lokus=lokus))
    coordinator = User.objects.get(assignments__lokus=lokus, assignments__is_coordinator=True)
    lokus_builders.advance_to_running(lokus, team, coordinator)
    return lokus_services.field_media_add(
        user=coordinator, lokus_id=lokus.pk, kind=MediaKind.PHOTO, clean=clean_image(_png())
    )


def _lokus_classified(cast, classification: str, days: int) -> Lokus:
    lokus = lokus_builders.make_chosen_lokus(
        cast["kasubbid"], cast["partner"], starts_at=lokus_builders.future_wib(days=days)
    )
    lokus_services.lokus_update(
        user=cast["kasubbid"],
        lokus_id=lokus.pk,
        data=lokus_builders.ready_data(lokus, classification=classification),
    )
    lokus_services.lokus_set_team(
        user=cast["kasubbid"], lokus_id=lokus.pk, members=[cast["member"]], coordinator=cast["member"]
    )
    return lokus_services.lokus_dispatch(user=cast["kasubbid"], lokus_id=lokus.pk)


def test_viewing_classified_objects_is_logged(client_for, cast):
    terbatas = _lokus_classified(cast, Classification.TERBATAS, days=20)
    media = _photo_in(terbatas, cast)
    biasa = _lokus_classified(cast, Classification.BIASA, days=22)
    report = report_builders.start_report(
        cast, report_builders.make_field_done_lokus(cast), classification=Classification.RAHASIA
    )
    report = report_builders.walk(report, ReportState.AT_KASUBBID, cast)
    client = client_for("kabid")

    assert client.get(reverse("lokus:detail", args=[biasa.pk])).status_code == 200
    assert AccessLog.objects.count() == 0, "a Biasa lokus is not logged"

    assert client.get(reverse("lokus:detail", args=[terbatas.pk])).status_code == 200
    assert client.get(reverse("reports:detail", args=[report.pk])).status_code == 200
    photo = client.get(reverse("lokus:media_file", args=[media.pk]))
    assert photo.status_code == 200
    b"".join(photo.streaming_content)  # reading it closes the file (close() would end the DB connection)
    assert client.get(reverse("reports:surat_tugas", args=[terbatas.pk])).status_code == 200

    rows = list(AccessLog.objects.order_by("pk").values_list("user", "kind", "lokus_id", "object_id", "classification"))
    kabid = cast["kabid"].pk
    assert rows == [
        (kabid, AccessLog.Kind.LOKUS, terbatas.pk, terbatas.pk, Classification.TERBATAS),
        (kabid, AccessLog.Kind.REPORT, report.lokus_id, report.pk, Classification.RAHASIA),
        (kabid, AccessLog.Kind.FILE, terbatas.pk, media.pk, Classification.TERBATAS),
        (kabid, AccessLog.Kind.DOCUMENT, terbatas.pk, terbatas.pk, Classification.TERBATAS),
    ]
    assert all(entry.ip_address == "127.0.0.1" for entry in AccessLog.objects.all())

    # The member's own assignment page of the Terbatas lokus is logged too.
    client_for("member").get(reverse("lokus:assignment", args=[terbatas.pk]))
    assert AccessLog.objects.filter(user=cast["member"], kind=AccessLog.Kind.ASSIGNMENT).count() == 1

    # A refused look is not a view: nothing logged.
    count = AccessLog.objects.count()
    assert client_for("other_kasubbid").get(reverse("lokus:detail", args=[terbatas.pk])).status_code == 404
    assert AccessLog.objects.count() == count


def test_the_access_log_is_append_only(client_for, cast):
    lokus = lokus_builders.make_ready_lokus(cast["kasubbid"], cast["partner"], [cast["member"]], cast["member"])
    client_for("kabid").get(reverse("lokus:detail", args=[lokus.pk]))
    client_for("kaban").get(reverse("lokus:detail", args=[lokus.pk]))
    entry = AccessLog.objects.order_by("pk").first()
    before = list(AccessLog.objects.order_by("pk").values())
    assert len(before) == 2

    entry.user = cast["kaban"]
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    with pytest.raises(ValidationError):
        AccessLog.objects.filter(pk=entry.pk).update(user=cast["kaban"])
    with pytest.raises(ValidationError):
        AccessLog.objects.all().delete()
    with pytest.raises(ValidationError), transaction.atomic():
        AccessLog.objects.bulk_update([entry], ["user"])
    # Nor through what it points at.
    with pytest.raises(ProtectedError):
        cast["kabid"].delete()
    with pytest.raises(ProtectedError):
        Lokus.objects.filter(pk=lokus.pk).delete()

    assert list(AccessLog.objects.order_by("pk").values()) == before


def test_group_permissions_keep_the_access_log_with_the_kepala_badan():
    holders = set(Group.objects.filter(permissions__codename="view_access_records").values_list("name", flat=True))
    assert holders == {Role.KABAN.value}
