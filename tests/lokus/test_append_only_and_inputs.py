import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from lokus import services
from lokus.enums import Equipment
from lokus.models import Assignment, AuditEntry
from lokus.uploads import clean_video, sniff_video

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
