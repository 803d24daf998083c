from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import AppendOnlyModel


class ReminderSubject(models.TextChoices):
    """What a step occurrence belongs to: step 2 to the plan, steps 3-15 to the lokus (its
    team report is one-to-one with it)."""

    PLAN = "plan", _("activity plan")
    LOKUS = "lokus", _("lokus")


class ReminderLevel(models.TextChoices):
    HOLDER = "holder", _("holder: past the due time")
    SUPERIOR = "superior", _("superior: past twice the standard")


class Reminder(AppendOnlyModel):
    """One overdue reminder, sent once per occurrence of a step and level
    (``monev.escalation.escalate_overdue``). The row is inserted in the same transaction as
    the notifications, before them; the unique constraint makes a second job that reaches
    the same occurrence at the same moment skip it, so nobody is reminded twice.

    An occurrence is known by what it belongs to (``subject``, ``object_id``), the SOP step
    and the moment its clock started (``started_at``): a report returned and sent again is a
    new occurrence of the step. Holds no field content (no titles), only numbers and times."""

    subject = models.CharField(_("subject"), max_length=10, choices=ReminderSubject.choices)
    object_id = models.PositiveBigIntegerField(_("object"))
    step = models.PositiveSmallIntegerField(_("step"))
    started_at = models.DateTimeField(_("step started at"))
    level = models.CharField(_("level"), max_length=10, choices=ReminderLevel.choices)
    # When this level was reached: the due time (holder) or start + twice the standard.
    due_at = models.DateTimeField(_("reached at"))
    recipients = models.PositiveIntegerField(_("people notified"))
    # The job run that inserted the row: a run reads back its own rows to learn which of
    # its reminders were not already sent by another run.
    run = models.UUIDField(editable=False, db_index=True)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("overdue reminder")
        verbose_name_plural = _("overdue reminders")
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "object_id", "step", "started_at", "level"], name="monev_reminder_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.object_id} step {self.step} {self.level}"
