"""Demo plans and lokus in every stage of SOP steps 1-5, made through the real services."""

import datetime

from django.utils import timezone

from core.enums import Classification
from lokus import services
from lokus.enums import Equipment, MediaKind, PlanCategory, RiskLevel, Situation
from lokus.models import ActivityPlan, Kelurahan
from lokus.uploads import clean_image


def _at(days: int, hour: int, minute: int = 0) -> datetime.datetime:
    base = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return base + datetime.timedelta(days=days, hours=hour, minutes=minute)


def _plan(user, title, category, kelurahan_code, start, hours, participants, description, organiser, address):
    existing = ActivityPlan.objects.filter(title=title).first()
    if existing:
        return existing, False
    kelurahan = Kelurahan.objects.select_related("kecamatan").get(code=kelurahan_code)
    plan = services.plan_submit(
        user=user,
        data={
            "title": title,
            "category": category,
            "description": description,
            "organiser": organiser,
            "organiser_contact": "0812-1111-2222",
            "expected_participants": participants,
            "starts_at": start,
            "ends_at": start + datetime.timedelta(hours=hours),
            "address": address,
            "kecamatan": kelurahan.kecamatan,
            "kelurahan": kelurahan,
            "latitude": None,
            "longitude": None,
        },
    )
    return plan, True


def _photo():
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 600), (200, 210, 225))
    ImageDraw.Draw(image).rectangle((100, 150, 700, 450), outline=(30, 60, 120), width=8)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return clean_image(SimpleUploadedFile("massa-aksi.jpg", buffer.getvalue(), content_type="image/jpeg"))


def _prepare(lokus, kasubbid, members, coordinator, number):
    services.lokus_update(
        user=kasubbid,
        lokus_id=lokus.pk,
        data={
            "problem": "Potensi gesekan antara massa aksi dan warga sekitar; perlu pemantauan dan mediasi.",
            "assembly_point": "Halaman Kantor Kesbangpol, Jl. Satria Sudirman No. 1",
            "assembly_at": lokus.starts_at - datetime.timedelta(hours=1),
            "risk_level": RiskLevel.MEDIUM,
            "classification": Classification.TERBATAS,
            "surat_tugas_number": number,
        },
    )
    services.lokus_set_team(user=kasubbid, lokus_id=lokus.pk, members=members, coordinator=coordinator)


ROUTINE_RISK = {
    "threats": "Massa terkonsentrasi di satu titik.",
    "access_routes": "Jalan utama",
    "exit_routes": "Jalan samping kantor",
    "security_contact": "Polsek setempat",
    "go": True,
    "notes": "",
}


def _into_the_field(lokus, kasubbid, members, coordinator, risk=ROUTINE_RISK):
    """Steps 3-5 up to field work: dispatch, every member "Siap" with all equipment, the
    coordinator's risk mapping (go), every member "Mulai"."""
    services.lokus_dispatch(user=kasubbid, lokus_id=lokus.pk)
    for member in members:
        services.assignment_confirm(user=member, lokus_id=lokus.pk, equipment=list(Equipment.values))
    services.risk_record(user=coordinator, lokus_id=lokus.pk, data=risk)
    for member in members:
        services.assignment_check_in(user=member, lokus_id=lokus.pk)


