from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import translation

from accounts import demo as accounts_demo
from lokus import demo as lokus_demo
from monev import demo as monev_demo
from monev import occurrences
from reports import demo as reports_demo

# Each part of the product seeds its demo data in turn, given the demo users by username.
# monev's is four months of history, for the dashboard and the map.
SEEDERS = [lokus_demo.seed, reports_demo.seed, monev_demo.seed]


class Command(BaseCommand):
    help = "Create or refresh the demo users, agencies and sample data (development only)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run in production mode (DJANGO_MODE=production).")
        # Demo notifications are stored in Indonesian and not e-mailed to invented addresses.
        with (
            translation.override(settings.LANGUAGE_CODE),
            override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
            transaction.atomic(),
        ):
            users = accounts_demo.seed()
            for seeder in SEEDERS:
                seeder(users)
            # monev's history is bulk-created: the step occurrences are rebuilt from it.
            occurrences.rebuild()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {len(users)} users, password from DEMO_PASSWORD."))
