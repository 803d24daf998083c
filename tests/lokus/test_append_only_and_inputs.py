import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from lokus import services
from lokus.enums import Equipment
from lokus.models import Assignment, AuditEntry
from lokus.uploads import clean_document, clean_video, sniff_video

pytestmark = pytest.mark.django_db


def test_audit_log_refuses_bulk_update_and_delete(dispatched_lokus):
    entries = AuditEntry.objects.filter(lokus=dispatched_lokus)
    count = entries.count()
    assert count > 0
    with pytest.raises(ValidationError):
        entries.update(note="rewritten")
    with pytest.raises(ValidationError):
        entries.delete()
    assert AuditEntry.objects.filter(lokus=dispatched_lokus).count() == count
    assert not AuditEntry.objects.filter(note="rewritten").exists()


@pytest.mark.parametrize(
    ("brand", "accepted"),
    [
        (b"isom", True),
        (b"mp42", True),
        (b"qt  ", True),
        (b"3gp5", True),
        (b"heic", False),
        (b"avif", False),
        (b"M4A ", False),
        (b"mif1", False),
    ],
)
def test_only_video_brands_pass_as_video(brand, accepted):
    head = b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00"
    assert (sniff_video(head) is not None) is accepted
    if not accepted:
        with pytest.raises(ValidationError):
            clean_video(SimpleUploadedFile("foto.mp4", head + b"\x00" * 64, content_type="video/mp4"))


def test_confirm_keeps_only_the_sop_equipment(cast, dispatched_lokus):
    services.assignment_confirm(
        user=cast["member"],
        lokus_id=dispatched_lokus.pk,
        equipment=[Equipment.SMARTPHONE, "rocket launcher", Equipment.SMARTPHONE, Equipment.ID_CARD],
    )
    assignment = Assignment.objects.get(lokus=dispatched_lokus, member=cast["member"])
    assert assignment.equipment == sorted([Equipment.SMARTPHONE.value, Equipment.ID_CARD.value])


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


@pytest.mark.parametrize(
    ("clean", "name", "content", "expected"),
    [
        (clean_document, "surat " * 60 + ".pdf", b"%PDF-1.4\n%%EOF\n", ("surat " * 60)[:196] + ".pdf"),
        (clean_video, "v" * 250 + ".MP4", MP4, "v" * 196 + ".mp4"),
        (clean_document, "C:\\Users\\budi\\Surat\x1b\u202e.pdf", b"%PDF-1.4\n%%EOF\n", "Surat.pdf"),
        (clean_document, ".pdf", b"%PDF-1.4\n%%EOF\n", "dokumen.pdf"),
        (clean_video, "\x00\x01", MP4, "video.mp4"),
    ],
    ids=["long-pdf", "long-video", "folders-and-control-characters", "only-an-extension", "only-control"],
)
def test_the_original_name_fits_keeps_the_extension_and_holds_no_control_characters(clean, name, content, expected):
    """A long name used to fail the upload (original_name holds 200 characters)."""
    cleaned = clean(SimpleUploadedFile(name, content))
    assert cleaned.original_name == expected
    assert len(cleaned.original_name) <= 200
