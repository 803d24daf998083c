"""``manage.py make_renditions``: the print rendition of field photos stored before
renditions existed is made once, upright, and a second run changes nothing."""

import base64
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from core.images import PRINT_MAX_SIDE
from core.pdf import photo_data_uri
from lokus import services
from lokus.enums import MediaKind
from lokus.models import FieldMedia
from lokus.uploads import clean_image, clean_video

pytestmark = pytest.mark.django_db

ORIENTATION = 0x0112  # EXIF tag; 6 = the camera was turned: rotate 90° clockwise to view


def _png() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), "red").save(out, format="PNG")
    return SimpleUploadedFile("foto.png", out.getvalue(), content_type="image/png")


def _sideways_jpeg(width: int, height: int) -> bytes:
    """A phone photo stored as taken: landscape pixels, portrait by its EXIF orientation."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    out = io.BytesIO()
    Image.new("RGB", (width, height), "green").save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def _photo(user, lokus) -> FieldMedia:
    return services.field_media_add(user=user, lokus_id=lokus.pk, kind=MediaKind.PHOTO, clean=clean_image(_png()))


def _as_stored_before_renditions(media: FieldMedia, content: bytes | None = None) -> FieldMedia:
    if content is not None:
        media.file.save("old.jpg", ContentFile(content), save=False)
    media.print_file.delete(save=False)
    FieldMedia.objects.filter(pk=media.pk).update(file=media.file.name, print_file="")
    media.refresh_from_db()
    assert not media.print_file
    return media


def _run() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("make_renditions", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_make_renditions_makes_the_missing_ones_upright_and_only_once(cast, running_lokus):
    member = cast["member"]
    sideways = _as_stored_before_renditions(_photo(member, running_lokus), _sideways_jpeg(2400, 1600))
    plain = _as_stored_before_renditions(_photo(member, running_lokus))
    fresh = _photo(member, running_lokus)  # uploaded now: its rendition was made at upload
    fresh_rendition = fresh.print_file.name
    video = services.field_media_add(
        user=member,
        lokus_id=running_lokus.pk,
        kind=MediaKind.VIDEO,
        clean=clean_video(SimpleUploadedFile("aksi.mp4", b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64)),
    )

    out, err = _run()

    assert out.splitlines() == ["Made 2 print rendition(s).", "Made 0 thumbnail(s)."]
    assert err == ""
    for media in (sideways, plain, fresh, video):
        media.refresh_from_db()
    with sideways.print_file.open("rb") as fh, Image.open(fh) as image:
        assert image.format == "JPEG"
        assert image.size == (PRINT_MAX_SIDE * 1600 // 2400, PRINT_MAX_SIDE)  # portrait, as the photo is viewed
        assert ORIENTATION not in image.getexif()
    with plain.print_file.open("rb") as fh, Image.open(fh) as image:
        assert (image.format, image.size) == ("JPEG", (16, 12))
    assert fresh.print_file.name == fresh_rendition
    assert not video.print_file
    # Documents now embed the rendition rather than scaling the original.
    with sideways.print_file.open("rb") as fh:
        rendition = fh.read()
    assert photo_data_uri(sideways) == "data:image/jpeg;base64," + base64.b64encode(rendition).decode()

    made = {m.pk: m.print_file.name for m in FieldMedia.objects.all()}
    out, _err = _run()
    assert out.splitlines() == ["Made 0 print rendition(s).", "Made 0 thumbnail(s)."]
    assert {m.pk: m.print_file.name for m in FieldMedia.objects.all()} == made


def test_a_photo_that_cannot_be_read_is_reported_and_left_as_it_was(cast, running_lokus):
    lost = _as_stored_before_renditions(_photo(cast["member"], running_lokus))
    lost.file.storage.delete(lost.file.name)
    broken = _as_stored_before_renditions(_photo(cast["member"], running_lokus), b"not an image at all")

    out, err = _run()

    assert out.splitlines() == ["Made 0 print rendition(s).", "Made 0 thumbnail(s)."]
    assert f"#{lost.pk}" in err and f"#{broken.pk}" in err
    assert not FieldMedia.objects.filter(pk__in=[lost.pk, broken.pk]).exclude(print_file="").exists()
