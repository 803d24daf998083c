"""Demo activity reports at every stage of steps 6-15, made through the real services."""

from lokus import services as lokus_services
from lokus.demo import _at, _into_the_field, _plan, _prepare
from lokus.enums import PlanCategory, Situation
from reports import services
from reports.enums import ReportState
from reports.models import ActivityReport

CONTENT = {
    "dialogue": "Mediasi antara koordinator aksi dan pengelola kawasan; disepakati jalur aksi dan batas waktu.",
    "analysis": "Potensi konflik rendah selama kesepakatan dipatuhi; perlu perhatian bila tuntutan tidak direspons.",
    "outlook": "Kemungkinan aksi lanjutan dalam dua pekan bila tidak ada tanggapan tertulis.",
    "recommendations": "Fasilitasi audiensi dengan dinas terkait; koordinasi lanjutan dengan Polres.",
    "situation": Situation.KONDUSIF,
    "crowd_estimate": 250,
}


def _field_done_lokus(title, kelurahan_code, days, users, kasubbid, members, korlap, number):
    plan, new = _plan(
        users["mitra.polres"],
        title,
        PlanCategory.DEMONSTRATION,
        kelurahan_code,
        _at(days, 8),
        4,
        300,
        "Aksi penyampaian pendapat di muka umum.",
        "Aliansi Masyarakat",
        "Depan kantor kecamatan",
    )
    if not new:
        return None
    lokus = lokus_services.plan_choose(user=kasubbid, plan_id=plan.pk)
    _prepare(lokus, kasubbid, members, korlap, number)
    _into_the_field(lokus, kasubbid, members, korlap)
    for member in members:
        lokus_services.field_note_add(
            user=member,
            lokus_id=lokus.pk,
            data={
                "body": f"Massa tertib, orasi bergantian ({member.full_name}).",
                "crowd_estimate": 250,
                "situation": Situation.KONDUSIF,
            },
        )
    for member in members:
        lokus_services.member_report_submit(
            user=member,
            lokus_id=lokus.pk,
            data={
                "summary": "Aksi berlangsung tertib dan selesai sesuai jadwal.",
                "situation": Situation.KONDUSIF,
                "crowd_estimate": 250,
            },
        )
    return lokus


def _report(lokus, korlap):
    report = services.report_start(user=korlap, lokus_id=lokus.pk)
    services.report_save(user=korlap, report_id=report.pk, data=CONTENT)
    return report


def _up_to(report, korlap, kasubbid, kabid, kaban, stop: ReportState):
    """Walk the report up the chain until it reaches ``stop``."""
    steps = [
        (ReportState.AT_KASUBBID, lambda: services.report_submit(user=korlap, report_id=report.pk)),
        (ReportState.KASUBBID_RECEIVED, lambda: services.report_receive(user=kasubbid, report_id=report.pk)),
        (
            ReportState.KASUBBID_VERIFIED,
            lambda: services.report_verify(user=kasubbid, report_id=report.pk, checks=ALL_OK),
        ),
        (ReportState.AT_KABID, lambda: services.report_forward(user=kasubbid, report_id=report.pk)),
        (ReportState.KABID_RECEIVED, lambda: services.report_receive(user=kabid, report_id=report.pk)),
        (ReportState.KABID_VERIFIED, lambda: services.report_verify(user=kabid, report_id=report.pk, checks=ALL_OK)),
        (ReportState.AT_KABAN, lambda: services.report_forward(user=kabid, report_id=report.pk)),
        (ReportState.KABAN_RECEIVED, lambda: services.report_receive(user=kaban, report_id=report.pk)),
        (ReportState.KABAN_VERIFIED, lambda: services.report_verify(user=kaban, report_id=report.pk, checks=ALL_OK)),
        (ReportState.APPROVED, lambda: services.report_approve(user=kaban, report_id=report.pk)),
    ]
    for state, step in steps:
        step()
        if state == stop:
            return


ALL_OK = {"complete": True, "facts_separate": True, "attachments_present": True, "classification_right": True}


def seed(users: dict) -> None:
    if ActivityReport.objects.exists():
        return
    wasdin, wasbang, kabid, kaban = (users[u] for u in ("kasubbid.wasdin", "kasubbid.wasbang", "kabid", "kaban"))
    a1, a2, a3, a4, a5 = (users[f"anggota{i}"] for i in range(1, 6))
    plan = [
        # title, kelurahan, days ago, kasubbid, team, korlap, stop
        ("Aksi pedagang pasar tradisional", "36.71.01.1002", -1, wasdin, [a1, a3], a1, ReportState.DRAFT),
        ("Aksi ojek daring", "36.71.01.1004", -1, wasdin, [a2, a1], a2, ReportState.AT_KASUBBID),
        ("Aksi guru honorer", "36.71.01.1006", -2, wasdin, [a3, a2], a3, ReportState.AT_KABID),
        ("Aksi petani penggarap", "36.71.04.1002", -2, wasbang, [a4, a5], a4, ReportState.AT_KABAN),
        ("Deklarasi damai pemilu", "36.71.04.1003", -3, wasbang, [a5, a4], a5, ReportState.APPROVED),
    ]
    for number, (title, kelurahan, days, kasubbid, team, korlap, stop) in enumerate(plan, start=1):
        lokus = _field_done_lokus(
            title, kelurahan, days, users, kasubbid, team, korlap, f"800.1.11.1/{950 + number}-Kesbangpol/DEMO"
        )
        if lokus is None:
            continue
        report = _report(lokus, korlap)
        if stop != ReportState.DRAFT:
            _up_to(report, korlap, kasubbid, kabid, kaban, stop)

    # Returned twice: the Kasubbid sends it back to the Korlap, who revises; then the Kabid
    # returns it to the Kasubbid, who passes it further down. It waits at the Korlap again.
    lokus = _field_done_lokus(
        "Aksi buruh pabrik sepatu", "36.71.02.1003", -2, users, wasbang, [a4, a5], a4, "800.1.11.1/960-Kesbangpol/DEMO"
    )
    if lokus is not None:
        report = _report(lokus, a4)
        _up_to(report, a4, wasbang, kabid, kaban, ReportState.KASUBBID_VERIFIED)
        services.report_return(
            user=wasbang,
            report_id=report.pk,
            note="Pisahkan fakta dan analisis; kronologi belum lengkap setelah pukul 10.00.",
        )
        services.report_save(
            user=a4,
            report_id=report.pk,
            data={
                "facts": "08.00 WIB massa berkumpul.\n10.00 WIB orasi.\n11.30 WIB perwakilan diterima manajemen.\n"
                "12.00 WIB massa membubarkan diri dengan tertib."
            },
        )
        _up_to(report, a4, wasbang, kabid, kaban, ReportState.KABID_VERIFIED)
        services.report_return(
            user=kabid,
            report_id=report.pk,
            note="Rekomendasi terlalu umum: sebutkan instansi dan tenggat tindak lanjut.",
        )
        services.report_pass_down(
            user=wasbang, report_id=report.pk, note="Mohon Korlap melengkapi rekomendasi sesuai catatan Kabid."
        )
