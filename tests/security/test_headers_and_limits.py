"""Security headers on every kind of answer, templates that keep a strict
Content-Security-Policy possible, request-size limits, and the production settings."""

import io
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from lokus import services as lokus_services
from lokus.enums import MediaKind
from lokus.models import ActivityPlan
from lokus.uploads import clean_image
from reports.enums import ReportState
from tests.lokus import builders as lokus_builders
from tests.reports import builders as report_builders

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
PDF_ONLY = TEMPLATES / "documents"  # rendered by WeasyPrint, never by a browser


def csp(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.wsgi_request.path}"
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def effective(directives: dict, name: str) -> list[str]:
    return directives.get(name, directives.get("default-src", []))


def check_headers(response, *, signed_in: bool, page: bool = True) -> None:
    path = response.wsgi_request.path
    directives = csp(response)
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header, path
    if page:
        assert directives["script-src"] == ["'self'"], path
        assert directives["style-src"] == ["'self'"], path
        assert directives["frame-ancestors"] == ["'none'"], path
    else:
        # A stored file gets an even stricter, sandboxed policy of its own.
        assert "sandbox" in directives, path
        for name in ("script-src", "style-src"):
            assert effective(directives, name) in (["'self'"], ["'none'"]), path
    assert response["X-Frame-Options"] == "DENY", path
    assert response["X-Content-Type-Options"] == "nosniff", path
    # No referrer leaves the site ("no-referrer" would make browsers send "Origin: null" on
    # the product's own form posts, which the CSRF check refuses).
    assert response["Referrer-Policy"] == "same-origin", path
    if signed_in:
        assert "no-store" in response["Cache-Control"], path
        assert "private" in response["Cache-Control"], path


def png_upload() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), "blue").save(out, format="PNG")
    return SimpleUploadedFile("gerbang.png", out.getvalue(), content_type="image/png")


@pytest.fixture
def sample(cast):
    """A report in the chain (with its PDF) and a running lokus with a field photo."""
    report = report_builders.make_report_in(cast, ReportState.AT_KASUBBID)
    team = [cast["member"], cast["coordinator"]]
    running = lokus_builders.make_dispatched_lokus(
        cast["kasubbid"], cast["partner"], team, cast["coordinator"], starts_at=lokus_builders.future_wib(days=30)
    )
    lokus_builders.advance_to_running(running, team, cast["coordinator"])
    media = lokus_services.field_media_add(
        user=cast["member"], lokus_id=running.pk, kind=MediaKind.PHOTO, clean=clean_image(png_upload())
    )
    return {"report": report, "lokus": running, "media": media}


# Headers ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sign_in_page_carries_the_headers(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    check_headers(response, signed_in=False)


@pytest.mark.django_db
def test_pages_documents_and_files_carry_the_headers(client, cast, sample):
    client.force_login(cast["kabid"])
    pages = {
        "home": reverse("home"),
        "lokus page": reverse("lokus:detail", args=[sample["lokus"].pk]),
        "report page": reverse("reports:detail", args=[sample["report"].pk]),
        "not found": reverse("lokus:detail", args=[999999]),
        "forbidden": reverse("lokus:access_log"),
    }
    for what, url in pages.items():
        response = client.get(url)
        assert response.status_code == {"not found": 404, "forbidden": 403}.get(what, 200), what
        check_headers(response, signed_in=True)

    pdf = client.get(reverse("reports:report_pdf", args=[sample["report"].pk]))
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    check_headers(pdf, signed_in=True)

    photo = client.get(reverse("lokus:media_file", args=[sample["media"].pk]))
    assert photo.status_code == 200
    check_headers(photo, signed_in=True, page=False)
    b"".join(photo.streaming_content)  # reading it closes the file (close() would end the DB connection)


@pytest.mark.django_db
def test_the_admin_carries_the_headers(client, cast):
    client.force_login(cast["admin"])
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    check_headers(response, signed_in=True)


# Templates --------------------------------------------------------------------------------------

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"(?<![\w-])style\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*(?<![\w-])on[a-z]+\s*=", re.IGNORECASE)
JS_URL = re.compile(r"javascript:", re.IGNORECASE)


def browser_templates() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*.html") if PDF_ONLY not in p.parents)


def inline_code(text: str) -> list[str]:
    found = []
    for attributes, body in SCRIPT.findall(text):
        if "src=" not in attributes or body.strip():
            found.append(f"<script{attributes}>{body.strip()[:40]}")
    found += [f"<style> at {m.start()}" for m in STYLE_ELEMENT.finditer(text)]
    found += [f"style= at {m.start()}" for m in STYLE_ATTRIBUTE.finditer(text)]
    found += [f"on...= at {m.start()}" for m in EVENT_HANDLER.finditer(text)]
    found += [f"javascript: at {m.start()}" for m in JS_URL.finditer(text)]
    return found