def seed(users: dict) -> None:
    polres, kelurahan = users["mitra.polres"], users["mitra.kelurahan"]
    wasdin, wasbang = users["kasubbid.wasdin"], users["kasubbid.wasbang"]
    a1, a2, a3, a4, a5 = (users[f"anggota{i}"] for i in range(1, 6))

    # Step 1/2: new plans waiting for a decision.
    _plan(
        polres,
        "Unjuk rasa buruh di Kawasan Industri Jatake",
        PlanCategory.DEMONSTRATION,
        "36.71.02.1002",
        _at(2, 9),
        6,
        1500,
        "Aksi serikat pekerja menuntut kenaikan upah minimum kota.",
        "Konfederasi Serikat Pekerja",
        "Jl. Industri Raya, Jatake",
    )
    _plan(
        kelurahan,
        "Pengajian akbar Maulid Nabi",
        PlanCategory.RELIGIOUS,
        "36.71.01.1001",
        _at(3, 19),
        4,
        3000,
        "Pengajian akbar di lapangan kelurahan, mengundang penceramah dari luar kota.",
        "DKM Masjid Al-Ikhlas",
        "Lapangan Sukarasa",
    )
    _plan(
        polres,
        "Kampanye terbuka calon legislatif",
        PlanCategory.POLITICAL,
        "36.71.05.1001",
        _at(2, 13),
        5,
        800,
        "Kampanye terbuka di lapangan kecamatan, berpotensi bersamaan dengan aksi buruh.",
        "Tim pemenangan",
        "Lapangan Cipondoh",
    )

    # Step 2 done: not chosen.
    plan, new = _plan(
        kelurahan,
        "Festival budaya Cisadane",
        PlanCategory.COMMUNITY,
        "36.71.01.1005",
        _at(5, 8),
        10,
        5000,
        "Festival budaya tahunan di bantaran Sungai Cisadane.",
        "Karang Taruna",
        "Jl. Benteng Jaya",
    )
    if new:
        services.plan_mark_not_chosen(user=wasbang, plan_id=plan.pk, reason="Kegiatan rutin, cukup dipantau Polsek.")

    # Step 3: chosen, team being composed.
    plan, new = _plan(
        polres,
        "Deklarasi ormas kepemudaan",
        PlanCategory.ORMAS,
        "36.71.03.1001",
        _at(4, 10),
        3,
        400,
        "Deklarasi dan konvoi kendaraan ormas kepemudaan.",
        "Ormas Pemuda Bersatu",
        "GOR Batuceper",
    )
    if new:
        services.plan_choose(user=wasbang, plan_id=plan.pk)

    # Step 4: dispatched, members to confirm.
    plan, new = _plan(
        polres,
        "Aksi solidaritas mahasiswa",
        PlanCategory.DEMONSTRATION,
        "36.71.01.1003",
        _at(1, 10),
        4,
        600,
        "Aksi mahasiswa di depan gedung DPRD.",
        "BEM se-Tangerang",
        "Depan Gedung DPRD",
    )
    if new:
        lokus = services.plan_choose(user=wasdin, plan_id=plan.pk)
        _prepare(lokus, wasdin, [a1, a2], a1, "800.1.11.1/901-Kesbangpol/DEMO")
        services.lokus_dispatch(user=wasdin, lokus_id=lokus.pk)

    # Step 5: in the field, notes and a photo, one member already reported.
    plan, new = _plan(
        kelurahan,
        "Mediasi sengketa lahan warga",
        PlanCategory.OTHER,
        "36.71.02.1001",
        _at(0, 1),
        22,
        150,
        "Pertemuan warga terkait sengketa lahan makam.",
        "Forum Warga Keroncong",
        "Balai Warga Keroncong",
    )
    if new:
        lokus = services.plan_choose(user=wasdin, plan_id=plan.pk)
        _prepare(lokus, wasdin, [a2, a3], a3, "800.1.11.1/902-Kesbangpol/DEMO")
        _into_the_field(
            lokus,
            wasdin,
            [a2, a3],
            a3,
            risk={
                "threats": "Massa dari dua kubu, potensi adu mulut.",
                "access_routes": "Jl. Keroncong Raya",
                "exit_routes": "Gang belakang balai menuju Jl. Gatot Subroto",
                "security_contact": "Polsek Jatiuwung, 021-5550-1234",
                "go": True,
                "notes": "",
            },
        )
        services.field_note_add(
            user=a2,
            lokus_id=lokus.pk,
            data={
                "body": "Warga mulai berkumpul, sekitar 80 orang, suasana tertib.",
                "crowd_estimate": 80,
                "situation": Situation.KONDUSIF,
            },
        )
        services.field_media_add(
            user=a2, lokus_id=lokus.pk, kind=MediaKind.PHOTO, clean=_photo(), caption="Situasi di depan balai warga"
        )
        services.member_report_submit(
            user=a2,
            lokus_id=lokus.pk,
            data={
                "summary": "Pertemuan berjalan tertib; kedua pihak sepakat melanjutkan musyawarah pekan depan.",
                "situation": Situation.KONDUSIF,
                "crowd_estimate": 120,
            },
        )

    # Wasbang lokus in the field (for the other Kasubbid and anggota4/5).
    plan, new = _plan(
        polres,
        "Peringatan hari besar keagamaan lintas iman",
        PlanCategory.RELIGIOUS,
        "36.71.04.1001",
        _at(0, 6),
        14,
        700,
        "Acara lintas iman di taman kota.",
        "FKUB Kota Tangerang",
        "Taman Kota",
    )
    if new:
        lokus = services.plan_choose(user=wasbang, plan_id=plan.pk)
        _prepare(lokus, wasbang, [a4, a5], a4, "800.1.11.1/903-Kesbangpol/DEMO")
        services.lokus_dispatch(user=wasbang, lokus_id=lokus.pk)
        services.assignment_confirm(user=a4, lokus_id=lokus.pk, equipment=[Equipment.SMARTPHONE, Equipment.ID_CARD])
