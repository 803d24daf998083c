"""Benchmark: render a ~15-page Laporan Hasil Kegiatan with a dozen phone photos.

Builds its own throwaway SQLite database (nothing else is touched), walks a lokus and its
report through the real services, then renders the PDF several times and prints the
timings, page count and size. Run with `make bench`."""

import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORKDIR = tempfile.mkdtemp(prefix="lokus-bench-")
os.environ["DATABASE_URL"] = f"sqlite:///{WORKDIR}/bench.sqlite3"
os.environ["MEDIA_ROOT"] = f"{WORKDIR}/media"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from PIL import Image  # noqa: E402

RUNS = 5
PHOTOS = 12
PARAGRAPH = (
    "Massa berkumpul di depan gerbang kawasan sejak pagi; koordinator aksi menyampaikan orasi secara "
    "bergantian, aparat kepolisian melakukan pengamanan terbuka, dan arus lalu lintas dialihkan sementara. "
)


NOISE = os.environ.get("BENCH_NOISE") == "1"


def phone_photo(seed: int) -> SimpleUploadedFile:
    """A 12-megapixel photo (4000x3000). By default photo-like (smooth areas, edges, grain);
    BENCH_NOISE=1 uses pure noise, the worst case for JPEG size."""
    if NOISE:
        image = Image.effect_noise((1000, 750), 60 + seed).convert("RGB").resize((4000, 3000))
    else:
        from PIL import ImageDraw, ImageFilter

        base = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
        draw = ImageDraw.Draw(base)
        for i in range(40):
            x, y = (seed * 97 + i * 211) % 3600, (seed * 53 + i * 137) % 2600
            draw.ellipse((x, y, x + 300, y + 500), fill=((i * 40) % 255, (seed * 30) % 255, (i * 90) % 255))
        grain = Image.effect_noise((4000, 3000), 18).convert("RGB")
        image = Image.blend(base.filter(ImageFilter.GaussianBlur(3)), grain, 0.15)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return SimpleUploadedFile(f"foto-{seed}.jpg", out.getvalue(), content_type="image/jpeg")


def main() -> None:
    from accounts import demo as accounts_demo
    from lokus.enums import MediaKind
    from lokus.uploads import clean_image
    from reports import documents
    from reports import services as report_services
    from reports.demo import CONTENT, _field_done_lokus

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        call_command("migrate", verbosity=0)
        users = accounts_demo.seed()
        korlap, member = users["anggota1"], users["anggota2"]
        lokus = _field_done_lokus(
            "Aksi besar benchmark",
            "36.71.01.1001",
            0,
            users,
            users["kasubbid.wasdin"],
            [korlap, member],
            korlap,
            "800.1.11.1/999-Kesbangpol/BENCH",
        )
        from lokus.models import Assignment, FieldMedia

        assignment = Assignment.objects.get(lokus=lokus, member=korlap)
        # The lokus is already done in the field, so the photos are stored as field_media_add
        # stores them (cleaned, with their print rendition) without its state check.
        for i in range(PHOTOS):
            clean = clean_image(phone_photo(i))
            FieldMedia.objects.create(
                assignment=assignment,
                kind=MediaKind.PHOTO,
                file=clean.content,
                print_file=clean.print_rendition,
                original_name=clean.original_name,
                content_type=clean.content_type,
                size=clean.size,
                caption=f"Situasi lapangan {i + 1}",
            )
        report = report_services.report_start(user=korlap, lokus_id=lokus.pk)
        long_text = "\n\n".join(f"{i + 1:02d}.00 WIB: {PARAGRAPH * 3}" for i in range(18))
        report_services.report_save(
            user=korlap,
            report_id=report.pk,
            data={**CONTENT, "facts": long_text, "analysis": long_text[: len(long_text) // 2]},
            media_ids=list(FieldMedia.objects.filter(assignment__lokus=lokus).values_list("pk", flat=True)),
        )
        report.refresh_from_db()
        kaban = users["kaban"]
        timings = []
        for _ in range(RUNS):
            start = time.perf_counter()
            document = documents.laporan(report, kaban)
            timings.append(time.perf_counter() - start)

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(document.pdf)).pages)
    kind = "pure-noise" if NOISE else "photo-like"
    print(f"report PDF: {pages} pages, {PHOTOS} {kind} photos (4000x3000 JPEG each), {len(document.pdf) / 1e6:.2f} MB")
    print(
        f"render time over {RUNS} runs: min {min(timings):.2f} s, median {statistics.median(timings):.2f} s, "
        f"max {max(timings):.2f} s (cpu count {os.cpu_count()})"
    )
    print(f"blocked URL fetches: {len(document.blocked_urls)}")


if __name__ == "__main__":
    main()
