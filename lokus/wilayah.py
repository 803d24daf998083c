"""Loader for the Kota Tangerang reference areas shipped in ``lokus/data``."""

import csv
from pathlib import Path

WILAYAH_CSV = Path(__file__).resolve().parent / "data" / "wilayah_kota_tangerang.csv"


def load_wilayah(kecamatan_model, kelurahan_model) -> tuple[int, int]:
    """Create or update every kecamatan and kelurahan from the CSV (idempotent).

    Takes the models as arguments so that a migration can pass its historical models.
    Returns the number of kecamatan and kelurahan in the file."""
    kecamatan_by_code = {}
    kelurahan_count = 0
    with WILAYAH_CSV.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code = row["kode_kecamatan"]
            if code not in kecamatan_by_code:
                kecamatan_by_code[code], _ = kecamatan_model.objects.update_or_create(
                    code=code, defaults={"name": row["nama_kecamatan"]}
                )
            kelurahan_model.objects.update_or_create(
                code=row["kode_kelurahan"],
                defaults={"name": row["nama_kelurahan"], "kecamatan": kecamatan_by_code[code]},
            )
            kelurahan_count += 1
    return len(kecamatan_by_code), kelurahan_count
