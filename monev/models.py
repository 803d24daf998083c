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


class StepOccurrence(models.Model):
    """One time a step of the SOP ran, derived from the timestamps the product keeps
    (``monev.occurrences``, where the rules are): the stored copy the figures aggregate, so
    that a dashboard reads a year of occurrences instead of deriving them from every plan,
    lokus, assignment and report log row on each request.

    Nothing here is entered by anyone: every row is rebuilt from the source rows whenever one
    of them is saved (``monev.occurrences.refresh``, after the commit), and the whole table
    by ``manage.py refresh_monev`` (the nightly job, and after bulk loads). The standard a
    step is measured against is stored with it and rewritten when the Mutu Baku changes, in the
    same transaction, so a changed standard shows at once. The ids are plain numbers (a
    derived table keeps no foreign keys; a refresh replaces a plan's rows in one statement)."""

    kind = models.CharField(max_length=6)  # "step", "member" (one officer's part of 4/5), "chain"
    step = models.PositiveSmallIntegerField()  # 0: the whole chain
    plan_id = models.BigIntegerField()
    lokus_id = models.BigIntegerField(null=True)
    report_id = models.BigIntegerField(null=True)
    # The sub-division the occurrence counts for in the figures per sub-division.
    sub_division_id = models.BigIntegerField(null=True)
    # Whose scope it is in (monev.permissions.plan_scope_q, lokus_scope_q): the sub-division,
    # or every one when ``shared`` (a plan waiting for a decision).
    scope_id = models.BigIntegerField(null=True)
    shared = models.BooleanField(default=False)
    kecamatan_id = models.BigIntegerField(null=True)  # the plan's
    actor_id = models.BigIntegerField(null=True)  # who ended it (NULL while open, or the team)
    started_at = models.DateTimeField(null=True)
    ended_at = models.DateTimeField(null=True)  # NULL while open
    due_at = models.DateTimeField(null=True)  # step 5: the plan's schedule (others: ``minutes``)
    returned = models.BooleanField(default=False)  # ended with a return for revision
    rounds = models.PositiveIntegerField(null=True)  # the chain: the report's revision rounds
    # Derived once at the refresh, for the figures to read instead of computing them per row:
    seconds = models.FloatField(null=True)  # ended - started
    month = models.PositiveIntegerField(null=True)  # year * 100 + month of the end, in WIB
    # The standard (Mutu Baku minutes) the step is measured against: the chain's 20 hours, none
    # for step 5 (due by the plan's schedule, ``due_at``). Rewritten, with ``late`` and
    # ``on_time``, in the same transaction as an edit of the Mutu Baku (monev.occurrences).
    minutes = models.PositiveIntegerField(null=True)
    late = models.FloatField(null=True)  # seconds past the due time at the end (negative: early)
    on_time = models.BooleanField(default=False)  # ended, no later than due

    class Meta:
        verbose_name = _("step occurrence")
        verbose_name_plural = _("step occurrences")
        indexes = [
            models.Index(fields=["plan_id"], name="monev_occ_plan"),
            # The figures read the occurrences that ended within a window, or are open.
            models.Index(fields=["ended_at"], name="monev_occ_ended"),
            # The dashboard's breaches, worst first (monev.metrics._breach_source): the steps
            # ended over their standard, and those without a due time.
            models.Index(
                fields=["-late", "step", "plan_id", "report_id", "started_at"],
                condition=models.Q(kind="step", on_time=False, late__isnull=False),
                name="monev_occ_late",
            ),
            models.Index(
                fields=["ended_at"],
                condition=models.Q(kind="step", on_time=False, late__isnull=True),
                name="monev_occ_untimed",
            ),
            # The chain and the returns (monev.metrics._FEW), a few percent of the rows.
            models.Index(
                fields=["ended_at"], condition=models.Q(step=0) | models.Q(returned=True), name="monev_occ_few"
            ),
            # The times of the officers a page of the dashboard shows (monev.metrics.figure_rows).
            models.Index(fields=["actor_id", "step", "ended_at"], name="monev_occ_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.step} plan {self.plan_id}"
