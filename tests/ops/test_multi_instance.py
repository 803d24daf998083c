"""Two app servers and two workers sharing one database and one media folder, as several
machines behind a load balancer do.

Two gunicorn instances (deploy/gunicorn.conf.py, each on a free 127.0.0.1 port) and two
``manage.py db_worker`` processes run against the test database on PostgreSQL. The whole SOP,
steps 1 to 15, is walked over plain HTTP by the people of the cast, each in their own
"browser" (tests/ops/http.py), and every request goes to the other instance than the one
before: a form is fetched from one and posted to the other. So sessions, the two-factor
state, lockouts, notifications, files and mail all have to live in the shared database and
media folder. After the field work (step 5) one instance and one worker are killed with
SIGKILL; the rest of the SOP goes on on the survivors and nothing done before is lost."""

import datetime
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from itertools import count
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import global_settings
from django.db import connection
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image

from accounts.enums import MailStatus
from accounts.models import Notification, OutgoingMail
from lokus.enums import Equipment, LokusState
from lokus.models import ActivityPlan, FieldMedia, Kelurahan
from reports.enums import ReportState
from reports.models import ActivityReport
from tests.factories import TEST_PASSWORD
from tests.ops.http import Browser

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="several server processes need one database they can all open: PostgreSQL "
        "(DATABASE_URL); the SQLite test database lives in this process's memory",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
WAIT = 60  # seconds; a guard against a hung process, never waited for when things work
PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.2)


def database_url() -> str:
    """The test database, for the other processes."""
    s = connection.settings_dict
    options = s["OPTIONS"]
    query = {"host": options.get("host") or s["HOST"], "port": options.get("port") or s["PORT"]}
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@/{s['NAME']}?{urlencode({k: v for k, v in query.items() if v})}"


