"""Load benchmark of the busy pages at scale (issue 12): gunicorn with 2 sync workers on the
seeded PostgreSQL database, each page under wrk side by side with a bare Django view that
renders 50 rows from the same database.

    DATABASE_URL=postgres://... python bench/http.py     (or: make bench-http)

It migrates the database first (new indexes count), and seeds it when it holds no scale data
(``manage.py seed_scale --plans N``; ``--seed`` seeds whatever it holds). Then, for every page
of the issue's table, signed in as the demo user the row names (a session made with Django's
own session store, its cookie passed to wrk with -H):

- in this process, with Django's test client while the server is idle: the median time of
  sequential requests, the SQL time and query count, the HTML size, and
  ``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest queries, flagging sorts that spill to disk
  and sequential scans of big tables;
- through gunicorn (127.0.0.1, a free port): the median of sequential requests, then wrk
  (16 connections) in short interleaved rounds, the page and the bare view in turn, so that
  each round's ratio compares them under the same conditions.

Prints the EXPLAIN plans, then a markdown table ready for the README. gunicorn is stopped by
its pid at the end, also on an error or Ctrl-C. Needs wrk (Debian: ``apt-get install wrk``)."""

import os
import sys

# Run as a script, this file's folder comes first on sys.path, where its name would shadow
# the standard library's ``http`` package that Django imports: the project root goes there.
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:] = [ROOT] + [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

import argparse  # noqa: E402
import http.client  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

# Tables this big must not be read whole by a page's query.
BIG_TABLE_ROWS = 10_000


@dataclass
class Page:
    key: str
    label: str
    username: str
    url: str
    # The targets: list and home pages under 40 ms; member pages at 0.7x the bare view.
    list_or_home: bool = True
    member: bool = False
    # A JSON response a page fetches (the map's markers): the 60 KB limit is the HTML's.
    data: bool = False
    # Measured:
    status: int = 0
    server_ms: float = 0.0
    http_ms: float = 0.0
    sql_ms: float = 0.0
    queries: int = 0
    html_bytes: int = 0
    rps: list = field(default_factory=list)
    bare_rps: list = field(default_factory=list)
    p50: list = field(default_factory=list)
    p99: list = field(default_factory=list)
    errors: int = 0
    slow: bool = False  # too slow to load with wrk: timed only
    explains: list = field(default_factory=list)
    flags: set = field(default_factory=set)

    @property
    def ratio(self) -> float | None:
        ratios = [p / b for p, b in zip(self.rps, self.bare_rps, strict=True) if b]
        return statistics.median(ratios) if ratios else None


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=100_000, help="size to seed when seeding (default 100000)")
    parser.add_argument("--seed", action="store_true", help="migrate and seed even if the database holds data")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved wrk rounds per page (default 3)")
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run (default 5)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--samples", type=int, default=15, help="sequential requests per page for the medians")
    parser.add_argument("--explain", type=int, default=2, help="slowest queries per page to print (default 2)")
    parser.add_argument(
        "--slow-ms", type=int, default=1500, help="a page slower than this is timed, not loaded with wrk (default 1500)"
    )
    parser.add_argument("--pages", default="", help="only these page keys, comma-separated (see the table)")
    parser.add_argument("--out", default="", help="also write the report, every plan in full, to this file")
    return parser.parse_args()


# The database ------------------------------------------------------------------------------------


def ensure_seeded(args) -> None:
    """Migrate (always: a migration may add the very index a page needs), then seed when the
    database holds no scale data, or when asked to."""
    from home import scale

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"Migrated in {time.perf_counter() - started:.0f} s.", flush=True)
    if scale.already_seeded() and not args.seed:
        return
    print("Seeding the database (seed_scale)...", flush=True)
    started = time.perf_counter()
    call_command("seed_scale", plans=args.plans)
    print(f"Seeded in {time.perf_counter() - started:.0f} s.", flush=True)


def counts() -> dict[str, int]:
    from accounts.models import Notification
    from core.models import AccessLog
    from lokus.models import ActivityPlan, Assignment, AuditEntry, Lokus
    from reports.models import ActivityReport, DocumentDownload, ReportLog

    models = {
        "plans": ActivityPlan,
        "lokus": Lokus,
        "assignments": Assignment,
        "reports": ActivityReport,
        "report log rows": ReportLog,
        "audit entries": AuditEntry,
        "notifications": Notification,
        "access log rows": AccessLog,
        "downloads": DocumentDownload,
    }
    return {name: model.objects.count() for name, model in models.items()}


