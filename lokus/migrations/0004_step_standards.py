"""The SOP's 15 steps and their standard times (Mutu Baku)."""

from django.db import migrations

from lokus.standards import load_step_standards


def forwards(apps, schema_editor):
    load_step_standards(apps.get_model("lokus", "StepStandard"))


class Migration(migrations.Migration):
    dependencies = [("lokus", "0003_sop_steps_1_to_5")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
