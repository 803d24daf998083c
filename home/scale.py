"""Years of a busy agency's history, for measuring the pages at scale (``manage.py seed_scale``).

Bulk-creates, through the project's own models, what a few years of Kesbangpol's work leave
behind: plans across the 13 kecamatan, lokus of both sub-divisions with their teams (3-6
members, one Korlap), the team's django-guardian grants, risk mappings, field notes, photos,
member reports and escalations, team reports in every state of the chain with their versions,
verifications and log, the audit timeline, notifications, and the access and download logs.

The demo users of ``seed_demo`` carry the history: the demo Kasubbid of each sub-division
decides plans, composes and dispatches teams and reviews reports; the demo members are on
hundreds of past lokus; ``kabid`` and ``kaban`` review every report. Generated partners
(``skala.mitraNNN``) and members (``skala.anggotaNNN``) fill the rest.

Each plan's story is drawn once, its times in the SOP's order (submitted < decided <
dispatched < confirmed < risk mapping < started < notes < member reports, the last one is
field done < report created < each step of the chain), and cut at the present: what had not
happened yet is not there, so every object is in the state its steps reach. A share of the
stories stop early on purpose: plans nobody decided, a lokus never dispatched, a member who
never confirmed or never reported, a lokus whose report was never started, reports held at
every state of the chain. That is the backlog a real office carries, and what the home
queues must stay bounded against. States are set when the rows are created (bulk_create
may set FSM-protected fields); the fields of every step passed are filled as its
transition would fill them.

Rows are written chunk by chunk in the order the plans were submitted, each chunk's logs
sorted by time, so that ids grow with time as in a real database. Photos are a handful of
tiny real JPEGs (with their print and thumbnail copies) written once and shared by path."""

import itertools
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.enums import AgencyKind, Role
from accounts.models import Agency, Notification, Qualification, SubDivision, User
from core.enums import LOGGED_CLASSIFICATIONS, Classification
from core.models import AccessLog
from lokus.codes import new_verification_code
from lokus.enums import (
    AssignmentState,
    AuditAction,
    Equipment,
    EscalationKind,
    LokusState,
    MediaKind,
    PlanCategory,
    PlanStatus,
    RiskLevel,
    Situation,
)
from lokus.models import (
    ActivityPlan,
    Assignment,
    AuditEntry,
    Escalation,
    FieldMedia,
    FieldNote,
    Kelurahan,
    Lokus,
    LokusUserObjectPermission,
    MemberReport,
    RiskAssessment,
)
from lokus.uploads import clean_image
from reports.enums import HOLDER, Level, ReportAction
from reports.enums import ReportState as S
from reports.models import (
    ActivityReport,
    DocumentDownload,
    DocumentKind,
    ReportLog,
    ReportVerification,
    ReportVersion,
)
from reports.permissions import HELD_AT

# Usernames of the generated people: how a second run knows the data is already there.
PREFIX = "skala."
BATCH = 2000
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
NEVER = math.inf

# Shares of the history (the full size: 100,000 plans, about 20,000 lokus and reports).
CHOSEN_SHARE = 0.205  # of the decided plans
RECENT_DAYS = 30  # plans submitted in the last month: half still wait for a decision
RECENT_UNDECIDED = 0.5
BUSY_WEEK_SHARE = 0.004  # a crowded week a week ahead (a campaign, a holiday)
# Stories that stop early (the backlog), as a share and at least a count, so that even the
# tiny size of the tests has each of them.
STALLS = {
    "undecided": (0.006, 5),  # an old plan nobody decided
    "compose": (0.002, 3),  # a lokus never dispatched
    "dispatch": (0.003, 3),  # a member never confirmed
    "running": (0.003, 3),  # a member never reported
    "no_report": (0.004, 3),  # the Korlap never started the team report
    "report": (0.02, 2 * 13),  # a report held at some state of the chain
}
NON_FINAL = [state for state in S if state != S.APPROVED]


@dataclass(frozen=True)
class Size:
    """How much history: ``plans`` sets everything else."""

    plans: int
    years: float = 4.0

    @property
    def members(self) -> int:
        return max(8, self.plans // 500)

    @property
    def partners(self) -> int:
        return max(3, self.plans // 4000)

    @property
    def expected_lokus(self) -> int:
        return max(1, round(self.plans * CHOSEN_SHARE * 0.97))


@dataclass
class Stats:
    """Where the time went: building rows in Python and writing them, per model."""

    build: float = 0.0
    write: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))


# Texts ---------------------------------------------------------------------------------------

TITLES = {
    PlanCategory.DEMONSTRATION: [
        "Unjuk rasa buruh menuntut kenaikan upah",
        "Aksi mahasiswa menolak kenaikan tarif",
        "Aksi damai pedagang pasar",
        "Unjuk rasa pengemudi ojek daring",
        "Aksi warga menolak pembangunan gudang",
        "Aksi guru honorer",
    ],
    PlanCategory.RELIGIOUS: [
        "Pengajian akbar",
        "Peringatan Maulid Nabi",
        "Perayaan Natal bersama",
        "Doa bersama lintas iman",
        "Pawai obor Tahun Baru Islam",
    ],
    PlanCategory.POLITICAL: [
        "Kampanye terbuka calon legislatif",
        "Deklarasi relawan calon wali kota",
        "Rapat umum partai politik",
        "Debat terbuka calon kepala daerah",
    ],
    PlanCategory.ORMAS: [
        "Deklarasi ormas kepemudaan",
        "Konvoi kendaraan ormas",
        "Musyawarah daerah ormas",
        "Pelantikan pengurus ormas",
    ],
    PlanCategory.COMMUNITY: [
        "Festival budaya",
        "Jalan sehat warga",
        "Bazar dan panggung hiburan rakyat",
        "Lomba perahu naga Cisadane",
    ],
    PlanCategory.OTHER: [
        "Mediasi sengketa lahan warga",
        "Pertemuan warga terkait relokasi",
        "Sosialisasi pembebasan lahan",
    ],
}
CATEGORY_WEIGHTS = {
    PlanCategory.DEMONSTRATION: 30,
    PlanCategory.RELIGIOUS: 20,
    PlanCategory.POLITICAL: 12,
    PlanCategory.ORMAS: 10,
    PlanCategory.COMMUNITY: 20,
    PlanCategory.OTHER: 8,
}
ORGANISERS = [
    "Konfederasi Serikat Pekerja",
    "BEM se-Tangerang",
    "DKM Masjid Al-Ikhlas",
    "FKUB Kota Tangerang",
    "Karang Taruna",
    "Forum Warga",
    "Paguyuban Pedagang",
    "Tim pemenangan",
    "Ormas Pemuda Bersatu",
    "Aliansi Masyarakat",
]
PLACES = [
    "Lapangan kelurahan",
    "Depan kantor kecamatan",
    "Depan Gedung DPRD",
    "Alun-alun",
    "Balai warga",
    "Halaman masjid",
    "Gedung serbaguna",
    "Taman kota",
    "Kawasan industri",
]
SOURCES = ["Ketua RW 05", "Ketua RT 02", "Lurah setempat", "Camat setempat", "Tokoh masyarakat", "Babinsa"]
NOT_CHOSEN = [
    "Kegiatan rutin, cukup dipantau Polsek.",
    "Skala kecil dan penyelenggara berpengalaman.",
    "Sudah dipantau instansi lain.",
    "Tidak ada potensi gangguan.",
]
PROBLEMS = [
    "Potensi gesekan antara massa aksi dan warga sekitar; perlu pemantauan dan mediasi.",
    "Kegiatan bersamaan dengan acara lain di lokasi berdekatan.",
    "Massa besar dari luar kota, jalur keluar terbatas.",
    "Isu sensitif yang berkembang di media sosial.",
]
NOTES = [
    "Massa mulai berkumpul, suasana tertib.",
    "Orasi bergantian, aparat berjaga di sekitar lokasi.",
    "Lalu lintas dialihkan sementara, tidak ada gangguan.",
    "Perwakilan massa diterima untuk audiensi.",
    "Sebagian massa membubarkan diri dengan tertib.",
    "Sempat terjadi adu mulut, berhasil ditenangkan koordinator aksi.",
]
SUMMARIES = [
    "Kegiatan berlangsung tertib dan selesai sesuai jadwal.",
    "Kegiatan selesai lebih awal; tidak ada kejadian menonjol.",
    "Sempat memanas, kemudian kondusif setelah mediasi.",
]
RETURN_NOTES = [
    "Pisahkan fakta dan analisis; kronologi belum lengkap.",
    "Rekomendasi terlalu umum: sebutkan instansi dan tenggat tindak lanjut.",
    "Lampirkan foto situasi dan perkiraan jumlah massa.",
]
FIRST_NAMES = ["Adi", "Budi", "Citra", "Dewi", "Eko", "Fitri", "Gilang", "Hana", "Indra", "Joko", "Kartika", "Lukman"]
LAST_NAMES = ["Saputra", "Wulandari", "Pratama", "Hidayat", "Lestari", "Nugroho", "Rahmawati", "Setiawan", "Kurnia"]


