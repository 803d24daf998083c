from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import demo as accounts_demo

# Later parts of the product append their own demo seeders (called in order, each
# receiving the dict of demo users) here.
SEEDERS = []


class Command(BaseCommand):
    help = "Create or refresh the demo users, agencies and sample data (development only)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run in production mode (DJANGO_MODE=production).")
        with transaction.atomic():
            users = accounts_demo.seed()
            for seeder in SEEDERS:
                seeder(users)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {len(users)} users, password from DEMO_PASSWORD."))