class Cluster:
    """The processes of the test: started in their own process group, stopped by pid."""

    def __init__(self, env: dict, folder: Path):
        self.env, self.folder = env, folder
        self.processes: dict[str, subprocess.Popen] = {}
        self.urls: dict[str, str] = {}
        self.alive: list[str] = []
        self.log: list[str] = []  # the instance of each request, in order
        self._turn = count()

    def _start(self, name: str, args: list[str], **env) -> None:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        self.processes[name] = subprocess.Popen(
            args, cwd=ROOT, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    def start_web(self, name: str) -> None:
        port = free_port()
        self._start(
            name,
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)],
            GUNICORN_BIND=f"127.0.0.1:{port}",
            WEB_CONCURRENCY="2",
        )
        self.urls[name] = f"http://127.0.0.1:{port}"
        self.alive.append(name)

    def start_worker(self, name: str) -> None:
        self._start(
            name,
            [sys.executable, "manage.py", "db_worker", "--interval", "0.5", "--no-startup-delay", "--worker-id", name],
        )

    def wait_ready(self) -> None:
        probe = Browser(iter(()), "probe")
        for name in self.alive:

            def answers(name=name):
                assert self.processes[name].poll() is None, f"{name} exited:\n{self.output(name)}"
                try:
                    return probe.get("/healthz", server=self.urls[name]).status == 200
                except OSError:
                    return False

            wait_until(answers, f"{name} to answer")

    def __iter__(self):
        return self

    def __next__(self) -> str:
        """The next instance in turn: consecutive requests go to different instances."""
        name = self.alive[next(self._turn) % len(self.alive)]
        self.log.append(name)
        return self.urls[name]

    def kill(self, name: str) -> None:
        """Gone at once, as when a machine dies: the whole process group, SIGKILL."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=WAIT)
        if name in self.alive:
            self.alive.remove(name)

    def output(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=WAIT)


@pytest.fixture
def cluster(settings, tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("TASKS_BACKEND", "DJANGO_SETTINGS_MODULE")},
        "DJANGO_MODE": "development",
        "DEBUG": "false",
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    }
    running = Cluster(env, tmp_path)
    try:
        running.start_web("web-a")
        running.start_web("web-b")
        running.start_worker("worker-a")
        running.start_worker("worker-b")
        running.wait_ready()
        yield running
    finally:
        running.stop()


def local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (180, 70, 30)).save(out, format="JPEG")
    return out.getvalue()


def code(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset * device.step
    return f"{totp.token():0{device.digits}d}"


def moved(response, path_start: str = "") -> str:
    assert response.status == 302, f"{response.url}: {response.status}\n{response.text[:3000]}"
    assert response.location.startswith(path_start), response.location
    return response.location


def test_the_sop_on_two_instances_with_one_killed_midway(cluster, cast, settings):
    # The servers check passwords with the product's hashers, not the tests' quick one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    for user in cast.values():
        user.set_password(TEST_PASSWORD)
        user.save(update_fields=["password"])
    kelurahan = Kelurahan.objects.select_related("kecamatan").order_by("kecamatan__name", "name").first()
    devices = {
        name: TOTPDevice.objects.create(user=cast[name], name="authenticator", confirmed=True)
        for name in ("kabid", "kaban")
    }
    people = {
        name: Browser(cluster, name) for name in ("partner", "kasubbid", "member", "coordinator", "kabid", "kaban")
    }

    # Lockouts hold across instances: failures on either count together, and the lockout
    # refuses even the right password on both.
    intruder = Browser(cluster, "intruder")
    statuses = [intruder.sign_in("anggota.lain", f"salah-{i}").status for i in range(5)]
    assert statuses == [200, 200, 200, 200, 429], statuses
    for name in ("web-a", "web-b"):
        intruder.get("/masuk/", server=cluster.urls[name])
        refused = intruder.post(
            "/masuk/", [("username", "anggota.lain"), ("password", TEST_PASSWORD)], server=cluster.urls[name]
        )
        assert refused.status == 429, f"{name} let a locked-out account in"

    # Everyone signs in; the leadership's second factor is given on the other instance than
    # the password, and the session then works on both.
    for name, browser in people.items():
        moved(browser.sign_in(cast[name].username, TEST_PASSWORD))
        if name in devices:
            assert moved(browser.get("/")).startswith("/masuk/kode/"), "no page before the second factor"
            moved(browser.submit("/masuk/kode/", token=code(devices[name])), "/")
        for _ in range(2):  # signed in on both (an anonymous visitor is sent to /masuk/)
            assert browser.get("/").status == 200, name

    # Step 1: the partner reports a plan, with a letter attached.
    partner, kasubbid = people["partner"], people["kasubbid"]
    starts = (timezone.now() + datetime.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    title = "Aksi damai buruh lintas server"
    moved(
        partner.submit(
            "/rencana/baru/",
            files={"attachments": ("surat.pdf", PDF, "application/pdf")},
            title=title,
            category="demonstration",
            description="Unjuk rasa menuntut kenaikan upah.",
            organiser="Serikat Buruh Uji",
            expected_participants="250",
            starts_at=local(starts),
            ends_at=local(starts + datetime.timedelta(hours=4)),
            address="Jl. Daan Mogot No. 1",
            kecamatan=kelurahan.kecamatan_id,
            kelurahan=kelurahan.pk,
        ),
        "/rencana/",
    )
    plan = ActivityPlan.objects.get(title=title)
    attachment = plan.attachments.get()
    # The notification and the file are there for the Kasubbid, whichever instance he reaches.
    assert Notification.objects.filter(recipient=cast["kasubbid"]).exists()
    for _ in range(2):
        assert title in kasubbid.get("/notifikasi/").text
        assert kasubbid.get(f"/rencana/lampiran/{attachment.pk}/").body == PDF

    # Steps 2-3: chosen, described, a team, dispatched.
    lokus_path = moved(kasubbid.submit(f"/rencana/{plan.pk}/", action=f"/rencana/{plan.pk}/pilih/"), "/lokus/")
    plan.refresh_from_db()
    lokus = plan.lokus
    assert lokus_path == f"/lokus/{lokus.pk}/"
    moved(
        kasubbid.submit(
            f"/lokus/{lokus.pk}/ubah/",
            problem="Potensi bentrok antara massa buruh dan pengguna jalan.",
            assembly_point="Halaman Kantor Kecamatan",
            assembly_at=local(starts - datetime.timedelta(hours=1)),
        )
    )
    member, coordinator = cast["member"], cast["coordinator"]
    moved(kasubbid.submit(f"/lokus/{lokus.pk}/tim/", members=[member.pk, coordinator.pk], coordinator=coordinator.pk))
    moved(kasubbid.submit(f"/lokus/{lokus.pk}/", action=f"/lokus/{lokus.pk}/kirim/"))
    lokus.refresh_from_db()
    assert lokus.state == LokusState.DISPATCHED

    # Steps 4-5: the officers confirm, the Korlap maps the risk, both start, record, report.
    anggota, korlap = people["member"], people["coordinator"]
    field = f"/tugas/{lokus.pk}/"
    for browser in (anggota, korlap):
        moved(browser.submit(field, action=f"{field}siap/", equipment=[e.value for e in Equipment]))
    moved(
        korlap.submit(
            f"{field}risiko/",
            threats="Provokator dari luar kelompok.",
            access_routes="Dari Jl. Daan Mogot sisi timur.",
            exit_routes="Gang samping kantor kecamatan.",
            security_contact="Kapolsek Uji 0812-0000-0000",
            go="go",
        )
    )
    for browser in (anggota, korlap):
        moved(browser.submit(field, action=f"{field}mulai/"))
    note = "Massa berkumpul tertib, sekitar tiga ratus orang."
    moved(anggota.submit(field, action=f"{field}catatan/", body=note, crowd_estimate="300", situation="kondusif"))
    photo = jpeg()
    moved(
        korlap.submit(
            field,
            action=f"{field}unggah/",
            testid="upload-photo",
            files={"file": ("massa.jpg", photo, "image/jpeg")},
            kind="photo",
            caption="Massa di depan gerbang",
        )
    )
    media = FieldMedia.objects.get(assignment__lokus=lokus)
    with media.file.open("rb") as stored:
        stored_photo = stored.read()
    for browser in (korlap, anggota, korlap, kasubbid):  # the upload, from each instance
        assert browser.get(f"/berkas/{media.pk}/").body == stored_photo
    for browser, summary in ((anggota, "Aksi berjalan tertib."), (korlap, "Tidak ada insiden.")):
        moved(browser.submit(f"{field}laporan/", summary=summary, situation="kondusif", crowd_estimate="300"))
    lokus.refresh_from_db()
    assert lokus.state == LokusState.FIELD_DONE

    # Every request so far went to the other instance than the one before.
    before_kill = list(cluster.log)
    assert all(a != b for a, b in zip(before_kill, before_kill[1:], strict=False))
    assert before_kill.count("web-a") > 30 and before_kill.count("web-b") > 30

    # The mail of steps 1-5 went out; then one instance and one worker die.
    wait_until(lambda: not OutgoingMail.objects.filter(status=MailStatus.QUEUED).exists(), "the mail of steps 1-5")
    cluster.kill("web-a")
    cluster.kill("worker-a")
    with pytest.raises(OSError):
        Browser(iter(()), "probe").get("/healthz", server=cluster.urls["web-a"])

    # Nothing is lost: sessions, the field work and its photo are all on the survivor.
    for browser in people.values():
        assert browser.get("/").status == 200
    assert note in kasubbid.get(f"/lokus/{lokus.pk}/").text
    assert korlap.get(f"/berkas/{media.pk}/").body == stored_photo

    # Step 6: the Korlap writes and sends the team report.
    edit = moved(korlap.submit(field, action=f"/lokus/{lokus.pk}/laporan/mulai/"), "/laporan/")
    report = ActivityReport.objects.get(lokus=lokus)
    page = f"/laporan/{report.pk}/"
    assert edit == f"{page}ubah/"
    moved(
        korlap.submit(
            edit,
            dialogue="Massa sepakat membubarkan diri pukul 12.30 WIB.",
            analysis="Tuntutan upah berpotensi memicu aksi lanjutan.",
            outlook="Aksi serupa diperkirakan terjadi bulan depan.",
            recommendations="Fasilitasi audiensi serikat pekerja dengan Disnaker.",
            situation="waspada",
            crowd_estimate="280",
        )
    )
    moved(korlap.submit(page, action=f"{page}kirim/"))

    # Steps 7-15: each level receives, verifies and forwards; the Kepala Badan approves.
    checks = {"complete": "on", "facts_separate": "on", "attachments_present": "on", "classification_right": "on"}
    for name, last in (("kasubbid", "teruskan"), ("kabid", "teruskan"), ("kaban", "setujui")):
        browser = people[name]
        moved(browser.submit(page, action=f"{page}terima/"))
        moved(browser.submit(f"{page}verifikasi/", notes=f"Diperiksa oleh {name}.", **checks))
        moved(browser.submit(page, action=f"{page}{last}/"))
    report.refresh_from_db()
    assert report.state == ReportState.APPROVED
    assert report.content()["analysis"] == "Tuntutan upah berpotensi memicu aksi lanjutan."
    pdf = people["kaban"].get(f"{page}pdf/")
    assert pdf.status == 200 and pdf.body.startswith(b"%PDF")

    # Every notification's mail is sent, by the surviving worker too, none twice.
    wait_until(lambda: not OutgoingMail.objects.filter(status=MailStatus.QUEUED).exists(), "all mail sent")
    mails = list(OutgoingMail.objects.all())
    assert mails and {mail.status for mail in mails} == {MailStatus.SENT}
    assert all(mail.attempts == 1 for mail in mails)

    # The survivor's log holds one JSON line per request it answered, with its request id.
    lines = [json.loads(line) for line in cluster.output("web-b").splitlines() if line.startswith("{")]
    assert any(line.get("logger") == "lokus.request" and line["path"] == f"{page}setujui/" for line in lines)
