"""Demo people and agencies (development mode only; see ``manage.py seed_demo``)."""

from django.conf import settings
from django.contrib.auth.models import Group

from accounts.enums import AgencyKind, Role
from accounts.models import Agency, Qualification, SubDivision, User

AGENCIES = [
    ("Polres Metro Tangerang Kota", AgencyKind.POLRI, "Jl. Daan Mogot No. 52, Kota Tangerang"),
    ("Kodim 0506/Tangerang", AgencyKind.TNI, "Jl. Perintis Kemerdekaan, Kota Tangerang"),
    ("Kantor Imigrasi Kelas I TPI Tangerang", AgencyKind.IMIGRASI, "Jl. TMP Taruna No. 10, Kota Tangerang"),
    ("Kejaksaan Negeri Kota Tangerang", AgencyKind.KEJAKSAAN, "Jl. TMP Taruna No. 4, Kota Tangerang"),
    ("Kantor Kelurahan Sukarasa", AgencyKind.KELURAHAN, "Kel. Sukarasa, Kec. Tangerang"),
    ("Kantor Kecamatan Cipondoh", AgencyKind.KECAMATAN, "Kec. Cipondoh, Kota Tangerang"),
    ("Masyarakat umum", AgencyKind.MASYARAKAT, ""),
]

# username, full name, NIP, position, phone, role, sub-division code, agency, qualification numbers
USERS = [
    ("admin", "Rina Administrator", "", "Pranata Komputer", "081200000001", Role.ADMIN, None, None, []),
    (
        "mitra.polres",
        "AKP Budi Santoso",
        "",
        "Kasat Intelkam Polres Metro Tangerang Kota",
        "081200000002",
        Role.PARTNER,
        None,
        "Polres Metro Tangerang Kota",
        [],
    ),
    (
        "mitra.kelurahan",
        "Siti Aminah",
        "198704152011012003",
        "Sekretaris Kelurahan Sukarasa",
        "081200000003",
        Role.PARTNER,
        None,
        "Kantor Kelurahan Sukarasa",
        [],
    ),
    (
        "kasubbid.wasdin",
        "Ahmad Fauzi, S.Sos",
        "197805102005011002",
        "Kasubbid Kewaspadaan Dini",
        "081200000004",
        Role.KASUBBID,
        "wasdin",
        None,
        [1, 2, 3],
    ),
    (
        "kasubbid.wasbang",
        "Dewi Lestari, S.IP",
        "198011232006042001",
        "Kasubbid Wawasan Kebangsaan",
        "081200000005",
        Role.KASUBBID,
        "wasbang",
        None,
        [1, 5],
    ),
    (
        "anggota1",
        "Rudi Hartono",
        "198503122010011001",
        "Analis Kewaspadaan Dini",
        "081200000011",
        Role.MEMBER,
        "wasdin",
        None,
        [1, 2, 6],
    ),
    (
        "anggota2",
        "Maya Sari",
        "199002082014022002",
        "Pengolah Data Kewaspadaan",
        "081200000012",
        Role.MEMBER,
        "wasdin",
        None,
        [2, 4],
    ),
    (
        "anggota3",
        "Agus Salim",
        "198811302012011003",
        "Analis Konflik Sosial",
        "081200000013",
        Role.MEMBER,
        "wasdin",
        None,
        [3, 5, 6],
    ),
    (
        "anggota4",
        "Nur Hidayah",
        "199206172015032004",
        "Analis Wawasan Kebangsaan",
        "081200000014",
        Role.MEMBER,
        "wasbang",
        None,
        [1, 4],
    ),
    (
        "anggota5",
        "Fajar Nugroho",
        "199107012016011005",
        "Penyuluh Kebangsaan",
        "081200000015",
        Role.MEMBER,
        "wasbang",
        None,
        [3, 5],
    ),
    (
        "kabid",
        "Drs. Hendra Wijaya, M.Si",
        "197203141998031001",
        "Kepala Bidang Kesatuan Bangsa",
        "081200000020",
        Role.KABID,
        None,
        None,
        [1, 2, 3, 6],
    ),
    (
        "kaban",
        "Teguh Supriyanto, S.Sos, MAP",
        "196901111996121001",
        "Kepala Badan Kesatuan Bangsa dan Politik",
        "081200000030",
        Role.KABAN,
        None,
        None,
        [1, 3, 5],
    ),
]


def seed() -> dict[str, User]:
    agencies = {}
    for name, kind, address in AGENCIES:
        agencies[name], _ = Agency.objects.update_or_create(name=name, defaults={"kind": kind, "address": address})
    sub_divisions = {sd.code: sd for sd in SubDivision.objects.all()}
    qualifications = list(Qualification.objects.order_by("order"))
    groups = {group.name: group for group in Group.objects.all()}
    users = {}
    for username, full_name, nip, position, phone, role, sub_division, agency, quals in USERS:
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "full_name": full_name,
                "nip": nip,
                "position": position,
                "phone": phone,
                "email": f"{username}@demo.lokus.invalid",
                "sub_division": sub_divisions.get(sub_division),
                "agency": agencies.get(agency),
                "is_staff": role == Role.ADMIN,
                "is_superuser": False,
                "is_active": True,
            },
        )
        user.set_password(settings.DEMO_PASSWORD)
        user.save(update_fields=["password"])
        user.groups.set([groups[role.value]])
        user.qualifications.set([qualifications[i - 1] for i in quals if i <= len(qualifications)])
        users[username] = user
    return users