def test_the_template_check_finds_inline_code():
    assert inline_code("<script>alert(1)</script>")
    assert inline_code('<script src="/a.js">alert(1)</script>')
    assert inline_code('<p style="color: red">')
    assert inline_code("<style>p {}</style>")
    assert inline_code('<a onclick="go()">')
    assert not inline_code('<script src="/static/js/lokus.js" defer></script><p data-style="x" class="on">')


def test_no_browser_template_has_inline_script_or_style():
    templates = browser_templates()
    assert len(templates) > 20
    offenders = {str(p.relative_to(ROOT)): inline_code(p.read_text()) for p in templates}
    assert {path: found for path, found in offenders.items() if found} == {}


# Request size ------------------------------------------------------------------------------------


def _plan_post(cast) -> dict:
    data = lokus_builders.plan_data(title="Rencana yang terlalu besar")
    return {
        **{k: v for k, v in data.items() if k not in ("kecamatan", "kelurahan", "starts_at", "ends_at")},
        "starts_at": data["starts_at"].strftime("%Y-%m-%dT%H:%M"),
        "ends_at": data["ends_at"].strftime("%Y-%m-%dT%H:%M"),
        "kecamatan": data["kecamatan"].pk,
        "kelurahan": data["kelurahan"].pk,
    }


@pytest.mark.django_db
def test_a_request_above_the_limit_gets_the_413_page_and_saves_nothing(client, cast):
    client.force_login(cast["partner"])
    url = reverse("lokus:plan_create")
    before = ActivityPlan.objects.count()

    response = client.post(url, _plan_post(cast), CONTENT_LENGTH=str(settings.MAX_REQUEST_BYTES + 1))

    assert response.status_code == 413
    assert 'data-testid="too-large"' in response.content.decode()
    assert '<html lang="id">' in response.content.decode()
    assert response["X-Content-Type-Options"] == "nosniff"
    assert ActivityPlan.objects.count() == before
    # The same form under the limit is accepted: the 413 came from the size alone.
    accepted = client.post(url, _plan_post(cast))
    assert accepted.status_code == 302, accepted.context["form"].errors if accepted.context else accepted
    assert ActivityPlan.objects.count() == before + 1


@pytest.mark.django_db
def test_too_much_form_data_gets_the_400_page_not_a_server_error(client, cast):
    client.force_login(cast["partner"])
    before = ActivityPlan.objects.count()
    data = _plan_post(cast) | {"description": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)}

    response = client.post(reverse("lokus:plan_create"), data)  # multipart/form-data

    assert response.status_code == 400
    assert "400.html" in [t.name for t in response.templates]
    check_headers(response, signed_in=True)
    assert ActivityPlan.objects.count() == before


# Production settings ----------------------------------------------------------------------------

SCRUBBED = {"DJANGO_MODE", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}


def production_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(
        DJANGO_MODE="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="lokus.example.go.id",
        SITE_URL="https://lokus.example.go.id",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return env


def test_production_passes_the_deployment_check():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


PRINT_COOKIES = """
import json
from django.conf import settings as s
print(json.dumps({
    "names": [s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.LANGUAGE_COOKIE_NAME],
    "secure": [s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.LANGUAGE_COOKIE_SECURE],
    "paths": [s.SESSION_COOKIE_PATH, s.CSRF_COOKIE_PATH, s.LANGUAGE_COOKIE_PATH],
    "domains": [s.SESSION_COOKIE_DOMAIN, s.CSRF_COOKIE_DOMAIN, s.LANGUAGE_COOKIE_DOMAIN],
    "httponly": [s.SESSION_COOKIE_HTTPONLY, s.LANGUAGE_COOKIE_HTTPONLY],
    "debug": s.DEBUG,
}))
"""


def test_production_cookies_use_the_host_prefix():
    result = subprocess.run(
        [sys.executable, "-c", PRINT_COOKIES],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    cookies = json.loads(result.stdout.strip().splitlines()[-1])
    assert all(name.startswith("__Host-") for name in cookies["names"]), cookies["names"]
    # What browsers require of a __Host- cookie: Secure, path "/", no Domain.
    assert cookies["secure"] == [True, True, True]
    assert cookies["paths"] == ["/", "/", "/"]
    assert cookies["domains"] == [None, None, None]
    assert cookies["httponly"] == [True, True]
    assert cookies["debug"] is False
