"""Logs as JSON lines (LOG_FORMAT=json): every line parses, each request writes one line with
its id (also sent back as X-Request-ID), the user id, method, path without query, status and
duration; never a password, a report's text or a file name; slow requests at WARNING."""

import io
import json
import logging.config
import os
import runpy
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from reports import services as report_services
from tests.reports import builders

pytestmark = pytest.mark.django_db

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "config" / "settings.py"
SECRET_PASSWORD = "Sandi-Rahasia-Sekali-991"
SECRET_TEXT = "Teks laporan yang tidak boleh masuk log 7731"
SECRET_FILE_NAME = "nama-berkas-rahasia-5521.jpg"


def settings_logging(**env) -> dict:
    """The LOGGING that config/settings.py builds for this environment."""
    old = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        return runpy.run_path(str(SETTINGS_FILE))["LOGGING"]
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def log_lines():
    """The project's LOGGING with LOG_FORMAT=json, its console handler writing into a buffer;
    returns a function giving every line written so far."""
    written = io.StringIO()
    configure(written, LOG_FORMAT="json")

    def lines() -> list[str]:
        return [line for line in written.getvalue().splitlines() if line.strip()]

    yield lines
    logging.config.dictConfig(django_settings.LOGGING)


def configure(stream, **env) -> None:
    logging.config.dictConfig(settings_logging(**env))
    [console] = logging.getLogger().handlers
    console.setStream(stream)


def request_lines(lines) -> list[dict]:
    return [record for record in map(json.loads, lines) if record["logger"] == "lokus.request"]


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


def test_every_line_is_json_and_each_request_has_its_line(log_lines, cast, client):
    client.force_login(cast["kasubbid"])
    response = client.get("/rencana/?q=rahasia-pencarian&page=1")
    assert response.status_code == 200
    lines = log_lines()
    assert lines, "something was logged"
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    [line] = request_lines(lines)
    assert line["request_id"] == response["X-Request-ID"]
    assert line["user_id"] == cast["kasubbid"].pk
    assert (line["method"], line["path"], line["status"]) == ("GET", "/rencana/", 200)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert line["level"] == "INFO" and line["slow"] is False
    assert line["time"].endswith("+00:00")
    assert "rahasia-pencarian" not in "\n".join(lines), "the query string is never logged"
    # Every other record written during the request carries the same id.
    assert {r["request_id"] for r in records if r["logger"] != "lokus.request"} <= {line["request_id"], "-"}


def test_anonymous_requests_and_errors_are_logged_without_the_query(log_lines, client):
    response = client.get("/tidak-ada/?token=rahasia-token-4411")
    assert response.status_code == 404
    lines = log_lines()
    [line] = request_lines(lines)
    assert (line["user_id"], line["path"], line["status"]) == (None, "/tidak-ada/", 404)
    assert any(json.loads(text)["logger"] == "django.request" for text in lines), "Django's warning is there"
    assert "rahasia-token-4411" not in "\n".join(lines)


def test_no_password_report_text_or_file_name_reaches_the_log(log_lines, cast, settings):
    client = Client()
    user = cast["member"]
    user.set_password(SECRET_PASSWORD)
    user.save()
    # A failed and a good sign-in, with the password in the form.
    assert client.post("/masuk/", {"username": user.username, "password": SECRET_PASSWORD + "x"}).status_code == 200
    assert client.post("/masuk/", {"username": user.username, "password": SECRET_PASSWORD}).status_code == 302

    # A report's text saved, a photo uploaded under a telling name and downloaded.
    report = builders.make_report(cast)
    report_services.report_save(user=cast["coordinator"], report_id=report.pk, data={"analysis": SECRET_TEXT})
    lokus = builders.make_running_lokus(cast)
    korlap = Client()
    korlap.force_login(cast["coordinator"], "accounts.backends.ModelBackend")
    upload = SimpleUploadedFile(SECRET_FILE_NAME, jpeg(), content_type="image/jpeg")
    response = korlap.post(f"/tugas/{lokus.pk}/unggah/", {"kind": "photo", "file": upload, "caption": "gerbang"})
    assert response.status_code == 302
    media = lokus.assignments.get(member=cast["coordinator"]).media.get()
    download = korlap.get(f"/berkas/{media.pk}/")
    assert SECRET_FILE_NAME in download["Content-Disposition"]
    b"".join(download.streaming_content)
    report_page = korlap.get(f"/laporan/{report.pk}/")
    assert SECRET_TEXT in report_page.content.decode()

    text = "\n".join(log_lines())
    lines = request_lines(text.splitlines())
    assert [line["status"] for line in lines] == [200, 302, 302, 200, 200]
    assert lines[1]["user_id"] == user.pk, "the sign-in line names who signed in"
    for secret in (SECRET_PASSWORD, SECRET_TEXT, SECRET_FILE_NAME, media.file.name):
        assert secret not in text


def test_request_id_is_taken_from_a_trusted_proxy_only(client, settings, log_lines):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    given = "nginx-0f3c9a7e2b1d4c5e"
    assert client.get("/masuk/", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given
    # Not a trusted proxy: its header is ignored and a new id is made.
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    other = client.get("/masuk/", HTTP_X_REQUEST_ID=given)["X-Request-ID"]
    assert other != given and len(other) == 32
    # A trusted proxy sending something that could forge log lines is not believed either.
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    forged = client.get("/masuk/", HTTP_X_REQUEST_ID='x" "level": "ERROR')["X-Request-ID"]
    assert forged != given and len(forged) == 32
    ids = [line["request_id"] for line in request_lines(log_lines())]
    assert ids[0] == given and ids[1] == other and ids[2] == forged


def test_slow_requests_are_logged_at_warning(client, settings, log_lines):
    settings.SLOW_REQUEST_MS = 0  # every request takes longer than no time at all
    client.get("/masuk/")
    settings.SLOW_REQUEST_MS = 600_000
    client.get("/masuk/")
    slow, fast = request_lines(log_lines())
    assert (slow["level"], slow["slow"]) == ("WARNING", True)
    assert "(slow)" in slow["message"]
    assert (fast["level"], fast["slow"]) == ("INFO", False)


def test_text_format_carries_the_request_id(client):
    written = io.StringIO()
    configure(written, LOG_FORMAT="text")
    try:
        response = client.get("/masuk/")
    finally:
        logging.config.dictConfig(django_settings.LOGGING)
    [line] = [line for line in written.getvalue().splitlines() if "lokus.request" in line]
    assert f"[{response['X-Request-ID']}] GET /masuk/ 200" in line


def test_an_unknown_log_format_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT"):
        settings_logging(LOG_FORMAT="xml")
