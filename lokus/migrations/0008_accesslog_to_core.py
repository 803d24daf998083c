"""The access log moves to the core app (shared plumbing): rows are copied as they are,
then the old table is dropped."""

from django.db import migrations


def copy_rows(apps, schema_editor):
    old = apps.get_model("lokus", "AccessLog")
    new = apps.get_model("core", "AccessLog")
    batch = []
    for row in old.objects.order_by("pk").iterator(chunk_size=2000):
        batch.append(
            new(
                pk=row.pk,
                user_id=row.user_id,
                kind=row.kind,
                lokus_id=row.lokus_id,
                object_id=row.object_id,
                classification=row.classification,
                ip_address=row.ip_address,
                created_at=row.created_at,
            )
        )
        if len(batch) >= 2000:
            new.objects.bulk_create(batch)
            batch = []
    new.objects.bulk_create(batch)
    if schema_editor.connection.vendor == "postgresql" and old.objects.exists():
        # Copied primary keys: the new table's sequence continues after them.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('core_accesslog', 'id'), (SELECT MAX(id) FROM core_accesslog))"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("lokus", "0007_accesslog"),
    ]

    operations = [
        migrations.RunPython(copy_rows, migrations.RunPython.noop),
        migrations.DeleteModel(name="AccessLog"),
    ]
