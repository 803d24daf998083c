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
