"""Sub-divisions, the SOP's officer qualifications, and the role groups."""

from django.db import migrations

from accounts.reference import load_accounts_reference

ROLE_GROUPS = ["Jajaran Samping", "Kasubbid", "Anggota Mitigasi", "Kabid Kesbang", "Kepala Badan", "Administrator"]


def forwards(apps, schema_editor):
    load_accounts_reference(apps.get_model("accounts", "SubDivision"), apps.get_model("accounts", "Qualification"))
    Group = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
