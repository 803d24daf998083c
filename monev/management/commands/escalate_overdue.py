from django.core.management.base import BaseCommand

from monev.escalation import escalate_overdue


class Command(BaseCommand):
    help = (
        "Remind the holder of every step past its due time, and the holder's superior once it is past twice "
        "its standard; each reminder once. Safe to run every few minutes (cron, a systemd timer)."
    )

    def handle(self, *args, **options):
        counts = escalate_overdue()
        self.stdout.write(
            f"Overdue reminders sent: {counts.holder} to holders, {counts.superior} to superiors "
            f"({counts.notified} notifications)."
        )
