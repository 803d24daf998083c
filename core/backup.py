"""One consistent backup of the database and of every uploaded file, and its restore.

A backup is a folder:

* ``database.dump`` (PostgreSQL, ``pg_dump --format=custom``) or ``database.sqlite3`` (a copy
  made with SQLite's online backup API);
* ``media/``: every file of the default storage (``MEDIA_ROOT`` on disk, or a bucket),
  listed and read through Django's storage API;
* ``manifest.json``, written last: versions, the row count of every table, the size and
  SHA-256 of the dump and of every file.

Consistency. On PostgreSQL the row counts are taken in a REPEATABLE READ transaction whose
snapshot ``pg_dump --snapshot`` then dumps, so the manifest describes exactly the dump. The
database is dumped before the files are copied: stored names are random and written once,
so a file uploaded meanwhile is at worst an extra file that no row names, never a row whose
file is missing.

Restore checks the whole backup against its manifest before it touches anything, refuses a
target database or storage that holds anything (unless ``force``, which empties them
first), and checks the row counts and every file again afterwards.

Generic on purpose: tables come from the connection's introspection, files from the storage;
no model of any app is named here."""

import datetime
import hashlib
import json
import os
import platform
import posixpath
import shutil
import sqlite3
import subprocess
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import django
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.core.files.utils import validate_file_name
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA_DIR = "media"
DUMP_NAMES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
CHUNK = 1024 * 1024
# Where Debian puts PostgreSQL's client tools when they are not on PATH.
PG_BIN_DIRS = [f"/usr/lib/postgresql/{version}/bin" for version in (17, 16, 15)]

# libpq connection keywords and the environment variables pg_dump and pg_restore read them from.
LIBPQ_ENV = {
    "host": "PGHOST",
    "port": "PGPORT",
    "user": "PGUSER",
    "dbname": "PGDATABASE",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass
class Report:
    """What a backup or restore did, for the command's summary."""

    manifest: dict
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.manifest["tables"].values())

    @property
    def files(self) -> int:
        return len(self.manifest["media"]["files"])

    @property
    def bytes(self) -> int:
        return self.manifest["database"]["size"] + sum(f["size"] for f in self.manifest["media"]["files"])


# -- helpers ---------------------------------------------------------------------------------


def _hash_copy(source, target=None) -> tuple[str, int]:
    """SHA-256 and size of a readable binary file, copying it into ``target`` if given."""
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if target is not None:
            target.write(chunk)
    return digest.hexdigest(), size


def file_digest(path: Path) -> tuple[str, int]:
    with open(path, "rb") as fh:
        return _hash_copy(fh)


def _safe_name(name: str) -> str:
    """A stored name that may be joined under a folder: relative, no '..'."""
    try:
        validate_file_name(name, allow_relative_path=True)
    except SuspiciousFileOperation:
        raise BackupError(f"Refusing the file name {name!r}: it leaves the media folder.") from None
    if name.startswith("/") or "\\" in name:
        raise BackupError(f"Refusing the file name {name!r}: it leaves the media folder.")
    return name


def storage_files(storage: Storage, top: str = "") -> list[str]:
    """Every file name in the storage, walked with ``listdir`` (local disk or a bucket)."""
    try:
        dirs, files = storage.listdir(top)
    except FileNotFoundError:  # MEDIA_ROOT not created yet: nothing uploaded
        return []
    names = [posixpath.join(top, name) if top else name for name in files]
    for folder in dirs:
        names.extend(storage_files(storage, posixpath.join(top, folder) if top else folder))
    return sorted(names)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for folder in PG_BIN_DIRS:
        candidate = Path(folder, name)
        if candidate.is_file():
            return str(candidate)
    raise BackupError(f"{name} was not found on PATH nor in {', '.join(PG_BIN_DIRS)}: install postgresql-client.")


