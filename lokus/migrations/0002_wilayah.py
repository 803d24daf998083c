"""Load the 13 kecamatan and 104 kelurahan of Kota Tangerang (lokus/data)."""

from django.db import migrations

from lokus.wilayah import load_wilayah


def forwards(apps, schema_editor):
    load_wilayah(apps.get_model("lokus", "Kecamatan"), apps.get_model("lokus", "Kelurahan"))


class Migration(migrations.Migration):
    dependencies = [("lokus", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
