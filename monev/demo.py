"""Demo history for monitoring and evaluation: four months of plans, lokus and team reports
that went through the whole SOP, so that the dashboard and the map show something on first
start (``manage.py seed_demo``; development mode only).

The other demo seeders make today's work through the real services. History cannot go
through them (they stamp every step with the current time), so it is written here straight
into the models with ``bulk_create``, with the timestamps, states and trails the services
would have left: the plan's and lokus's audit entries, the team's object permissions, the
members' own reports, the report's versions, verifications and log (returns included). The
draw is seeded, so every run of the demo tells the same story; steps run mostly within
their Mutu Baku, some late. Run twice, it adds nothing (the history's titles are looked up
first).

Positions: each kecamatan's approximate centre (below), a few hundred metres around it."""

import datetime
import random
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Permission
from django.utils import timezone
from django.utils.translation import gettext as _

from core.enums import Classification
from lokus.codes import new_verification_code
from lokus.enums import (
    AssignmentState,
    AuditAction,
    Equipment,
    EscalationKind,
    LokusState,
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
    FieldNote,
    Kelurahan,
    Lokus,
    LokusUserObjectPermission,
    MemberReport,
    RiskAssessment,
    StepStandard,
)
from reports.enums import (
    APPROVE_STATE,
    FORWARD_STATE,
    HOLDER,
    PASS_DOWN_STATE,
    RECEIVED_STATE,
    RETURN_STATE,
    STEP_OF_STATE,
    SUBMIT_STATE,
    VERIFIED_STATE,
    Level,
    ReportAction,
    ReportState,
)
from reports.models import ActivityReport, ReportLog, ReportVerification, ReportVersion

# Approximate centre (latitude, longitude) of each kecamatan of Kota Tangerang, for demo
# positions only (the reference data in lokus/data holds no coordinates).
KECAMATAN_CENTRES = {
    "36.71.01": ("Tangerang", -6.1780, 106.6310),
    "36.71.02": ("Jatiuwung", -6.1990, 106.5830),
    "36.71.03": ("Batuceper", -6.1580, 106.6560),
    "36.71.04": ("Benda", -6.1290, 106.6760),
    "36.71.05": ("Cipondoh", -6.1890, 106.6780),
    "36.71.06": ("Ciledug", -6.2300, 106.7080),
    "36.71.07": ("Karawaci", -6.1850, 106.6060),
    "36.71.08": ("Periuk", -6.1700, 106.5780),
    "36.71.09": ("Cibodas", -6.2060, 106.6070),
    "36.71.10": ("Neglasari", -6.1430, 106.6370),
    "36.71.11": ("Pinang", -6.2240, 106.6700),
    "36.71.12": ("Karang Tengah", -6.2150, 106.7150),
    "36.71.13": ("Larangan", -6.2360, 106.7320),
}

DAYS = 120  # how far back the history reaches
COUNT = 56  # plans in the history
SEED = 1243  # the SOP's number: the same history every time

