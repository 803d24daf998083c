"""Benchmark: what a field officer's phone downloads and uploads, against the budgets of the
issue "Field officers' phones".

Builds its own throwaway SQLite database and media folder (nothing else is touched): the
demo users, a running lokus whose member has 20 notes and 12 photos, and a team report with
12 photos. Static files are collected into a temporary STATIC_ROOT and served the way
production serves them (whitenoise, hashed names, pre-compressed gzip/brotli, far-future
cache headers); HTML comes from Django uncompressed, as behind the README's proxy.

The app runs in a child process (this file with --serve) on 127.0.0.1 and a free port; it is
stopped by its process id at the end or on error, and stops by itself when this process goes
away. Debian's Chromium (CHROMIUM_PATH) in a 360x640 phone context loads the pages; bytes
come from the Chrome DevTools Protocol (encodedDataLength of Network.loadingFinished: body
as sent, compressed or not, plus headers). The server also counts every request and answer it
handles, which sees what the service worker fetches outside the page as well.

Prints numbers, asserts nothing. Run with `make bench-phone`."""

import gzip
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
PHONE = {"width": 360, "height": 640}
KB = 1024
# 250 kbit/s down, 50 kbit/s up, 300 ms round trip (CDP takes bytes per second).
SLOW_LINK = {"offline": False, "latency": 300, "downloadThroughput": 250_000 / 8, "uploadThroughput": 50_000 / 8}
PHOTOS = 12
NOTES = 20
SERVE_SECONDS = 30 * 60  # the server's own limit, should this process die without stopping it
PAGE_TIMEOUT_MS = 180_000


def use_workdir(workdir: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ["MEDIA_ROOT"] = f"{workdir}/media"
    os.environ["STATIC_ROOT"] = f"{workdir}/static"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # not one line per request and sign-in


def production_static() -> None:
    """Before django.setup(): static files as in production (collected, hashed names, gzip and
    brotli copies made by whitenoise's storage, no finders), DEBUG off; the rest of the
    development settings stay (plain HTTP cookies on 127.0.0.1)."""
    from django.conf import settings

    settings.DEBUG = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"


# The server (child process) ------------------------------------------------------------------


def counting(app, log_path: Path):
    """WSGI wrapper writing one JSON line per request: method, path, bytes in (headers as
    received, approximately, plus the body) and bytes out (status line, headers, body)."""
    lock = threading.Lock()

    def wrapped(environ, start_response):
        headers_in = sum(len(k) - 5 + len(v) + 4 for k, v in environ.items() if k.startswith("HTTP_"))
        body_in = int(environ.get("CONTENT_LENGTH") or 0)
        record = {
            "method": environ["REQUEST_METHOD"],
            "path": environ.get("PATH_INFO", ""),
            "in": len(environ.get("REQUEST_METHOD", "")) + len(environ.get("PATH_INFO", "")) + headers_in + body_in,
            "body_in": body_in,
            "out": 0,
        }

        def counted_start_response(status, headers, exc_info=None):
            record["status"] = status
            record["out"] += len(f"HTTP/1.1 {status}\r\n") + sum(len(k) + len(v) + 4 for k, v in headers) + 2
            record["encoding"] = {k.lower(): v for k, v in headers}.get("content-encoding", "")
            return start_response(status, headers, exc_info)

        result = app(environ, counted_start_response)
        try:
            for chunk in result:
                record["out"] += len(chunk)
                yield chunk
        finally:
            if hasattr(result, "close"):
                result.close()
            with lock, log_path.open("a") as log:
                log.write(json.dumps(record) + "\n")

    return wrapped


def serve(workdir: str) -> None:
    use_workdir(workdir)
    production_static()
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    httpd = ThreadedWSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    httpd.set_app(counting(get_wsgi_application(), Path(workdir) / "requests.jsonl"))
    parent = os.getppid()

    def stop_when_orphaned() -> None:
        deadline = time.monotonic() + SERVE_SECONDS
        while os.getppid() == parent and time.monotonic() < deadline:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=stop_when_orphaned, daemon=True).start()
    print(f"listening {httpd.server_address[1]}", flush=True)
    httpd.serve_forever()


