"""Default sign-in rules per role (accounts.reference.load_role_policies)."""

from django.db import migrations

from accounts.reference import load_role_policies


def forwards(apps, schema_editor):
    load_role_policies(apps.get_model("auth", "Group"), apps.get_model("accounts", "RolePolicy"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_security")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
