"""What a field officer or a reviewer reads on the report, lokus and assignment pages: why a
returned report came back (at the top, for whoever holds it), a team-report start that waits
for step 6, a version compare that shows labels and keeps line breaks, hours written the
Indonesian way, and labels that start with a capital letter. (How the pages look on a 360 px
phone is tested in a real browser: tests/e2e/test_phone_pages.py.)"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone, translation

from core.enums import Classification
from lokus.enums import LokusState, Situation
from reports import selectors, services
from reports.enums import ReportAction, ReportState
from reports.models import ActivityReport, ReportLog
from tests.factories import wib
from tests.lokus import builders as lokus_builders
from tests.reports import builders

pytestmark = pytest.mark.django_db

S = ReportState
T0 = wib(2031, 3, 3, 8, 0)
NOTE = "Lengkapi kronologi pukul 10.30-11.40\ndan lampirkan foto dialog."


def in_indonesian(msgid: str) -> str:
    with translation.override("id"):
        return translation.gettext(msgid)


def detail_url(report) -> str:
    return reverse("reports:detail", args=[report.pk])


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def returned_note(html: str) -> str | None:
    match = re.search(r'<section[^>]*data-testid="returned-note"[^>]*>(.*?)</section>', html, re.S)
    return match.group(1) if match else None


# A returned report says why, at the top ------------------------------------------------------

# Each returned state: who holds the report there, and who sent it back.
RETURNED = [
    (S.RETURNED_TO_KORLAP, "coordinator", "kasubbid"),
    (S.RETURNED_TO_KASUBBID, "kasubbid", "kabid"),
    (S.RETURNED_TO_KABID, "kabid", "kaban"),
]


@pytest.mark.parametrize(("state", "holder", "sender"), RETURNED)
def test_whoever_holds_a_returned_report_sees_who_returned_it_when_and_why_first(
    cast, client_for, state, holder, sender
):
    report = builders.make_report_in(cast, builders.RETURNED_FROM[state][0])
    services.report_return(user=cast[sender], report_id=report.pk, note=NOTE)
    report.refresh_from_db()
    assert report.state == state
    entry = ReportLog.objects.filter(report=report, action=ReportAction.RETURNED).latest("pk")

    response = client_for(holder).get(detail_url(report))

    returned = response.context["returned"]
    assert (returned.actor, returned.at, returned.revision_round, returned.note) == (
        cast[sender],
        entry.created_at,
        report.revision_round,
        NOTE,
    )
    html = response.content.decode()
    banner = returned_note(html)
    assert banner is not None
    with translation.override("id"):
        when = date_filter(timezone.localtime(entry.created_at), "d M Y H:i")
    shown = text_of(banner)
    assert in_indonesian("Returned for revision") in shown
    assert cast[sender].full_name in shown
    assert f"{when} WIB" in shown
    assert in_indonesian("round %(n)s") % {"n": report.revision_round} in shown
    assert "Lengkapi kronologi pukul 10.30-11.40<br>dan lampirkan foto dialog." in banner
    # At the top: before the report's first card, its content and its timeline.
    position = html.index('data-testid="returned-note"')
    assert position < html.index('<section class="card">') < html.index('data-testid="report-content"')


@pytest.mark.parametrize(("state", "holder", "sender"), RETURNED)
def test_readers_who_do_not_hold_the_returned_report_see_no_banner(cast, client_for, state, holder, sender):
    report = builders.make_report_in(cast, state)
    for reader in {"coordinator", "kasubbid", "kabid", "kaban"} - {holder}:
        response = client_for(reader).get(detail_url(report))
        assert response.status_code == 200, reader
        assert response.context["returned"] is None, reader
        assert returned_note(response.content.decode()) is None, reader


def test_a_pass_down_shows_the_note_of_whoever_passed_it_down(cast, client_for):
    report = builders.make_report_in(cast, S.RETURNED_TO_KABID)
    services.report_pass_down(user=cast["kabid"], report_id=report.pk, note="Kasubbid: perbaiki analisis.")

    response = client_for("kasubbid").get(detail_url(report))

    returned = response.context["returned"]
    assert (returned.actor, returned.note) == (cast["kabid"], "Kasubbid: perbaiki analisis.")
    banner = text_of(returned_note(response.content.decode()))
    assert in_indonesian("Passed further down for revision") in banner
    assert cast["kabid"].full_name in banner and "Kasubbid: perbaiki analisis." in banner


def test_the_banner_goes_once_the_report_moves_on(cast, client_for):
    report = builders.make_report_in(cast, S.RETURNED_TO_KORLAP)
    assert returned_note(client_for("coordinator").get(detail_url(report)).content.decode()) is not None

    services.report_submit(user=cast["coordinator"], report_id=report.pk)

    for reader in ("coordinator", "kasubbid"):
        response = client_for(reader).get(detail_url(report))
        assert response.context["returned"] is None
        assert returned_note(response.content.decode()) is None


def test_the_report_page_reads_its_log_once(cast, client_for, django_assert_max_num_queries):
    report = builders.make_report_in(cast, S.RETURNED_TO_KORLAP)
    client = client_for("coordinator")
    client.get(detail_url(report))  # warm the session and the caches
    with django_assert_max_num_queries(60) as queries:
        client.get(detail_url(report))
    log_reads = [q["sql"] for q in queries.captured_queries if 'FROM "reports_reportlog"' in q["sql"]]
    assert len(log_reads) == 1, log_reads


# The team report's start waits for step 6 ------------------------------------------------------

START = "Start the team report"
START_EARLY = "Start the team report early (a member is excused)"


def start_button(html: str) -> str:
    """The start form's button in the team-report panel, as HTML."""
    panel = re.search(r'<section class="card" data-testid="report-link">(.*?)</section>', html, re.S)
    assert panel, "no team-report panel"
    button = re.search(r"<button[^>]*>.*?</button>", panel.group(1), re.S)
    assert button, "no start button"
    return button.group(0)


