"""PDF rendering with WeasyPrint, locked down.

WeasyPrint would otherwise fetch any URL a document names (http, file, ftp). Documents
here carry user text, so the fetcher allows only ``data:`` URIs (photos, logo, QR code are
embedded) and the project's own static files through the ``lokus-static:`` scheme. Any
other URL is refused and remembered in ``blocked`` so that tests can prove nothing was
fetched. The import of WeasyPrint stays inside the functions: it is slow and heavy."""

import base64
import io
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string

from core.images import PRINT_MAX_SIDE, PRINT_QUALITY, jpeg_bytes

STATIC_SCHEME = "lokus-static:"


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SafeFetcher(URLFetcher):
        def __init__(self):
            super().__init__(allowed_protocols={"data", STATIC_SCHEME.rstrip(":")}, allow_redirects=False)
            self.blocked: list[str] = []

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                header, _, payload = url.partition(",")
                mime = header[5:].split(";")[0] or "text/plain"
                body = base64.b64decode(payload) if header.endswith(";base64") else payload.encode()
                return URLFetcherResponse(url, body, {"Content-Type": mime})
            if url.startswith(STATIC_SCHEME):
                relative = url[len(STATIC_SCHEME) :].lstrip("/")
                try:
                    found = finders.find(relative)
                except SuspiciousFileOperation:  # "../" out of the static folders: refused below
                    found = None
                roots = [Path(d).resolve() for d in settings.STATICFILES_DIRS]
                if found:
                    path = Path(found).resolve()
                    if any(path.is_relative_to(root) for root in roots) and path.is_file():
                        mime = "text/css" if path.suffix == ".css" else "application/octet-stream"
                        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})
            self.blocked.append(url)
            raise ValueError(f"Lokus refuses to fetch {url!r} while rendering a PDF")

    return SafeFetcher


def render_pdf(template_name: str, context: dict) -> tuple[bytes, list[str]]:
    """Render a template to PDF. Returns the PDF bytes and the URLs that were refused."""
    from weasyprint import HTML

    html = render_to_string(template_name, context)
    fetcher = _fetcher_class()()
    pdf = HTML(string=html, base_url=STATIC_SCHEME, url_fetcher=fetcher).write_pdf()
    return pdf, fetcher.blocked


def _jpeg_uri(data: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(data).decode()


def image_data_uri(fieldfile, max_side: int = PRINT_MAX_SIDE) -> str | None:
    """A stored image scaled to print resolution and embedded as a JPEG data URI. Field
    photos have a print rendition made at upload (``photo_data_uri``): scaling a phone
    photo here costs about a second each."""
    from PIL import Image

    try:
        with fieldfile.open("rb") as fh, Image.open(fh) as image:
            image.draft("RGB", (max_side, max_side))
            return _jpeg_uri(jpeg_bytes(image, max_side, PRINT_QUALITY))
    except (OSError, ValueError):
        return None


def photo_data_uri(media) -> str | None:
    """A field photo for a document: its print rendition, or (for a file stored before
    renditions existed, until ``make_renditions`` has run) a copy scaled now. Never
    writes: a download is a read."""
    if not media.print_file:
        return image_data_uri(media.file)
    try:
        with media.print_file.open("rb") as fh:
            return _jpeg_uri(fh.read())
    except (OSError, ValueError):
        return None


def qr_data_uri(text: str) -> str:
    """A QR code of the text as an SVG data URI."""
    import qrcode
    from qrcode.image.svg import SvgPathImage

    image = qrcode.make(text, image_factory=SvgPathImage, box_size=10, border=2)
    out = io.BytesIO()
    image.save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()
