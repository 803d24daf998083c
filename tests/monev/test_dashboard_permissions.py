"""Who may open the monitoring dashboard, the list behind its figures and its exports: every
role of the cast on every URL (the Kabid and the Kepala Badan see everything, each Kasubbid
their own sub-division, nobody else anything), what each Kasubbid sees of the other
sub-division (nothing), the menu entry, and the download log of every export."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from core.enums import Classification
from core.navigation import items_for
from monev.permissions import NOTHING, may_view_monev, monev_scope, narrowed
from reports.enums import ReportState
from reports.models import DocumentDownload, DocumentKind
from tests.factories import sub_division
from tests.helpers import ROLES
from tests.lokus import builders as lokus_builders
from tests.reports import builders as report_builders

pytestmark = pytest.mark.django_db

LOGIN = "login"
URLS = ["monev:dashboard", "monev:trend", "monev:occurrences", "monev:export_xlsx", "monev:export_pdf"]
# fmt: off
#              anon   partnr o.part kasub  o.kasb member korlap o.memb kabid  kaban  admin  norole
EXPECTED =   (LOGIN, 403,   403,   200,   200,   403,   403,   403,   200,   200,   403,   403)
# fmt: on


@pytest.mark.parametrize("url_name", URLS)
def test_each_role_on_each_url(client_for, cast, subtests, url_name):
    url = reverse(url_name)
    for role, expected in zip(ROLES, EXPECTED, strict=True):
        with subtests.test(role=role or "anonymous"):
            downloads = DocumentDownload.objects.count()
            response = client_for(role).get(url)
            if expected == LOGIN:
                assert response.status_code == 302
                assert response["Location"].startswith(reverse("login"))
            else:
                assert response.status_code == expected
            # Only an export that was served is logged, once.
            served_export = expected == 200 and url_name.startswith("monev:export")
            assert DocumentDownload.objects.count() == downloads + (1 if served_export else 0)


@pytest.mark.parametrize("url_name", URLS)
def test_post_is_refused(client_for, cast, url_name):
    assert client_for("kaban").post(reverse(url_name)).status_code == 405


def test_the_rule(cast):
    wasdin, wasbang = sub_division("wasdin"), sub_division("wasbang")
    assert monev_scope(cast["kabid"]) is None
    assert monev_scope(cast["kaban"]) is None
    assert monev_scope(cast["kasubbid"]) == {wasdin.pk}
    assert monev_scope(cast["other_kasubbid"]) == {wasbang.pk}
    for role in ("partner", "member", "coordinator", "admin", "norole"):
        assert monev_scope(cast[role]) == NOTHING
        assert not may_view_monev(cast[role])
    # A filter narrows the scope, never widens it.
    assert narrowed(None, wasbang.pk) == {wasbang.pk}
    assert narrowed(frozenset({wasdin.pk}), wasbang.pk) == NOTHING
    assert narrowed(frozenset({wasdin.pk}), None) == {wasdin.pk}


def test_the_menu_entry_is_for_the_same_people(cast):
    for role in ROLES[1:]:
        names = [item.url_name for item in items_for(cast[role])]
        assert ("monev:dashboard" in names) == may_view_monev(cast[role]), role


def test_a_kasubbid_sees_nothing_of_the_other_sub_division(client_for, cast):
    """A Wasbang report approved; the Wasdin Kasubbid's figures, breaches, officers and
    exports do not show it, not even when the URL asks for Wasbang."""
    lokus = lokus_builders.make_dispatched_lokus(
        cast["other_kasubbid"],
        cast["other_partner"],
        [cast["other_member"]],
        cast["other_member"],
        title="Lokus rahasia Wasbang",
    )
    lokus = lokus_builders.advance_to_running(lokus, [cast["other_member"]], cast["other_member"])
    lokus_builders.report_all(lokus, [cast["other_member"]])
    report = report_builders.start_report(
        {**cast, "coordinator": cast["other_member"]}, lokus, classification=Classification.RAHASIA
    )
    holders = {**cast, "coordinator": cast["other_member"], "kasubbid": cast["other_kasubbid"]}
    report_builders.walk(report, ReportState.APPROVED, holders)
    wasbang = sub_division("wasbang")

    own = client_for("other_kasubbid").get(reverse("monev:dashboard"))
    assert own.context["data"].chain.figures.done == 1
    own_chain = client_for("other_kasubbid").get(reverse("monev:occurrences") + "?step=0&status=done")
    assert "Lokus rahasia Wasbang" in own_chain.content.decode()

    for query in ("", f"?sub_division={wasbang.pk}"):
        response = client_for("kasubbid").get(reverse("monev:dashboard") + query)
        data = response.context["data"]
        assert data.chain.figures.done == 0
        assert all(row.figures.done == 0 for row in data.steps)
        assert data.officers == []
        assert [row.sub_division for row in data.sub_divisions] in ([], [sub_division("wasdin")])
        assert "Lokus rahasia Wasbang" not in response.content.decode()
        for step in ("", "&step=0"):
            listing = client_for("kasubbid").get(
                reverse("monev:occurrences") + "?status=done" + step + query.replace("?", "&")
            )
            assert listing.context["page"].paginator.count == 0
            assert "Lokus rahasia Wasbang" not in listing.content.decode()
        xlsx = client_for("kasubbid").get(reverse("monev:export_xlsx") + query)
        book = load_workbook(io.BytesIO(xlsx.content))
        cells = [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if c]
        assert "Lokus rahasia Wasbang" not in cells
        pdf = client_for("kasubbid").get(reverse("monev:export_pdf") + query)
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "Lokus rahasia Wasbang" not in text


def test_every_export_is_in_the_download_log_with_who_and_what(client_for, cast):
    client = client_for("kaban")
    client.get(reverse("monev:export_xlsx") + "?period=custom&since=2025-03-01&until=2025-03-31")
    client.get(reverse("monev:export_pdf") + "?period=custom&since=2025-03-01&until=2025-03-31")

    rows = list(DocumentDownload.objects.order_by("pk"))
    assert [(r.kind, r.user, r.lokus, r.number, r.classification, r.watermarked) for r in rows] == [
        (DocumentKind.MONEV_XLSX, cast["kaban"], None, "2025-03-01..2025-03-31", Classification.TERBATAS, True),
        (DocumentKind.MONEV_PDF, cast["kaban"], None, "2025-03-01..2025-03-31", Classification.TERBATAS, True),
    ]
    log = client.get(reverse("reports:downloads"))
    assert log.status_code == 200
    assert "2025-03-01..2025-03-31" in log.content.decode()
