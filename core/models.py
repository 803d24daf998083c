"""Base models shared by every app, and the access log."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField

from core.enums import Classification


class AppendOnlyQuerySet(models.QuerySet):
    """For logs that are evidence: rows are added, never changed or removed, not even in bulk."""

    def update(self, **kwargs):
        raise ValidationError("This log is append-only.")

    def delete(self):
        raise ValidationError("This log is append-only.")


class AppendOnlyModel(models.Model):
    """A model whose rows are written once: saving an existing row or deleting one refuses."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError("This log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("This log is append-only.")


class StateModelMixin(ConcurrentTransitionMixin):
    """For models with a protected django-fsm state field.

    ``full_clean()`` leaves the protected state fields alone: Django's ``clean_fields()``
    assigns every field it cleans, which django-fsm refuses for a protected field (only a
    transition may change the state), so ``full_clean()`` would always fail. The
    concurrency mixin makes a save whose state changed under it fail (a lost race)."""

    def clean_fields(self, exclude=None):
        protected = {f.name for f in self._meta.concrete_fields if isinstance(f, FSMField) and f.protected}
        super().clean_fields(exclude={*(exclude or ()), *protected})


class AccessLog(AppendOnlyModel):
    """Who viewed or downloaded a Terbatas or Rahasia object, and when (append-only).

    ``lokus_id`` names the lokus the object belongs to (its need-to-know scope) as a plain
    number: this app sits below the lokus app and does not know its tables."""

    class Kind(models.TextChoices):
        LOKUS = "lokus", _("Lokus page")
        ASSIGNMENT = "assignment", _("Assignment page")
        REPORT = "report", _("Activity report page")
        FILE = "file", _("Field file")
        DOCUMENT = "document", _("Official document (PDF)")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("what"), max_length=20, choices=Kind.choices)
    lokus_id = models.PositiveBigIntegerField(_("lokus"), db_index=True)
    object_id = models.PositiveBigIntegerField()
    classification = models.CharField(_("classification"), max_length=10, choices=Classification.choices)
    ip_address = models.CharField(_("address"), max_length=45, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("access record")
        verbose_name_plural = _("access records")
        ordering = ["-created_at", "-pk"]
        permissions = [("view_access_records", "Can see who viewed classified objects")]
        # The access log, newest first, a page at a time.
        indexes = [models.Index(fields=["-created_at", "-id"], name="access_newest_first")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.kind} {self.object_id}"