# Times ----------------------------------------------------------------------------------------


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _half_hour(ts: float) -> float:
    return round(ts / 1800) * 1800


@dataclass
class Story:
    """One plan, drawn once: who, where and when, and how far it got."""

    plan: ActivityPlan
    submitted: float
    start: float
    end: float
    status: str
    decided: float | None
    kasubbid: User | None
    # Its notifications, whose link takes the plan's id once it is written.
    links: list = field(default_factory=list)


class Seeder:
    """Draws each plan's story and writes it, chunk by chunk (see the module's docstring)."""

    def __init__(self, size: Size, *, seed: int = 12, chunk: int = 5000, out: Callable[[str], None] = print):
        self.size, self.chunk, self.out = size, chunk, out
        self.rng = random.Random(seed)
        self.now = timezone.now().timestamp()
        self.offset = timezone.localtime().utcoffset().total_seconds()  # WIB has no summer time
        self.stats = Stats()
        self.lokus_number = itertools.count(1)
        self.stall_target = itertools.cycle(NON_FINAL)
        expected = {
            "undecided": size.plans,
            "compose": size.expected_lokus,
            "dispatch": size.expected_lokus,
            "running": size.expected_lokus,
            "no_report": size.expected_lokus,
            "report": size.expected_lokus,
        }
        self.stall_p = {key: min(0.5, max(share, least / expected[key])) for key, (share, least) in STALLS.items()}

    # Writing ---------------------------------------------------------------------------------

    def write(self, model, rows: list, *, sort_key=None) -> list:
        if not rows:
            return rows
        if sort_key is not None:
            rows.sort(key=sort_key)
        started = time.perf_counter()
        model.objects.bulk_create(rows, batch_size=BATCH)
        self.stats.write[model.__name__] += time.perf_counter() - started
        self.stats.rows[model.__name__] += len(rows)
        return rows

    def chance(self, key: str) -> bool:
        return self.rng.random() < self.stall_p[key]

    def local_midnight(self, ts: float) -> float:
        return math.floor((ts + self.offset) / DAY) * DAY - self.offset

    # Once ------------------------------------------------------------------------------------

    def cast(self) -> None:
        """The demo users who carry the history, and generated partners and members."""
        by_name = {u.username: u for u in User.objects.filter(username__in=["kabid", "kaban"])}
        self.kabid, self.kaban = by_name["kabid"], by_name["kaban"]
        self.kasubbids = list(User.objects.filter(groups__name=Role.KASUBBID.value, is_active=True).distinct())
        self.kabids = list(User.objects.filter(groups__name=Role.KABID.value, is_active=True).distinct())
        self.kabans = list(User.objects.filter(groups__name=Role.KABAN.value, is_active=True).distinct())
        sub_divisions = list(SubDivision.objects.order_by("code"))
        self.kasubbid_of = {}
        for sd in sub_divisions:
            heads = [u for u in self.kasubbids if u.sub_division_id == sd.pk]
            demo = [u for u in heads if u.username.startswith("kasubbid.")]
            if heads:
                self.kasubbid_of[sd.pk] = (demo or heads)[0]
        self.sub_divisions = [sd for sd in sub_divisions if sd.pk in self.kasubbid_of]

        password = make_password(settings.DEMO_PASSWORD)  # hashed once, shared (demo data)
        agencies = list(Agency.objects.exclude(kind=AgencyKind.MASYARAKAT).order_by("name"))
        names = [f"{a} {b}" for a, b in itertools.product(FIRST_NAMES, LAST_NAMES)]
        people = []
        for i in range(self.size.partners):
            people.append(
                User(
                    username=f"{PREFIX}mitra{i:03d}",
                    full_name=names[i % len(names)],
                    position="Staf penghubung",
                    email=f"{PREFIX}mitra{i:03d}@demo.lokus.invalid",
                    password=password,
                    agency=agencies[i % len(agencies)] if agencies else None,
                )
            )
        for i in range(self.size.members):
            people.append(
                User(
                    username=f"{PREFIX}anggota{i:03d}",
                    full_name=names[(i * 7 + 3) % len(names)] + f" {i // len(names) + 1}" * (i >= len(names)),
                    position="Anggota Mitigasi",
                    email=f"{PREFIX}anggota{i:03d}@demo.lokus.invalid",
                    password=password,
                    sub_division=self.sub_divisions[i % len(self.sub_divisions)],
                )
            )
        self.write(User, people)
        groups = {g.name: g for g in Group.objects.all()}
        qualifications = list(Qualification.objects.order_by("order"))
        memberships, skills = [], []
        for user in people:
            role = Role.PARTNER if "mitra" in user.username else Role.MEMBER
            memberships.append(User.groups.through(user_id=user.pk, group_id=groups[role.value].pk))
            if role == Role.MEMBER:
                for q in self.rng.sample(qualifications, min(2, len(qualifications))):
                    skills.append(User.qualifications.through(user_id=user.pk, qualification_id=q.pk))
        self.write(User.groups.through, memberships)
        self.write(User.qualifications.through, skills)

        partners = list(
            User.objects.filter(groups__name=Role.PARTNER.value, is_active=True).distinct().select_related("agency")
        )
        # The demo partners report the most, so that their own lists are long too.
        self.partner_pool = [u for u in partners for _ in range(1 if u.username.startswith(PREFIX) else 6)]
        members = list(User.objects.filter(groups__name=Role.MEMBER.value, is_active=True).distinct())
        # The demo members are picked twice as often: each is on hundreds of lokus.
        self.member_pool = defaultdict(list)
        for member in members:
            for _copy in range(1 if member.username.startswith(PREFIX) else 2):
                self.member_pool[member.sub_division_id].append(member)
        self.all_members = [m for pool in self.member_pool.values() for m in pool]
        self.member_count = len(members)
        self.kelurahan = list(Kelurahan.objects.select_related("kecamatan").order_by("code"))
        perms = Permission.objects.filter(content_type__app_label="lokus")
        self.view_perm = perms.get(codename="view_lokus")
        self.coordinate_perm = perms.get(codename="coordinate_lokus")

    def photos(self, count: int = 6) -> None:
        """A few tiny real JPEGs, each with its print and thumbnail copies, written once."""
        import io

        from PIL import Image, ImageDraw

        self.photo_files = []
        for i in range(count):
            image = Image.new("RGB", (320, 240), (180 + 12 * i, 200 - 10 * i, 220))
            ImageDraw.Draw(image).rectangle((40 + 8 * i, 60, 280 - 8 * i, 180), outline=(30, 60, 120), width=6)
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=80)
            clean = clean_image(SimpleUploadedFile(f"foto-{i}.jpg", buffer.getvalue(), content_type="image/jpeg"))
            thumb = Image.open(io.BytesIO(clean.thumbnail.read()))
            clean.thumbnail.seek(0)
            self.photo_files.append(
                {
                    "file": default_storage.save(f"field/skala/foto-{i}.jpg", clean.content),
                    "print_file": default_storage.save(f"field/skala/foto-{i}-cetak.jpg", clean.print_rendition),
                    "thumb_file": default_storage.save(f"field/skala/foto-{i}-kecil.jpg", clean.thumbnail),
                    "thumb_width": thumb.width,
                    "thumb_height": thumb.height,
                    "size": clean.size,
                    "content_type": clean.content_type,
                }
            )

    def texts(self) -> None:
        """Translated once: notifications are stored in the product's language."""
        self.t = {
            "plan_new": _("New activity plan: %(title)s"),
            "plan_new_body": _("Reported by %(source)s; starts %(start)s WIB."),
            "chosen": _("Your plan was chosen for special monitoring: %(title)s"),
            "not_chosen": _("Your plan was received and not chosen as lokus: %(title)s"),
            "assignment": _("New assignment: %(title)s"),
            "assignment_body": _('Assembly %(when)s WIB at %(where)s. Confirm with "Siap".'),
            "member_report": _("Member report received from %(name)s: %(title)s"),
            "field_done": _("Field work completed, every member has reported: %(title)s"),
            "compile": _("Every member has reported: compile and send the team report (step 6): %(title)s"),
            "escalation": _("%(kind)s at %(title)s from %(name)s"),
            "to_receive": _("Activity report to receive: %(title)s"),
            "returned": _("Activity report returned for revision: %(title)s"),
            "approved": _("Activity report approved: %(title)s"),
            "version": _("Version %(n)s"),
            "checks_ok": _("all checks passed"),
            "checks_failed": _("some checks failed"),
            "ready": _("%(n)s of 7 equipment items ready"),
            "go": _("Go"),
            "photo": str(MediaKind.PHOTO.label),
            "escalation_kind": str(EscalationKind.ESCALATION.label),
            "situation": {value: str(label) for value, label in Situation.choices},
        }
        placeholder = 987654321

        def template(name: str) -> str:
            return reverse(name, args=[placeholder]).replace(str(placeholder), "{}")

        self.url = {
            "plan": template("lokus:plan_detail"),
            "lokus": template("lokus:detail"),
            "assignment": template("lokus:assignment"),
            "report": template("reports:detail"),
        }

    # The run -----------------------------------------------------------------------------------

    def run(self) -> Stats:
        started = time.perf_counter()
        self.cast()
        self.photos()
        self.texts()
        self.out(f"  people and photos: {time.perf_counter() - started:.1f} s")
        times = self.submission_times()
        for first in range(0, len(times), self.chunk):
            tick = time.perf_counter()
            with transaction.atomic():
                self.one_chunk(times[first : first + self.chunk])
            done = min(first + self.chunk, len(times))
            self.out(f"  plans {done:>7}/{len(times)}: {time.perf_counter() - tick:.1f} s")
        return self.stats

    def submission_times(self) -> list[tuple[float, bool]]:
        """When each plan was submitted, oldest first; True for the plans of the busy week."""
        rng, now = self.rng, self.now
        busy = max(20, round(self.size.plans * BUSY_WEEK_SHARE))
        first = now - self.size.years * 365 * DAY
        times = [(rng.uniform(first, now - 20 * MINUTE), False) for _ in range(self.size.plans - busy)]
        times += [(now - rng.uniform(30 * MINUTE, 10 * DAY), True) for _ in range(busy)]
        times.sort()
        return times

    def one_chunk(self, times: list[tuple[float, bool]]) -> None:
        tick = time.perf_counter()
        self.audit, self.notes, self.access, self.downloads = [], [], [], []
        stories = [self.plan(ts, busy) for ts, busy in times]
        self.stats.build += time.perf_counter() - tick
        self.write(ActivityPlan, [s.plan for s in stories])
        for s in stories:
            for notification in s.links:
                notification.url = notification.url.format(s.plan.pk)

        tick = time.perf_counter()
        chosen = [s for s in stories if s.status == PlanStatus.CHOSEN]
        lokus_stories = [self.lokus(s) for s in chosen]
        self.stats.build += time.perf_counter() - tick
        self.write(Lokus, [ls["lokus"] for ls in lokus_stories])
        self.field_rows(lokus_stories)

        tick = time.perf_counter()
        report_stories = [r for ls in lokus_stories if (r := self.report(ls)) is not None]
        self.stats.build += time.perf_counter() - tick
        self.write(ActivityReport, [r["report"] for r in report_stories])
        self.report_rows(report_stories)

        by_time = lambda row: row.created_at  # noqa: E731
        self.write(AuditEntry, self.audit, sort_key=by_time)
        self.write(Notification, self.notes, sort_key=by_time)
        self.write(AccessLog, self.access, sort_key=by_time)
        self.write(DocumentDownload, self.downloads, sort_key=lambda row: row.downloaded_at)

    # Logs ----------------------------------------------------------------------------------------

    def log(self, at: float, actor, action, plan, lokus=None, from_state="", to_state="", note="") -> None:
        self.audit.append(
            AuditEntry(
                plan=plan,
                lokus=lokus,
                actor=actor,
                action=action,
                from_state=from_state,
                to_state=to_state,
                note=note,
                created_at=_dt(at),
            )
        )

    def notify(
        self, at: float, recipients, title: str, url: str, body: str = "", urgent: bool = False
    ) -> list[Notification]:
        rng, made = self.rng, []
        for user in {u.pk: u for u in recipients if u is not None}.values():
            read = at + rng.uniform(2 * MINUTE, 2 * DAY)
            unread = read > self.now or rng.random() < 0.08
            self.notes.append(
                Notification(
                    recipient=user,
                    title=title[:200],
                    body=body,
                    url=url,
                    is_urgent=urgent,
                    created_at=_dt(at),
                    read_at=None if unread else _dt(read),
                )
            )
            made.append(self.notes[-1])
        return made

    def viewed(self, at: float, user, kind: str, lokus: Lokus, object_id: int, classification: str) -> None:
        if at <= self.now and classification in LOGGED_CLASSIFICATIONS:
            self.access.append(
                AccessLog(
                    user=user,
                    kind=kind,
                    lokus_id=lokus.pk,
                    object_id=object_id,
                    classification=classification,
                    ip_address="10.20.30.40",
                    created_at=_dt(at),
                )
            )

    def when(self, ts: float) -> str:
        return timezone.localtime(_dt(ts)).strftime("%d-%m-%Y %H:%M")

    # Step 1-2: the plan ---------------------------------------------------------------------------

    def plan(self, submitted: float, busy: bool) -> Story:
        rng, now = self.rng, self.now
        if busy:
            monday = self.local_midnight(now + 7 * DAY)
            monday -= ((int((monday + self.offset) // DAY) + 3) % 7) * DAY  # 1970-01-01 was a Thursday
            start = monday + rng.randrange(7) * DAY + rng.randrange(7, 21) * HOUR
        else:
            lead = rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 7, 7, 10, 14, 21])
            start = self.local_midnight(submitted + lead * DAY) + rng.randrange(7, 21) * HOUR
        start = _half_hour(max(start, submitted + 20 * HOUR))
        end = start + rng.choice([2, 3, 3, 4, 4, 5, 6, 8, 10]) * HOUR
        category = rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
        kelurahan = rng.choice(self.kelurahan)
        title = f"{rng.choice(TITLES[category])} di {kelurahan.name}"
        on_behalf = rng.random() < 0.2
        head_sd = rng.choice(self.sub_divisions)
        submitter = self.kasubbid_of[head_sd.pk] if on_behalf else rng.choice(self.partner_pool)
        located = rng.random() < 0.7
        # Step 2, drawn before the row is made (the status is protected: set on creation only).
        decided = submitted + min(6 * HOUR, rng.lognormvariate(3.3, 0.7) * MINUTE)
        recent = submitted > now - RECENT_DAYS * DAY
        undecided = (rng.random() < RECENT_UNDECIDED) if (recent or busy) else self.chance("undecided")
        status, kasubbid, reason = PlanStatus.RECEIVED, None, ""
        if not undecided and decided <= now:
            kasubbid = self.kasubbid_of[head_sd.pk]
            status = PlanStatus.CHOSEN if rng.random() < CHOSEN_SHARE else PlanStatus.NOT_CHOSEN
            reason = rng.choice(NOT_CHOSEN) if status == PlanStatus.NOT_CHOSEN else ""
        plan = ActivityPlan(
            title=title,
            category=category,
            description=f"{title}. Penyelenggara memberitahukan kegiatan kepada instansi terkait.",
            organiser=rng.choice(ORGANISERS),
            organiser_contact="0812-1111-2222",
            expected_participants=rng.choice([50, 100, 150, 300, 500, 800, 1500, 3000]),
            starts_at=_dt(start),
            ends_at=_dt(end),
            address=f"{rng.choice(PLACES)}, Kel. {kelurahan.name}",
            kecamatan_id=kelurahan.kecamatan_id,
            kelurahan_id=kelurahan.pk,
            latitude=Decimal(f"{-6.18 + rng.uniform(-0.06, 0.06):.6f}") if located else None,
            longitude=Decimal(f"{106.63 + rng.uniform(-0.06, 0.06):.6f}") if located else None,
            source_agency_id=None if on_behalf else submitter.agency_id,
            # As plan_submit: staff name the source; a partner without an agency reports in
            # their own name.
            source_name=rng.choice(SOURCES) if on_behalf else ("" if submitter.agency_id else submitter.full_name),
            submitted_by=submitter,
            submitted_at=_dt(submitted),
            status=status,
            decided_by=kasubbid,
            decided_at=_dt(decided) if kasubbid else None,
            decision_reason=reason,
        )
        self.log(submitted, submitter, AuditAction.PLAN_SUBMITTED, plan, to_state=PlanStatus.RECEIVED)
        links = self.notify(
            submitted,
            self.kasubbids,
            self.t["plan_new"] % {"title": title},
            self.url["plan"],  # the plan's id goes in once it is written (one_chunk)
            body=self.t["plan_new_body"]
            % {"source": plan.source_name or submitter.agency or submitter.full_name, "start": self.when(start)},
        )
        if status == PlanStatus.NOT_CHOSEN:
            self.log(
                decided,
                kasubbid,
                AuditAction.PLAN_NOT_CHOSEN,
                plan,
                from_state=PlanStatus.RECEIVED,
                to_state=status,
                note=reason,
            )
            not_chosen = self.t["not_chosen"] % {"title": title}
            links += self.notify(decided, [submitter], not_chosen, self.url["plan"], body=reason)
        elif status == PlanStatus.CHOSEN:
            links += self.notify(decided, [submitter], self.t["chosen"] % {"title": title}, self.url["plan"])
        return Story(plan, submitted, start, end, status, decided if kasubbid else None, kasubbid, links)

    # Steps 3-5: the lokus and its field work -------------------------------------------------------

    def team(self, sub_division_id: int) -> list[User]:
        rng = self.rng
        pool = self.member_pool.get(sub_division_id) or self.all_members
        size = min(rng.choice([3, 4, 4, 5, 5, 6]), self.member_count)
        team: dict[int, User] = {}
        while len(team) < size:
            source = self.all_members if (team and rng.random() < 0.1) else pool
            member = rng.choice(source)
            team.setdefault(member.pk, member)
        return list(team.values())

    def lokus(self, s: Story) -> dict:
        rng, now = self.rng, self.now
        plan, kasubbid = s.plan, s.kasubbid
        sub_division_id = kasubbid.sub_division_id
        created = s.decided
        updated = created + rng.uniform(3, 20) * MINUTE
        team_set = updated + rng.uniform(2, 15) * MINUTE
        # A few hours to three days before the start, never later than two hours before it.
        dispatch = max(team_set + rng.uniform(5, 30) * MINUTE, s.start - rng.uniform(4, 72) * HOUR)
        dispatch = min(dispatch, s.start - 2 * HOUR)
        stall = None
        for key in ("compose", "dispatch", "running"):
            if self.chance(key):
                stall = key
                break
        if stall == "compose":
            dispatch = NEVER
        team = self.team(sub_division_id)
        korlap = rng.choice(team)
        if dispatch == NEVER:
            confirms = checkins = reported = [NEVER] * len(team)
            risk_at = NEVER
        else:
            window = s.start - 30 * MINUTE - dispatch
            confirms = [dispatch + window * rng.uniform(0.02, 0.6) for _ in team]
            risk_at = max(confirms) + (s.start - max(confirms)) * rng.uniform(0.2, 0.8)
            checkins = [s.start + rng.uniform(0, 30) * MINUTE for _ in team]
            reported = [s.end + rng.uniform(5, 180) * MINUTE for _ in team]
        if stall == "dispatch" and len(team) > 1:
            late = next(i for i, m in enumerate(team) if m is not korlap)
            confirms[late], checkins = NEVER, [NEVER] * len(team)
            risk_at = NEVER
        if stall == "running":
            reported[rng.randrange(len(team))] = NEVER
        started, done = min(checkins), max(reported)
        if dispatch > now:
            state = LokusState.COMPOSING
        elif started > now:
            state = LokusState.DISPATCHED
        elif done > now:
            state = LokusState.RUNNING
        else:
            state = LokusState.FIELD_DONE
        number = next(self.lokus_number)
        location = ", ".join([plan.address, f"Kec. {self.kecamatan_name(plan)}"])[:300]
        classification = rng.choices(
            [Classification.TERBATAS, Classification.RAHASIA, Classification.BIASA], weights=[80, 10, 10]
        )[0]
        lokus = Lokus(
            plan=plan,
            sub_division_id=sub_division_id,
            location=location,
            latitude=plan.latitude,
            longitude=plan.longitude,
            starts_at=plan.starts_at,
            ends_at=plan.ends_at,
            classification=classification,
            created_by=kasubbid,
            created_at=_dt(created),
            state=state,
        )
        if updated <= now:
            lokus.problem = rng.choice(PROBLEMS)
            lokus.assembly_point = "Halaman Kantor Kesbangpol, Jl. Satria Sudirman No. 1"
            lokus.assembly_at = _dt(s.start - HOUR)
            lokus.risk_level = rng.choice(RiskLevel.values)
            year = timezone.localtime(_dt(created)).year
            lokus.surat_tugas_number = f"800.1.11.1/{number:05d}-Kesbangpol/{year}/SKALA"
        if state != LokusState.COMPOSING:
            lokus.dispatched_by, lokus.dispatched_at = kasubbid, _dt(dispatch)
            lokus.verification_code = new_verification_code()
        if state in (LokusState.RUNNING, LokusState.FIELD_DONE):
            lokus.field_started_at = _dt(started)
        if state == LokusState.FIELD_DONE:
            lokus.field_done_at = _dt(done)
        self.log(
            created,
            kasubbid,
            AuditAction.PLAN_CHOSEN,
            plan,
            lokus=lokus,
            from_state=PlanStatus.RECEIVED,
            to_state=PlanStatus.CHOSEN,
        )
        return {
            "story": s,
            "lokus": lokus,
            "kasubbid": kasubbid,
            "team": team if team_set <= now else [],
            "korlap": korlap,
            "times": {
                "updated": updated,
                "team_set": team_set,
                "dispatch": dispatch,
                "confirms": confirms,
                "risk": risk_at,
                "checkins": checkins,
                "reported": reported,
                "started": started,
                "done": done,
            },
        }

    def kecamatan_name(self, plan: ActivityPlan) -> str:
        if not hasattr(self, "_kecamatan_names"):
            self._kecamatan_names = {k.kecamatan_id: k.kecamatan.name for k in self.kelurahan}
        return self._kecamatan_names[plan.kecamatan_id]

    def field_rows(self, lokus_stories: list[dict]) -> None:
        """Steps 3-5 for every lokus of the chunk: team, grants, risk mapping, notes, photos,
        member reports, escalations, with their audit entries, notifications and reads."""
        rng, now, t = self.rng, self.now, self.t
        tick = time.perf_counter()
        assignments = []
        for ls in lokus_stories:
            lokus, times = ls["lokus"], ls["times"]
            dispatched = lokus.state != LokusState.COMPOSING
            rows = []
            for i, member in enumerate(ls["team"]):
                steps = {}
                state = AssignmentState.ASSIGNED
                confirmed, checked_in, reported = times["confirms"][i], times["checkins"][i], times["reported"][i]
                if dispatched and confirmed <= now:
                    state = AssignmentState.CONFIRMED
                    steps["confirmed_at"] = steps["confirmed_received_at"] = _dt(confirmed)
                    steps["equipment"] = (
                        list(Equipment.values)
                        if rng.random() < 0.8
                        else sorted(rng.sample(Equipment.values, rng.randint(4, 6)))
                    )
                    if checked_in <= now:
                        state = AssignmentState.CHECKED_IN
                        steps["checked_in_at"] = steps["checked_in_received_at"] = _dt(checked_in)
                        if reported <= now:
                            state = AssignmentState.REPORTED
                            steps["reported_at"] = _dt(reported)
                rows.append(
                    Assignment(lokus=lokus, member=member, is_coordinator=member is ls["korlap"], state=state, **steps)
                )
            ls["assignments"] = rows
            assignments.extend(rows)
        self.stats.build += time.perf_counter() - tick
        self.write(Assignment, assignments)

        tick = time.perf_counter()
        grants, risks, notes, media, reports, escalations = [], [], [], [], [], []
        for ls in lokus_stories:
            lokus, times, kasubbid, korlap = ls["lokus"], ls["times"], ls["kasubbid"], ls["korlap"]
            plan, title, rows = lokus.plan, lokus.plan.title, ls["assignments"]
            ls["media"], ls["field_notes"] = [], []
            if lokus.problem:
                self.log(times["updated"], kasubbid, AuditAction.LOKUS_UPDATED, plan, lokus=lokus)
                self.viewed(
                    times["updated"] + MINUTE, kasubbid, AccessLog.Kind.LOKUS, lokus, lokus.pk, lokus.classification
                )
            if rows:
                names = ", ".join(
                    f"{a.member.full_name}{' (Korlap)' if a.is_coordinator else ''}"
                    for a in sorted(rows, key=lambda a: a.member.full_name)
                )
                self.log(times["team_set"], kasubbid, AuditAction.TEAM_SET, plan, lokus=lokus, note=names)
            if lokus.state == LokusState.COMPOSING:
                continue
            dispatch = times["dispatch"]
            self.log(
                dispatch,
                kasubbid,
                AuditAction.DISPATCHED,
                plan,
                lokus=lokus,
                from_state=LokusState.COMPOSING,
                to_state=LokusState.DISPATCHED,
                note=lokus.surat_tugas_number,
            )
            self.notify(
                dispatch,
                [a.member for a in rows],
                t["assignment"] % {"title": title},
                self.url["assignment"].format(lokus.pk),
                body=t["assignment_body"] % {"when": self.when(times["dispatch"]), "where": lokus.assembly_point},
            )
            for a in rows:
                grants.append(LokusUserObjectPermission(permission=self.view_perm, user=a.member, content_object=lokus))
                if a.is_coordinator:
                    grants.append(
                        LokusUserObjectPermission(permission=self.coordinate_perm, user=a.member, content_object=lokus)
                    )
                self.viewed(
                    dispatch + rng.uniform(2, 60) * MINUTE,
                    a.member,
                    AccessLog.Kind.ASSIGNMENT,
                    lokus,
                    a.pk,
                    lokus.classification,
                )
                if a.confirmed_at:
                    confirmed = a.confirmed_at.timestamp()
                    note = t["ready"] % {"n": len(a.equipment)}
                    self.log(
                        confirmed,
                        a.member,
                        AuditAction.CONFIRMED,
                        plan,
                        lokus=lokus,
                        from_state=AssignmentState.ASSIGNED,
                        to_state=AssignmentState.CONFIRMED,
                        note=note,
                    )
            if a_korlap := next((a for a in rows if a.is_coordinator), None):
                at = dispatch + rng.uniform(5, 120) * MINUTE
                if at <= now:
                    self.downloads.append(
                        DocumentDownload(
                            user=a_korlap.member,
                            kind=DocumentKind.SURAT_TUGAS,
                            lokus=lokus,
                            object_id=lokus.pk,
                            number=lokus.surat_tugas_number,
                            classification=lokus.classification,
                            watermarked=lokus.classification in LOGGED_CLASSIFICATIONS,
                            downloaded_at=_dt(at),
                        )
                    )
                    self.viewed(at, a_korlap.member, AccessLog.Kind.DOCUMENT, lokus, lokus.pk, lokus.classification)
            if times["risk"] <= now:
                risks.append(
                    RiskAssessment(
                        lokus=lokus,
                        threats="Massa terkonsentrasi di satu titik.",
                        access_routes="Jalan utama",
                        exit_routes="Jalan samping kantor",
                        security_contact="Polsek setempat",
                        go=True,
                        recorded_by=korlap,
                        recorded_at=_dt(times["risk"]),
                        received_at=_dt(times["risk"]),
                    )
                )
                self.log(times["risk"], korlap, AuditAction.RISK_RECORDED, plan, lokus=lokus, note=t["go"])
            if lokus.field_started_at is None:
                continue
            started, end = times["started"], ls["story"].end
            first = min((a for a in rows if a.checked_in_at), key=lambda a: a.checked_in_at)
            in_field = [a for a in rows if a.checked_in_at]
            for a in in_field:
                at = a.checked_in_at.timestamp()
                self.log(
                    at,
                    a.member,
                    AuditAction.CHECKED_IN,
                    plan,
                    lokus=lokus,
                    from_state=AssignmentState.CONFIRMED,
                    to_state=AssignmentState.CHECKED_IN,
                )
                if a is first:
                    self.log(
                        at,
                        a.member,
                        AuditAction.FIELD_STARTED,
                        plan,
                        lokus=lokus,
                        from_state=LokusState.DISPATCHED,
                        to_state=LokusState.RUNNING,
                    )
                for _note in range(rng.choice([0, 1, 1, 2, 2, 3])):
                    written = rng.uniform(at, end)
                    if written > now:
                        continue
                    situation = rng.choices(Situation.values, weights=[80, 15, 5])[0]
                    notes.append(
                        FieldNote(
                            assignment=a,
                            body=rng.choice(NOTES),
                            crowd_estimate=rng.choice([None, 50, 120, 250, 400]),
                            situation=situation,
                            created_at=_dt(written),
                            received_at=_dt(written),
                        )
                    )
                    ls["field_notes"].append(notes[-1])
                    self.log(
                        written, a.member, AuditAction.NOTE_ADDED, plan, lokus=lokus, note=t["situation"][situation]
                    )
            for _photo in range(1 + (rng.random() < 0.15) * rng.randint(1, 2)):
                taken = rng.uniform(started, end)
                if taken > now:
                    continue
                by = rng.choice(in_field)
                photo = rng.choice(self.photo_files)
                media.append(
                    FieldMedia(
                        assignment=by,
                        kind=MediaKind.PHOTO,
                        original_name=f"foto-{lokus.pk}-{len(media)}.jpg",
                        caption="Situasi di lokasi",
                        created_at=_dt(taken),
                        received_at=_dt(taken),
                        **photo,
                    )
                )
                ls["media"].append(media[-1])
                self.log(taken, by.member, AuditAction.MEDIA_UPLOADED, plan, lokus=lokus, note=t["photo"])
            if rng.random() < 0.02:
                raised = rng.uniform(started, end)
                by = rng.choice(in_field)
                if raised <= now:
                    message = "Massa bertambah dan mulai memanas."
                    escalations.append(
                        Escalation(
                            lokus=lokus,
                            raised_by=by.member,
                            kind=EscalationKind.ESCALATION,
                            message=message,
                            raised_at=_dt(raised),
                            received_at=_dt(raised),
                        )
                    )
                    note = f"{t['escalation_kind']}: {message}"
                    self.log(raised, by.member, AuditAction.ESCALATED, plan, lokus=lokus, note=note)
                    self.notify(
                        raised,
                        [u for u in [korlap, kasubbid, *self.kabids] if u.pk != by.member.pk],
                        t["escalation"] % {"kind": t["escalation_kind"], "title": title, "name": by.member.full_name},
                        self.url["lokus"].format(lokus.pk),
                        body=message,
                        urgent=True,
                    )
            done = [a for a in rows if a.reported_at]
            done.sort(key=lambda a: a.reported_at)
            for a in done:
                at = a.reported_at.timestamp()
                reports.append(
                    MemberReport(
                        assignment=a,
                        summary=rng.choice(SUMMARIES),
                        situation=rng.choices(Situation.values, weights=[85, 12, 3])[0],
                        crowd_estimate=rng.choice([None, 100, 250, 500]),
                        submitted_at=a.reported_at,
                        received_at=a.reported_at,
                    )
                )
                self.log(
                    at,
                    a.member,
                    AuditAction.MEMBER_REPORTED,
                    plan,
                    lokus=lokus,
                    from_state=AssignmentState.CHECKED_IN,
                    to_state=AssignmentState.REPORTED,
                )
                last = lokus.state == LokusState.FIELD_DONE and a is done[-1]
                if last:
                    self.log(
                        at,
                        a.member,
                        AuditAction.FIELD_DONE,
                        plan,
                        lokus=lokus,
                        from_state=LokusState.RUNNING,
                        to_state=LokusState.FIELD_DONE,
                    )
                    self.notify(at, [kasubbid], t["field_done"] % {"title": title}, self.url["lokus"].format(lokus.pk))
                    self.notify(at, [korlap], t["compile"] % {"title": title}, self.url["assignment"].format(lokus.pk))
                elif a.member.pk != korlap.pk:
                    self.notify(
                        at,
                        [korlap],
                        t["member_report"] % {"name": a.member.full_name, "title": title},
                        self.url["lokus"].format(lokus.pk),
                    )
        self.stats.build += time.perf_counter() - tick
        self.write(LokusUserObjectPermission, grants)
        self.write(RiskAssessment, risks)
        self.write(FieldNote, notes)
        self.write(FieldMedia, media)
        self.write(MemberReport, reports)
        self.write(Escalation, escalations)
        for m in media:
            self.viewed(
                m.created_at.timestamp() + HOUR,
                self.kabid,
                AccessLog.Kind.FILE,
                m.assignment.lokus,
                m.pk,
                m.assignment.lokus.classification,
            )
        for ls in lokus_stories:
            ls["field_notes"] = sorted(ls.get("field_notes", []), key=lambda n: n.created_at)[:8]

    # Steps 6-15: the team report -------------------------------------------------------------------

    def chain(self, target: str | None) -> list[tuple[str, str, str]]:
        """The steps of one report up to approval: (action, state after or "" for a save,
        the level that takes it). ``target``: a state the report must pass (to stop there)."""
        rng = self.rng
        back_korlap = target == S.RETURNED_TO_KORLAP or rng.random() < 0.12
        back_kasubbid = target == S.RETURNED_TO_KASUBBID or rng.random() < 0.06
        pass_down = back_kasubbid and target != S.RETURNED_TO_KASUBBID and rng.random() < 0.3
        back_kabid = target == S.RETURNED_TO_KABID or rng.random() < 0.04
        a, k, sb, kb, kn = ReportAction, Level.KORLAP, Level.KASUBBID, Level.KABID, Level.KABAN
        kasubbid_round = [(a.SUBMITTED, S.AT_KASUBBID, k), (a.RECEIVED, S.KASUBBID_RECEIVED, sb)]
        kasubbid_round.append((a.VERIFIED, S.KASUBBID_VERIFIED, sb))
        kabid_round = [(a.FORWARDED, S.AT_KABID, sb), (a.RECEIVED, S.KABID_RECEIVED, kb)]
        kabid_round.append((a.VERIFIED, S.KABID_VERIFIED, kb))
        kaban_round = [(a.FORWARDED, S.AT_KABAN, kb), (a.RECEIVED, S.KABAN_RECEIVED, kn)]
        kaban_round.append((a.VERIFIED, S.KABAN_VERIFIED, kn))
        steps = [(a.CREATED, S.DRAFT, k), (a.SAVED, "", k), *kasubbid_round]
        if back_korlap:
            steps += [(a.RETURNED, S.RETURNED_TO_KORLAP, sb), (a.SAVED, "", k), *kasubbid_round]
        steps += kabid_round
        if back_kasubbid:
            steps.append((a.RETURNED, S.RETURNED_TO_KASUBBID, kb))
            if pass_down:
                steps += [(a.PASSED_DOWN, S.RETURNED_TO_KORLAP, sb), (a.SAVED, "", k), *kasubbid_round]
            else:
                steps.append((a.SAVED, "", sb))
            steps += kabid_round
        steps += kaban_round
        if back_kabid:
            steps += [(a.RETURNED, S.RETURNED_TO_KABID, kn), (a.SAVED, "", kb), *kaban_round]
        steps.append((a.APPROVED, S.APPROVED, kn))
        if target is not None:
            stop = next(i for i, step in enumerate(steps) if step[1] == target)
            steps = steps[: stop + (2 if target == S.DRAFT else 1)]
        return steps

    def report(self, ls: dict) -> dict | None:
        rng, now = self.rng, self.now
        lokus = ls["lokus"]
        if lokus.state != LokusState.FIELD_DONE or self.chance("no_report"):
            return None
        at = lokus.field_done_at.timestamp() + rng.uniform(10, 240) * MINUTE
        if at > now:
            return None
        target = next(self.stall_target) if self.chance("report") else None
        steps = []
        for step in self.chain(target):
            if at > now:
                break
            steps.append((at, *step))
            slow = rng.random() < 0.15
            at += rng.uniform(5, 36) * HOUR if slow else rng.uniform(10, 300) * MINUTE
        actor = {
            Level.KORLAP: ls["korlap"],
            Level.KASUBBID: ls["kasubbid"],
            Level.KABID: self.kabid,
            Level.KABAN: self.kaban,
        }
        facts = "\n".join(
            f"{timezone.localtime(n.created_at):%H:%M} WIB: {n.body} ({n.assignment.member.full_name})"
            for n in ls["field_notes"]
        )
        local = timezone.localtime
        content = {
            "basis": f"Surat Tugas nomor {lokus.surat_tugas_number}",
            "time_place": f"{local(lokus.starts_at):%d-%m-%Y %H:%M}-{local(lokus.ends_at):%H:%M} WIB, {lokus.location}",
            "main_problem": lokus.problem,
            "facts": facts or "Kegiatan berlangsung sesuai jadwal.",
            "dialogue": "Mediasi antara koordinator kegiatan dan aparat; disepakati jalur dan batas waktu.",
            "analysis": "Potensi konflik rendah selama kesepakatan dipatuhi.",
            "outlook": "Kemungkinan kegiatan lanjutan bila tuntutan tidak direspons.",
            "recommendations": "Koordinasi lanjutan dengan Polres dan dinas terkait.",
            "situation": rng.choices(Situation.values, weights=[85, 12, 3])[0],
            "crowd_estimate": rng.choice([100, 250, 500, 1000]),
            "classification": lokus.classification,
        }
        state, changed, version, rounds = S.DRAFT, steps[0][0], 0, 1
        for when, action, to_state, _level in steps:
            if action in (ReportAction.CREATED, ReportAction.SAVED):
                version += 1
            if action == ReportAction.RETURNED:
                rounds += 1
            if to_state:
                state, changed = to_state, when
        report = ActivityReport(
            lokus=lokus,
            created_by=ls["korlap"],
            created_at=_dt(steps[0][0]),
            state=state,
            state_changed_at=_dt(changed),
            version=version,
            revision_round=rounds,
            approved_at=_dt(changed) if state == S.APPROVED else None,
            verification_code=new_verification_code() if state == S.APPROVED else "",
            **content,
        )
        return {"report": report, "steps": steps, "actor": actor, "content": content, "ls": ls}

    def report_rows(self, report_stories: list[dict]) -> None:
        rng, now, t = self.rng, self.now, self.t
        tick = time.perf_counter()
        versions, verifications, logs, included = [], [], [], []
        for rs in report_stories:
            report, ls, actor = rs["report"], rs["ls"], rs["actor"]
            lokus, title = ls["lokus"], ls["lokus"].plan.title
            media_ids = sorted(m.pk for m in ls["media"])
            through = ActivityReport.included_media.through
            included += [through(activityreport=report, fieldmedia_id=i) for i in media_ids]
            url = self.url["report"].format(report.pk)
            state, version, rounds = "", 0, 1
            steps = rs["steps"]
            for i, (when, action, to_state, level) in enumerate(steps):
                who = actor[level]
                note = ""
                if action in (ReportAction.CREATED, ReportAction.SAVED):
                    version += 1
                    versions.append(
                        ReportVersion(
                            report=report,
                            number=version,
                            revision_round=rounds,
                            content=rs["content"],
                            media_ids=media_ids,
                            created_by=who,
                            created_at=_dt(when),
                        )
                    )
                    if action == ReportAction.SAVED:
                        note = t["version"] % {"n": version}
                elif action == ReportAction.VERIFIED:
                    # A verification the level then returns has found something to revise.
                    passed = not (i + 1 < len(steps) and steps[i + 1][1] == ReportAction.RETURNED)
                    verifications.append(
                        ReportVerification(
                            report=report,
                            level=HOLDER[state],
                            verified_by=who,
                            verified_at=_dt(when),
                            version_number=version,
                            complete=True,
                            facts_separate=passed,
                            attachments_present=True,
                            classification_right=True,
                            notes="" if passed else "Fakta dan analisis belum terpisah.",
                        )
                    )
                    note = t["checks_ok"] if passed else f"{t['checks_failed']}; Fakta dan analisis belum terpisah."
                elif action in (ReportAction.RETURNED, ReportAction.PASSED_DOWN):
                    note = rng.choice(RETURN_NOTES)
                if action == ReportAction.RETURNED:
                    rounds += 1
                logs.append(
                    ReportLog(
                        report=report,
                        actor=who,
                        action=action,
                        from_state=state if to_state else "",
                        to_state=to_state,
                        note=note,
                        version_number=version,
                        created_at=_dt(when),
                    )
                )
                if action == ReportAction.SUBMITTED:
                    self.notify(when, [ls["kasubbid"]], t["to_receive"] % {"title": title}, url)
                elif action == ReportAction.FORWARDED:
                    holders = self.kabids if to_state == S.AT_KABID else self.kabans
                    self.notify(when, holders, t["to_receive"] % {"title": title}, url)
                elif action in (ReportAction.RETURNED, ReportAction.PASSED_DOWN):
                    holder = HOLDER[to_state]
                    people = {Level.KORLAP: [ls["korlap"]], Level.KASUBBID: [ls["kasubbid"]], Level.KABID: self.kabids}
                    self.notify(when, people[holder], t["returned"] % {"title": title}, url, body=note)
                elif action == ReportAction.APPROVED:
                    readers = [ls["korlap"], ls["kasubbid"], *self.kabids]
                    self.notify(when, readers, t["approved"] % {"title": title}, url)
                    at = when + rng.uniform(10, 600) * MINUTE
                    if at <= now:
                        self.downloads.append(
                            DocumentDownload(
                                user=self.kaban,
                                kind=DocumentKind.LAPORAN,
                                lokus=lokus,
                                object_id=report.pk,
                                number=report.verification_code,
                                version=report.version,
                                classification=report.classification,
                                watermarked=report.classification in LOGGED_CLASSIFICATIONS,
                                downloaded_at=_dt(at),
                            )
                        )
                        self.viewed(at, self.kaban, AccessLog.Kind.DOCUMENT, lokus, report.pk, report.classification)
                if action == ReportAction.RECEIVED:
                    self.viewed(when + MINUTE, who, AccessLog.Kind.REPORT, lokus, report.pk, report.classification)
                if to_state:
                    state = to_state
        self.stats.build += time.perf_counter() - tick
        self.write(ReportVersion, versions)
        self.write(ReportVerification, verifications)
        self.write(ReportLog, logs, sort_key=lambda row: row.created_at)
        self.write(ActivityReport.included_media.through, included)


def seed(size: Size, *, seed: int = 12, chunk: int = 5000, out: Callable[[str], None] = print) -> Stats:
    """Write the history of ``size``; call after ``seed_demo`` (its users carry it)."""
    notification_time = Notification._meta.get_field("created_at")
    # The notifications keep the time of the step that sent them, not the time of seeding.
    notification_time.auto_now_add = False
    try:
        return Seeder(size, seed=seed, chunk=chunk, out=out).run()
    finally:
        notification_time.auto_now_add = True


def already_seeded() -> bool:
    return User.objects.filter(username__startswith=PREFIX).exists()


def demo_summary() -> list[str]:
    """What the demo users now carry, for the command's output."""
    lines = []
    for username in ("anggota1", "anggota4"):
        rows = Assignment.objects.filter(member__username=username)
        done = rows.filter(lokus__state=LokusState.FIELD_DONE).count()
        open_ = rows.exclude(state=AssignmentState.REPORTED).count()
        korlap = rows.filter(is_coordinator=True).count()
        lines.append(f"{username}: on {done} past lokus (Korlap of {korlap}), {open_} assignments open")
    undecided = ActivityPlan.objects.filter(status=PlanStatus.RECEIVED).count()
    for username in ("kasubbid.wasdin", "kasubbid.wasbang"):
        head = User.objects.filter(username=username).first()
        if head is None:
            continue
        reports = ActivityReport.objects.filter(lokus__sub_division_id=head.sub_division_id)
        held = reports.filter(state__in=HELD_AT[Level.KASUBBID]).count()
        composing = Lokus.objects.filter(sub_division_id=head.sub_division_id, state=LokusState.COMPOSING).count()
        lines.append(
            f"{username}: {undecided} undecided plans (of both sub-divisions), {composing} lokus to compose, "
            f"{held} reports held"
        )
    for level, username in ((Level.KABID, "kabid"), (Level.KABAN, "kaban")):
        held = ActivityReport.objects.filter(state__in=HELD_AT[level]).count()
        lines.append(f"{username}: {held} reports held")
    return lines
