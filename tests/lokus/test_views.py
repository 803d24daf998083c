"""Steps 1-5 through the views: what a person sees, what their request changes, and how a
refusal reads. Who may open what is in test_permission_grid.py; the rules behind the
actions are in test_services.py. Messages are asserted by level, not by their wording
(the Indonesian translation is still being written)."""

import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.messages import constants as levels
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from PIL import Image

from accounts.models import Notification, Qualification
from accounts.services import notify
from core import navigation
from lokus import selectors, services
from lokus.enums import (
    AssignmentState,
    AuditAction,
    Equipment,
    EscalationKind,
    LokusState,
    MediaKind,
    PlanStatus,
    Situation,
)
from lokus.forms import DATETIME_FORMAT
from lokus.models import (
    ActivityPlan,
    Assignment,
    AuditEntry,
    Escalation,
    FieldMedia,
    FieldNote,
    Kecamatan,
    Kelurahan,
    LokusUserObjectPermission,
    PlanAttachment,
)
from tests.lokus import builders

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% surat pemberitahuan\n%%EOF\n"


def shown(client, response) -> list[str]:
    """The messages the person sees: on the page itself, or on the page a redirect leads
    to (which, like a browser, also clears them)."""
    page = client.get(response["Location"]) if response.status_code == 302 else response
    return re.findall(r'<li class="msg msg-(\w+)"', page.content.decode())


def message_texts(response, level: int) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level == level]


def in_indonesian(msgid: str) -> str:
    """A message as the product shows it (in its language, Indonesian)."""
    with translation.override("id"):
        return translation.gettext(msgid)


def wib(moment) -> str:
    return timezone.localtime(moment).strftime(DATETIME_FORMAT)


def plan_form(**overrides) -> dict:
    """What a person types into the plan form: builders.plan_data as form fields."""
    data = builders.plan_data()
    form = {
        **{k: v for k, v in data.items() if k not in ("kecamatan", "kelurahan", "starts_at", "ends_at")},
        "starts_at": wib(data["starts_at"]),
        "ends_at": wib(data["ends_at"]),
        "kecamatan": data["kecamatan"].pk,
        "kelurahan": data["kelurahan"].pk,
    }
    form.update(overrides)
    return form


def jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "KameraUji"  # Make
    exif[0x0110] = "Ponsel Lapangan 7"  # Model
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def team_of(cast):
    return [cast["member"], cast["coordinator"]]


# Step 1: the plan form ---------------------------------------------------------------------


def test_plan_form_rerenders_typed_values_when_the_end_is_before_the_start(client_for, cast):
    start = builders.future_wib()
    typed = plan_form(
        title="Pawai budaya Cisadane",
        organiser="Paguyuban Seni Uji",
        starts_at=wib(start),
        ends_at=wib(start - timedelta(hours=1)),
    )

    response = client_for("partner").post(reverse("lokus:plan_create"), typed)

    assert response.status_code == 200
    # The model's rule (ActivityPlan.clean), shown on the field, once.
    assert response.context["form"].errors == {"ends_at": [in_indonesian("The end must be after the start.")]}
    html = response.content.decode()
    assert 'value="Pawai budaya Cisadane"' in html
    assert 'value="Paguyuban Seni Uji"' in html
    assert f'value="{wib(start)}"' in html
    assert 'class="field has-error' in html
    assert not ActivityPlan.objects.exists()


def test_plan_form_refuses_a_kelurahan_outside_the_kecamatan(client_for, cast):
    tangerang = Kecamatan.objects.get(code=builders.KECAMATAN_CODE)
    elsewhere = Kelurahan.objects.exclude(kecamatan=tangerang).first()

    response = client_for("partner").post(reverse("lokus:plan_create"), plan_form(kelurahan=elsewhere.pk))

    assert response.status_code == 200
    message = in_indonesian("Kelurahan: %(kelurahan)s is not in the chosen kecamatan (%(kecamatan)s).")
    assert response.context["form"].errors == {
        "kelurahan": [message % {"kelurahan": elsewhere.name, "kecamatan": tangerang.name}]
    }
    # Every kelurahan names its kecamatan, so that the page offers the chosen kecamatan's own.
    offered = re.findall(r'<option value="(\d+)"[^>]* data-kecamatan="(\d+)"', response.content.decode())
    assert {(int(k), int(c)) for k, c in offered} == set(Kelurahan.objects.values_list("pk", "kecamatan_id"))
    assert not ActivityPlan.objects.exists()


def test_plan_form_names_every_missing_required_field(client_for, cast):
    # A browser sends every field, empty ones too.
    response = client_for("partner").post(reverse("lokus:plan_create"), dict.fromkeys(plan_form(), ""))

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {
        "title",
        "category",
        "description",
        "organiser",
        "expected_participants",
        "starts_at",
        "ends_at",
        "address",
        "kecamatan",
        "kelurahan",
    }
    assert not ActivityPlan.objects.exists()