def big_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.reltuples >= %s",
            [BIG_TABLE_ROWS],
        )
        return {row[0] for row in cursor.fetchall()}


def pages(only: set[str]) -> list[Page]:
    """The issue's table, with the objects its rows name picked from the seeded data."""
    from django.db.models import Count
    from django.db.models.functions import TruncWeek

    from accounts.models import User
    from lokus.enums import LokusState, PlanStatus
    from lokus.models import ActivityPlan, Lokus

    kasubbid = User.objects.get(username="kasubbid.wasdin")
    member = User.objects.get(username="anggota1")
    # Of the member's finished lokus of the Kasubbid's sub-division with a team report in the
    # last three months, the one with the longest timeline: the fullest pages (timeline,
    # notes, photos, member reports, the report's chain).
    lokus = (
        Lokus.objects.filter(
            assignments__member=member,
            sub_division=kasubbid.sub_division,
            state=LokusState.FIELD_DONE,
            report__isnull=False,
            starts_at__gte=timezone.now() - timedelta(days=90),
        )
        .annotate(entries=Count("audit_entries"))
        .order_by("-entries", "-pk")
        .first()
    )
    # The densest week of the calendar (what it shows: every plan not marked not chosen).
    week = (
        ActivityPlan.objects.exclude(status=PlanStatus.NOT_CHOSEN)
        .annotate(week=TruncWeek("starts_at", tzinfo=timezone.get_current_timezone()))
        .values("week")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    monday = timezone.localtime(week["week"]).date().isoformat()
    print(f"Calendar: the week of {monday} ({week['n']} plans); lokus {lokus.pk}, report {lokus.report.pk}.")
    rows = [
        # Not a product page: the bare view's rows inside the product's layout, signed in.
        Page("layout", "(the bare view in the product's layout, Kasubbid)", "kasubbid.wasdin", reverse("bench_layout")),
        Page("home-kasubbid", "`/` Kasubbid", "kasubbid.wasdin", reverse("home")),
        Page("home-kabid", "`/` Kabid", "kabid", reverse("home")),
        Page("home-member", "`/` member", "anggota1", reverse("home"), member=True),
        Page("lokus-kasubbid", "`/lokus/` Kasubbid", "kasubbid.wasdin", reverse("lokus:list")),
        Page("lokus-kabid", "`/lokus/` Kabid", "kabid", reverse("lokus:list")),
        Page("reports-kasubbid", "`/laporan/` Kasubbid", "kasubbid.wasdin", reverse("reports:list")),
        Page("reports-kabid", "`/laporan/` Kabid", "kabid", reverse("reports:list")),
        Page(
            "calendar",
            f"`/rencana/kalender/` Kasubbid ({week['n']} plans)",
            "kasubbid.wasdin",
            f"{reverse('lokus:plan_calendar')}?date={monday}",
        ),
        Page("notifications-kasubbid", "`/notifikasi/` Kasubbid", "kasubbid.wasdin", reverse("notifications")),
        Page(
            "lokus-detail",
            "`/lokus/<id>/` Kasubbid",
            "kasubbid.wasdin",
            reverse("lokus:detail", args=[lokus.pk]),
            list_or_home=False,
        ),
        Page(
            "report-detail",
            "`/laporan/<id>/` Kasubbid",
            "kasubbid.wasdin",
            reverse("reports:detail", args=[lokus.report.pk]),
            list_or_home=False,
        ),
        Page(
            "assignment-detail",
            "`/tugas/<id>/` member",
            "anggota1",
            reverse("lokus:assignment", args=[lokus.pk]),
            list_or_home=False,
            member=True,
        ),
        Page("assignments-member", "`/tugas/` member", "anggota1", reverse("lokus:assignments"), member=True),
        Page("notifications-member", "`/notifikasi/` member", "anggota1", reverse("notifications"), member=True),
        # The other growing lists the issue names.
        Page("plans-kasubbid", "`/rencana/` Kasubbid", "kasubbid.wasdin", reverse("lokus:plan_list")),
        Page("access-log", "`/log-akses/` Kepala Badan", "kaban", reverse("lokus:access_log")),
        Page("downloads", "`/unduhan/` Kepala Badan", "kaban", reverse("reports:downloads")),
    ]
    for name, label in (
        ("monev:dashboard", "`monev` dashboard Kabid"),
        ("monev:trend", "`monev` trend Kabid"),
        ("monev:map", "`monev` map Kabid"),
    ):
        try:
            rows.append(Page(name.replace(":", "-"), label, "kabid", reverse(name)))
        except NoReverseMatch:
            print(f"({name} is not in the URLs: skipped)")
    try:
        rows.append(
            Page(
                "monev-map-markers",
                "`monev` map's markers (JSON, fetched by the map) Kabid",
                "kabid",
                reverse("monev:map_markers"),
                list_or_home=False,
                data=True,
            )
        )
    except NoReverseMatch:
        print("(monev:map_markers is not in the URLs: skipped)")
    return [p for p in rows if not only or p.key in only]


# Signing in --------------------------------------------------------------------------------------


class Sessions:
    """Signed-in sessions made directly in Django's session store, as ``Client.force_login``
    does, with the second factor given where the role requires it (an authenticator made for
    the bench, removed at the end)."""

    def __init__(self):
        self.devices = []

    def cookie(self, username: str) -> str:
        from importlib import import_module

        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from accounts.models import RolePolicy, User

        user = User.objects.get(username=username)
        store = import_module(settings.SESSION_ENGINE).SessionStore()
        store[SESSION_KEY] = user._meta.pk.value_to_string(user)
        store[BACKEND_SESSION_KEY] = "accounts.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None and RolePolicy.objects.filter(group__user=user, requires_two_factor=True).exists():
            device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
            self.devices.append(device)
        if device is not None:
            store[DEVICE_ID_SESSION_KEY] = device.persistent_id
        store.create()
        return store.session_key

    def close(self) -> None:
        for device in self.devices:
            device.delete()


# The server ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn on 127.0.0.1, stopped by its pid."""

    def __init__(self, workers: int, log_path: str):
        self.port = free_port()
        self.log = open(log_path, "w")  # noqa: SIM115 (closed in stop)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--timeout",
            "120",
            "--chdir",
            ROOT,
        ]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "LOG_LEVEL": "WARNING"}
        # A session of its own: Ctrl-C in the terminal reaches this script, which stops it.
        self.process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        print(f"gunicorn pid {self.process.pid} on 127.0.0.1:{self.port}, {workers} sync workers", flush=True)

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log.name}")
            try:
                if self.get(path)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s; see {self.log.name}")

    def get(self, path: str, cookie: str = "") -> tuple[int, float]:
        """One request; the status and the time to the whole answer, in ms."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"} if cookie else {}
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        conn.close()
        return response.status, elapsed

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the master stops its workers
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        print(f"gunicorn (pid {self.process.pid}) stopped.", flush=True)


# Measuring ---------------------------------------------------------------------------------------

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class WrkRun:
    rps: float
    p50: float
    p99: float
    errors: int


def wrk(args, url: str, cookie: str) -> WrkRun:
    command = [
        "wrk",
        "-t",
        str(args.threads),
        "-c",
        str(args.connections),
        "-d",
        f"{args.duration}s",
        "--timeout",
        "30s",
        "--latency",
        "-H",
        f"Cookie: {settings.SESSION_COOKIE_NAME}={cookie}",
        url,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    latency = {
        int(m[1]): float(m[2]) * UNITS[m[3]] for m in re.finditer(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    }
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    if rps is None or 50 not in latency:
        raise RuntimeError(f"Could not read wrk's output:\n{out}")
    return WrkRun(float(rps[1]), latency[50], latency.get(99, latency[50]), errors)


def in_process(page: Page, cookie: str, samples: int, explain: int, big: set[str], slow_ms: int) -> None:
    """Test-client measurements while the server is idle: time, queries, size, EXPLAIN."""
    client = Client(raise_request_exception=False)
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = client.get(page.url)
    page.status = response.status_code
    if page.status != 200:
        if response.exc_info:
            page.flags.add(f"{response.exc_info[0].__name__}: {response.exc_info[1]}"[:120])
        return
    started = time.perf_counter()
    client.get(page.url)
    times = [(time.perf_counter() - started) * 1000]
    # A page slower than --slow-ms is timed once (it would take minutes), not loaded with wrk.
    page.slow = times[0] > slow_ms
    if not page.slow:
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            client.get(page.url)
            times.append((time.perf_counter() - started) * 1000)
    page.server_ms = statistics.median(times)
    sql_ms = []
    for _ in range(1 if page.slow else 3):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(page.url)
        sql_ms.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
    page.html_bytes = len(response.content)
    page.queries = len(captured.captured_queries)
    page.sql_ms = statistics.median(sql_ms)
    # Every SELECT of the page, EXPLAINed: ranked by PostgreSQL's own execution time (the
    # captured times are noisy on a busy machine), flagged whichever it is.
    selects = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))]
    plans = []
    for sql in selects:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        flags = set()
        if "external merge" in plan or "Disk:" in plan:
            flags.add("sort on disk")
        if jit := re.search(r"Timing: .*Total ([\d.]+) ms", plan):
            flags.add(f"JIT {float(jit[1]):.0f} ms")
        for table in re.findall(r"Seq Scan on (\w+)", plan):
            if table in big:
                flags.add(f"seq scan {table}")
        executed = re.search(r"Execution Time: ([\d.]+) ms", plan)
        plans.append((float(executed[1]) if executed else 0.0, sql, plan, flags))
        page.flags |= flags
    plans.sort(key=lambda item: -item[0])
    page.explains = [p for i, p in enumerate(plans) if i < explain or p[3]]


def measure(args, server: Server, sessions: Sessions, page: Page, big: set[str]) -> None:
    cookie = sessions.cookie(page.username)  # a fresh session: no idle timeout mid-run
    in_process(page, cookie, args.samples, args.explain, big, args.slow_ms)
    if page.status != 200:
        print(f"  {page.key}: HTTP {page.status} in process, skipped {' '.join(page.flags)}", flush=True)
        return
    status, first_ms = server.get(page.url, cookie)
    if status != 200:
        page.status = status
        print(f"  {page.key}: HTTP {status} from gunicorn, skipped", flush=True)
        return
    if page.slow:
        page.http_ms = first_ms
        print(f"  {page.key}: {page.server_ms:.0f} ms per request, too slow to load with wrk", flush=True)
        return
    for _ in range(4):  # both workers have rendered it
        server.get(page.url, cookie)
        server.get("/bench/bare/", cookie)
    page.http_ms = statistics.median(server.get(page.url, cookie)[1] for _ in range(args.samples))
    for round_ in range(args.rounds):
        # Interleaved, the order alternating: drift in the machine's speed hits both alike.
        order = ("bare", "page") if round_ % 2 == 0 else ("page", "bare")
        for which in order:
            run = wrk(args, server.url("/bench/bare/" if which == "bare" else page.url), cookie)
            if which == "bare":
                page.bare_rps.append(run.rps)
            else:
                page.rps.append(run.rps)
                if run.rps:
                    page.p50.append(run.p50)
                    page.p99.append(run.p99)
                else:
                    page.flags.add("no request done within a wrk run")
                page.errors += run.errors
    # The session must still be good at the end (a redirect to sign-in counts as OK in wrk).
    if server.get(page.url, cookie)[0] != 200:
        page.flags.add("session lost")
    ratio = page.ratio
    print(
        f"  {page.key}: {statistics.mean(page.rps):.0f} req/s vs bare {statistics.mean(page.bare_rps):.0f} "
        f"(x{ratio:.2f}), {page.server_ms:.0f} ms, {page.queries} queries, {page.html_bytes / 1024:.0f} KB",
        flush=True,
    )


# Reporting ---------------------------------------------------------------------------------------


def verdict(page: Page) -> str:
    if page.status != 200:
        return f"HTTP {page.status}"
    misses = [f"too slow for wrk ({page.server_ms / 1000:.1f} s)"] if page.slow else []
    ratio = page.ratio
    if ratio is not None and ratio < (0.7 if page.member else 0.5):
        misses.append("ratio")
    if page.list_or_home and page.server_ms > 40:
        misses.append("> 40 ms")
    if page.html_bytes > 60 * 1024 and not page.data:
        misses.append("> 60 KB")
    if page.errors:
        misses.append(f"{page.errors} errors")
    return "ok" if not misses else "✗ " + ", ".join(misses)


def median_or_dash(values: list[float]) -> str:
    return f"{statistics.median(values):.0f}" if values else "—"


def table(results: list[Page], args, data: dict[str, int], load: tuple, interrupted: bool) -> str:
    lines = [
        f"Measured {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {os.cpu_count()} cores: "
        + ", ".join(f"{n:,} {name}" for name, n in data.items())
        + f". gunicorn {args.workers} sync workers; wrk {args.connections} connections, "
        f"{args.rounds} interleaved rounds of {args.duration} s per page and bare view. "
        f"Load average {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
        f"{' (INTERRUPTED: partial results)' if interrupted else ''}.",
        "",
        "| page (user) | req/s | bare req/s | ratio | p50 ms | p99 ms | server ms | HTTP ms | SQL ms | queries "
        "| HTML KB | EXPLAIN | targets |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for p in results:
        if p.status != 200:
            lines.append(f"| {p.label} | | | | | | | | | | | {', '.join(sorted(p.flags))} | {verdict(p)} |")
            continue
        if not p.rps:
            lines.append(
                f"| {p.label} | | | | | | {p.server_ms:.0f} | {p.http_ms:.0f} | {p.sql_ms:.0f} | {p.queries} "
                f"| {p.html_bytes / 1024:.0f} | {', '.join(sorted(p.flags)) or 'index'} | {verdict(p)} |"
            )
            continue
        lines.append(
            f"| {p.label} | {statistics.mean(p.rps):.0f} | {statistics.mean(p.bare_rps):.0f} | {p.ratio:.2f} "
            f"| {median_or_dash(p.p50)} | {median_or_dash(p.p99)} | {p.server_ms:.0f} "
            f"| {p.http_ms:.0f} | {p.sql_ms:.0f} | {p.queries} | {p.html_bytes / 1024:.0f} "
            f"| {', '.join(sorted(p.flags)) or 'index'} | {verdict(p)} |"
        )
    lines += [
        "",
        "ratio: the page's requests/s over the bare view's in the same round (median of the rounds); "
        "p50/p99: wrk's latency under the 16 connections; server ms: median of sequential requests in process "
        "(Django's test client, server idle); HTTP ms: the same through gunicorn; SQL ms and queries: of one "
        "request (SQL ms the median of 3); EXPLAIN: what the plans of the page's queries show (sort on disk, "
        f"sequential scan of a table of {BIG_TABLE_ROWS:,}+ rows, JIT compilation time; 'index' when none). "
        "Targets (issue 12): ratio 0.5+ (member pages 0.7+), list and home pages under 40 ms, no page over 60 KB.",
    ]
    return "\n".join(lines)


def explains(results: list[Page], max_lines: int = 0) -> str:
    """The plans, each cut to ``max_lines`` lines when given (the printed report; the file
    written with --out has them whole)."""
    parts = [
        "## EXPLAIN (ANALYZE, BUFFERS) of each page's slowest queries (by execution time) and flagged ones",
        "",
    ]
    for p in results:
        for ms, sql, plan, flags in p.explains:
            parts += [
                f"### {p.label}: {ms:.1f} ms{' — ' + ', '.join(sorted(flags)) if flags else ''}",
                "",
                "```sql",
                sql if len(sql) <= 1200 else sql[:1200] + " …",
                "```",
                "```",
                cut(plan, max_lines),
                "```",
                "",
            ]
    return "\n".join(parts)


def cut(text: str, max_lines: int) -> str:
    lines = text.splitlines()
    if not max_lines or len(lines) <= max_lines:
        return text
    return "\n".join([*lines[:max_lines], f"... ({len(lines) - max_lines} more lines: see --out)"])


def main() -> int:
    args = parse_args()
    if connection.vendor != "postgresql":
        print("bench/http.py measures PostgreSQL: set DATABASE_URL=postgres://...", file=sys.stderr)
        return 2
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    import logging

    # The in-process requests would log each request (and each slow one); the server's own
    # log goes to a file.
    logging.disable(logging.WARNING)
    ensure_seeded(args)
    data = counts()
    big = big_tables()
    only = {key for key in args.pages.split(",") if key}
    results = pages(only)
    workdir = tempfile.mkdtemp(prefix="lokus-bench-http-")
    sessions = Sessions()
    server = Server(args.workers, os.path.join(workdir, "gunicorn.log"))

    def stop_on_term(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop_on_term)
    load, interrupted, measured = os.getloadavg(), False, []
    try:
        server.wait_ready("/bench/bare/")
        print(f"Measuring {len(results)} pages:", flush=True)
        for page in results:
            measure(args, server, sessions, page, big)
            measured.append(page)
    except (KeyboardInterrupt, SystemExit):
        interrupted = True
    finally:
        server.stop()
        sessions.close()
    results_table = "\n\n## Results\n\n" + table(measured, args, data, load, interrupted) + "\n"
    print()
    print(explains(measured, max_lines=40) + results_table)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(explains(measured) + results_table)
        print(f"(the whole report, every plan in full, is in {args.out})")
    shutil.rmtree(workdir, ignore_errors=True)
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