def first_primary(html: str) -> str:
    main = html[html.index("<main") :]
    button = re.search(r'<(a|button)[^>]*class="btn btn-(?:primary|ok)[^"]*"[^>]*>(.*?)</\1>', main, re.S)
    return text_of(button.group(2)) if button else ""


def test_before_field_work_is_done_the_start_is_a_secondary_action_below_the_field_cards(cast, client_for):
    members = builders.team(cast)
    lokus = lokus_builders.make_dispatched_lokus(cast["kasubbid"], cast["partner"], members, cast["coordinator"])
    panel = selectors.lokus_report_panel(cast["coordinator"], lokus)
    assert panel.context == {"can_start": True, "early": True}

    html = client_for("coordinator").get(reverse("lokus:assignment", args=[lokus.pk])).content.decode()

    button = start_button(html)
    assert in_indonesian(START_EARLY) in button
    assert "btn-primary" not in button
    assert first_primary(html) == in_indonesian("Siap: I received the assignment")
    assert html.index('id="status"') < html.index('data-testid="report-link"')

    lokus_builders.advance_to_running(lokus, members, cast["coordinator"])
    html = client_for("coordinator").get(reverse("lokus:assignment", args=[lokus.pk])).content.decode()
    assert "btn-primary" not in start_button(html)
    assert html.index('id="field"') < html.index('data-testid="report-link"')
    # The lokus page says the same.
    html = client_for("coordinator").get(reverse("lokus:detail", args=[lokus.pk])).content.decode()
    assert in_indonesian(START_EARLY) in start_button(html) and "btn-primary" not in start_button(html)
    assert ActivityReport.objects.count() == 0


def test_when_field_work_is_done_the_start_is_step_6s_primary_action(cast, client_for):
    lokus = builders.make_field_done_lokus(cast)
    assert lokus.state == LokusState.FIELD_DONE
    assert selectors.lokus_report_panel(cast["coordinator"], lokus).context == {"can_start": True, "early": False}

    html = client_for("coordinator").get(reverse("lokus:assignment", args=[lokus.pk])).content.decode()

    button = start_button(html)
    assert "btn-primary" in button and in_indonesian(START) in button
    assert first_primary(html) == in_indonesian(START)


# The version compare: labels, line breaks -------------------------------------------------------


def test_the_version_compare_shows_choice_labels_and_keeps_line_breaks(cast, client_for, report):
    services.report_save(
        user=cast["coordinator"],
        report_id=report.pk,
        data={
            "situation": Situation.WASPADA,
            "classification": Classification.RAHASIA,
            "facts": "09.00 massa berkumpul.\n10.30 perwakilan <b>diterima</b>.\n\n12.45 massa bubar.",
        },
    )
    older = report.classification

    response = client_for("kasubbid").get(reverse("reports:versions", args=[report.pk]))

    rows = {str(row["label"]): row for row in response.context["rows"]}
    situation = rows[str(ActivityReport._meta.get_field("situation").verbose_name)]
    assert text_of(situation["old"]) == str(Situation.KONDUSIF.label)
    assert text_of(situation["new"]) == str(Situation.WASPADA.label)
    classification = rows[str(ActivityReport._meta.get_field("classification").verbose_name)]
    assert text_of(classification["old"]) == str(Classification(older).label)
    assert text_of(classification["new"]) == str(Classification.RAHASIA.label)
    html = response.content.decode()
    diff = html[html.index('data-testid="diff"') :]
    assert in_indonesian("Waspada (alert)") in diff
    assert ">waspada<" not in diff and ">rahasia<" not in diff
    facts = rows[str(ActivityReport._meta.get_field("facts").verbose_name)]["new"]
    # Each line on its own line, every word still escaped.
    assert facts.count("<br>") == 3
    assert "&lt;b&gt;diterima&lt;/b&gt;." in facts and "<b>" not in facts
    assert "<br>" in diff and "&lt;b&gt;" in diff