def test_staff_entering_a_plan_must_name_the_source(client_for, cast):
    client = client_for("kasubbid")
    form = client.get(reverse("lokus:plan_create")).context["form"]
    assert {"source_agency", "source_name"} <= set(form.fields)
    assert "source_name" not in client_for("partner").get(reverse("lokus:plan_create")).context["form"].fields

    client = client_for("kasubbid")
    response = client.post(reverse("lokus:plan_create"), plan_form(source_name="  "))
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"source_name"}
    assert not ActivityPlan.objects.exists()

    response = client.post(reverse("lokus:plan_create"), plan_form(source_agency=cast["partner"].agency.pk))
    plan = ActivityPlan.objects.get()
    assert response.status_code == 302
    assert (plan.source_agency, plan.submitted_by) == (cast["partner"].agency, cast["kasubbid"])


def test_partner_submits_a_plan_with_a_pdf_letter(client_for, cast):
    client = client_for("partner")
    letter = SimpleUploadedFile("Surat Pemberitahuan.pdf", PDF, content_type="application/pdf")

    response = client.post(reverse("lokus:plan_create"), {**plan_form(title="Aksi buruh uji"), "attachments": letter})

    plan = ActivityPlan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("lokus:plan_detail", args=[plan.pk])
    assert shown(client, response) == ["success"]
    assert (plan.title, plan.status, plan.submitted_by) == ("Aksi buruh uji", PlanStatus.RECEIVED, cast["partner"])
    assert plan.source_agency == cast["partner"].agency
    attachment = PlanAttachment.objects.get(plan=plan)
    assert (attachment.original_name, attachment.content_type) == ("Surat Pemberitahuan.pdf", "application/pdf")
    assert Notification.objects.filter(recipient=cast["kasubbid"], url=response["Location"]).exists()

    # The detail page links the letter, and the link gives back the same bytes.
    detail = client.get(response["Location"])
    link = reverse("lokus:plan_attachment", args=[attachment.pk])
    assert f'href="{link}"' in detail.content.decode()
    download = client.get(link)
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"


def test_plan_form_refuses_a_file_that_is_neither_pdf_nor_photo(client_for, cast):
    fake = SimpleUploadedFile("surat.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client_for("partner").post(reverse("lokus:plan_create"), {**plan_form(), "attachments": fake})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"attachments"}
    assert not ActivityPlan.objects.exists()


def test_kelurahan_options_lists_only_that_kecamatan(client_for, cast):
    client = client_for("partner")
    for kecamatan in Kecamatan.objects.all()[:3]:
        response = client.get(reverse("lokus:kelurahan_options"), {"kecamatan": kecamatan.pk})
        values = re.findall(r'<option value="(\d*)">', response.content.decode())
        assert values[0] == ""
        assert {int(v) for v in values[1:]} == set(kecamatan.kelurahan.values_list("pk", flat=True))
        assert len(values) - 1 == kecamatan.kelurahan.count()

    response = client.get(reverse("lokus:kelurahan_options"), {"kecamatan": "1 OR 1=1"})
    assert re.findall(r'<option value="(\d*)">', response.content.decode()) == [""]


# Step 2: decisions through the plan page ---------------------------------------------------


def test_kasubbid_chooses_a_plan_and_a_second_decision_is_refused_with_a_message(client_for, cast, plan):
    client = client_for("kasubbid")
    detail = client.get(reverse("lokus:plan_detail", args=[plan.pk]))
    assert detail.context["can_decide"] is True
    assert 'data-testid="decision"' in detail.content.decode()

    response = client.post(reverse("lokus:plan_choose", args=[plan.pk]))

    plan.refresh_from_db()
    assert plan.status == PlanStatus.CHOSEN
    assert response["Location"] == reverse("lokus:detail", args=[plan.lokus.pk])
    assert shown(client, response) == ["success"]
    assert 'data-testid="decision"' not in client.get(reverse("lokus:plan_detail", args=[plan.pk])).content.decode()

    audit = AuditEntry.objects.count()
    again = client_for("other_kasubbid").post(reverse("lokus:plan_not_chosen", args=[plan.pk]), {"reason": "Rutin"})
    assert again.status_code == 302
    assert again["Location"] == reverse("lokus:plan_detail", args=[plan.pk])
    assert shown(client, again) == ["error"]
    plan.refresh_from_db()
    assert (plan.status, plan.decided_by) == (PlanStatus.CHOSEN, cast["kasubbid"])
    assert AuditEntry.objects.count() == audit


@pytest.mark.parametrize(
    ("name", "can_decide"),
    [("partner", False), ("kasubbid", True), ("other_kasubbid", True), ("kabid", False), ("kaban", False)],
)
def test_the_decision_is_offered_exactly_to_whoever_may_take_it(client_for, cast, plan, name, can_decide):
    detail = client_for(name).get(reverse("lokus:plan_detail", args=[plan.pk]))
    assert detail.context["can_decide"] is can_decide
    assert ('data-testid="decision"' in detail.content.decode()) is can_decide


@pytest.mark.parametrize("name", ["partner", "kabid", "kaban"])
def test_deciding_an_already_decided_plan_is_a_403_to_whoever_may_not_decide(client_for, cast, chosen_lokus, name):
    plan = chosen_lokus.plan
    client = client_for(name)
    audit = AuditEntry.objects.count()
    assert client.post(reverse("lokus:plan_choose", args=[plan.pk])).status_code == 403
    for reason in ("Rutin", ""):  # no form errors for whoever may not decide at all
        response = client.post(reverse("lokus:plan_not_chosen", args=[plan.pk]), {"reason": reason})
        assert response.status_code == 403
    plan.refresh_from_db()
    assert (plan.status, AuditEntry.objects.count()) == (PlanStatus.CHOSEN, audit)


def test_not_chosen_needs_a_reason(client_for, cast, plan):
    client = client_for("kasubbid")
    response = client.post(reverse("lokus:plan_not_chosen", args=[plan.pk]), {"reason": "  "})
    assert response.status_code == 302
    assert shown(client, response) == ["error"]
    plan.refresh_from_db()
    assert plan.status == PlanStatus.RECEIVED

    response = client.post(
        reverse("lokus:plan_not_chosen", args=[plan.pk]), {"reason": "Kegiatan rutin berskala kecil."}
    )
    plan.refresh_from_db()
    assert (plan.status, plan.decision_reason) == (PlanStatus.NOT_CHOSEN, "Kegiatan rutin berskala kecil.")
    assert 'data-testid="decision-reason"' in client_for("partner").get(response["Location"]).content.decode()


def test_a_post_without_the_csrf_token_is_refused(cast, plan):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast["kasubbid"])
    response = client.post(reverse("lokus:plan_choose", args=[plan.pk]))
    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.status == PlanStatus.RECEIVED


