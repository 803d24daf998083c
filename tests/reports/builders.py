"""Plain builders for the report chain (SOP steps 6-15), on top of ``tests/lokus/builders.py``.

Everything goes through the real services: a Wasdin lokus whose field work is done (the
cast's Korlap ``cast["coordinator"]`` and the other member ``cast["member"]``, Kasubbid
``cast["kasubbid"]``), the Korlap's report with every required section filled, and
``walk`` that moves a report along the chain by whoever holds it in each state."""

from itertools import count

from lokus.enums import Situation
from lokus.models import Lokus
from reports import services
from reports.enums import ReportState
from reports.models import ActivityReport, ReportLog
from tests.lokus import builders as lokus_builders

S = ReportState

# Each plan gets its own day, so that one officer on many teams never overlaps itself.
_days = count(7)

ALL_CHECKS = {"complete": True, "facts_separate": True, "attachments_present": True, "classification_right": True}


def filled_data(**overrides) -> dict:
    """Every section of the standard format, required or not."""
    data = {
        "basis": "Surat Tugas nomor 800.1.11.1/0001-Kesbangpol/UJI",
        "time_place": "Senin 09.00-13.00 WIB, depan Pusat Pemerintahan Kota Tangerang",
        "main_problem": "Aksi buruh menuntut kenaikan upah minimum kota.",
        "facts": "09.00 massa berkumpul. 10.30 perwakilan diterima. 12.30 massa bubar tertib.",
        "dialogue": "Perwakilan buruh diterima Asisten Daerah; aspirasi ditampung.",
        "analysis": "Situasi terkendali; potensi aksi lanjutan bila tuntutan tidak dijawab.",
        "outlook": "Aksi lanjutan mungkin dua minggu lagi.",
        "recommendations": "Pantau rencana aksi lanjutan; koordinasi dengan Polres.",
        "situation": Situation.KONDUSIF,
        "crowd_estimate": 280,
    }
    data.update(overrides)
    return data


def team(cast, extra_members=()) -> list:
    return [cast["member"], cast["coordinator"], *extra_members]


def make_running_lokus(cast, extra_members=(), **plan_overrides) -> Lokus:
    """A Wasdin lokus in the field: everyone started, nobody reported yet. ``extra_members``
    (Wasdin officers) join the cast's member and Korlap on the team."""
    plan_overrides.setdefault("starts_at", lokus_builders.future_wib(days=next(_days)))
    members = team(cast, extra_members)
    lokus = lokus_builders.make_dispatched_lokus(
        cast["kasubbid"], cast["partner"], members, cast["coordinator"], **plan_overrides
    )
    return lokus_builders.advance_to_running(lokus, members, cast["coordinator"])


def make_field_done_lokus(cast, extra_members=(), **plan_overrides) -> Lokus:
    """A Wasdin lokus whose field work is done: every member reported."""
    lokus = make_running_lokus(cast, extra_members, **plan_overrides)
    return lokus_builders.report_all(lokus, team(cast, extra_members))


def start_report(cast, lokus: Lokus, **overrides) -> ActivityReport:
    """The Korlap starts the report and fills every section (version 2)."""
    report = services.report_start(user=cast["coordinator"], lokus_id=lokus.pk)
    return services.report_save(user=cast["coordinator"], report_id=report.pk, data=filled_data(**overrides))


def make_report(cast, extra_members=(), **plan_overrides) -> ActivityReport:
    """A filled draft of a lokus whose field work is done: ready to be sent."""
    return start_report(cast, make_field_done_lokus(cast, extra_members, **plan_overrides))


def make_report_with_missing_member(cast, **plan_overrides) -> ActivityReport:
    """A filled draft while the field work still runs: the Korlap reported, the other
    member did not (the Korlap must excuse them before sending)."""
    lokus = make_running_lokus(cast, **plan_overrides)
    lokus_builders.report_all(lokus, [cast["coordinator"]])
    return start_report(cast, lokus)


# The chain ---------------------------------------------------------------------------------

