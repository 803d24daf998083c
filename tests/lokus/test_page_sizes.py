"""The field page's weight must not creep up: a phone on a weak signal pays for every byte.

The first visit of /tugas/<id>/ should cost at most 100 KB: the HTML as Django sends it
(uncompressed) plus the page's own CSS and JavaScript as whitenoise sends them (compressed).
bench/phone_budget.py measures the real transfer in a browser; this test pins the sizes that
decide it, without a browser or timing."""

import gzip
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from lokus import services
from lokus.enums import MediaKind
from lokus.uploads import clean_image
from tests.lokus import builders

pytestmark = pytest.mark.django_db

KB = 1024
STATIC = Path(settings.BASE_DIR) / "static"
FIRST_VISIT_BUDGET = 100 * KB
# The HTML of the assignment page of a member with 20 notes and 12 photos: 18,035 bytes
# measured (the team, the upload forms, the timeline and the thumbnails), plus 30% headroom.
BIG_ASSIGNMENT_HTML_LIMIT = 23_500
STATIC_LINK = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="/static/([^"?#]+\.(?:js|css))"')


def gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def small_photo(i: int):
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (40 + i * 10, 90, 140)).save(out, format="JPEG")
    return clean_image(SimpleUploadedFile(f"IMG_{i:04d}.jpg", out.getvalue(), content_type="image/jpeg"))


@pytest.fixture
def big_assignment_html(client_for, cast, running_lokus) -> bytes:
    member = cast["member"]
    for i in range(20):
        services.field_note_add(
            user=member,
            lokus_id=running_lokus.pk,
            data=builders.note_data(
                body=f"{i + 1:02d}: massa bertambah di sisi timur, orasi bergantian, arus dialihkan."
            ),
        )
    for i in range(12):
        services.field_media_add(
            user=member, lokus_id=running_lokus.pk, kind=MediaKind.PHOTO, clean=small_photo(i), caption=f"Situasi {i}"
        )
    response = client_for("member").get(f"/tugas/{running_lokus.pk}/")
    assert response.status_code == 200
    html = response.content
    assert html.count(b"<img ") >= 12 and html.count(b'class="timeline"') == 1
    return html


def test_the_html_of_a_big_assignment_stays_small(big_assignment_html):
    size = len(big_assignment_html)
    assert size <= BIG_ASSIGNMENT_HTML_LIMIT, (
        f"/tugas/<id>/ HTML is {size:,} bytes (limit {BIG_ASSIGNMENT_HTML_LIMIT:,})"
    )


def test_the_field_page_with_its_css_and_js_fits_the_first_visit_budget(big_assignment_html):
    referenced = STATIC_LINK.findall(big_assignment_html.decode())
    assert "css/lokus.css" in referenced and "js/outbox.js" in referenced
    missing = [name for name in referenced if finders.find(name) is None]
    assert not missing, f"files the page loads are missing: {missing}"
    # What the page loads, plus everything in static/js (the service worker is fetched on the
    # first visit too, by the browser rather than the page).
    files = {Path(finders.find(name)) for name in referenced}
    files |= {STATIC / "css" / "lokus.css", *(STATIC / "js").glob("*.js")}
    static = sum(gzipped(path) for path in files)
    html = len(big_assignment_html)
    assert static <= FIRST_VISIT_BUDGET - html, (
        f"CSS and JS are {static:,} bytes gzipped; with the {html:,} bytes of HTML that is "
        f"{static + html:,} of the {FIRST_VISIT_BUDGET:,} the first visit may cost"
    )
