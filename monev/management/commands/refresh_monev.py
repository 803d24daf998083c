import time

from django.core.management.base import BaseCommand

from monev import occurrences


class Command(BaseCommand):
    help = (
        "Rebuild the monitoring's stored step occurrences from every plan, lokus, team and report "
        "(after bulk loads or a restore; the nightly job runs it too). Safe to run at any time."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        written = occurrences.rebuild()
        self.stdout.write(f"Step occurrences rebuilt: {written} rows in {time.perf_counter() - started:.1f} s.")