# Who holds the report in each state (a cast key) and the service that moves it on.
FORWARD_STEP = {
    S.DRAFT: ("coordinator", "submit"),
    S.RETURNED_TO_KORLAP: ("coordinator", "submit"),
    S.AT_KASUBBID: ("kasubbid", "receive"),
    S.KASUBBID_RECEIVED: ("kasubbid", "verify"),
    S.KASUBBID_VERIFIED: ("kasubbid", "forward"),
    S.RETURNED_TO_KASUBBID: ("kasubbid", "forward"),
    S.AT_KABID: ("kabid", "receive"),
    S.KABID_RECEIVED: ("kabid", "verify"),
    S.KABID_VERIFIED: ("kabid", "forward"),
    S.RETURNED_TO_KABID: ("kabid", "forward"),
    S.AT_KABAN: ("kaban", "receive"),
    S.KABAN_RECEIVED: ("kaban", "verify"),
    S.KABAN_VERIFIED: ("kaban", "approve"),
}
# A returned state is reached from the verified state one level up, by its holder.
RETURNED_FROM = {
    S.RETURNED_TO_KORLAP: (S.KASUBBID_VERIFIED, "kasubbid"),
    S.RETURNED_TO_KASUBBID: (S.KABID_VERIFIED, "kabid"),
    S.RETURNED_TO_KABID: (S.KABAN_VERIFIED, "kaban"),
}
HOLDER_KEY = {state: who for state, (who, _action) in FORWARD_STEP.items()}


def act(report: ActivityReport, cast, action: str, who: str | None = None, note: str = ""):
    """Take one step of the chain as ``who`` (default: the holder of the current state)."""
    user = cast[who or HOLDER_KEY[ActivityReport.objects.get(pk=report.pk).state]]
    pk = report.pk
    if action == "verify":
        return services.report_verify(user=user, report_id=pk, checks=ALL_CHECKS, notes=note)
    if action in ("return", "pass_down"):
        service = services.report_return if action == "return" else services.report_pass_down
        return service(user=user, report_id=pk, note=note or "Lengkapi kronologi dan foto.")
    if action in ("forward", "approve"):
        return getattr(services, f"report_{action}")(user=user, report_id=pk, note=note)
    return getattr(services, f"report_{action}")(user=user, report_id=pk)


def walk(report: ActivityReport, to_state: str, cast) -> ActivityReport:
    """Move the report up the chain until it is in ``to_state``, each step by the user who
    holds it (the Korlap, the Kasubbid, the Kabid, the Kepala Badan of the cast). A returned
    state is reached by verifying one level up and returning with a note."""
    report.refresh_from_db()
    for _step in range(len(FORWARD_STEP) + 2):
        if report.state == to_state:
            return report
        if to_state in RETURNED_FROM and report.state == RETURNED_FROM[to_state][0]:
            act(report, cast, "return", RETURNED_FROM[to_state][1])
        else:
            who, action = FORWARD_STEP[report.state]
            act(report, cast, action, who)
        report.refresh_from_db()
    raise AssertionError(f"cannot walk from {report.state} to {to_state}")


def make_report_in(cast, state: str, extra_members=(), **plan_overrides) -> ActivityReport:
    return walk(make_report(cast, extra_members, **plan_overrides), state, cast)


def log_actions(report: ActivityReport) -> list[tuple]:
    """The report's log as (action, from, to, note, actor username) rows, in order."""
    return [
        (e.action, e.from_state, e.to_state, e.note, e.actor.username)
        for e in ReportLog.objects.filter(report=report).select_related("actor").order_by("pk")
    ]


def snapshot(report: ActivityReport) -> dict:
    """Everything a report action may change, read fresh from the database: compare two
    snapshots to prove that a refused action (or a GET) changed nothing."""
    from accounts.models import Notification
    from lokus.models import AuditEntry
    from reports.models import ReportExcuse, ReportVerification, ReportVersion

    fresh = ActivityReport.objects.select_related("lokus").get(pk=report.pk)
    return {
        "state": fresh.state,
        "state_changed_at": fresh.state_changed_at,
        "version": fresh.version,
        "revision_round": fresh.revision_round,
        "approved_at": fresh.approved_at,
        "content": fresh.content(),
        "lokus_state": fresh.lokus.state,
        "versions": list(ReportVersion.objects.filter(report=fresh).values_list("pk", "number", "content")),
        "log": ReportLog.objects.filter(report=fresh).count(),
        "verifications": ReportVerification.objects.filter(report=fresh).count(),
        "excuses": list(ReportExcuse.objects.filter(report=fresh).values_list("assignment_id", "reason")),
        "reports": ActivityReport.objects.count(),
        "notifications": Notification.objects.count(),
        "audit": AuditEntry.objects.count(),
    }
