"""Image renditions, made once at upload so that pages and PDFs never resize."""

import io

from django.core.files.base import ContentFile

PRINT_MAX_SIDE = 1200  # pixels: about 10 cm at 300 dpi, the size photos take on an A4 page
PRINT_QUALITY = 70
THUMB_MAX_SIDE = 480  # pixels: sharp in the pages' photo boxes (about 330 px) on a phone screen
THUMB_QUALITY = 70


def jpeg_bytes(image, max_side: int, quality: int) -> bytes:
    """A JPEG copy of a Pillow image, no side longer than ``max_side``, without metadata."""
    from PIL import Image

    small = image.copy()
    small.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.convert("RGB").save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()


def print_rendition(image) -> ContentFile:
    """The copy of a photo that official documents embed."""
    return ContentFile(jpeg_bytes(image, PRINT_MAX_SIDE, PRINT_QUALITY), name="print.jpg")


def thumbnail_rendition(image) -> ContentFile:
    """The copy of a photo that pages show; a tap opens the photo itself."""
    return ContentFile(jpeg_bytes(image, THUMB_MAX_SIDE, THUMB_QUALITY), name="thumb.jpg")
