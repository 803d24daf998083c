"""Reference data the product needs from its first migration: sub-divisions and the SOP's
officer qualifications. Used by the data migration and by tests that flush the database."""

SUB_DIVISIONS = [
    ("wasdin", "Kewaspadaan Dini", "Wasdin"),
    ("wasbang", "Wawasan Kebangsaan", "Wasbang"),
]

# SOP 1243/2025, "Kualifikasi Pelaksana".
QUALIFICATIONS = [
    (
        "Pelatihan Kewaspadaan Dini / Konflik Sosial / Pendidikan Politik",
        "Menerima pelatihan kewaspadaan dini, penanganan konflik sosial, atau pendidikan politik.",
    ),
    (
        "Analisis informasi strategis",
        "Keahlian mengumpulkan, mengolah, dan menganalisis informasi strategis serta potensi ancaman di wilayah kerja.",
    ),
    ("Mediasi dan negosiasi", "Memiliki keterampilan mediasi dan negosiasi."),
    (
        "Pengetahuan sosial-budaya lokal",
        "Mengenal struktur sosial, budaya, dan potensi kerawanan spesifik di tingkat kecamatan/kelurahan "
        "Kota Tangerang.",
    ),
    (
        "Netralitas ASN",
        "Mampu bertindak profesional, tidak memihak, dan menjunjung tinggi netralitas ASN dalam urusan politik.",
    ),
    (
        "Pengalaman lapangan dan koordinasi antarinstansi",
        "Berpengalaman dalam tugas lapangan, koordinasi antarinstansi (TNI/Polri/Kejaksaan), dan pembinaan masyarakat.",
    ),
]


def load_accounts_reference(sub_division_model, qualification_model) -> None:
    """Create the sub-divisions and qualifications if missing (idempotent; an
    administrator's later edits to descriptions are kept)."""
    for code, name, short in SUB_DIVISIONS:
        sub_division_model.objects.get_or_create(code=code, defaults={"name": name, "short_name": short})
    for order, (name, description) in enumerate(QUALIFICATIONS, start=1):
        qualification_model.objects.get_or_create(name=name, defaults={"description": description, "order": order})


# Sign-in rules by role: two-factor and 15 idle minutes for the leadership and the
# administrator, 30 idle minutes for everyone else. Editable in the admin afterwards.
STRICT_ROLES = {"Kabid Kesbang", "Kepala Badan", "Administrator"}
ROLE_NAMES = ["Jajaran Samping", "Kasubbid", "Anggota Mitigasi", "Kabid Kesbang", "Kepala Badan", "Administrator"]


def load_role_policies(group_model, role_policy_model) -> None:
    for name in ROLE_NAMES:
        group, _ = group_model.objects.get_or_create(name=name)
        strict = name in STRICT_ROLES
        role_policy_model.objects.get_or_create(
            group=group, defaults={"requires_two_factor": strict, "idle_timeout_minutes": 15 if strict else 30}
        )
