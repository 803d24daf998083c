"""Files from phones in the field (``lokus/uploads.py``): identified by content, not by name;
size-limited; images re-encoded upright and without metadata (no GPS position stored)."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from PIL import Image, PngImagePlugin

from lokus import uploads
from lokus.uploads import clean_document, clean_image, clean_video, sniff_video

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F

MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00\x00\x00\x08free" + b"\x00" * 64
MOV = b"\x00\x00\x00\x14ftypqt  \x20\x05\x03\x00qt  " + b"\x00\x00\x00\x08wide" + b"\x00" * 64
THREE_GP = b"\x00\x00\x00\x18ftyp3gp4\x00\x00\x00\x00isom3gp4" + b"\x00" * 64
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04webm" + b"\x00" * 64
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def image_bytes(fmt="JPEG", size=(40, 20), mode="RGB", color="navy", **save_args) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format=fmt, **save_args)
    return out.getvalue()


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def code_of(call, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as excinfo:
        call(*args, **kwargs)
    return excinfo.value.code


def data_of(clean) -> bytes:
    clean.content.seek(0)
    return clean.content.read()


def opened(clean) -> Image.Image:
    clean.content.seek(0)
    image = Image.open(io.BytesIO(clean.content.read()))
    image.load()
    return image


def gps_tagged_photo(orientation: int) -> bytes:
    """A 40 x 20 phone photo, red left half and blue right half, with the camera's
    orientation tag and a GPS position in its EXIF."""
    image = Image.new("RGB", (40, 20), "blue")
    image.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "PonselUji"
    exif[GPS_IFD] = {1: "S", 2: (6.0, 10.0, 42.0), 3: "E", 4: (106.0, 37.0, 54.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=95)
    return out.getvalue()


# The constants themselves --------------------------------------------------------------------


def test_size_limits():
    assert uploads.PHOTO_MAX_BYTES == 15 * 1024 * 1024
    assert uploads.DOCUMENT_MAX_BYTES == 15 * 1024 * 1024
    assert uploads.VIDEO_MAX_BYTES == 100 * 1024 * 1024
    assert uploads.MAX_IMAGE_SIDE == 4096
    assert {"JPEG", "PNG", "WEBP"} == uploads.ALLOWED_IMAGE_FORMATS


# Images --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_opaque_photos_are_accepted_and_re_encoded_as_jpeg(fmt):
    source = image_bytes(fmt)
    clean = clean_image(upload("DCIM_0042.bin", source))
    assert (clean.content_type, clean.original_name) == ("image/jpeg", "DCIM_0042.jpg")
    assert clean.content.name == "upload.jpg"
    data = clean.content.read()
    assert clean.size == len(data) > 0
    image = opened(clean)
    assert (image.format, image.size) == ("JPEG", (40, 20))


def test_gps_and_camera_data_are_removed_and_the_photo_is_turned_upright():
    source = gps_tagged_photo(orientation=6)
    # The test photo really carries what must be removed.
    original = Image.open(io.BytesIO(source))
    assert original.getexif()[ORIENTATION] == 6
    assert original.getexif().get_ifd(GPS_IFD)[1] == "S"

    clean = clean_image(upload("IMG_20250110_0930.jpg", source, "image/jpeg"))
    image = opened(clean)
    assert dict(image.getexif()) == {}
    assert image.getexif().get_ifd(GPS_IFD) == {}
    assert "exif" not in image.info
    assert b"PonselUji" not in data_of(clean)
    # Orientation 6: the camera held on its side; shown upright the photo is 20 wide, 40 high
    # and the left (red) half of the sensor image is now on top.
    assert image.size == (20, 40)
    red, green, blue = image.getpixel((10, 5))
    assert red > 200 and blue < 60
    red, green, blue = image.getpixel((10, 35))
    assert blue > 200 and red < 60


def test_gps_is_removed_from_an_upright_photo_too():
    clean = clean_image(upload("foto.jpg", gps_tagged_photo(orientation=1), "image/jpeg"))
    image = opened(clean)
    assert image.size == (40, 20)
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info


def test_transparent_png_stays_png_without_its_text_chunks():
    meta = PngImagePlugin.PngInfo()
    meta.add_text("Comment", "lokasi rahasia -6.17,106.63")
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "S", 2: (6.0, 10.0, 42.0)}
    source = image_bytes("PNG", mode="RGBA", color=(255, 0, 0, 128), pnginfo=meta, exif=exif)
    assert Image.open(io.BytesIO(source)).text == {"Comment": "lokasi rahasia -6.17,106.63"}

    clean = clean_image(upload("tangkapan.png", source, "image/png"))
    assert (clean.content_type, clean.original_name) == ("image/png", "tangkapan.png")
    image = opened(clean)
    assert image.format == "PNG" and image.mode == "RGBA"
    assert image.text == {}
    assert dict(image.getexif()) == {}
    assert b"rahasia" not in data_of(clean)


def test_very_large_photos_are_scaled_down():
    clean = clean_image(upload("panorama.jpg", image_bytes("JPEG", size=(5000, 50))))
    assert opened(clean).size == (4096, 41)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("foto.jpg", b"Ini bukan foto, hanya teks biasa.\n" * 10),
        ("foto.jpg", b"<html><script>alert(1)</script></html>"),
        ("foto.png", PDF),
        ("foto.jpg", image_bytes("JPEG", size=(64, 64))[:200]),  # cut off mid-way
    ],
    ids=["text", "html", "pdf", "truncated-jpeg"],
)
def test_not_an_image(name, content):
    assert code_of(clean_image, upload(name, content, "image/jpeg")) == "not_image"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_refused(fmt):
    assert code_of(clean_image, upload("foto.jpg", image_bytes(fmt), "image/jpeg")) == "image_format"


def test_decompression_bomb_above_a_lowered_limit(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert opened(clean_image(upload("kecil.png", image_bytes("PNG", size=(30, 30))))).size == (30, 30)
    # Above the limit Pillow warns (which is turned into an error); above twice it refuses.
    assert code_of(clean_image, upload("bom.png", image_bytes("PNG", size=(40, 40)))) == "bomb"
    assert code_of(clean_image, upload("bom.png", image_bytes("PNG", size=(50, 50)))) == "bomb"


@pytest.mark.parametrize(
    "side",
    [
        pytest.param(10_000, id="1e8-pixels-warning"),  # above MAX_IMAGE_PIXELS (89,478,485): a warning
        pytest.param(14_000, id="1.96e8-pixels-error"),  # above twice the limit: DecompressionBombError
    ],
)
def test_decompression_bomb_with_the_default_limit(side):
    """A 1-bit black PNG of that many pixels is only a few kilobytes on the wire."""
    assert Image.MAX_IMAGE_PIXELS == 89_478_485
    content = image_bytes("PNG", size=(side, side), mode="1", color=0)
    assert len(content) < 64 * 1024
    assert code_of(clean_image, upload("peta.png", content, "image/png")) == "bomb"


def test_photo_size_limit(monkeypatch):
    content = image_bytes("JPEG")
    assert code_of(clean_image, upload("foto.jpg", content), limit=len(content) - 1) == "too_large"
    assert clean_image(upload("foto.jpg", content), limit=len(content)).content_type == "image/jpeg"


def test_photo_size_limit_default_is_15_mb():
    content = image_bytes("JPEG")
    # Django's upload handlers set ``size`` from the bytes received; here it is given.
    at_limit = UploadedFile(io.BytesIO(content), "foto.jpg", "image/jpeg", size=uploads.PHOTO_MAX_BYTES)
    assert clean_image(at_limit).content_type == "image/jpeg"
    too_big = UploadedFile(io.BytesIO(content), "foto.jpg", "image/jpeg", size=uploads.PHOTO_MAX_BYTES + 1)
    assert code_of(clean_image, too_big) == "too_large"


@pytest.mark.parametrize("clean", [clean_image, clean_video, clean_document])
def test_empty_files_are_refused(clean):
    assert code_of(clean, upload("kosong.jpg", b"")) == "empty"


def test_the_original_name_keeps_no_folders():
    clean = clean_image(upload("C:\\Users\\hp\\DCIM\\..\\foto liburan.jpeg", image_bytes("JPEG")))
    assert clean.original_name == "foto liburan.jpg"


# Videos --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (MP4, ("mp4", "video/mp4")),
        (MOV, ("mov", "video/quicktime")),
        (THREE_GP, ("3gp", "video/3gpp")),
        (WEBM, ("webm", "video/webm")),
        (b"\x00\x00\x00\x20ftyp", None),  # too short to carry a brand
        (b"Ini teks", None),
        (image_bytes("JPEG"), None),
        (b"", None),
    ],
    ids=["mp4", "mov", "3gp", "webm", "short", "text", "jpeg", "empty"],
)
def test_sniff_video(head, expected):
    assert sniff_video(head[:32]) == expected


@pytest.mark.parametrize(
    ("name", "content", "content_type", "original_name"),
    [
        ("VID_20250110.mp4", MP4, "video/mp4", "VID_20250110.mp4"),
        ("klip.MOV", MOV, "video/quicktime", "klip.mov"),
        ("rekaman.3gp", THREE_GP, "video/3gpp", "rekaman.3gp"),
        ("rekaman.mp4", WEBM, "video/webm", "rekaman.webm"),  # the content decides, not the name
    ],
)
def test_videos_are_accepted_by_content_and_stored_as_sent(name, content, content_type, original_name):
    clean = clean_video(upload(name, content, "application/octet-stream"))
    assert (clean.content_type, clean.original_name, clean.size) == (content_type, original_name, len(content))
    assert clean.content.read() == content


@pytest.mark.parametrize(
    "content",
    [b"Ini bukan video.\n" * 20, image_bytes("JPEG"), PDF],
    ids=["text", "jpeg", "pdf"],
)
def test_a_non_video_named_mp4_is_refused(content):
    assert code_of(clean_video, upload("video.mp4", content, "video/mp4")) == "video_format"


def test_video_size_limit(monkeypatch):
    too_big = UploadedFile(io.BytesIO(MP4), "video.mp4", "video/mp4", size=uploads.VIDEO_MAX_BYTES + 1)
    assert code_of(clean_video, too_big) == "too_large"
    at_limit = UploadedFile(io.BytesIO(MP4), "video.mp4", "video/mp4", size=uploads.VIDEO_MAX_BYTES)
    assert clean_video(at_limit).content_type == "video/mp4"
    monkeypatch.setattr(uploads, "VIDEO_MAX_BYTES", len(MP4) - 1)
    assert code_of(clean_video, upload("video.mp4", MP4)) == "too_large"


# Documents -----------------------------------------------------------------------------------


def test_pdf_documents_are_accepted_and_stored_as_sent():
    clean = clean_document(upload("Berita Acara.PDF", PDF, "application/pdf"))
    assert (clean.content_type, clean.original_name, clean.size) == ("application/pdf", "Berita Acara.pdf", len(PDF))
    assert clean.content.name == "upload.pdf"
    assert clean.content.read() == PDF


def test_a_photo_of_a_document_is_cleaned_like_a_photo():
    clean = clean_document(upload("ba.jpg", gps_tagged_photo(orientation=6), "image/jpeg"))
    assert clean.content_type == "image/jpeg"
    image = opened(clean)
    assert image.size == (20, 40)
    assert dict(image.getexif()) == {}


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        b"  %PDF-1.4 not at the start",
        b"Surat biasa dalam teks.",
        MP4,
        image_bytes("GIF"),
    ],
    ids=["html", "pdf-magic-not-first", "text", "video", "gif"],
)
def test_a_non_document_named_pdf_is_refused(content):
    assert code_of(clean_document, upload("surat.pdf", content, "application/pdf")) == "doc_format"


def test_document_size_limit(monkeypatch):
    too_big = UploadedFile(io.BytesIO(PDF), "ba.pdf", "application/pdf", size=uploads.DOCUMENT_MAX_BYTES + 1)
    assert code_of(clean_document, too_big) == "too_large"
    photo = image_bytes("JPEG")
    too_big = UploadedFile(io.BytesIO(photo), "ba.jpg", "image/jpeg", size=uploads.DOCUMENT_MAX_BYTES + 1)
    assert code_of(clean_document, too_big) == "too_large"
    monkeypatch.setattr(uploads, "DOCUMENT_MAX_BYTES", len(PDF) - 1)
    assert code_of(clean_document, upload("ba.pdf", PDF)) == "too_large"


def test_a_bomb_sent_as_a_document_is_still_a_bomb(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert code_of(clean_document, upload("ba.png", image_bytes("PNG", size=(50, 50)))) == "bomb"