# The calendar and the plan list ------------------------------------------------------------


def _event_classes(response) -> dict[int, str]:
    return {
        int(pk): classes
        for classes, pk in re.findall(r'<a class="(event[^"]*)" href="/rencana/(\d+)/">', response.content.decode())
    }


def test_calendar_marks_overlapping_plans_and_leaves_out_not_chosen_ones(client_for, cast):
    nine = builders.future_wib(days=7, hour=9)
    morning = builders.make_plan(cast["partner"], title="Aksi pagi", starts_at=nine, ends_at=nine + timedelta(hours=4))
    noon = builders.make_plan(
        cast["other_partner"], title="Aksi siang", starts_at=nine.replace(hour=11), ends_at=nine.replace(hour=15)
    )
    evening = builders.make_plan(
        cast["partner"], title="Aksi malam", starts_at=nine.replace(hour=18), ends_at=nine.replace(hour=20)
    )
    declined = builders.make_plan(cast["kasubbid"], title="Aksi ditolak", starts_at=nine)
    services.plan_mark_not_chosen(user=cast["kasubbid"], plan_id=declined.pk, reason="Rutin")
    later = builders.make_plan(cast["partner"], title="Aksi dua minggu lagi", starts_at=nine + timedelta(days=14))
    client = client_for("kasubbid")

    week = client.get(reverse("lokus:plan_calendar"), {"date": nine.date().isoformat()})

    assert week.context["mode"] == "week"
    assert len(week.context["days"]) == 7
    assert week.context["first"].weekday() == 0 and week.context["first"] <= nine.date() <= week.context["last"]
    shown = [p.pk for day in week.context["days"] for p in day["plans"]]
    assert shown == [morning.pk, noon.pk, evening.pk]
    assert week.context["clashes"] == {morning.pk, noon.pk}
    classes = _event_classes(week)
    assert classes == {morning.pk: "event clash", noon.pk: "event clash", evening.pk: "event"}
    assert declined.pk not in classes and later.pk not in classes

    day = client.get(reverse("lokus:plan_calendar"), {"mode": "day", "date": nine.date().isoformat()})
    assert day.context["mode"] == "day"
    assert [d["date"] for d in day.context["days"]] == [nine.date()]
    assert [p.pk for p in day.context["days"][0]["plans"]] == [morning.pk, noon.pk, evening.pk]
    assert 'class="calendar calendar-day"' in day.content.decode()

    next_day = client.get(reverse("lokus:plan_calendar"), {"mode": "day", "date": day.context["next"].isoformat()})
    assert next_day.context["days"][0]["plans"] == []


def test_a_partner_never_sees_another_partners_plans(client_for, cast):
    own = builders.make_plan(cast["partner"], title="Rencana milik mitra")
    other = builders.make_plan(cast["other_partner"], title="Rencana milik mitra lain")
    client = client_for("partner")

    listed = client.get(reverse("lokus:plan_list"))
    assert [p.pk for p in listed.context["page"].object_list] == [own.pk]
    assert other.title not in listed.content.decode()
    searched = client.get(reverse("lokus:plan_list"), {"q": "mitra lain", "when": "all"})
    assert list(searched.context["page"].object_list) == []
    assert client.get(reverse("lokus:plan_calendar")).status_code == 403
    assert reverse("lokus:plan_calendar") not in listed.content.decode()
    home = client.get(reverse("home"))
    assert [p.pk for p in home.context["my_plans"]] == [own.pk]

    # Kesbangpol staff see both.
    staff = client_for("kasubbid").get(reverse("lokus:plan_list"))
    assert {p.pk for p in staff.context["page"].object_list} == {own.pk, other.pk}