def _pg_env(connection) -> dict[str, str]:
    """libpq's environment for pg_dump/pg_restore, from Django's database settings (the
    password goes in the environment, never on the command line)."""
    s = connection.settings_dict
    _args, extra = connection.client.settings_to_cmd_args_env(s, [])
    env = {**os.environ, **(extra or {})}
    # Connection keywords given in OPTIONS (DATABASE_URL's ?host=...&port=...), then the
    # settings themselves, which win as they do for Django's own connection.
    for keyword, value in s.get("OPTIONS", {}).items():
        if keyword in LIBPQ_ENV:
            env[LIBPQ_ENV[keyword]] = str(value)
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("NAME", "PGDATABASE")):
        if s.get(key):
            env[variable] = str(s[key])
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def _tool_version(tool: str) -> str:
    done = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    return done.stdout.strip()


def _user_tables(names) -> list[str]:
    return sorted(name for name in names if not name.startswith("sqlite_"))


def _count(cursor, quote, tables) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 (introspected table names)
        counts[table] = cursor.fetchone()[0]
    return counts


def table_counts(using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """The number of rows of every table of the database, as it is now."""
    connection = connections[using]
    with connection.cursor() as cursor:
        tables = _user_tables(connection.introspection.table_names(cursor))
        return _count(cursor, connection.ops.quote_name, tables)


def _app_version() -> dict:
    version = commit = None
    try:
        with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as fh:
            version = tomllib.load(fh).get("project", {}).get("version")
    except (OSError, tomllib.TOMLDecodeError):
        pass
    commit = os.environ.get("LOKUS_COMMIT") or None
    git = shutil.which("git")
    if commit is None and git and (Path(settings.BASE_DIR) / ".git").exists():
        done = subprocess.run(  # noqa: S603
            [git, "-C", str(settings.BASE_DIR), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        )
        commit = done.stdout.strip() or None
    return {"version": version, "git_commit": commit}


def _applied_migrations(connection) -> list[str]:
    executor = MigrationExecutor(connection)
    return sorted(f"{app}.{name}" for app, name in executor.loader.applied_migrations)


def _refuse_inside_transaction(connection) -> None:
    if connection.in_atomic_block:
        raise BackupError("Backup and restore cannot run inside a database transaction.")


# -- backup ----------------------------------------------------------------------------------


def _dump_postgresql(connection, path: Path) -> tuple[dict[str, int], dict]:
    pg_dump = _pg_tool("pg_dump")
    connection.ensure_connection()
    connection.set_autocommit(False)
    try:
        with connection.cursor() as cursor:
            # The counts and the dump read the same snapshot.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            tables = _user_tables(connection.introspection.table_names(cursor))
            counts = _count(cursor, connection.ops.quote_name, tables)
            cursor.execute("SHOW server_version")
            server = cursor.fetchone()[0]
            _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={path}"], _pg_env(connection))
    finally:
        connection.rollback()
        connection.set_autocommit(True)
    return counts, {"server_version": server, "pg_dump": _tool_version(pg_dump)}


def _copy_sqlite(connection, path: Path) -> tuple[dict[str, int], dict]:
    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)
        cursor = target.cursor()
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        counts = _count(cursor, connection.ops.quote_name, _user_tables(row[0] for row in cursor.fetchall()))
    finally:
        target.close()
    return counts, {"server_version": sqlite3.sqlite_version}


def create_backup(directory: Path, *, using: str = DEFAULT_DB_ALIAS, storage: Storage | None = None) -> Report:
    """Write a backup into ``directory``, which must not exist or be empty. It is written
    beside it first and moved into place when complete, so a folder with a manifest is
    always a whole backup."""
    started = time.monotonic()
    storage = storage or default_storage
    connection = connections[using]
    vendor = connection.vendor
    if vendor not in DUMP_NAMES:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {vendor}.")
    _refuse_inside_transaction(connection)
    directory = Path(directory).absolute()
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BackupError(f"{directory} already exists and is not an empty folder: choose a new folder.")
    directory.parent.mkdir(parents=True, exist_ok=True)
    partial = directory.with_name(directory.name + ".partial")
    if partial.exists():
        raise BackupError(f"{partial} exists (an interrupted backup?): remove it and try again.")
    partial.mkdir(mode=0o700)
    old_umask = os.umask(0o077)  # a backup holds everything: readable by its owner only
    try:
        dump = partial / DUMP_NAMES[vendor]
        if vendor == "postgresql":
            counts, database = _dump_postgresql(connection, dump)
        else:
            counts, database = _copy_sqlite(connection, dump)
        digest, size = file_digest(dump)
        files = []
        for name in storage_files(storage):
            target = partial / MEDIA_DIR / _safe_name(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with storage.open(name, "rb") as source, open(target, "wb") as out:
                    file_hash, file_size = _hash_copy(source, out)
            except FileNotFoundError:  # removed since it was listed (a health probe's file)
                target.unlink(missing_ok=True)
                continue
            files.append({"name": name, "size": file_size, "sha256": file_hash})
        manifest = {
            "format": FORMAT,
            "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "app": _app_version(),
            "python": platform.python_version(),
            "django": django.get_version(),
            "database": {
                "vendor": vendor,
                **database,
                "dump": dump.name,
                "size": size,
                "sha256": digest,
                "migrations": _applied_migrations(connection),
            },
            "tables": counts,
            "media": {"storage": f"{type(storage).__module__}.{type(storage).__qualname__}", "files": files},
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if directory.exists():
            directory.rmdir()
        partial.rename(directory)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        os.umask(old_umask)
    return Report(manifest, time.monotonic() - started)


# -- restore ---------------------------------------------------------------------------------


def read_manifest(directory: Path) -> dict:
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{path} is missing: not a backup, or an incomplete one.") from None
    except (OSError, ValueError) as error:
        raise BackupError(f"{path} cannot be read: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a backup manifest of format {FORMAT}.")
    database, media = manifest.get("database"), manifest.get("media")
    if (
        not isinstance(database, dict)
        or not {"vendor", "dump", "sha256", "size"} <= set(database)
        or not isinstance(manifest.get("tables"), dict)
        or not isinstance(media, dict)
        or not isinstance(media.get("files"), list)
        or not all(isinstance(f, dict) and {"name", "size", "sha256"} <= set(f) for f in media["files"])
    ):
        raise BackupError(f"{path} is incomplete: it lacks the database, tables or media entries.")
    return manifest


def verify_backup(directory: Path, manifest: dict) -> list[str]:
    """Every difference between the backup folder and its manifest (empty: intact)."""
    directory = Path(directory)
    problems = []
    database = manifest["database"]
    dump = directory / _safe_name(database["dump"])
    if not dump.is_file():
        problems.append(f"the database dump {dump.name} is missing")
    elif file_digest(dump) != (database["sha256"], database["size"]):
        problems.append(f"the database dump {dump.name} does not match its checksum")
    listed = set()
    for entry in manifest["media"]["files"]:
        name = _safe_name(entry["name"])
        listed.add(name)
        path = directory / MEDIA_DIR / name
        if not path.is_file():
            problems.append(f"media file {name} is missing")
        elif file_digest(path) != (entry["sha256"], entry["size"]):
            problems.append(f"media file {name} does not match its checksum")
    media = directory / MEDIA_DIR
    if media.is_dir():
        for path in sorted(media.rglob("*")):
            if path.is_file() and path.relative_to(media).as_posix() not in listed:
                problems.append(f"media file {path.relative_to(media).as_posix()} is not in the manifest")
    return problems


def _clear_postgresql(connection) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for info in connection.introspection.get_table_list(cursor):
            kind = "VIEW" if info.type == "v" else "TABLE"
            cursor.execute(f"DROP {kind} IF EXISTS {quote(info.name)} CASCADE")
        cursor.execute(
            "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema()"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP SEQUENCE IF EXISTS {quote(name)} CASCADE")


def _restore_postgresql(connection, dump: Path) -> None:
    pg_restore = _pg_tool("pg_restore")
    env = _pg_env(connection)
    connection.close()  # pg_restore works on its own connection; Django reconnects after
    _run(
        [
            pg_restore,
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            f"--dbname={env['PGDATABASE']}",
            str(dump),
        ],
        env,
    )


def _restore_sqlite(connection, dump: Path) -> None:
    connection.ensure_connection()
    source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    try:
        source.backup(connection.connection)  # replaces the whole database, page by page
    finally:
        source.close()


def restore_backup(
    directory: Path, *, using: str = DEFAULT_DB_ALIAS, storage: Storage | None = None, force: bool = False
) -> Report:
    """Restore a backup into the database ``using`` and the storage, both empty (``force``:
    whatever they hold is removed first). Refuses, before changing anything, a backup that
    differs from its manifest or that was made on another kind of database."""
    started = time.monotonic()
    storage = storage or default_storage
    connection = connections[using]
    _refuse_inside_transaction(connection)
    directory = Path(directory).absolute()
    manifest = read_manifest(directory)
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(f"This backup holds a {vendor} database; the target database is {connection.vendor}.")
    problems = verify_backup(directory, manifest)
    if problems:
        raise BackupError("The backup does not match its manifest, nothing was restored: " + "; ".join(problems) + ".")

    tables = connection.introspection.table_names()
    present = storage_files(storage)
    if (tables or present) and not force:
        held = []
        if tables:
            held.append(f"the database has {len(tables)} table(s)")
        if present:
            held.append(f"the media storage has {len(present)} file(s)")
        raise BackupError(
            "The target is not empty (" + ", ".join(held) + "). Restore into a new, empty database and media "
            "folder, or pass --force to delete everything in them first."
        )
    notes = []
    if force and (tables or present):
        notes.append(f"--force: removed {len(tables)} table(s) and {len(present)} file(s) first.")
        for name in present:
            storage.delete(name)
        if connection.vendor == "postgresql":
            _clear_postgresql(connection)

    dump = directory / manifest["database"]["dump"]
    if vendor == "postgresql":
        _restore_postgresql(connection, dump)
    else:
        _restore_sqlite(connection, dump)

    for entry in manifest["media"]["files"]:
        with open(directory / MEDIA_DIR / entry["name"], "rb") as fh:
            saved = storage.save(entry["name"], File(fh, name=entry["name"]))
        if saved != entry["name"]:
            raise BackupError(f"The storage stored {entry['name']} as {saved}: it was not empty after all.")

    # Checked again in the target itself: what the database and the storage now hold.
    problems = []
    counts = table_counts(using)
    for table in sorted(set(counts) | set(manifest["tables"])):
        expected, found = manifest["tables"].get(table), counts.get(table)
        if expected != found:
            problems.append(f"table {table}: {found} row(s), the manifest says {expected}")
    for entry in manifest["media"]["files"]:
        with storage.open(entry["name"], "rb") as fh:
            if _hash_copy(fh) != (entry["sha256"], entry["size"]):
                problems.append(f"media file {entry['name']} differs after restore")
    if problems:
        raise BackupError("The restored data does not match the manifest: " + "; ".join(problems) + ".")

    executor = MigrationExecutor(connection)
    unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    unknown = set(manifest["database"].get("migrations", [])) - {f"{a}.{n}" for a, n in executor.loader.graph.nodes}
    if unapplied:
        notes.append(f"This code has {len(unapplied)} migration(s) newer than the backup: run manage.py migrate.")
    if unknown:
        notes.append(
            f"The backup has {len(unknown)} migration(s) this code does not know: use the code it was made with."
        )
    return Report(manifest, time.monotonic() - started, notes)