ACTIVITIES = {
    PlanCategory.DEMONSTRATION: [
        ("Aksi buruh menuntut upah layak", "Serikat Pekerja Kawasan"),
        ("Unjuk rasa penolakan relokasi pedagang", "Paguyuban Pedagang"),
        ("Aksi mahasiswa soal tarif angkutan", "BEM se-Tangerang"),
        ("Aksi warga menolak penutupan jalan", "Forum Warga"),
    ],
    PlanCategory.RELIGIOUS: [
        ("Tablig akbar dan doa bersama", "DKM Masjid Raya"),
        ("Perayaan hari raya lintas jemaat", "Persekutuan Gereja Setempat"),
        ("Pawai obor menyambut tahun baru Islam", "Remaja Masjid"),
    ],
    PlanCategory.POLITICAL: [
        ("Kampanye terbuka partai politik", "Tim Pemenangan"),
        ("Deklarasi relawan calon kepala daerah", "Relawan Bersatu"),
        ("Debat publik calon anggota dewan", "Forum Demokrasi Warga"),
    ],
    PlanCategory.ORMAS: [
        ("Musyawarah daerah ormas kepemudaan", "Ormas Pemuda Bersatu"),
        ("Konvoi ulang tahun ormas", "Ormas Laskar Kota"),
        ("Apel siaga ormas kemasyarakatan", "Ormas Pembela Warga"),
    ],
    PlanCategory.COMMUNITY: [
        ("Festival budaya warga", "Karang Taruna"),
        ("Konser musik di lapangan", "Komunitas Musik Tangerang"),
        ("Lomba perahu hias Cisadane", "Panitia Festival Cisadane"),
    ],
    PlanCategory.OTHER: [
        ("Mediasi sengketa lahan warga", "Forum Warga"),
        ("Pertemuan warga soal banjir", "Pengurus RW"),
    ],
}
# Who looks after which kind of activity (the two sub-divisions), mostly.
SUB_DIVISION_OF = {
    PlanCategory.DEMONSTRATION: "wasdin",
    PlanCategory.ORMAS: "wasdin",
    PlanCategory.OTHER: "wasdin",
    PlanCategory.RELIGIOUS: "wasbang",
    PlanCategory.POLITICAL: "wasbang",
    PlanCategory.COMMUNITY: "wasbang",
}
NOT_CHOSEN_REASONS = [
    "Kegiatan rutin, cukup dipantau Polsek.",
    "Skala kecil dan penyelenggara sudah berkoordinasi.",
    "Sudah ditangani instansi lain (Satpol PP).",
]
PROBLEMS = [
    "Potensi gesekan antara massa dan warga sekitar; perlu pemantauan dan mediasi.",
    "Kemungkinan massa tandingan dan kemacetan di jalan utama.",
    "Isu sensitif di media sosial menjelang kegiatan; potensi provokasi.",
    "Jumlah peserta melebihi kapasitas lokasi; risiko ricuh saat bubar.",
]
MEMBERS = {"wasdin": ["anggota1", "anggota2", "anggota3"], "wasbang": ["anggota4", "anggota5"]}
KASUBBID = {"wasdin": "kasubbid.wasdin", "wasbang": "kasubbid.wasbang"}
CONTENT = {
    "basis": "Surat Tugas Kepala Badan Kesbangpol Kota Tangerang",
    "dialogue": "Koordinator kegiatan menerima imbauan menjaga ketertiban; disepakati batas waktu dan rute.",
    "analysis": "Situasi terkendali; potensi gangguan rendah selama kesepakatan dipatuhi.",
    "outlook": "Tidak ada indikasi kegiatan lanjutan dalam waktu dekat.",
    "recommendations": "Koordinasi lanjutan dengan Polsek dan kelurahan; pantau media sosial penyelenggara.",
}
RETURN_NOTES = {
    Level.KASUBBID: "Pisahkan fakta dan analisis; lengkapi kronologi setelah pukul 10.00.",
    Level.KABID: "Rekomendasi terlalu umum: sebutkan instansi dan tenggat tindak lanjut.",
    Level.KABAN: "Lampirkan hasil dialog dengan penyelenggara secara lebih rinci.",
}


@dataclass(frozen=True)
class _Draw:
    """What a plan of the history is: drawn apart from its times, so that the titles (by
    which the history is found again) never depend on the day the demo is seeded."""

    n: int
    category: str
    kecamatan_code: str
    title: str
    organiser: str


def _draws() -> list[_Draw]:
    rng = random.Random(SEED)
    categories = list(ACTIVITIES)
    codes = sorted(KECAMATAN_CENTRES)
    draws = []
    for n in range(1, COUNT + 1):
        category, code = categories[n % len(categories)], codes[(n * 5) % len(codes)]
        activity, organiser = rng.choice(ACTIVITIES[category])
        name = KECAMATAN_CENTRES[code][0]
        draws.append(_Draw(n, category, code, f"{activity} di {name} (#{n:02d})", organiser))
    return draws


def history_titles() -> list[str]:
    """The titles of the history's plans: how the history is found again."""
    return [draw.title for draw in _draws()]


class _Clock:
    """The seeded draw of how long each step took: mostly within the standard, sometimes
    late (``late_share``), never negative."""

    def __init__(self, rng: random.Random, standards: dict[int, StepStandard], late_share: float = 0.15):
        self.rng, self.standards, self.late_share = rng, standards, late_share

    def minutes(self, step: int) -> datetime.timedelta:
        standard = self.standards[step].minutes
        share = self.rng.uniform(1.15, 2.6) if self.rng.random() < self.late_share else self.rng.uniform(0.2, 0.9)
        return datetime.timedelta(minutes=max(1, round(standard * share)))