def test_plan_list_filters_by_status_kecamatan_and_search(client_for, cast):
    received = builders.make_plan(cast["partner"], title="Rapat akbar ormas", organiser="Ormas Uji")
    chosen = builders.make_plan(cast["partner"], title="Kampanye terbuka", address="Lapangan Ahmad Yani")
    services.plan_choose(user=cast["kasubbid"], plan_id=chosen.pk)
    elsewhere = Kelurahan.objects.exclude(kecamatan__code=builders.KECAMATAN_CODE).first()
    far = builders.make_plan(
        cast["other_partner"], title="Pengajian akbar", kecamatan=elsewhere.kecamatan, kelurahan=elsewhere
    )
    client = client_for("kasubbid")

    def listed(**params):
        response = client.get(reverse("lokus:plan_list"), params)
        assert response.status_code == 200
        return {p.pk for p in response.context["page"].object_list}

    assert listed() == {received.pk, chosen.pk, far.pk}
    assert listed(status=PlanStatus.CHOSEN) == {chosen.pk}
    assert listed(status=PlanStatus.RECEIVED) == {received.pk, far.pk}
    assert listed(status="bogus") == {received.pk, chosen.pk, far.pk}
    assert listed(kecamatan=elsewhere.kecamatan_id) == {far.pk}
    assert listed(q="ormas uji") == {received.pk}  # organiser, any case
    assert listed(q="Ahmad Yani") == {chosen.pk}  # address
    assert listed(q="akbar", status=PlanStatus.RECEIVED, kecamatan=elsewhere.kecamatan_id) == {far.pk}
    assert listed(q="tidak ada yang cocok") == set()


def test_plan_list_pages_by_25(client_for, cast):
    start = builders.future_wib(days=3)
    for n in range(30):
        builders.make_plan(cast["partner"], title=f"Rencana nomor {n:02d}", starts_at=start + timedelta(hours=n))
    client = client_for("partner")

    first = client.get(reverse("lokus:plan_list"))
    second = client.get(reverse("lokus:plan_list"), {"page": 2})

    assert first.context["page"].paginator.num_pages == 2
    assert [p.title for p in first.context["page"].object_list] == [f"Rencana nomor {n:02d}" for n in range(25)]
    assert [p.title for p in second.context["page"].object_list] == [f"Rencana nomor {n:02d}" for n in range(25, 30)]
    assert 'class="pagination"' in first.content.decode()
    assert "page=2" in first.content.decode()


# Step 3: team and dispatch -----------------------------------------------------------------


def test_team_picker_shows_qualifications_and_warns_of_an_overlapping_lokus(client_for, cast, chosen_lokus):
    mediation = Qualification.objects.order_by("order").first()
    cast["member"].qualifications.add(mediation)
    busy = builders.make_dispatched_lokus(
        cast["other_kasubbid"],
        cast["other_partner"],
        [cast["other_member"]],
        cast["other_member"],
        title="Lokus lain yang bersamaan",
        starts_at=chosen_lokus.starts_at + timedelta(hours=1),
    )
    client = client_for("kasubbid")

    response = client.get(reverse("lokus:team", args=[chosen_lokus.pk]))

    rows = {row["user"].username: row for row in response.context["rows"]}
    assert set(rows) == {"anggota", "korlap", "anggota.lain"}
    assert [r["user"].username for r in response.context["rows"]][-1] == "anggota.lain"  # own sub-division first
    assert mediation in rows["anggota"]["user"].qualifications.all()
    assert [lokus.pk for lokus in rows["anggota.lain"]["clashes"]] == [busy.pk]
    assert rows["anggota"]["clashes"] == [] and rows["korlap"]["clashes"] == []
    html = response.content.decode()
    assert f'<span class="badge badge-muted">{escape(mediation.name)}</span>' in html
    assert html.count('data-testid="clash"') == 1
    assert escape(busy.plan.title) in html

    # Saving the team with the busy officer saves it and says so.
    response = client.post(
        reverse("lokus:team", args=[chosen_lokus.pk]),
        {"members": [cast["member"].pk, cast["other_member"].pk], "coordinator": cast["member"].pk},
    )
    assert response.status_code == 302
    assert sorted(shown(client, response)) == ["success", "warning"]
    assert sorted(chosen_lokus.assignments.values_list("member__username", "is_coordinator")) == [
        ("anggota", True),
        ("anggota.lain", False),
    ]


def test_team_form_needs_a_coordinator_among_the_chosen(client_for, cast, chosen_lokus):
    response = client_for("kasubbid").post(
        reverse("lokus:team", args=[chosen_lokus.pk]),
        {"members": [cast["member"].pk], "coordinator": cast["coordinator"].pk},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"coordinator"}
    assert response.context["chosen"] == {str(cast["member"].pk)}  # the ticks are kept
    assert not chosen_lokus.assignments.exists()