class Server:
    """The child process serving the app; ``stop()`` ends it by its process id."""

    def __init__(self, workdir: str):
        self.log = Path(workdir) / "requests.jsonl"
        self.log.touch()
        self.errors = open(Path(workdir) / "server.log", "w")  # noqa: SIM115 (closed in stop)
        # This very file with --serve; no shell, no outside input.
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, __file__, "--serve", workdir],
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
        )
        line = self.process.stdout.readline()
        if not line.startswith("listening "):
            self.stop()
            raise RuntimeError(f"the server did not start; see {self.errors.name}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def mark(self) -> int:
        return len(self.records())

    def since(self, mark: int) -> list[dict]:
        return self.records()[mark:]

    def wait_quiet(self, seconds: float = 1.5, limit: float = 60) -> None:
        """Until the server has answered nothing new for ``seconds``."""
        end, count, still_since = time.monotonic() + limit, self.mark(), time.monotonic()
        while time.monotonic() < end:
            time.sleep(0.25)
            now = self.mark()
            if now != count:
                count, still_since = now, time.monotonic()
            elif time.monotonic() - still_since >= seconds:
                return

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.errors.close()


# Demo-like data (this process) ---------------------------------------------------------------


def camera_photo(seed: int) -> bytes:
    """A 12-megapixel photo (4000x3000) with smooth areas, edges and grain, as bench/pdf_report.py."""
    from PIL import Image, ImageDraw, ImageFilter

    base = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    draw = ImageDraw.Draw(base)
    for i in range(40):
        x, y = (seed * 97 + i * 211) % 3600, (seed * 53 + i * 137) % 2600
        draw.ellipse((x, y, x + 300, y + 500), fill=((i * 40) % 255, (seed * 30) % 255, (i * 90) % 255))
    grain = Image.effect_noise((4000, 3000), 18).convert("RGB")
    image = Image.blend(base.filter(ImageFilter.GaussianBlur(3)), grain, 0.15)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def running_lokus(users: dict, title: str, start, hours: int, members: list, korlap, number: str):
    """A Wasdin lokus dispatched to ``members``, everyone confirmed and started (steps 3-5)."""
    from lokus import services
    from lokus.demo import _into_the_field, _plan, _prepare
    from lokus.enums import PlanCategory

    plan, _new = _plan(
        users["mitra.polres"],
        title,
        PlanCategory.DEMONSTRATION,
        "36.71.01.1001",
        start,
        hours,
        500,
        "Aksi penyampaian pendapat di muka umum.",
        "Aliansi Masyarakat",
        "Depan Pusat Pemerintahan Kota Tangerang",
    )
    kasubbid = users["kasubbid.wasdin"]
    lokus = services.plan_choose(user=kasubbid, plan_id=plan.pk)
    _prepare(lokus, kasubbid, members, korlap, number)
    _into_the_field(lokus, kasubbid, members, korlap)
    return lokus


def add_photos(lokus, member, photos: list[bytes]) -> list[int]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from lokus import services
    from lokus.enums import MediaKind
    from lokus.uploads import clean_image

    ids = []
    for i, content in enumerate(photos):
        upload = SimpleUploadedFile(f"IMG_{i:04d}.jpg", content, content_type="image/jpeg")
        media = services.field_media_add(
            user=member, lokus_id=lokus.pk, kind=MediaKind.PHOTO, clean=clean_image(upload), caption=f"Situasi {i + 1}"
        )
        ids.append(media.pk)
    return ids


def build_data() -> dict:
    import datetime

    from django.core.management import call_command
    from django.utils import timezone

    from accounts import demo as accounts_demo
    from lokus import services
    from lokus.demo import _at
    from lokus.enums import Situation
    from reports import services as report_services
    from reports.demo import CONTENT

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    users = accounts_demo.seed()
    korlap, member, other = users["anggota1"], users["anggota2"], users["anggota3"]
    photos = [camera_photo(i) for i in range(PHOTOS)]

    # The member's assignment: in the field now, 20 notes and 12 photos recorded.
    now = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    field = running_lokus(
        users, "Aksi buruh benchmark", now - datetime.timedelta(hours=1), 8, [korlap, member], korlap, "BENCH/1"
    )
    for i in range(NOTES):
        services.field_note_add(
            user=member,
            lokus_id=field.pk,
            data={
                "body": f"{i + 1:02d}: massa bertambah di sisi timur, orasi bergantian, arus lalu lintas dialihkan.",
                "crowd_estimate": 100 + 20 * i,
                "situation": Situation.KONDUSIF,
            },
        )
    add_photos(field, member, photos)

    # The team report: another lokus, done in the field, its report with the 12 photos.
    done = running_lokus(users, "Aksi besar benchmark", _at(2, 8), 4, [korlap, other], korlap, "BENCH/2")
    media_ids = add_photos(done, korlap, photos)
    for who in (korlap, other):
        services.member_report_submit(
            user=who,
            lokus_id=done.pk,
            data={
                "summary": "Aksi tertib, selesai sesuai jadwal.",
                "situation": Situation.KONDUSIF,
                "crowd_estimate": 250,
            },
        )
    report = report_services.report_start(user=korlap, lokus_id=done.pk)
    report_services.report_save(user=korlap, report_id=report.pk, data=CONTENT, media_ids=media_ids)
    return {"member": member, "korlap": korlap, "field": field, "report": report, "camera": camera_photo(PHOTOS)}


def session_cookie(user, url: str) -> dict:
    """A signed-in session for ``user``, as the sign-in page would give (made in the shared
    database, so the bench does not sign in through the pages it measures)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user, backend="accounts.backends.ModelBackend")
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": url,
    }


# Measuring in the browser ---------------------------------------------------------------------


class Traffic:
    """The page's network traffic as the DevTools Protocol reports it."""

    def __init__(self, page, link: dict | None = None):
        self.page = page
        self.cdp = page.context.new_cdp_session(page)
        self.requests: dict[str, dict] = {}
        self.load_at = None
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Page.loadEventFired", lambda event: setattr(self, "load_at", event["timestamp"]))
        self.cdp.send("Network.enable")
        self.cdp.send("Page.enable")
        if link:
            self.cdp.send("Network.emulateNetworkConditions", link)

    def _sent(self, event):
        entry = self.requests.setdefault(event["requestId"], {"bytes": 0})
        entry.update(url=event["request"]["url"], method=event["request"]["method"], type=event.get("type", ""))
        if "redirectResponse" in event:
            entry["bytes"] += event["redirectResponse"].get("encodedDataLength", 0)

    def _response(self, event):
        response = event["response"]
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        self.requests.setdefault(event["requestId"], {"bytes": 0}).update(
            status=response["status"],
            encoding=headers.get("content-encoding", ""),
            from_sw=response.get("fromServiceWorker", False),
            from_cache=response.get("fromDiskCache", False) or response.get("fromPrefetchCache", False),
        )

    def _finished(self, event):
        entry = self.requests.setdefault(event["requestId"], {"bytes": 0})
        entry["bytes"] += int(event["encodedDataLength"])
        entry["done_at"] = event["timestamp"]

    def finished(self, before_load: bool = False) -> list[dict]:
        rows = [r for r in self.requests.values() if "done_at" in r]
        if before_load and self.load_at is not None:
            rows = [r for r in rows if r["done_at"] <= self.load_at]
        return rows

    def total(self, **kwargs) -> int:
        return sum(r["bytes"] for r in self.finished(**kwargs))


def path_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path


def new_context(browser, cookie: dict):
    context = browser.new_context(viewport=PHONE, locale="id-ID", timezone_id="Asia/Jakarta")
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    context.add_cookies([cookie])
    return context


def visit(context, url: str, link: dict | None = None):
    page = context.new_page()
    traffic = Traffic(page, link)
    page.goto(url, wait_until="load")
    if "/masuk/" in page.url or "/dua-faktor/" in page.url:
        raise RuntimeError(f"not signed in: {url} went to {page.url}")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # the last DevTools events
    return page, traffic


def wait_for_service_worker(page) -> bool:
    return page.evaluate(
        """() => !("serviceWorker" in navigator) ? false : Promise.race([
             navigator.serviceWorker.ready.then(() => true),
             new Promise((resolve) => setTimeout(() => resolve(false), 20000)),
           ])"""
    )


def describe(rows: list[dict]) -> list[str]:
    lines = []
    for r in sorted(rows, key=lambda r: -r["bytes"]):
        flags = ", ".join(
            f
            for f in (
                r.get("encoding") or "identity",
                "service worker" if r.get("from_sw") else "",
                "cache" if r.get("from_cache") else "",
            )
            if f
        )
        lines.append(f"    {r['bytes']:>8,} B  {r.get('method', 'GET'):4} {path_of(r.get('url', '?'))}  ({flags})")
    return lines


def kb(n: float) -> str:
    return f"{n / KB:,.1f} KB"


def measure(browser, server: Server, data: dict) -> tuple[list, list]:
    rows, details = [], []
    member_cookie = data["member_cookie"]
    page_url = f"{server.url}/tugas/{data['field'].pk}/"

    # 1. First visit, cold cache.
    context = new_context(browser, member_cookie)
    mark = server.mark()
    page, traffic = visit(context, page_url)
    first = traffic.total()
    html = next(r for r in traffic.finished() if path_of(r["url"]) == path_of(page_url))
    encodings = sorted({r.get("encoding") or "identity" for r in traffic.finished() if "/static/" in r["url"]})
    rows.append(("First visit /tugas/<id>/ (cold cache)", kb(first), "100 KB", first <= 100 * KB))
    details.append(f"First visit, {len(traffic.finished())} requests, static files sent as: {', '.join(encodings)}")
    details += describe(traffic.finished())
    html_text = page.content().encode()
    details.append(
        f"    the HTML itself: {html['bytes']:,} B as sent (Django does not compress it); "
        f"{len(gzip.compress(html_text)):,} B if the proxy gzipped it"
    )
    sw_ready = wait_for_service_worker(page)
    server.wait_quiet()
    install = server.since(mark)
    install_bytes = sum(r["out"] for r in install)
    rows.append(("  same, with the service worker's install (server count)", kb(install_bytes), "-", None))
    details.append(
        f"Server count for the first visit and the service worker's install (ready: {sw_ready}): "
        f"{len(install)} answers, {install_bytes:,} B"
    )
    details += [
        f"    {r['out']:>8,} B  {r['method']:4} {r['path']}  ({r.get('status')}, {r.get('encoding') or 'identity'})"
        for r in install
    ]
    page.close()

    # 2. Repeat visit of the same page, same phone.
    mark = server.mark()
    page, traffic = visit(context, page_url)
    server.wait_quiet()
    repeat_page = traffic.total()
    repeat_server = sum(r["out"] for r in server.since(mark))
    repeat = max(repeat_page, repeat_server)
    rows.append(("Repeat visit /tugas/<id>/", kb(repeat), "15 KB", repeat <= 15 * KB))
    details.append(
        f"Repeat visit: page (DevTools) {repeat_page:,} B; server sent {repeat_server:,} B "
        "(includes what the service worker fetched for the page); the larger counts"
    )
    details += describe(traffic.finished())
    details += [
        f"    server: {r['out']:>8,} B  {r['method']:4} {r['path']}  ({r.get('status')})" for r in server.since(mark)
    ]

    # 3. A 4000x3000 camera photo uploaded from the assignment page.
    camera = Path(tempfile.gettempdir()) / f"lokus-bench-camera-{os.getpid()}.jpg"
    camera.write_bytes(data["camera"])
    try:
        mark = server.mark()
        page.set_input_files("form[data-testid=upload-photo] input[type=file]", str(camera))
        page.click("form[data-testid=upload-photo] button[type=submit]")
        upload = None
        deadline = time.monotonic() + 120
        while upload is None and time.monotonic() < deadline:
            page.wait_for_timeout(250)
            upload = next(
                (r for r in server.since(mark) if r["method"] == "POST" and r["path"].endswith("/unggah/")), None
            )
        server.wait_quiet()
    finally:
        camera.unlink()
    size = len(data["camera"])
    if upload is None:
        rows.append(("Upload of a 4000x3000 photo", "not sent in 120 s", "500 KB", False))
    else:
        sent = upload["in"]
        ratio = size / sent
        ok = sent <= 500 * KB and ratio >= 5
        rows.append(("Upload of a 4000x3000 photo", f"{kb(sent)} ({ratio:.1f}x smaller)", "500 KB, 5x", ok))
        details.append(
            f"Upload: the camera file is {size:,} B; the request carried {upload['body_in']:,} B of body "
            f"({upload['in']:,} B with headers), answer {upload.get('status')}"
        )
    context.close()

    # 4. The team report with 12 photos, first screen (cold cache), as its Korlap.
    context = new_context(browser, data["korlap_cookie"])
    page, traffic = visit(context, f"{server.url}/laporan/{data['report'].pk}/")
    below_fold = set(
        page.evaluate(
            """() => Array.from(document.querySelectorAll("img[loading=lazy]"))
                 .filter((img) => img.getBoundingClientRect().top >= window.innerHeight)
                 .map((img) => img.currentSrc || img.src)"""
        )
    )
    images = page.evaluate("() => document.images.length")
    before_load = traffic.finished(before_load=True)
    first_screen = [r for r in before_load if r.get("url") not in below_fold]
    screen_bytes = sum(r["bytes"] for r in first_screen)
    rows.append(("Team report with 12 photos, first screen", kb(screen_bytes), "300 KB", screen_bytes <= 300 * KB))
    details.append(
        f"Team report: {images} images on the page, {len(below_fold)} of them lazy below the fold; "
        f"{len(before_load)} requests finished before the load event ({kb(traffic.total(before_load=True))}), "
        f"{len(first_screen)} counted for the first screen; everything by network idle: {kb(traffic.total())}"
    )
    details += describe(first_screen)
    context.close()

    # 5. The assignment page on a slow link, cold cache.
    context = new_context(browser, member_cookie)
    page, traffic = visit(context, page_url, link=SLOW_LINK)
    timing = page.evaluate(
        """() => { const n = performance.getEntriesByType("navigation")[0];
                   return { dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd }; }"""
    )
    rows.append(("Slow link: DOMContentLoaded (usable)", f"{timing['dcl'] / 1000:.1f} s", "-", None))
    rows.append(("Slow link: load event", f"{timing['load'] / 1000:.1f} s", "-", None))
    details.append(
        f"Slow link (250/50 kbit/s, 300 ms round trip): {kb(traffic.total(before_load=True))} before the load event"
    )
    context.close()
    return rows, details


def print_table(rows: list) -> None:
    widths = [max(len(str(row[i])) for row in rows + [("Measurement", "Value", "Budget")]) for i in range(3)]
    header = ("Measurement", "Value", "Budget", "Within budget")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths + [0], strict=True)).rstrip())
    print("  ".join("-" * w for w in widths + [13]))
    for name, value, budget, ok in rows:
        verdict = "-" if ok is None else ("yes" if ok else "NO")
        print(f"{name.ljust(widths[0])}  {value.ljust(widths[1])}  {budget.ljust(widths[2])}  {verdict}")


def main() -> None:
    workdir = tempfile.mkdtemp(prefix="lokus-phone-bench-")
    use_workdir(workdir)
    production_static()
    import django

    django.setup()
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        sys.exit(f"Chromium not found at {CHROMIUM}: install Debian's 'chromium' package or set CHROMIUM_PATH.")
    server = None
    try:
        data = build_data()
        server = Server(workdir)
        # Before Playwright starts its event loop in this thread (the ORM refuses to run in one).
        data["member_cookie"] = session_cookie(data["member"], server.url)
        data["korlap_cookie"] = session_cookie(data["korlap"], server.url)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                rows, details = measure(browser, server, data)
            finally:
                browser.close()
    finally:
        if server is not None:
            server.stop()
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(workdir, ignore_errors=True)
    print("Phone budget (1 KB = 1024 bytes; a 360x640 Chromium phone; bytes as sent: static files")
    print("pre-compressed by whitenoise and chosen by the browser's Accept-Encoding, HTML uncompressed)\n")
    print_table(rows)
    print()
    print("\n".join(details))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2])
    else:
        main()
