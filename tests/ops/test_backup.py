"""manage.py backup and restore: a backup of the demo restored into a fresh database and
media folder holds the same rows and the same files; a backup that differs from its
manifest, or a target that holds data, is refused. Runs on SQLite and on PostgreSQL
(whichever DATABASE_URL names)."""

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from core.backup import MANIFEST
from tests.ops import storages

pytestmark = pytest.mark.django_db(transaction=True)


def row_counts() -> dict[str, int]:
    """Rows per table, counted through the models (not through the code under test)."""
    counts = {MigrationRecorder.Migration._meta.db_table: MigrationRecorder.Migration.objects.count()}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            counts[model._meta.db_table] = model._base_manager.count()
    return counts


def media_checksums(root) -> dict[str, str]:
    root = Path(root)
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file()
    }


def drop_all_tables() -> None:
    """Leave the test database with no table at all: a fresh database."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA foreign_keys = OFF")
        for table in tables:
            cursor.execute(f"DROP TABLE {quote(table)}" + (" CASCADE" if connection.vendor == "postgresql" else ""))
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA foreign_keys = ON")
    assert connection.introspection.table_names() == []


@pytest.fixture
def demo(reference_data, settings):
    """The demo data, with its photo (original, print copy, thumbnail) in MEDIA_ROOT."""
    call_command("seed_demo")
    assert media_checksums(settings.MEDIA_ROOT), "the demo stores files"
    return {"counts": row_counts(), "files": media_checksums(settings.MEDIA_ROOT)}


@pytest.fixture
def fresh_media(settings, tmp_path):
    """Point MEDIA_ROOT at a new, empty folder (the storage follows the setting)."""

    def switch():
        settings.MEDIA_ROOT = str(tmp_path / f"media-{len(list(tmp_path.iterdir()))}")
        return settings.MEDIA_ROOT

    return switch


def test_backup_restores_into_a_fresh_database_and_media_folder(demo, fresh_media, tmp_path, capsys):
    target = tmp_path / "backup"
    call_command("backup", str(target))
    assert "Backup written" in capsys.readouterr().out

    manifest = json.loads((target / MANIFEST).read_text())
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["django"] and manifest["python"] and manifest["database"]["server_version"]
    assert {f["name"]: f["sha256"] for f in manifest["media"]["files"]} == demo["files"]
    assert {table: manifest["tables"][table] for table in demo["counts"]} == demo["counts"]
    dump = target / manifest["database"]["dump"]
    assert hashlib.sha256(dump.read_bytes()).hexdigest() == manifest["database"]["sha256"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o700), "a backup is readable by its owner only"

    drop_all_tables()
    media = fresh_media()
    call_command("restore", str(target))

    assert row_counts() == demo["counts"]
    assert media_checksums(media) == demo["files"]
    # The restored rows point at the restored files.
    media_model = apps.get_model("lokus", "FieldMedia")
    photo = media_model.objects.exclude(thumb_file="").first()
    with photo.thumb_file.open("rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == demo["files"][photo.thumb_file.name]


def test_a_backup_that_differs_from_its_manifest_is_refused_before_anything_changes(demo, fresh_media, tmp_path):
    target = tmp_path / "backup"
    call_command("backup", str(target))
    manifest = json.loads((target / MANIFEST).read_text())
    tampered = target / "media" / manifest["media"]["files"][0]["name"]
    original = tampered.read_bytes()
    tampered.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))

    drop_all_tables()
    media = fresh_media()
    try:
        with pytest.raises(CommandError, match="does not match its checksum"):
            call_command("restore", str(target))
        assert connection.introspection.table_names() == [], "nothing was restored"
        assert not os.path.exists(media) or media_checksums(media) == {}

        # A file that the manifest does not list is refused too.
        tampered.write_bytes(original)
        (target / "media" / "extra.txt").write_text("planted")
        with pytest.raises(CommandError, match="extra.txt is not in the manifest"):
            call_command("restore", str(target))
        (target / "media" / "extra.txt").unlink()

        # So is a changed dump.
        dump = target / manifest["database"]["dump"]
        kept = dump.read_bytes()
        dump.write_bytes(kept + b"\0")
        with pytest.raises(CommandError, match="database dump .* does not match its checksum"):
            call_command("restore", str(target))
        dump.write_bytes(kept)
        assert connection.introspection.table_names() == []
    finally:
        # The intact backup restores (and leaves the test database with its tables).
        call_command("restore", str(target), "--force")
    assert row_counts() == demo["counts"]
    assert media_checksums(media) == demo["files"]


def test_a_folder_without_a_whole_manifest_is_not_restored(demo, tmp_path):
    target = tmp_path / "backup"
    call_command("backup", str(target))
    manifest = json.loads((target / MANIFEST).read_text())
    del manifest["media"]
    (target / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="is incomplete"):
        call_command("restore", str(target), "--force")
    (target / MANIFEST).unlink()
    with pytest.raises(CommandError, match="manifest.json is missing"):
        call_command("restore", str(target), "--force")


def test_row_counts_are_checked_after_the_restore(demo, fresh_media, tmp_path):
    target = tmp_path / "backup"
    call_command("backup", str(target))
    manifest = json.loads((target / MANIFEST).read_text())
    manifest["tables"]["accounts_user"] += 1  # a manifest that lies about a table
    (target / MANIFEST).write_text(json.dumps(manifest))
    drop_all_tables()
    fresh_media()
    with pytest.raises(CommandError, match=r"table accounts_user: \d+ row\(s\), the manifest says \d+"):
        call_command("restore", str(target))


def test_a_target_that_holds_data_is_refused_unless_forced(demo, fresh_media, settings, tmp_path):
    target = tmp_path / "backup"
    call_command("backup", str(target))
    user_model = apps.get_model("accounts", "User")
    user_model.objects.create(username="setelah.cadangan")  # a change after the backup

    with pytest.raises(CommandError, match="not empty .*database has \\d+ table.*--force"):
        call_command("restore", str(target))
    assert user_model.objects.filter(username="setelah.cadangan").exists(), "nothing was touched"

    # An empty database but a media folder with files: refused as well.
    drop_all_tables()
    with pytest.raises(CommandError, match="media storage has \\d+ file"):
        call_command("restore", str(target))
    assert connection.introspection.table_names() == []

    # --force empties both and restores.
    call_command("restore", str(target), "--force")
    assert row_counts() == demo["counts"]
    assert not user_model.objects.filter(username="setelah.cadangan").exists()
    assert media_checksums(settings.MEDIA_ROOT) == demo["files"]


def test_backup_refuses_a_folder_that_holds_files(demo, tmp_path):
    target = tmp_path / "backup"
    target.mkdir()
    (target / "old.txt").write_text("an older backup")
    with pytest.raises(CommandError, match="not an empty folder"):
        call_command("backup", str(target))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup"], "no partial folder left behind"


def test_backup_and_restore_go_through_the_storage_api(reference_data, settings, tmp_path):
    """With a storage that has no local path (as a bucket), files are listed, read and
    written only through the storage."""
    in_memory = {**settings.STORAGES, "default": {"BACKEND": storages.BACKEND}}
    settings.STORAGES = in_memory
    call_command("seed_demo")
    from django.core.files.storage import default_storage

    names = sorted(default_storage.listdir("field/")[0])
    assert names, "the demo's photo went to the in-memory storage"
    with pytest.raises(NotImplementedError):
        default_storage.path("anything")
    counts = row_counts()
    target = tmp_path / "backup"
    call_command("backup", str(target))
    stored = {f["name"]: f["sha256"] for f in json.loads((target / MANIFEST).read_text())["media"]["files"]}
    assert len(stored) == 3

    drop_all_tables()
    settings.STORAGES = {**in_memory}  # a new, empty in-memory storage
    from django.core.files.storage import default_storage as fresh

    with pytest.raises(FileNotFoundError):
        fresh.open(next(iter(stored)))
    call_command("restore", str(target))
    assert row_counts() == counts
    for name, digest in stored.items():
        with fresh.open(name, "rb") as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == digest
    shutil.rmtree(target)
