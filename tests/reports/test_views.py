"""The report pages: the side-by-side version diff with the note that asked for the change,
escaping of what users typed, overdue marks against the SOP's time standards on a frozen
clock, the whole-chain time, the list's filter, and what each page costs in queries at one
row and at many."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from accounts.enums import Role
from core.enums import Classification
from lokus.models import Assignment, AuditEntry
from reports import permissions, services
from reports.enums import ReportState
from reports.models import ActivityReport, DocumentDownload, DocumentKind, ReportExcuse
from tests.factories import UserFactory, sub_division, wib
from tests.reports import builders
from tests.reports.builders import snapshot

pytestmark = pytest.mark.django_db

S = ReportState
T0 = wib(2031, 3, 3, 8, 0)
READERS = ["coordinator", "kasubbid", "kabid", "kaban"]


def by_testid(html: str, name: str, tag: str = r"\w+") -> str:
    """The inner HTML of the element with ``data-testid=name`` (no nested tag of the same
    kind inside; enough for these templates)."""
    match = re.search(rf'<({tag})[^>]*data-testid="{name}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no data-testid={name} on the page"
    return match.group(2)


def detail_url(report) -> str:
    return reverse("reports:detail", args=[report.pk])


# Versions: the diff and the note that asked for it ----------------------------------------------

FACTS_V3 = "09.00 massa berkumpul. 10.30 perwakilan diterima. 12.45 massa bubar tertib; 280 orang."


def test_the_versions_page_shows_the_diff_side_by_side_with_the_return_note(cast, client_for, report, walk):
    walk(report, S.KASUBBID_VERIFIED)
    services.report_return(user=cast["kasubbid"], report_id=report.pk, note="Sebutkan jam bubar dan jumlah massa.")
    services.report_save(user=cast["coordinator"], report_id=report.pk, data={"facts": FACTS_V3})

    response = client_for("kasubbid").get(reverse("reports:versions", args=[report.pk]))

    assert response.status_code == 200
    assert (response.context["older"].number, response.context["newer"].number) == (2, 3)
    assert (response.context["older"].revision_round, response.context["newer"].revision_round) == (1, 2)
    changed = [str(row["label"]) for row in response.context["rows"] if row["changed"]]
    assert changed == [str(ActivityReport._meta.get_field("facts").verbose_name)]
    html = response.content.decode()
    diff = by_testid(html, "diff", "table")
    assert diff.count('data-changed="1"') == 1
    assert '<del class="diff-del">12.30</del>' in diff
    assert '<ins class="diff-ins">12.45</ins>' in diff
    assert '<ins class="diff-ins">tertib; 280 orang.</ins>' in diff
    assert "<del" not in diff.split("12.45")[1].split("</tr>")[0], "the newer column only inserts"
    notes = by_testid(html, "return-notes", "div")
    assert "Sebutkan jam bubar dan jumlah massa." in notes
    assert cast["kasubbid"].full_name in notes


def test_the_versions_page_shows_every_note_of_a_pass_down_too(cast, client_for, report, walk):
    walk(report, S.KABID_VERIFIED)
    services.report_return(user=cast["kabid"], report_id=report.pk, note="Foto kegiatan belum ada.")
    services.report_pass_down(user=cast["kasubbid"], report_id=report.pk, note="Korlap, pilih foto kegiatan.")
    services.report_save(user=cast["coordinator"], report_id=report.pk, data={"facts": FACTS_V3})

    notes = [
        n.note for n in client_for("coordinator").get(reverse("reports:versions", args=[report.pk])).context["notes"]
    ]

    assert notes == ["Foto kegiatan belum ada.", "Korlap, pilih foto kegiatan."]


def test_the_versions_page_picks_the_asked_versions_and_only_their_notes(cast, client_for, report, walk):
    walk(report, S.RETURNED_TO_KORLAP)
    services.report_save(user=cast["coordinator"], report_id=report.pk, data={"facts": FACTS_V3})
    client = client_for("coordinator")
    url = reverse("reports:versions", args=[report.pk])

    earlier = client.get(url, {"a": "1", "b": "2"})
    swapped = client.get(url, {"a": "3", "b": "1"})
    nonsense = client.get(url, {"a": "x", "b": "99"})

    assert (earlier.context["older"].number, earlier.context["newer"].number) == (1, 2)
    assert earlier.context["notes"] == [], "the return came after version 2"
    assert 'data-testid="return-notes"' not in earlier.content.decode()
    assert (swapped.context["older"].number, swapped.context["newer"].number) == (1, 3)
    assert len(swapped.context["notes"]) == 1
    assert (nonsense.context["older"].number, nonsense.context["newer"].number) == (2, 3)


def test_user_text_with_html_is_escaped_in_the_diff_the_notes_and_the_report(cast, client_for, report, walk):
    walk(report, S.KASUBBID_VERIFIED)
    services.report_return(user=cast["kasubbid"], report_id=report.pk, note="Hapus <b>ini</b> & <i>itu</i>")
    hostile = 'Massa <script>alert("x")</script> datang <img src=x onerror=alert(1)> pukul 09.00'
    services.report_save(user=cast["coordinator"], report_id=report.pk, data={"facts": hostile})

    versions = client_for("kasubbid").get(reverse("reports:versions", args=[report.pk])).content.decode()
    page = client_for("kasubbid").get(detail_url(report)).content.decode()

    for html in (versions, page):
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    diff = by_testid(versions, "diff", "table")
    assert '<ins class="diff-ins">' in diff and "&lt;img src=x onerror=alert(1)&gt;" in diff
    assert "Hapus &lt;b&gt;ini&lt;/b&gt; &amp; &lt;i&gt;itu&lt;/i&gt;" in by_testid(versions, "return-notes", "div")
    assert "<b>ini</b>" not in versions


# Time against the SOP's standards, on a frozen clock --------------------------------------------


def test_a_report_waiting_over_30_minutes_at_the_kasubbid_is_overdue_everywhere(cast, client_for):
    with time_machine.travel(T0, tick=False) as clock:
        late = builders.make_report_in(cast, S.AT_KASUBBID)  # step 7: due at T0 + 30 min
        clock.shift(timedelta(minutes=20))
        fresh = builders.make_report_in(cast, S.AT_KASUBBID)  # due at T0 + 50 min
        client = client_for("kasubbid")

        clock.shift(timedelta(minutes=9))  # T0 + 29 min: nothing late yet
        early = client.get(detail_url(late))
        assert early.context["due"] == T0 + timedelta(minutes=30)
        assert early.context["due_overdue"] is False
        assert '<span class="overdue">' not in early.content.decode()

        clock.shift(timedelta(minutes=2))  # T0 + 31 min
        page = client.get(detail_url(late))
        other = client.get(detail_url(fresh))
        home = client.get(reverse("home"))
        listing = client.get(reverse("reports:list"))
        spans = page.context["spans"]
        tasks = home.context["tasks"]
        overdue = [t.overdue for t in tasks]

    assert page.context["due_overdue"] is True
    assert '<span class="overdue">' in page.content.decode()
    assert spans[-1].state == S.AT_KASUBBID
    assert 'class="overdue"' in by_testid(page.content.decode(), "spans", "table")
    assert other.context["due_overdue"] is False
    assert '<span class="due-ok">' in other.content.decode()
    assert '<span class="overdue">' not in other.content.decode()

    assert [t.url for t in tasks] == [detail_url(late), detail_url(fresh)], "overdue first"
    assert overdue == [True, False]
    assert [t.step for t in tasks] == [7, 7]
    queue = by_testid(home.content.decode(), "queue", "ul")
    assert queue.index(detail_url(late)) < queue.index('<span class="overdue">') < queue.index(detail_url(fresh))

    rows = {r.pk: r for r in listing.context["page"].object_list}
    assert (rows[late.pk].due_overdue, rows[fresh.pk].due_overdue) == (True, False)
    assert rows[late.pk].mine and rows[fresh.pk].mine


def test_the_korlap_and_the_kabid_do_not_get_the_kasubbids_task(cast, client_for):
    with time_machine.travel(T0, tick=False) as clock:
        report = builders.make_report_in(cast, S.AT_KASUBBID)
        clock.shift(timedelta(hours=1))
        for role in ("coordinator", "kabid", "kaban", "other_kasubbid"):
            tasks = client_for(role).get(reverse("home")).context["tasks"]
            assert detail_url(report) not in [t.url for t in tasks], role


def test_the_whole_chain_time_stops_at_approval(cast, client_for):
    with time_machine.travel(T0, tick=False) as clock:
        report = builders.make_report(cast)  # the plan was submitted at T0
        clock.shift(timedelta(hours=5))
        builders.walk(report, S.APPROVED, cast)
        clock.shift(timedelta(days=3))
        response = client_for("kaban").get(detail_url(report))

    assert response.context["elapsed_hours"] == pytest.approx(5.0)
    assert response.context["elapsed_over"] is False
    elapsed = by_testid(response.content.decode(), "elapsed", "p")
    assert "5,0" in elapsed and "20" in elapsed  # Indonesian: a decimal comma
    assert "overdue" not in elapsed


def test_a_chain_over_the_sops_20_hours_is_marked(cast, client_for):
    with time_machine.travel(T0, tick=False) as clock:
        report = builders.make_report_in(cast, S.AT_KABID)
        clock.shift(timedelta(hours=21, minutes=30))
        response = client_for("kabid").get(detail_url(report))

    assert response.context["elapsed_hours"] == pytest.approx(21.5)
    assert response.context["elapsed_over"] is True
    elapsed = by_testid(response.content.decode(), "elapsed", "p")
    assert "21,5" in elapsed and 'class="overdue"' in elapsed


# The list ---------------------------------------------------------------------------------------


def test_the_list_filters_by_stage(cast, client_for):
    draft = builders.make_report(cast)
    waiting = builders.make_report_in(cast, S.AT_KASUBBID)
    approved = builders.make_report_in(cast, S.APPROVED)
    client = client_for("kabid")

    def listed(**params):
        response = client.get(reverse("reports:list"), params)
        assert response.status_code == 200
        return response, {r.pk for r in response.context["page"].object_list}

    response, pks = listed(state=S.AT_KASUBBID)
    assert pks == {waiting.pk}
    assert response.context["filters"].selected == {"state": S.AT_KASUBBID}
    assert f'<option value="{S.AT_KASUBBID}" selected>' in response.content.decode()
    assert listed(state=S.APPROVED)[1] == {approved.pk}
    assert listed(state=S.RETURNED_TO_KABID)[1] == set()
    assert listed()[1] == {draft.pk, waiting.pk, approved.pk}
    response, pks = listed(state="bukan-tahap")
    assert pks == {draft.pk, waiting.pk, approved.pk}
    assert response.context["filters"].selected == {}, "an unknown stage is ignored"


@pytest.mark.parametrize("state", [S.DRAFT, S.AT_KASUBBID, S.RETURNED_TO_KASUBBID, S.KABAN_VERIFIED, S.APPROVED])
def test_your_turn_in_the_list_and_the_queue_agrees_with_the_transition_permission(cast, client_for, state):
    report = builders.make_report_in(cast, state)
    for role in READERS:
        user = cast[role]
        listing = client_for(role).get(reverse("reports:list")).context["page"].object_list
        queue = [t.url for t in client_for(role).get(reverse("home")).context["tasks"]]
        holds = permissions.can_act(user, report)
        assert [r.mine for r in listing] == [holds], role
        assert (detail_url(report) in queue) == holds, role
        assert permissions.held_reports(user, ActivityReport.objects.select_related("lokus")) == (
            {report.pk} if holds else set()
        )


# Refusals on the pages --------------------------------------------------------------------------


def test_excusing_an_officer_of_another_team_answers_404(cast, client_for):
    report = builders.make_report_with_missing_member(cast)
    stranger = builders.make_report_with_missing_member(cast).lokus.assignments.get(member=cast["member"])
    before = snapshot(report)

    response = client_for("coordinator").post(
        reverse("reports:excuse", args=[report.pk]), {"assignment": stranger.pk, "reason": "Sakit."}
    )

    assert response.status_code == 404
    assert snapshot(report) == before


def test_the_korlap_sees_what_is_missing_before_sending(cast, client_for):
    report = builders.make_report_with_missing_member(cast)

    response = client_for("coordinator").get(detail_url(report))

    assert response.context["missing"] == services.missing_for_sending(report)
    missing = by_testid(response.content.decode(), "missing", "div")
    assert cast["member"].full_name in missing
    assert (
        'name="assignment" value="{}"'.format(Assignment.objects.get(lokus=report.lokus, member=cast["member"]).pk)
        in response.content.decode()
    )


def test_an_invalid_edit_shows_the_form_again_and_saves_nothing(cast, client_for, report):
    before = snapshot(report)

    response = client_for("coordinator").post(
        reverse("reports:edit", args=[report.pk]), builders.filled_data(crowd_estimate=-5, classification="terbatas")
    )

    assert response.status_code == 200
    assert "crowd_estimate" in response.context["form"].errors
    assert snapshot(report) == before


def test_the_excuse_form_excuses_and_then_sending_completes_the_field_work(cast, client_for):
    report = builders.make_report_with_missing_member(cast)
    assignment = Assignment.objects.get(lokus=report.lokus, member=cast["member"])
    client = client_for("coordinator")

    client.post(reverse("reports:excuse", args=[report.pk]), {"assignment": assignment.pk, "reason": "Sakit."})
    client.post(reverse("reports:submit", args=[report.pk]))

    report.refresh_from_db()
    assert report.state == S.AT_KASUBBID
    assert ReportExcuse.objects.get(report=report).reason == "Sakit."
    assert AuditEntry.objects.filter(lokus=report.lokus, action="field_done").count() == 1


# Queries: the same few at one row and at many ---------------------------------------------------

MANY = 8
# Measured; the Korlap's pages also read their django-guardian object permissions, the
# Kasubbid's home also gathers the lokus queues of steps 2-5.
# Constant costs included: the Kabid's and Kepala Badan's verified second factor is read
# once per request (django-otp), and a page of a Terbatas/Rahasia report writes one
# access-log row.
LIST_QUERIES = {"coordinator": 17, "kasubbid": 15, "kabid": 16, "kaban": 16}
HOME_QUERIES = {"coordinator": 14, "kasubbid": 18, "kabid": 15, "kaban": 15}
DETAIL_QUERIES = {"coordinator": 28, "kasubbid": 23, "kabid": 24, "kaban": 24}
VERSIONS_QUERIES = {"coordinator": 12, "kasubbid": 9, "kabid": 10, "kaban": 10}
DOWNLOADS_QUERIES = 9  # the Kepala Badan's, at one row and at many


# The states in which each reader holds the report (SOP steps 6-15), and so how many of the
# states built above wait in its queue: of the first report (a draft), and of all MANY.
HELD_BY = {
    "coordinator": {S.DRAFT, S.RETURNED_TO_KORLAP},
    "kasubbid": {S.AT_KASUBBID},
    "kabid": {S.KABID_VERIFIED},
    "kaban": {S.AT_KABAN},
}
EXPECTED_TASKS = {"coordinator": (1, 3), "kasubbid": (0, 2), "kabid": (0, 1), "kaban": (0, 1)}


def _wasdin_officers(n: int) -> list:
    return [
        UserFactory(username=f"anggota.tambahan{i}", roles=[Role.MEMBER], sub_division=sub_division("wasdin"))
        for i in range(n)
    ]


@pytest.mark.parametrize("rows", [1, MANY])
@pytest.mark.parametrize("role", READERS)
def test_the_list_and_the_home_queue_cost_the_same_at_one_report_and_at_many(
    cast, client_for, django_assert_max_num_queries, rows, role
):
    # Every state whose holder is checked differently: the Korlap (object permission), the
    # Kasubbid (own sub-division), the Kabid and the Kepala Badan.
    states = [S.DRAFT, S.AT_KASUBBID, S.RETURNED_TO_KORLAP, S.KABID_VERIFIED, S.AT_KABAN, S.APPROVED]
    reports = [builders.make_report_in(cast, states[i % len(states)]) for i in range(rows)]
    client = client_for(role)
    client.get(reverse("home"))  # the session and the user's caches are warm, as on any later page

    with django_assert_max_num_queries(LIST_QUERIES[role]):
        listing = client.get(reverse("reports:list"))
    with django_assert_max_num_queries(HOME_QUERIES[role]):
        home = client.get(reverse("home"))

    assert len(listing.context["page"].object_list) == rows
    # The queue holds exactly the reports in a state this role acts on; nothing else waits
    # (every lokus here is past field work).
    waiting = [detail_url(r) for r in reports if r.state in HELD_BY[role]]
    assert sorted(t.url for t in home.context["tasks"]) == sorted(waiting)
    assert len(waiting) == EXPECTED_TASKS[role][0 if rows == 1 else 1]


@pytest.mark.parametrize("rows", [1, MANY])
def test_the_download_log_costs_the_same_at_one_row_and_at_many(cast, client_for, django_assert_max_num_queries, rows):
    lokus = [builders.make_field_done_lokus(cast, title=f"Lokus unduhan {i}") for i in range(2)]
    readers = [cast["kabid"], cast["kaban"], cast["kasubbid"], cast["coordinator"]]
    kinds = DocumentKind.values
    for i in range(rows):
        DocumentDownload.objects.create(
            user=readers[i % len(readers)],
            kind=kinds[i % len(kinds)],
            lokus=lokus[i % 2],
            object_id=lokus[i % 2].pk,
            number=f"800.1.11.1/{i:04d}",
            version=i,
            classification=Classification.TERBATAS,
            watermarked=True,
        )
    client = client_for("kaban")
    client.get(reverse("home"))

    with django_assert_max_num_queries(DOWNLOADS_QUERIES):
        response = client.get(reverse("reports:downloads"))

    assert len(response.context["page"].object_list) == rows
    html = by_testid(response.content.decode(), "downloads", "table")
    assert html.count("<tr>") == rows + 1  # the head row and one per download
    assert lokus[0].plan.title in html
    assert (lokus[1].plan.title in html) == (rows > 1)


@pytest.mark.parametrize("rows", [1, MANY])
@pytest.mark.parametrize("role", READERS)
def test_the_report_page_costs_the_same_at_one_member_version_and_round_and_at_many(
    cast, client_for, django_assert_max_num_queries, rows, role
):
    report = builders.make_report(cast, _wasdin_officers(rows - 1))
    for i in range(rows):
        services.report_save(user=cast["coordinator"], report_id=report.pk, data={"outlook": f"Perkiraan {i}."})
        builders.walk(report, S.AT_KASUBBID, cast)
        builders.walk(report, S.RETURNED_TO_KORLAP, cast)  # a full send-verify-return round each time
    services.report_save(user=cast["coordinator"], report_id=report.pk, data={"outlook": "Perkiraan akhir."})
    client = client_for(role)
    client.get(reverse("home"))

    with django_assert_max_num_queries(DETAIL_QUERIES[role]):
        page = client.get(detail_url(report))
    with django_assert_max_num_queries(VERSIONS_QUERIES[role]):
        versions = client.get(reverse("reports:versions", args=[report.pk]))

    assert len(page.context["assignments"]) == rows + 1
    assert len(page.context["versions"]) == rows + 3
    assert len(page.context["verifications"]) == rows
    assert len(versions.context["versions"]) == rows + 3
