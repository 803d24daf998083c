"""``manage.py check_dates``: rows whose dates lie outside the sane range (core/validators.py).

Such a value was stored before the range was checked (or past validation, by hand). On
PostgreSQL a BC timestamp cannot even be read back by psycopg2, and every page showing the
row fails; this finds them without reading the values. Fix each row listed, e.g. in
``manage.py shell``, with a date that is right for it."""

from django.core.management.base import BaseCommand, CommandError

from core.validators import EARLIEST, YEARS_AHEAD, out_of_range_rows


class Command(BaseCommand):
    help = "List every stored date outside the sane range (model, pk, field); exit 1 if there is any."

    def handle(self, *args, **options):
        rows = list(out_of_range_rows())
        for model, pk, field in rows:
            self.stdout.write(f"{model._meta.label}\t{pk}\t{field}")
        if rows:
            raise CommandError(
                f"{len(rows)} stored date(s) outside {EARLIEST:%Y-%m-%d} .. {YEARS_AHEAD} years from now."
            )
        self.stdout.write(self.style.SUCCESS("Every stored date is in range."))