def _position(kecamatan_code: str, rng: random.Random) -> tuple[Decimal, Decimal]:
    _name, latitude, longitude = KECAMATAN_CENTRES[kecamatan_code]
    return (
        Decimal(f"{latitude + rng.uniform(-0.006, 0.006):.6f}"),
        Decimal(f"{longitude + rng.uniform(-0.006, 0.006):.6f}"),
    )


def seed(users: dict) -> None:
    """Write the history once (nothing when its first plan exists already)."""
    titles = history_titles()
    if ActivityPlan.objects.filter(title__in=titles).exists():
        return
    standards = {s.number: s for s in StepStandard.objects.all()}
    if len(standards) < 15:
        return  # the Mutu Baku rows come from a migration; without them there is no clock
    History(users, standards).write()


class History:
    def __init__(self, users: dict, standards: dict[int, StepStandard]):
        self.users = users
        self.rng = random.Random(SEED)
        self.clock = _Clock(self.rng, standards)
        self.kelurahan = defaultdict(list)
        for kelurahan in Kelurahan.objects.select_related("kecamatan").order_by("code"):
            self.kelurahan[kelurahan.kecamatan.code].append(kelurahan)
        self.today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        self.audit: list[AuditEntry] = []
        self.permissions = {
            codename: Permission.objects.get(content_type__app_label="lokus", codename=codename)
            for codename in ("view_lokus", "coordinate_lokus")
        }

    # Plans ---------------------------------------------------------------------------------

    def write(self) -> None:
        draws = [draw for draw in _draws() if self.kelurahan[draw.kecamatan_code]]
        plans = [self._plan(draw, len(draws)) for draw in draws]
        ActivityPlan.objects.bulk_create(plans)
        lokus_rows = []
        for plan in plans:
            self._audit(
                plan.submitted_by, AuditAction.PLAN_SUBMITTED, plan, at=plan.submitted_at, to=PlanStatus.RECEIVED
            )
            if plan.status == PlanStatus.NOT_CHOSEN:
                self._audit(
                    plan.decided_by,
                    AuditAction.PLAN_NOT_CHOSEN,
                    plan,
                    at=plan.decided_at,
                    source=PlanStatus.RECEIVED,
                    to=PlanStatus.NOT_CHOSEN,
                    note=plan.decision_reason,
                )
            else:
                lokus_rows.append(self._lokus(plan, len(lokus_rows) + 1))
        Lokus.objects.bulk_create(lokus_rows)
        teams = self._field_work(lokus_rows)
        self._reports(lokus_rows, teams)
        AuditEntry.objects.bulk_create(self.audit)

    def _plan(self, draw: _Draw, count: int) -> ActivityPlan:
        rng = self.rng
        kelurahan = rng.choice(self.kelurahan[draw.kecamatan_code])
        # Spread over the period, oldest first; the last few days are left to today's demo.
        day = DAYS - round((draw.n - 1) * (DAYS - 4) / max(1, count - 1))
        submitted = (
            self.today
            - datetime.timedelta(days=day)
            + datetime.timedelta(hours=rng.randint(7, 14), minutes=rng.randint(0, 59))
        )
        if rng.random() < 0.4:  # short notice: the same day
            starts = (submitted + datetime.timedelta(hours=rng.randint(5, 8))).replace(minute=0, second=0)
        else:
            starts = (submitted + datetime.timedelta(days=rng.randint(1, 5))).replace(
                hour=rng.choice([8, 9, 10, 13, 15, 19]), minute=0, second=0, microsecond=0
            )
        ends = starts + datetime.timedelta(hours=rng.choice([3, 4, 4, 5, 6, 8]))
        partner = self.users["mitra.polres"] if draw.n % 3 else self.users["mitra.kelurahan"]
        latitude, longitude = _position(draw.kecamatan_code, rng)
        sub_division = SUB_DIVISION_OF[draw.category] if rng.random() < 0.8 else rng.choice(["wasdin", "wasbang"])
        chosen = rng.random() < 0.78
        plan = ActivityPlan(
            title=draw.title,
            category=draw.category,
            description=f"{draw.title}. Informasi dari {partner.agency or partner.full_name}.",
            organiser=draw.organiser,
            organiser_contact="0812-3456-7890",
            expected_participants=rng.choice([80, 150, 300, 500, 1200, 3000]),
            starts_at=starts,
            ends_at=ends,
            address=f"Lapangan dan jalan sekitar Kel. {kelurahan.name}",
            kecamatan=kelurahan.kecamatan,
            kelurahan=kelurahan,
            latitude=latitude,
            longitude=longitude,
            source_agency=partner.agency,
            submitted_by=partner,
            submitted_at=submitted,
            status=PlanStatus.CHOSEN if chosen else PlanStatus.NOT_CHOSEN,
            decided_by=self.users[KASUBBID[sub_division]],
            decided_at=submitted + self.clock.minutes(2),
            decision_reason="" if chosen else rng.choice(NOT_CHOSEN_REASONS),
        )
        plan.sub_division_code = sub_division  # read by _lokus: who chose it
        return plan

    def _audit(self, actor, action, plan, *, at, lokus=None, source="", to="", note="") -> None:
        self.audit.append(
            AuditEntry(
                plan=plan,
                lokus=lokus,
                actor=actor,
                action=action,
                from_state=source,
                to_state=to,
                note=note,
                created_at=at,
            )
        )

    # Lokus and field work (steps 2-5) ----------------------------------------------------------

    def _lokus(self, plan: ActivityPlan, number: int) -> Lokus:
        rng = self.rng
        sub_division = plan.sub_division_code
        kasubbid = self.users[KASUBBID[sub_division]]
        created = plan.decided_at
        dispatched = created + self.clock.minutes(3)
        if dispatched >= plan.starts_at - datetime.timedelta(minutes=30):
            dispatched = max(created + datetime.timedelta(minutes=20), plan.starts_at - datetime.timedelta(hours=1))
        lokus = Lokus(
            plan=plan,
            sub_division=kasubbid.sub_division,
            problem=rng.choice(PROBLEMS),
            location=f"{plan.address}, Kec. {plan.kecamatan.name}",
            latitude=plan.latitude,
            longitude=plan.longitude,
            assembly_point="Halaman Kantor Kesbangpol, Jl. Satria Sudirman No. 1",
            assembly_at=plan.starts_at - datetime.timedelta(hours=1),
            starts_at=plan.starts_at,
            ends_at=plan.ends_at,
            risk_level=rng.choices(list(RiskLevel), weights=[4, 4, 2])[0],
            classification=rng.choices(list(Classification), weights=[3, 5, 2])[0],
            surat_tugas_number=f"800.1.11.1/R{number:03d}-Kesbangpol/DEMO",
            verification_code=new_verification_code(),
            state=LokusState.FIELD_DONE,
            created_by=kasubbid,
            created_at=created,
            dispatched_by=kasubbid,
            dispatched_at=dispatched,
        )
        return lokus

    def _field_work(self, lokus_rows: list[Lokus]) -> dict[int, list[Assignment]]:
        """Steps 3-5 of every lokus: the team, "Siap", the risk mapping, "Mulai", notes, each
        member's own report, field work done; with the team's object permissions and the
        lokus's trail."""
        rng = self.rng
        assignments, grants, risks, notes, reports, escalations = [], [], [], [], [], []
        teams: dict[int, list[Assignment]] = {}
        for lokus in lokus_rows:
            plan = lokus.plan
            kasubbid = lokus.created_by
            code = lokus.sub_division.code
            people = [self.users[u] for u in rng.sample(MEMBERS[code], 2)]
            korlap = people[0]
            self._audit(
                kasubbid,
                AuditAction.PLAN_CHOSEN,
                plan,
                at=lokus.created_at,
                lokus=lokus,
                source=PlanStatus.RECEIVED,
                to=PlanStatus.CHOSEN,
            )
            self._audit(kasubbid, AuditAction.LOKUS_UPDATED, plan, at=lokus.dispatched_at - _m(10), lokus=lokus)
            names = ", ".join(f"{p.full_name}{' (Korlap)' if p == korlap else ''}" for p in sorted(people, key=str))
            self._audit(kasubbid, AuditAction.TEAM_SET, plan, at=lokus.dispatched_at - _m(5), lokus=lokus, note=names)
            self._audit(
                kasubbid,
                AuditAction.DISPATCHED,
                plan,
                at=lokus.dispatched_at,
                lokus=lokus,
                source=LokusState.COMPOSING,
                to=LokusState.DISPATCHED,
                note=lokus.surat_tugas_number,
            )
            team = []
            started = lokus.starts_at + _m(rng.randint(0, 10))
            reported_times = []
            for person in people:
                confirmed = lokus.dispatched_at + self.clock.minutes(4)
                checked_in = started + _m(rng.randint(0, 8))
                late = rng.random() < 0.12
                reported = lokus.ends_at + (_m(rng.randint(30, 180)) if late else -_m(rng.randint(0, 40)))
                reported = max(reported, checked_in + _m(30))
                reported_times.append(reported)
                team.append(
                    Assignment(
                        lokus=lokus,
                        member=person,
                        is_coordinator=person == korlap,
                        state=AssignmentState.REPORTED,
                        confirmed_at=confirmed,
                        confirmed_received_at=confirmed,
                        equipment=sorted(Equipment.values),
                        checked_in_at=checked_in,
                        checked_in_received_at=checked_in,
                        checkin_latitude=lokus.latitude,
                        checkin_longitude=lokus.longitude,
                        reported_at=reported,
                    )
                )
                grants.append(
                    LokusUserObjectPermission(
                        user=person, permission=self.permissions["view_lokus"], content_object=lokus
                    )
                )
                if person == korlap:
                    grants.append(
                        LokusUserObjectPermission(
                            user=person, permission=self.permissions["coordinate_lokus"], content_object=lokus
                        )
                    )
            lokus.field_started_at = min(a.checked_in_at for a in team)
            lokus.field_done_at = max(reported_times)
            teams[lokus.pk] = team
            assignments.extend(team)
            risks.append(
                RiskAssessment(
                    lokus=lokus,
                    threats="Massa terkonsentrasi di satu titik; arus lalu lintas padat.",
                    access_routes="Jalan utama dari arah Pusat Pemerintahan",
                    exit_routes="Jalan samping menuju jalan kecamatan",
                    security_contact="Polsek setempat",
                    go=True,
                    recorded_by=korlap,
                    recorded_at=lokus.starts_at - _m(40),
                    received_at=lokus.starts_at - _m(40),
                )
            )
            situation = rng.choices(list(Situation), weights=[7, 2, 1])[0]
            crowd = max(20, round(plan.expected_participants * rng.uniform(0.5, 1.1)))
            notes.append((korlap, lokus, started + _m(45), situation, crowd))
            if situation != Situation.KONDUSIF and rng.random() < 0.6:
                kind = EscalationKind.WITHDRAWAL if situation == Situation.RAWAN else EscalationKind.ESCALATION
                raised = started + _m(rng.randint(60, 120))
                escalations.append(
                    Escalation(
                        lokus=lokus,
                        raised_by=korlap,
                        kind=kind,
                        message="Massa bertambah dan mulai memanas; minta dukungan Polsek."
                        if kind == EscalationKind.ESCALATION
                        else "Situasi tidak aman, tim mundur ke titik kumpul dan berkoordinasi dengan Polsek.",
                        latitude=lokus.latitude,
                        longitude=lokus.longitude,
                        raised_at=raised,
                        received_at=raised,
                    )
                )
            reports.append((team, situation, crowd))
        Lokus.objects.bulk_update(lokus_rows, ["field_started_at", "field_done_at"])
        Assignment.objects.bulk_create(assignments)
        LokusUserObjectPermission.objects.bulk_create(grants)
        RiskAssessment.objects.bulk_create(risks)
        FieldNote.objects.bulk_create(
            FieldNote(
                assignment=next(a for a in teams[lokus.pk] if a.member == korlap),
                body=f"Peserta sekitar {crowd} orang; situasi {situation.label.lower()}.",
                crowd_estimate=crowd,
                situation=situation,
                created_at=at,
                received_at=at,
            )
            for korlap, lokus, at, situation, crowd in notes
        )
        MemberReport.objects.bulk_create(
            MemberReport(
                assignment=assignment,
                summary="Kegiatan berlangsung sesuai jadwal; tidak ada gangguan berarti.",
                situation=situation,
                crowd_estimate=crowd,
                submitted_at=assignment.reported_at,
                received_at=assignment.reported_at,
            )
            for team, situation, crowd in reports
            for assignment in team
        )
        Escalation.objects.bulk_create(escalations)
        for escalation in escalations:
            self._audit(
                escalation.raised_by,
                AuditAction.ESCALATED,
                escalation.lokus.plan,
                at=escalation.raised_at,
                lokus=escalation.lokus,
                note=f"{escalation.get_kind_display()}: {escalation.message}",
            )
        for lokus in lokus_rows:
            self._lokus_trail(lokus, teams[lokus.pk])
        return teams

    def _lokus_trail(self, lokus: Lokus, team: list[Assignment]) -> None:
        plan = lokus.plan
        korlap = next(a.member for a in team if a.is_coordinator)
        for a in team:
            self._audit(
                a.member,
                AuditAction.CONFIRMED,
                plan,
                at=a.confirmed_at,
                lokus=lokus,
                source=AssignmentState.ASSIGNED,
                to=AssignmentState.CONFIRMED,
                note=_("%(n)s of 7 equipment items ready") % {"n": len(a.equipment)},
            )
        self._audit(korlap, AuditAction.RISK_RECORDED, plan, at=lokus.starts_at - _m(40), lokus=lokus, note=_("Go"))
        first = min(team, key=lambda a: a.checked_in_at)
        for a in team:
            self._audit(
                a.member,
                AuditAction.CHECKED_IN,
                plan,
                at=a.checked_in_at,
                lokus=lokus,
                source=AssignmentState.CONFIRMED,
                to=AssignmentState.CHECKED_IN,
            )
        self._audit(
            first.member,
            AuditAction.FIELD_STARTED,
            plan,
            at=first.checked_in_at,
            lokus=lokus,
            source=LokusState.DISPATCHED,
            to=LokusState.RUNNING,
        )
        last = max(team, key=lambda a: a.reported_at)
        for a in team:
            self._audit(
                a.member,
                AuditAction.MEMBER_REPORTED,
                plan,
                at=a.reported_at,
                lokus=lokus,
                source=AssignmentState.CHECKED_IN,
                to=AssignmentState.REPORTED,
            )
        self._audit(
            last.member,
            AuditAction.FIELD_DONE,
            plan,
            at=lokus.field_done_at,
            lokus=lokus,
            source=LokusState.RUNNING,
            to=LokusState.FIELD_DONE,
        )

    # The team report (steps 6-15) -----------------------------------------------------------

    def _reports(self, lokus_rows: list[Lokus], teams: dict[int, list[Assignment]]) -> None:
        """Each lokus's report up the chain. Most are approved; some are returned once or
        twice on the way; the most recent few are still on their way up."""
        rng = self.rng
        reports, walks = [], []
        recent = sorted(lokus_rows, key=lambda lokus: lokus.field_done_at)[-4:]
        stops = (
            dict(
                zip(
                    [lokus.pk for lokus in recent],
                    [ReportState.AT_KABAN, ReportState.KABID_RECEIVED, ReportState.AT_KASUBBID, ReportState.DRAFT],
                    strict=True,
                )
            )
            if len(recent) == 4
            else {}
        )
        for lokus in lokus_rows:
            korlap = next(a.member for a in teams[lokus.pk] if a.is_coordinator)
            returns = []
            draw = rng.random()
            if draw < 0.12:
                returns = [rng.choice([Level.KASUBBID, Level.KABID, Level.KABAN])]
            elif draw < 0.17:
                returns = [Level.KASUBBID, Level.KABID]
            walk = _Walk(self, lokus, korlap, returns, stops.get(lokus.pk, ReportState.APPROVED))
            walk.run()
            reports.append(walk.report)
            walks.append(walk)
        ActivityReport.objects.bulk_create(reports)
        ReportVersion.objects.bulk_create(v for walk in walks for v in walk.versions)
        ReportVerification.objects.bulk_create(v for walk in walks for v in walk.verifications)
        ReportLog.objects.bulk_create(entry for walk in walks for entry in walk.log)


