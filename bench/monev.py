"""Benchmark: the monitoring dashboard (/monev/) and its exports at the scale of issue 13.

Runs on PostgreSQL (``DATABASE_URL``, required: the figures use ``percentile_cont`` and
window functions there; ``--allow-sqlite`` measures SQLite anyway). A database without the
scale data is migrated and seeded first with ``manage.py seed_scale`` (100,000 plans, about
20,000 lokus and 20,000 reports, by default over four years as in bench/http.py, so a year
holds a quarter of them; ``--years 1`` puts all of them within the year measured), so use a
fresh database for it:

    createdb -h /tmp/pglocal -p 55433 -U lokus lokus_bench
    DATABASE_URL="postgres://lokus@/lokus_bench?host=/tmp/pglocal&port=55433" .venv/bin/python bench/monev.py

Then it prints, for a year's period (the last twelve months up to today, WIB), the server
time of the dashboard for the Kepala Badan (everything) and for a Kasubbid (one
sub-division), of the list behind a figure, and of the XLSX and PDF exports: the view and
its template in this process, without the network, each the median of several runs after a
warm-up, with its number of queries and the time they took in the database. Target: the
dashboard under 500 ms."""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Not bench/ itself first on the path: bench/http.py would hide the standard library's http.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone, translation  # noqa: E402

from accounts.enums import Role  # noqa: E402
from accounts.models import User  # noqa: E402
from home import scale  # noqa: E402
from lokus.models import ActivityPlan, Lokus  # noqa: E402
from monev import views  # noqa: E402
from monev.models import StepOccurrence  # noqa: E402
from reports.models import ActivityReport, DocumentDownload, ReportLog  # noqa: E402

TARGET_MS = 500


def seed(plans: int, years: float) -> None:
    call_command("migrate", verbosity=0)
    if scale.already_seeded():
        print("Scale data found: measuring the database as it is.")
        return
    print(f"Seeding {plans} plans over {years:g} years (manage.py seed_scale)...")
    started = time.perf_counter()
    call_command("seed_scale", plans=plans, years=years)
    print(f"Seeded in {time.perf_counter() - started:.0f} s.")


def measure(view, path: str, user, runs: int) -> dict:
    factory = RequestFactory()
    timings, queries, sql = [], 0, []
    for run in range(runs + 1):
        request = factory.get(path)
        request.user = user
        with CaptureQueriesContext(connection) as captured:
            tick = time.perf_counter()
            response = view(request)
            body = response.content
            elapsed = (time.perf_counter() - tick) * 1000
        assert response.status_code == 200, (path, response.status_code)
        if run:  # the first run warms the caches
            timings.append(elapsed)
            queries = len(captured)
            sql.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
    return {
        "median": statistics.median(timings),
        "min": min(timings),
        "max": max(timings),
        "queries": queries,
        "sql": statistics.median(sql),
        "bytes": len(body),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plans", type=int, default=100_000)
    parser.add_argument("--years", type=float, default=4.0, help="history seeded before today (default 4)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--allow-sqlite", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql" and not args.allow_sqlite:
        sys.exit("Set DATABASE_URL to a PostgreSQL database (or pass --allow-sqlite).")
    seed(args.plans, args.years)

    today = timezone.localdate()
    since = today - datetime.timedelta(days=364)
    year = f"?period=custom&since={since:%Y-%m-%d}&until={today:%Y-%m-%d}"
    start = datetime.datetime.combine(since, datetime.time.min, tzinfo=timezone.get_default_timezone())
    print(
        f"\nDatabase: {connection.vendor}; {ActivityPlan.objects.count():,} plans, {Lokus.objects.count():,} lokus, "
        f"{ActivityReport.objects.count():,} reports, {ReportLog.objects.count():,} report log entries."
    )
    print(
        f"Period {since} to {today} (WIB): {ActivityPlan.objects.filter(submitted_at__gte=start).count():,} plans "
        f"received, {ActivityReport.objects.filter(approved_at__gte=start).count():,} reports approved; "
        f"{StepOccurrence.objects.filter(ended_at__gte=start).count():,} step occurrences ended in it "
        f"(of {StepOccurrence.objects.count():,} stored)."
    )
    kaban = User.objects.filter(groups__name=Role.KABAN.value, is_active=True).order_by("pk").first()
    kasubbid = (
        User.objects.filter(groups__name=Role.KASUBBID.value, is_active=True, sub_division__isnull=False)
        .order_by("pk")
        .first()
    )
    assert kaban and kasubbid and not isinstance(kaban, AnonymousUser)
    cases = [
        ("dashboard, Kepala Badan, a year", views.dashboard, "/monev/" + year, kaban),
        ("dashboard, Kasubbid, a year", views.dashboard, "/monev/" + year, kasubbid),
        ("dashboard, Kepala Badan, this month", views.dashboard, "/monev/?period=month", kaban),
        ("trend, Kepala Badan, to this month", views.trend, "/monev/tren/?period=month", kaban),
        ("breaches behind a figure, a year", views.occurrences, "/monev/langkah/" + year + "&status=breach", kaban),
        ("XLSX export, a year", views.export_xlsx, "/monev/unduh/xlsx/" + year, kaban),
        ("PDF report, last month", views.export_pdf, "/monev/unduh/pdf/?period=last_month", kaban),
    ]
    downloads = DocumentDownload.objects.count()
    print(f"\n{'case':<40}{'median ms':>10}{'min':>8}{'max':>8}{'queries':>9}{'SQL ms':>9}{'KB':>8}")
    results = {}
    with translation.override("id"):
        for label, view, path, user in cases:
            runs = args.runs if "export" not in label and "PDF" not in label else max(2, args.runs // 2)
            r = measure(view, path, user, runs)
            results[label] = r
            print(
                f"{label:<40}{r['median']:>10.0f}{r['min']:>8.0f}{r['max']:>8.0f}{r['queries']:>9}"
                f"{r['sql']:>9.0f}{r['bytes'] / 1024:>8.0f}"
            )
    print(f"\n(The exports wrote {DocumentDownload.objects.count() - downloads} rows to the download log.)")
    dashboard = results["dashboard, Kepala Badan, a year"]["median"]
    verdict = "within" if dashboard < TARGET_MS else "OVER"
    print(f"Dashboard for a year: {dashboard:.0f} ms, {verdict} the target of {TARGET_MS} ms.")


if __name__ == "__main__":
    main()