def test_dispatch_lists_what_is_missing(client_for, cast, chosen_lokus):
    client = client_for("kasubbid")
    with translation.override("id"):
        missing = [*chosen_lokus.missing_for_dispatch(), str(translation.gettext("the team"))]
    assert len(missing) == 5

    detail = client.get(reverse("lokus:detail", args=[chosen_lokus.pk]))
    assert detail.context["missing"] == missing[:-1]
    assert 'id="dispatch-missing"' in detail.content.decode()

    response = client.post(reverse("lokus:dispatch", args=[chosen_lokus.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("lokus:detail", args=[chosen_lokus.pk])
    [refusal] = message_texts(response, levels.ERROR)
    assert all(item in refusal for item in missing), refusal
    chosen_lokus.refresh_from_db()
    assert chosen_lokus.state == LokusState.COMPOSING
    assert not AuditEntry.objects.filter(action=AuditAction.DISPATCHED).exists()


def test_a_second_dispatch_is_refused_with_a_message(client_for, cast, ready_lokus):
    client = client_for("kasubbid")
    first = client.post(reverse("lokus:dispatch", args=[ready_lokus.pk]))
    assert shown(client, first) == ["success"]
    grants = LokusUserObjectPermission.objects.count()

    second = client.post(reverse("lokus:dispatch", args=[ready_lokus.pk]))

    assert second.status_code == 302
    assert shown(client, second) == ["error"]
    ready_lokus.refresh_from_db()
    assert ready_lokus.state == LokusState.DISPATCHED
    assert AuditEntry.objects.filter(lokus=ready_lokus, action=AuditAction.DISPATCHED).count() == 1
    assert LokusUserObjectPermission.objects.count() == grants
    assignment_url = reverse("lokus:assignment", args=[ready_lokus.pk])
    assert Notification.objects.filter(recipient=cast["member"], url=assignment_url).count() == 1
    # The page no longer offers the management buttons.
    detail = client.get(reverse("lokus:detail", args=[ready_lokus.pk]))
    assert detail.context["can_manage"] is False
    assert 'data-testid="manage"' not in detail.content.decode()


@pytest.mark.parametrize("url_name", ["lokus:edit", "lokus:team"])
def test_a_dispatched_lokus_sends_its_kasubbid_back_with_the_reason(client_for, cast, dispatched_lokus, url_name):
    client = client_for("kasubbid")
    url = reverse(url_name, args=[dispatched_lokus.pk])
    before = AuditEntry.objects.count()
    with translation.override("id"):
        reason = translation.gettext("The team was already dispatched; the lokus can no longer be changed.")
    for send in (lambda: client.get(url), lambda: client.post(url, {"problem": "Diubah setelah dikirim."})):
        response = send()
        assert response.status_code == 302
        assert response["Location"] == reverse("lokus:detail", args=[dispatched_lokus.pk])
        assert message_texts(response, levels.ERROR) == [reason]
        client.get(response["Location"])  # shows the message, as a browser would, and clears it
    dispatched_lokus.refresh_from_db()
    assert dispatched_lokus.problem != "Diubah setelah dikirim."
    assert AuditEntry.objects.count() == before


def test_lokus_edit_saves_the_details(client_for, cast, chosen_lokus):
    client = client_for("kasubbid")
    form = client.get(reverse("lokus:edit", args=[chosen_lokus.pk])).context["form"]
    assert form.initial["surat_tugas_number"]  # a number is suggested

    data = builders.ready_data(chosen_lokus)
    response = client.post(
        reverse("lokus:edit", args=[chosen_lokus.pk]),
        {
            "problem": data["problem"],
            "location": chosen_lokus.location,
            "assembly_point": data["assembly_point"],
            "assembly_at": wib(data["assembly_at"]),
            "starts_at": wib(chosen_lokus.starts_at),
            "ends_at": wib(chosen_lokus.starts_at - timedelta(hours=2)),
            "risk_level": "tinggi",
            "classification": "rahasia",
            "surat_tugas_number": data["surat_tugas_number"],
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "ends_at": [in_indonesian("The end must be after the start.")],
        "assembly_at": [in_indonesian("The meeting time must be before the end of the schedule.")],
    }
    chosen_lokus.refresh_from_db()
    assert chosen_lokus.problem == ""

    response = client.post(
        reverse("lokus:edit", args=[chosen_lokus.pk]),
        {
            "problem": data["problem"],
            "location": chosen_lokus.location,
            "assembly_point": data["assembly_point"],
            "assembly_at": wib(data["assembly_at"]),
            "starts_at": wib(chosen_lokus.starts_at),
            "ends_at": wib(chosen_lokus.ends_at),
            "risk_level": "tinggi",
            "classification": "rahasia",
            "surat_tugas_number": data["surat_tugas_number"],
        },
    )
    assert response.status_code == 302
    chosen_lokus.refresh_from_db()
    assert (chosen_lokus.problem, chosen_lokus.risk_level, chosen_lokus.classification) == (
        data["problem"],
        "tinggi",
        "rahasia",
    )
    assert chosen_lokus.missing_for_dispatch() == []


# Steps 4-5: the member's assignment --------------------------------------------------------


def test_assignment_page_gives_the_member_what_they_need(client_for, cast, ready_lokus):
    cast["member"].phone, cast["coordinator"].phone = "081211112222", "081299990000"
    cast["member"].save(update_fields=["phone"])
    cast["coordinator"].save(update_fields=["phone"])
    lokus = services.lokus_dispatch(user=cast["kasubbid"], lokus_id=ready_lokus.pk)

    response = client_for("member").get(reverse("lokus:assignment", args=[lokus.pk]))

    assert response.status_code == 200
    assert response.context["assignment"].member == cast["member"]
    assert response.context["korlap"] == cast["coordinator"]
    assert response.context["is_coordinator"] is False
    html = response.content.decode()
    assert escape(lokus.problem) in html
    assert escape(lokus.map_url()) in html
    assert escape(lokus.assembly_point) in html
    assembly = timezone.localtime(lokus.assembly_at)
    assert f"{assembly:%Y} {assembly:%H:%M} WIB" in html
    assert 'href="tel:081211112222"' in html and 'href="tel:081299990000"' in html
    team = re.search(r'<ul class="checklist" data-testid="team">(.*?)</ul>', html, re.S).group(1)
    korlap_line = next(line for line in team.split("<li>") if cast["coordinator"].full_name in line)
    assert 'class="badge"' in korlap_line
    assert escape(lokus.surat_tugas_number) in html
    assert 'data-testid="equipment"' in html
    assert response.context["risk_form"] is None  # the Korlap records it, not this member


def test_member_confirms_with_equipment(client_for, cast, dispatched_lokus):
    client = client_for("member")
    equipment = [Equipment.SMARTPHONE, Equipment.HANDY_TALKIE, Equipment.ID_CARD]

    response = client.post(reverse("lokus:confirm", args=[dispatched_lokus.pk]), {"equipment": equipment})

    assert response["Location"] == reverse("lokus:assignment", args=[dispatched_lokus.pk])
    assert shown(client, response) == ["success"]
    mine = Assignment.objects.get(lokus=dispatched_lokus, member=cast["member"])
    assert mine.state == AssignmentState.CONFIRMED
    assert mine.equipment == sorted(equipment)
    assert mine.confirmed_at is not None
    other = Assignment.objects.get(lokus=dispatched_lokus, member=cast["coordinator"])
    assert other.state == AssignmentState.ASSIGNED

    again = client.post(reverse("lokus:confirm", args=[dispatched_lokus.pk]), {"equipment": []})
    assert shown(client, again) == ["error"]
    mine.refresh_from_db()
    assert mine.equipment == sorted(equipment)

    refused = client.post(reverse("lokus:confirm", args=[dispatched_lokus.pk]), {"equipment": ["gun"]})
    assert shown(client, refused) == ["error"]


def test_check_in_is_refused_before_the_risk_mapping(client_for, cast, dispatched_lokus):
    builders.confirm_all(dispatched_lokus, team_of(cast))
    client = client_for("member")
    page = client.get(reverse("lokus:assignment", args=[dispatched_lokus.pk])).content.decode()
    assert re.search(r'<button type="submit" class="btn btn-primary btn-huge"\s+disabled>', page)

    response = client.post(reverse("lokus:check_in", args=[dispatched_lokus.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("lokus:assignment", args=[dispatched_lokus.pk])
    assert shown(client, response) == ["error"]
    assert Assignment.objects.get(lokus=dispatched_lokus, member=cast["member"]).state == AssignmentState.CONFIRMED
    dispatched_lokus.refresh_from_db()
    assert dispatched_lokus.state == LokusState.DISPATCHED

    # The Korlap records "go" through the risk form; then "Mulai" works, with the position.
    risk = client_for("coordinator").post(
        reverse("lokus:risk", args=[dispatched_lokus.pk]), {**builders.risk_data(), "go": "go"}
    )
    assert risk.status_code == 302
    client = client_for("member")
    response = client.post(
        reverse("lokus:check_in", args=[dispatched_lokus.pk]), {"latitude": "-6.178300", "longitude": "106.631800"}
    )
    assert shown(client, response) == ["success"]
    mine = Assignment.objects.get(lokus=dispatched_lokus, member=cast["member"])
    assert mine.state == AssignmentState.CHECKED_IN
    assert str(mine.checkin_latitude) == "-6.178300"
    dispatched_lokus.refresh_from_db()
    assert dispatched_lokus.state == LokusState.RUNNING


def test_a_no_go_risk_mapping_keeps_the_team_out(client_for, cast, dispatched_lokus):
    builders.confirm_all(dispatched_lokus, team_of(cast))
    client = client_for("coordinator")
    response = client.post(reverse("lokus:risk", args=[dispatched_lokus.pk]), {**builders.risk_data(), "go": "nogo"})
    assert shown(client, response) == ["warning"]
    assert Notification.objects.filter(recipient=cast["kasubbid"], is_urgent=True).exists()

    client = client_for("member")
    refused = client.post(reverse("lokus:check_in", args=[dispatched_lokus.pk]))
    assert shown(client, refused) == ["error"]
    assert Assignment.objects.get(lokus=dispatched_lokus, member=cast["member"]).state == AssignmentState.CONFIRMED


@pytest.mark.parametrize(
    ("typed", "error", "kept"),
    [
        ({"body": "", "crowd_estimate": "150", "situation": Situation.WASPADA}, "body", 'value="150"'),
        ({"body": "Massa bertambah di sisi timur.", "situation": ""}, "situation", "Massa bertambah di sisi timur."),
    ],
)
def test_a_field_note_with_a_missing_field_is_shown_again_with_what_was_typed(
    client_for, cast, running_lokus, typed, error, kept
):
    client = client_for("member")
    response = client.post(reverse("lokus:note_add", args=[running_lokus.pk]), typed)

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {error}
    assert kept in response.content.decode()
    assert shown(client, response) == ["error"]
    assert not FieldNote.objects.exists()


def test_a_field_note_is_saved(client_for, cast, running_lokus):
    response = client_for("member").post(reverse("lokus:note_add", args=[running_lokus.pk]), builders.note_data())
    assert response.status_code == 302
    note = FieldNote.objects.get()
    assert (note.assignment.member, note.body) == (cast["member"], builders.note_data()["body"])
    detail = client_for("kasubbid").get(reverse("lokus:detail", args=[running_lokus.pk]))
    assert list(detail.context["notes"]) == [note]


def test_photo_upload_is_stored_as_a_clean_jpeg(client_for, cast, running_lokus):
    original = jpeg_with_exif()
    assert Image.open(io.BytesIO(original)).getexif()  # the phone's photo carries EXIF
    client = client_for("member")

    response = client.post(
        reverse("lokus:media_add", args=[running_lokus.pk]),
        {
            "kind": MediaKind.PHOTO,
            "file": SimpleUploadedFile("IMG_0001.jpg", original, content_type="image/jpeg"),
            "caption": "Spanduk di gerbang",
        },
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("lokus:assignment", args=[running_lokus.pk]))
    media = FieldMedia.objects.get()
    assert (media.kind, media.content_type, media.caption) == (MediaKind.PHOTO, "image/jpeg", "Spanduk di gerbang")
    download = client_for("kasubbid").get(reverse("lokus:media_file", args=[media.pk]))
    body = b"".join(download.streaming_content)
    assert download["Content-Type"] == "image/jpeg"
    assert download["Cache-Control"] == "private, no-store"
    assert download["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(body))
    assert (image.format, image.size) == ("JPEG", (40, 30))
    assert not image.getexif()
    assert "exif" not in image.info
    assert b"KameraUji" not in body


def test_a_renamed_text_file_is_refused_as_a_photo(client_for, cast, running_lokus):
    client = client_for("member")
    response = client.post(
        reverse("lokus:media_add", args=[running_lokus.pk]),
        {
            "kind": MediaKind.PHOTO,
            "file": SimpleUploadedFile("foto.jpg", b"ini bukan gambar\n", content_type="image/jpeg"),
        },
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"file"}
    assert shown(client, response) == ["error"]
    assert not FieldMedia.objects.exists()


def test_escalation_alerts_the_kasubbid_of_the_lokus_and_the_kabid(client_for, cast, running_lokus):
    client = client_for("member")
    response = client.post(
        reverse("lokus:escalate", args=[running_lokus.pk]),
        {"kind": EscalationKind.WITHDRAWAL, "message": "Massa ricuh, tim mundur ke titik kumpul."},
    )

    assert response["Location"] == reverse("lokus:assignment", args=[running_lokus.pk])
    assert shown(client, response) == ["warning"]
    escalation = Escalation.objects.get()
    assert (escalation.lokus, escalation.raised_by, escalation.kind) == (
        running_lokus,
        cast["member"],
        EscalationKind.WITHDRAWAL,
    )
    urgent = Notification.objects.filter(is_urgent=True, url=reverse("lokus:detail", args=[running_lokus.pk]))
    assert sorted(urgent.values_list("recipient__username", flat=True)) == ["kabid", "kasubbid", "korlap"]
    # The Kasubbid sees it on the lokus and on the home page.
    detail = client_for("kasubbid").get(reverse("lokus:detail", args=[running_lokus.pk]))
    assert 'data-testid="escalations"' in detail.content.decode()
    home = client_for("kasubbid").get(reverse("home"))
    assert list(home.context["escalations"]) == [escalation]
    assert list(client_for("other_kasubbid").get(reverse("home")).context["escalations"]) == []


def test_escalation_without_a_message_is_shown_again(client_for, cast, running_lokus):
    response = client_for("member").post(
        reverse("lokus:escalate", args=[running_lokus.pk]), {"kind": EscalationKind.ESCALATION, "message": ""}
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"message"}
    assert not Escalation.objects.exists()
    assert not Notification.objects.filter(is_urgent=True).exists()


def test_member_report_completes_the_field_work(client_for, cast, running_lokus):
    for who in ["member", "coordinator"]:
        client = client_for(who)
        form = client.get(reverse("lokus:member_report", args=[running_lokus.pk]))
        assert form.context["is_report"] is True
        response = client.post(reverse("lokus:member_report", args=[running_lokus.pk]), builders.report_data())
        assert shown(client, response) == ["success"]
    running_lokus.refresh_from_db()
    assert running_lokus.state == LokusState.FIELD_DONE
    # Once reported, the form is gone and a note is refused.
    client = client_for("member")
    assert client.get(reverse("lokus:member_report", args=[running_lokus.pk])).status_code == 302
    refused = client.post(reverse("lokus:note_add", args=[running_lokus.pk]), builders.note_data())
    assert refused.status_code == 400
    assert not FieldNote.objects.exists()


# The home page: work queues ----------------------------------------------------------------


def _task_for(response, url):
    return next(task for task in response.context["tasks"] if task.url == url)


def test_kasubbid_sees_the_new_plan_to_decide_and_when_it_becomes_overdue(client_for, cast):
    submitted = timezone.now().replace(microsecond=0)
    with time_machine.travel(submitted, tick=False):
        plan = builders.make_plan(cast["partner"], title="Rencana yang menunggu keputusan")
    url = reverse("lokus:plan_detail", args=[plan.pk])
    step2 = selectors.step_standards()[2]

    # Task.overdue reads the clock, so it is asserted while the clock is still frozen.
    with time_machine.travel(submitted + timedelta(minutes=10), tick=False):
        response = client_for("kasubbid").get(reverse("home"))
        task = _task_for(response, url)
        assert (task.step, task.title, task.due_at) == (2, plan.title, submitted + step2.duration)
        assert task.overdue is False
        html = response.content.decode()
        assert 'class="due-ok"' in html and 'class="overdue"' not in html

    with time_machine.travel(submitted + timedelta(hours=2), tick=False):
        response = client_for("kasubbid").get(reverse("home"))
        task = _task_for(response, url)
        assert task.overdue is True
        assert response.context["tasks"][0] is task  # overdue first
        assert '<span class="overdue">' in response.content.decode()

    # The partner's home lists the plan, not a task to decide it.
    partner_home = client_for("partner").get(reverse("home"))
    assert all(task.url != url for task in partner_home.context["tasks"])
    assert [p.pk for p in partner_home.context["my_plans"]] == [plan.pk]


def test_member_sees_the_assignment_to_confirm(client_for, cast, ready_lokus):
    dispatched_at = timezone.now().replace(microsecond=0)
    with time_machine.travel(dispatched_at, tick=False):
        lokus = services.lokus_dispatch(user=cast["kasubbid"], lokus_id=ready_lokus.pk)
    url = reverse("lokus:assignment", args=[lokus.pk])

    with time_machine.travel(dispatched_at + timedelta(minutes=5), tick=False):
        response = client_for("member").get(reverse("home"))
        task = _task_for(response, url)
        assert (task.step, task.due_at) == (4, dispatched_at + selectors.step_standards()[4].duration)
        assert task.overdue is False
    assert f'href="{url}"' in response.content.decode()

    with time_machine.travel(dispatched_at + timedelta(hours=1), tick=False):
        response = client_for("member").get(reverse("home"))
        assert _task_for(response, url).overdue is True
        assert '<span class="overdue">' in response.content.decode()
        # Once confirmed, the task moves on to step 5.
        services.assignment_confirm(user=cast["member"], lokus_id=lokus.pk, equipment=[])
        response = client_for("member").get(reverse("home"))
    assert _task_for(response, url).step == 5
    # The other member, not on the team, has nothing.
    assert client_for("other_member").get(reverse("home")).context["tasks"] == []


# Notifications -----------------------------------------------------------------------------


def test_bell_count_list_and_opening_a_notification(client_for, cast, plan):
    notify([cast["kasubbid"]], "Pemberitahuan kedua", url=reverse("lokus:plan_detail", args=[plan.pk]))
    mine = list(Notification.objects.filter(recipient=cast["kasubbid"]).order_by("-created_at", "-pk"))
    assert len(mine) == 2
    client = client_for("kasubbid")

    home = client.get(reverse("home"))
    assert home.context["unread_notifications"] == 2
    assert '<span class="badge badge-alert">2</span>' in home.content.decode()
    listed = client.get(reverse("notifications"))
    assert list(listed.context["page"].object_list) == mine

    newest = mine[0]
    assert client.get(reverse("notification_open", args=[newest.pk])).status_code == 405
    newest.refresh_from_db()
    assert newest.read_at is None

    response = client.post(reverse("notification_open", args=[newest.pk]))
    assert response["Location"] == newest.url
    newest.refresh_from_db()
    assert newest.read_at is not None
    assert client.get(reverse("home")).context["unread_notifications"] == 1

    client.post(reverse("notifications_read_all"))
    assert not Notification.objects.filter(recipient=cast["kasubbid"], read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=cast["other_kasubbid"], read_at__isnull=True).count() == 1


def test_another_users_notification_is_not_found(client_for, cast, plan):
    theirs = Notification.objects.get(recipient=cast["other_kasubbid"])
    client = client_for("kasubbid")
    assert client.post(reverse("notification_open", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert theirs not in client.get(reverse("notifications")).context["page"].object_list


def test_a_notification_never_redirects_off_site(client_for, cast):
    notify([cast["member"]], "Tautan asing", url="https://contoh.invalid/masuk/")
    notification = Notification.objects.get(recipient=cast["member"])
    response = client_for("member").post(reverse("notification_open", args=[notification.pk]))
    assert response["Location"] == reverse("notifications")


# The menu ------------------------------------------------------------------------------------

OFFICE = {"lokus:plan_create", "lokus:plan_list", "lokus:plan_calendar", "lokus:list"}
MENU = {
    "partner": {"lokus:plan_create", "lokus:plan_list"},
    "other_partner": {"lokus:plan_create", "lokus:plan_list"},
    "kasubbid": OFFICE,
    "other_kasubbid": OFFICE,
    "member": {"lokus:assignments"},
    "coordinator": {"lokus:assignments"},
    "other_member": {"lokus:assignments"},
    "kabid": OFFICE,
    "kaban": (OFFICE - {"lokus:plan_create"}) | {"lokus:access_log"},
    "admin": set(),
    "norole": set(),
}


@pytest.mark.parametrize("name", list(MENU))
def test_the_menu_offers_each_role_the_lokus_pages_it_may_open(client_for, cast, name):
    """The entries' tests are the predicates the pages themselves check."""
    offered = {item.url_name for item in navigation.items_for(cast[name]) if item.url_name.startswith("lokus:")}
    assert offered == MENU[name]
    client = client_for(name)
    for url_name in offered:
        assert client.get(reverse(url_name)).status_code == 200, url_name
