from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from core.backup import BackupError, create_backup


class Command(BaseCommand):
    help = (
        "Write one consistent backup into a new folder: the database (pg_dump custom format on "
        "PostgreSQL, an online copy on SQLite), every uploaded file and manifest.json."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="a folder that does not exist yet (or is empty)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")

    def handle(self, *args, **options):
        try:
            report = create_backup(Path(options["directory"]), using=options["database"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {options['directory']}: {len(report.manifest['tables'])} tables, "
                f"{report.rows} rows, {report.files} files, {report.bytes / 1024 / 1024:.1f} MiB "
                f"in {report.seconds:.1f} s."
            )
        )