def test_the_word_diff_keeps_lines_and_marks_only_what_changed():
    left, right = selectors._word_diff("a b\nc <x>", "a B\nc <x>\n\nd")
    assert left == 'a <del class="diff-del">b</del> <br>c &lt;x&gt;'
    assert right == 'a <ins class="diff-ins">B</ins> <br>c &lt;x&gt; <ins class="diff-ins"><br><br>d</ins>'


# Numbers and wording ---------------------------------------------------------------------------


def elapsed_text(response) -> str:
    match = re.search(r'<p data-testid="elapsed">(.*?)</p>', response.content.decode(), re.S)
    return text_of(match.group(1))


def test_hours_are_written_with_a_comma_in_indonesian_and_a_point_in_english(cast, client_for):
    with time_machine.travel(T0, tick=False) as clock:
        report = builders.make_report(cast)  # the plan was submitted at T0
        clock.shift(timedelta(hours=2, minutes=30))
        client = client_for("coordinator")
        indonesian = elapsed_text(client.get(detail_url(report)))
        client.cookies["lokus_language"] = "en"
        english = elapsed_text(client.get(detail_url(report)))

    assert indonesian == in_indonesian("Whole chain so far: %(hours)s h of the SOP's 20 h.") % {"hours": "2,5"}
    assert "2,5 jam" in indonesian
    assert english == "Whole chain so far: 2.5 h of the SOP's 20 h."


def test_after_approval_the_chain_time_no_longer_says_so_far(cast, client_for):
    with time_machine.travel(T0, tick=False) as clock:
        report = builders.make_report(cast)
        clock.shift(timedelta(hours=5))
        builders.walk(report, S.APPROVED, cast)
        clock.shift(timedelta(days=3))
        shown = elapsed_text(client_for("kaban").get(detail_url(report)))

    assert shown == in_indonesian("Whole chain: %(hours)s h of the SOP's 20 h.") % {"hours": "5,0"}
    assert in_indonesian("so far") not in shown
    assert "sejauh ini" not in shown


LABELS = [
    r"<label[^>]*>(.*?)</label>",
    r"<dt[^>]*>(.*?)</dt>",
    r"<th[^>]*>(.*?)</th>",
    r'data-label="([^"]*)"',
    r"<td[^>]*><strong>(.*?)</strong>",  # the version compare's sections
]


def lower_case_labels(html: str) -> list[str]:
    """Labels of the page (form labels, label/value lists, table heads) that start lower-case."""
    found = []
    for pattern in LABELS:
        for raw in re.findall(pattern, html, re.S):
            label = text_of(raw)
            first = next((c for c in label if c.isalpha()), "")
            if first and first.islower() and not re.match(r"v\d", label):  # "v2": a version
                found.append(label)
    return found


def test_labels_on_the_report_lokus_and_assignment_pages_start_with_a_capital(cast, client_for):
    report = builders.make_report_with_missing_member(cast)  # the Korlap's excuse form shows
    lokus = report.lokus
    running = builders.make_running_lokus(cast)  # the note and upload forms show
    services.report_save(user=cast["coordinator"], report_id=report.pk, data={"situation": Situation.WASPADA})
    pages = {
        "report": client_for("coordinator").get(detail_url(report)),
        "versions": client_for("coordinator").get(reverse("reports:versions", args=[report.pk])),
        "edit": client_for("coordinator").get(reverse("reports:edit", args=[report.pk])),
        "lokus": client_for("kasubbid").get(reverse("lokus:detail", args=[lokus.pk])),
        "assignment": client_for("coordinator").get(reverse("lokus:assignment", args=[running.pk])),
        "member report": client_for("member").get(reverse("lokus:member_report", args=[running.pk])),
    }
    found = {}
    for name, response in pages.items():
        assert response.status_code == 200, name
        found[name] = lower_case_labels(response.content.decode())
    assert {name: labels for name, labels in found.items() if labels} == {}
