from django.core.exceptions import ValidationError
from django.db import models


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
