"""Uploads through Django's storage API only: with a storage that has no local path (as an
S3 bucket), a partner's attachment and a field photo are stored, their renditions made,
served through the access-checking views and embedded in the report's PDF. The S3 settings
keep the bucket private, with short-lived signed URLs."""

import io
import os
import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image
from pypdf import PdfReader

from lokus import services as lokus_services
from lokus import uploads
from lokus.enums import MediaKind
from lokus.models import FieldMedia
from reports import documents
from reports.models import Letterhead
from tests.lokus import builders as lokus_builders
from tests.ops import storages
from tests.reports import builders

pytestmark = pytest.mark.django_db

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "config" / "settings.py"
PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def pathless(settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": storages.BACKEND}}
    with pytest.raises(NotImplementedError):
        default_storage.path("x")


def jpeg(size=(1600, 1200), colour=(30, 140, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG")
    return out.getvalue()


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_attachments_and_photos_are_stored_and_served_without_a_local_path(cast, client_for):
    attachment_upload = SimpleUploadedFile("surat.pdf", PDF, content_type="application/pdf")
    plan = lokus_builders.make_plan(cast["partner"], attachments=[uploads.clean_document(attachment_upload)])
    attachment = plan.attachments.get()
    assert default_storage.exists(attachment.file.name)

    response = client_for("kasubbid").get(f"/rencana/lampiran/{attachment.pk}/")
    assert response.status_code == 200
    assert body(response) == PDF
    assert response["Content-Security-Policy"].startswith("sandbox")

    lokus = builders.make_running_lokus(cast)
    korlap = client_for("coordinator")
    photo = SimpleUploadedFile("gerbang.jpg", jpeg(), content_type="image/jpeg")
    response = korlap.post(f"/tugas/{lokus.pk}/unggah/", {"kind": "photo", "file": photo, "caption": "Gerbang"})
    assert response.status_code == 302
    media = FieldMedia.objects.get(assignment__lokus=lokus)
    assert media.print_file and media.thumb_file and (media.thumb_width, media.thumb_height) == (480, 360)
    for name in (media.file.name, media.print_file.name, media.thumb_file.name):
        assert default_storage.exists(name)

    original = body(korlap.get(f"/berkas/{media.pk}/"))
    with default_storage.open(media.file.name, "rb") as fh:
        assert original == fh.read()
    thumbnail = body(korlap.get(f"/berkas/{media.pk}/kecil/"))
    assert Image.open(io.BytesIO(thumbnail)).size == (480, 360)
    # Someone outside the team gets nothing, whatever the storage.
    assert client_for("other_member").get(f"/berkas/{media.pk}/").status_code == 404


def test_renditions_are_made_later_through_the_storage(cast):
    lokus = builders.make_running_lokus(cast)
    clean = uploads.clean_image(SimpleUploadedFile("lama.jpg", jpeg((2000, 1000)), content_type="image/jpeg"))
    clean.print_rendition = clean.thumbnail = None  # as stored before renditions existed
    media = lokus_services.field_media_add(
        user=cast["coordinator"], lokus_id=lokus.pk, kind=MediaKind.PHOTO, clean=clean
    )
    assert not media.print_file and not media.thumb_file

    call_command("make_renditions", stdout=io.StringIO())

    media.refresh_from_db()
    with media.print_file.open("rb") as fh:
        assert Image.open(fh).size == (1200, 600)
    with media.thumb_file.open("rb") as fh:
        assert Image.open(fh).size == (480, 240)


def test_the_report_pdf_embeds_photos_and_logo_from_the_storage(cast):
    lokus = builders.make_running_lokus(cast)
    clean = uploads.clean_image(SimpleUploadedFile("massa.jpg", jpeg(), content_type="image/jpeg"))
    lokus_services.field_media_add(
        user=cast["coordinator"], lokus_id=lokus.pk, kind=MediaKind.PHOTO, clean=clean, caption="Massa tertib"
    )
    lokus_builders.report_all(lokus, builders.team(cast))
    report = builders.start_report(cast, lokus)
    assert report.included_media.count() == 1
    letterhead = Letterhead.current()
    letterhead.logo.save("logo.png", io.BytesIO(_png()), save=True)
    assert default_storage.exists(letterhead.logo.name)

    pdf = PdfReader(io.BytesIO(documents.laporan(report, cast["kasubbid"]).pdf))
    images = [image for page in pdf.pages for image in page.images]
    assert len(images) >= 2, "the photo and the logo are in the document"
    assert "Massa tertib" in " ".join(page.extract_text() for page in pdf.pages)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 120), (200, 20, 20)).save(out, format="PNG")
    return out.getvalue()


def settings_with(**env) -> dict:
    old = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        return runpy.run_path(str(SETTINGS_FILE))
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


S3_ENV = {
    "MEDIA_STORAGE": "s3",
    "AWS_STORAGE_BUCKET_NAME": "lokus-uji",
    "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    "AWS_S3_REGION_NAME": "us-east-1",
    "AWS_S3_ACCESS_KEY_ID": "uji-akses",
    "AWS_S3_SECRET_ACCESS_KEY": "uji-rahasia-kunci",
    "AWS_S3_ADDRESSING_STYLE": "path",
}


def test_the_s3_bucket_is_private_and_its_urls_are_signed_and_short_lived():
    from storages.backends.s3 import S3Storage

    config = settings_with(**S3_ENV)["STORAGES"]["default"]
    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    options = config["OPTIONS"]
    assert (options["default_acl"], options["querystring_auth"], options["custom_domain"]) == ("private", True, None)
    assert options["querystring_expire"] <= 300

    # A URL is signed locally by boto3 (nothing is sent anywhere): it names the bucket and
    # carries a signature that expires.
    url = S3Storage(**options).url("field/2025/01/abc.jpg")
    assert url.startswith("http://127.0.0.1:9000/lokus-uji/field/2025/01/abc.jpg?")
    assert "X-Amz-Signature=" in url
    assert f"X-Amz-Expires={options['querystring_expire']}" in url


def test_the_media_storage_setting_is_checked():
    assert settings_with(MEDIA_STORAGE="local")["STORAGES"]["default"]["BACKEND"].endswith("FileSystemStorage")
    with pytest.raises(ImproperlyConfigured, match="AWS_STORAGE_BUCKET_NAME"):
        settings_with(MEDIA_STORAGE="s3", AWS_STORAGE_BUCKET_NAME="")
    with pytest.raises(ImproperlyConfigured, match="MEDIA_STORAGE"):
        settings_with(MEDIA_STORAGE="ftp")
