"""Checking and cleaning files that come from phones in the field.

Images are identified by their content (Pillow), not their name; only JPEG, PNG and WebP
are accepted. Pillow's decompression-bomb limit stays on and its warning is raised as an
error. Accepted images are rotated upright by their EXIF orientation and re-encoded
without any metadata, so no GPS position or device data is stored. Videos and PDFs are
identified by their leading bytes and size-limited; their contents are stored as sent."""

import io
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from core.images import print_rendition, thumbnail_rendition

MB = 1024 * 1024
PHOTO_MAX_BYTES = 15 * MB
VIDEO_MAX_BYTES = 100 * MB
DOCUMENT_MAX_BYTES = 15 * MB
MAX_IMAGE_SIDE = 4096  # larger photos are scaled down: plenty for a report, less to upload
ALLOWED_IMAGE_FORMATS = {"JPEG", "PNG", "WEBP"}
IMAGE_ACCEPT = "image/jpeg,image/png,image/webp"
VIDEO_ACCEPT = "video/mp4,video/quicktime,video/webm,video/3gpp"
DOCUMENT_ACCEPT = "application/pdf," + IMAGE_ACCEPT


@dataclass
class CleanFile:
    content: ContentFile
    original_name: str
    content_type: str
    size: int
    print_rendition: ContentFile | None = None  # photos: a small JPEG for official documents
    thumbnail: ContentFile | None = None  # photos: a smaller JPEG for the pages


ORIGINAL_NAME_MAX = 200  # max_length of PlanAttachment/FieldMedia.original_name


def _original_name(upload, ext: str, fallback: str) -> str:
    """The sender's file name, shown and offered on download, with the extension of what is
    stored: no folders, no control characters, and shortened to fit, keeping the extension
    (a phone may give a long generated name; a long one must not fail the upload)."""
    name = (getattr(upload, "name", "") or "").replace("\\", "/").split("/")[-1]
    name = "".join(char for char in name if char.isprintable())
    stem = name.rsplit(".", 1)[0].strip() or fallback
    return f"{stem[: ORIGINAL_NAME_MAX - len(ext) - 1]}.{ext}"


def _check_size(upload, limit: int) -> None:
    if upload.size > limit:
        raise ValidationError(
            _("The file is too large (%(size)s MB); the limit is %(limit)s MB."),
            code="too_large",
            params={"size": f"{upload.size / MB:.1f}", "limit": limit // MB},
        )
    if upload.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")


def clean_image(upload, limit: int = PHOTO_MAX_BYTES) -> CleanFile:
    _check_size(upload, limit)
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)
            if image.format not in ALLOWED_IMAGE_FORMATS:
                raise ValidationError(_("Only JPEG, PNG or WebP photos are accepted."), code="image_format")
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(_("The image is too large in pixels to be processed safely."), code="bomb") from None
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(_("The file is not a valid image."), code="not_image") from None

    image = ImageOps.exif_transpose(image)
    if max(image.size) > MAX_IMAGE_SIDE:
        image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P") and "transparency" in image.info or image.mode in ("RGBA", "LA"):
        image.save(out, format="PNG", optimize=True)  # no exif/text chunks are passed on
        ext, content_type = "png", "image/png"
    else:
        image.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
        ext, content_type = "jpg", "image/jpeg"
    data = out.getvalue()
    return CleanFile(
        ContentFile(data, name=f"upload.{ext}"),
        _original_name(upload, ext, "foto"),
        content_type,
        len(data),
        print_rendition(image),
        thumbnail_rendition(image),
    )


def _head(upload, n: int = 32) -> bytes:
    upload.seek(0)
    head = upload.read(n)
    upload.seek(0)
    return head


# ISO base media brands of video files that phones and cameras write.
MP4_VIDEO_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"MSNV", b"dash"}


def sniff_video(head: bytes) -> tuple[str, str] | None:
    """(extension, content type) of an allow-listed video container, from its first bytes."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return "mov", "video/quicktime"
        if brand.startswith((b"3gp", b"3g2")):
            return "3gp", "video/3gpp"
        if brand in MP4_VIDEO_BRANDS:
            return "mp4", "video/mp4"
        return None  # e.g. HEIC/AVIF photos or M4A audio share the container, not the purpose
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm", "video/webm"
    return None


def clean_video(upload) -> CleanFile:
    _check_size(upload, VIDEO_MAX_BYTES)
    sniffed = sniff_video(_head(upload))
    if sniffed is None:
        raise ValidationError(_("Only MP4, MOV, 3GP or WebM videos are accepted."), code="video_format")
    ext, content_type = sniffed
    upload.seek(0)
    name = _original_name(upload, ext, "video")
    return CleanFile(ContentFile(upload.read(), name=f"upload.{ext}"), name, content_type, upload.size)


def clean_document(upload) -> CleanFile:
    """A PDF (a letter, a Berita Acara scan) or a photo of one."""
    if _head(upload, 5) == b"%PDF-":
        _check_size(upload, DOCUMENT_MAX_BYTES)
        upload.seek(0)
        name = _original_name(upload, "pdf", "dokumen")
        return CleanFile(ContentFile(upload.read(), name="upload.pdf"), name, "application/pdf", upload.size)
    try:
        return clean_image(upload, DOCUMENT_MAX_BYTES)
    except ValidationError as error:
        if error.code in ("not_image", "image_format"):
            raise ValidationError(
                _("Only PDF files or photos (JPEG, PNG, WebP) are accepted."), code="doc_format"
            ) from None
        raise
