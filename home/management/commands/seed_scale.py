import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import translation

from home import scale
from monev import occurrences


class Command(BaseCommand):
    help = (
        "Add years of history to the demo data, to measure the pages at scale (development only). "
        "Runs seed_demo first; --plans sets the size (the default is the full size of issue 12: "
        "100,000 plans, about 20,000 lokus and reports, 750,000 audit entries)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--plans", type=int, default=100_000, help="activity plans to create (default 100000)")
        parser.add_argument("--years", type=float, default=4.0, help="years of history before today (default 4)")
        parser.add_argument("--random-seed", type=int, default=12, help="the same seed gives the same history")
        parser.add_argument("--chunk", type=int, default=5000, help="plans written per transaction")

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_scale refuses to run in production mode (DJANGO_MODE=production).")
        plans, years = options["plans"], options["years"]
        if plans < 50 or not 0.1 <= years <= 20:
            raise CommandError("Give at least 50 plans (--plans) over 0.1 to 20 years (--years).")
        if scale.already_seeded():
            raise CommandError(
                f"The scale data is already in this database (users {scale.PREFIX}*); seed a fresh database."
            )
        started = time.perf_counter()
        call_command("seed_demo", stdout=self.stdout)
        demo = time.perf_counter() - started
        self.stdout.write(f"seed_demo: {demo:.1f} s")
        self.stdout.write(f"Seeding {plans} plans over {years:g} years:")
        with translation.override(settings.LANGUAGE_CODE):
            stats = scale.seed(
                scale.Size(plans=plans, years=years),
                seed=options["random_seed"],
                chunk=options["chunk"],
                out=self.stdout.write,
            )
        tick = time.perf_counter()
        # Bulk-created rows send no signals: the monitoring's step occurrences from all of them.
        occurrences_written = occurrences.rebuild()
        self.stdout.write(f"  step occurrences {occurrences_written}: {time.perf_counter() - tick:.1f} s")
        seeded = time.perf_counter() - started - demo
        analyze = 0.0
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # Fresh statistics and visibility map, as a database that has lived for years has
            # (not possible inside a transaction, as in a test).
            tick = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE)")
            analyze = time.perf_counter() - tick
        self.stdout.write("")
        self.stdout.write(f"{'model':<28}{'rows':>10}{'write s':>10}")
        for name, rows in sorted(stats.rows.items(), key=lambda item: -item[1]):
            self.stdout.write(f"{name:<28}{rows:>10}{stats.write[name]:>10.1f}")
        total_rows = sum(stats.rows.values())
        self.stdout.write(
            f"{total_rows} rows: building {stats.build:.1f} s, writing {sum(stats.write.values()):.1f} s, "
            f"in all {seeded:.1f} s ({total_rows / max(seeded, 0.001):,.0f} rows/s); "
            f"VACUUM ANALYZE {analyze:.1f} s; total with seed_demo {time.perf_counter() - started:.1f} s"
        )
        for line in scale.demo_summary():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("Scale data ready."))
