"""The single letterhead row, with the agency's defaults, so the administrator edits it."""

from django.db import migrations


def forwards(apps, schema_editor):
    apps.get_model("reports", "Letterhead").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_documents")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
