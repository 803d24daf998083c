from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by 'manage.py backup' into an empty database and media storage, "
        "checking every checksum of its manifest before and the row counts and files after."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="the backup folder (with manifest.json)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")
        parser.add_argument(
            "--force",
            action="store_true",
            help="delete every table of the target database and every file of the media storage first",
        )

    def handle(self, *args, **options):
        try:
            report = restore_backup(Path(options["directory"]), using=options["database"], force=options["force"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        for note in report.notes:
            self.stdout.write(self.style.WARNING(note))
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {options['directory']} (made {report.manifest['created_at']}): "
                f"{len(report.manifest['tables'])} tables, {report.rows} rows, {report.files} files, "
                f"checked against the manifest, in {report.seconds:.1f} s."
            )
        )