class _Walk:
    """One report's way up the chain, written as the services would have left it."""

    def __init__(self, history: History, lokus: Lokus, korlap, returns: list[Level], stop: str):
        self.history, self.lokus, self.korlap = history, lokus, korlap
        self.returns, self.stop = list(returns), stop
        self.clock = history.clock
        users = history.users
        self.people = {
            Level.KORLAP: korlap,
            Level.KASUBBID: lokus.created_by,
            Level.KABID: users["kabid"],
            Level.KABAN: users["kaban"],
        }
        self.versions, self.verifications, self.log = [], [], []
        self.report = None

    def _content(self, situation: str = Situation.KONDUSIF) -> dict:
        lokus = self.lokus
        local = timezone.localtime
        return {
            **CONTENT,
            "basis": f"{CONTENT['basis']} nomor {lokus.surat_tugas_number}",
            "time_place": f"{local(lokus.starts_at):%d-%m-%Y %H:%M}-{local(lokus.ends_at):%H:%M} WIB, {lokus.location}",
            "main_problem": lokus.problem,
            "facts": "Peserta berkumpul sesuai jadwal; orasi dan dialog berjalan; kegiatan bubar tertib.",
            "situation": situation,
            "crowd_estimate": lokus.plan.expected_participants,
            "classification": lokus.classification,
        }

    def _step(self, at, actor, action, source="", to="", note="") -> None:
        self.log.append(
            ReportLog(
                report=self.report,
                actor=actor,
                action=action,
                from_state=source,
                to_state=to,
                note=note,
                version_number=self.report.version,
                created_at=at,
            )
        )

    def _version(self, at, actor) -> None:
        self.report.version += 1
        self.versions.append(
            ReportVersion(
                report=self.report,
                number=self.report.version,
                revision_round=self.report.revision_round,
                content=self.report.content(),
                created_by=actor,
                created_at=at,
            )
        )
        self._step(at, actor, ReportAction.SAVED, note=_("Version %(n)s") % {"n": self.report.version})

    def run(self) -> None:
        """Walk the report from its start to ``stop``, the state it is written in."""
        lokus, korlap = self.lokus, self.korlap
        at = lokus.field_done_at + _m(self.history.rng.randint(5, 30))
        content = self._content()
        # As report_start leaves it: prefilled without the chronology, in its state since
        # field work was done; the Korlap's first save adds the facts (version 2).
        self.report = ActivityReport(
            lokus=lokus,
            created_by=korlap,
            created_at=at,
            state=self.stop,
            state_changed_at=lokus.field_done_at,
            version=0,
            revision_round=1,
            **{**content, "facts": ""},
        )
        self.report.version = 1
        self.versions.append(
            ReportVersion(
                report=self.report,
                number=1,
                revision_round=1,
                content=self.report.content(),
                created_by=korlap,
                created_at=at,
            )
        )
        self._step(at, korlap, ReportAction.CREATED, to=ReportState.DRAFT)
        self.report.facts = content["facts"]
        self._version(at + _m(20), korlap)
        state, entered = ReportState.DRAFT, lokus.field_done_at
        while state != self.stop:
            state, entered = self._next(state, entered)
        self.report.state_changed_at = entered

    def _next(self, state: str, entered):
        """Take the next step from ``state`` (entered at ``entered``); returns where the
        report is then and since when."""
        level = HOLDER[state]
        actor = self.people[level]
        at = entered + self.clock.minutes(STEP_OF_STATE[state])
        if state in SUBMIT_STATE:
            target, action, note = SUBMIT_STATE[state], ReportAction.SUBMITTED, ""
        elif state in RECEIVED_STATE:
            target, action, note = RECEIVED_STATE[state], ReportAction.RECEIVED, ""
        elif state in VERIFIED_STATE:
            target, action = VERIFIED_STATE[state], ReportAction.VERIFIED
            passed = not (self.returns and self.returns[0] == level)
            note = _("all checks passed") if passed else _("some checks failed")
            self.verifications.append(
                ReportVerification(
                    report=self.report,
                    level=level,
                    verified_by=actor,
                    verified_at=at,
                    version_number=self.report.version,
                    complete=True,
                    facts_separate=passed,
                    attachments_present=True,
                    classification_right=True,
                )
            )
        elif self.returns and self.returns[0] == level and state in RETURN_STATE:
            self.returns.pop(0)
            target, action, note = RETURN_STATE[state], ReportAction.RETURNED, RETURN_NOTES[level]
            self.report.revision_round += 1
        elif state in FORWARD_STATE:
            if state in PASS_DOWN_STATE:
                self._version(at - _m(5), actor)  # the revision of what came back
            target, action, note = FORWARD_STATE[state], ReportAction.FORWARDED, ""
        elif state in APPROVE_STATE:
            target, action, note = APPROVE_STATE[state], ReportAction.APPROVED, ""
            self.report.approved_at = at
            self.report.verification_code = new_verification_code()
        else:  # every state of the chain has a way on
            raise ValueError(state)
        if state == ReportState.RETURNED_TO_KORLAP:
            self._version(at - _m(5), actor)  # the Korlap's revision before sending again
        self._step(at, actor, action, source=state, to=target, note=note)
        return target, at


def _m(minutes: int) -> datetime.timedelta:
    return datetime.timedelta(minutes=minutes)
