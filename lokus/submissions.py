"""Field work sent from the phone's outbox: the captured time checked, and the phone's UUID
recorded in the action's own transaction, so that a resend never does the action twice.

The outbox keeps what an officer did while there was no signal and sends it later: the same
form post, with ``client_uuid`` (made on the phone when the officer did it) and
``captured_at`` (when that was, by the phone's clock). An answer can be lost on weak data, so
the phone may send the same item again. Every field service calls ``start`` once it knows
the user may act on the lokus and before any business rule, and ``Submission.record`` once
its row is made:

- ``start`` claims the UUID first, in a savepoint, under the UNIQUE constraint of
  ``FieldSubmission.client_uuid``. A UUID this user already sent for this action and lokus
  raises ``Replayed`` with the original result, out of the service's transaction, so that
  whatever the resend began is rolled back: nothing is created twice, also when two sends
  race (the second's insert waits for the first's transaction and then fails on the
  constraint). A UUID known for anything else is refused, saying nothing of what it was.
- ``captured_at`` is accepted up to CLOCK_AHEAD in the future and not before the lokus was
  dispatched; otherwise the action is refused with the reason. Without it (a normal post from
  the page) it is the arrival.

A refused action rolls back with its claim, so the officer may correct the item and send it
again with the same UUID."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, models, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import ActionRefused
from lokus.models import FieldSubmission, Lokus, arrived_late

# How far ahead of the server's clock a phone's clock may be.
CLOCK_AHEAD = timedelta(minutes=5)


class Replayed(Exception):
    """The submission was processed before (an earlier send whose answer was lost); nothing
    was done now. ``result`` is the row the first send made or changed. Raised out of the
    service's transaction so that anything the resend began is rolled back."""

    def __init__(self, result: models.Model):
        super().__init__("replayed")
        self.result = result


@dataclass(frozen=True)
class Submission:
    """One field action being done: when the officer did it and when the server got it."""

    captured_at: datetime
    received_at: datetime
    claim: FieldSubmission | None = None

    @property
    def late(self) -> bool:
        return arrived_late(self.captured_at, self.received_at)

    def audit_note(self, note: str = "") -> str:
        """The audit entry's note. The entry's own time is the arrival (the audit log is the
        server's record); an action that arrived late says in its note when it was done."""
        if not self.late:
            return note
        done = _("recorded in the field at %(time)s WIB") % {"time": _when(self.captured_at)}
        return f"{note} ({done})" if note else done

    def record(self, result: models.Model) -> None:
        """Name the row the action made or changed; call inside the same transaction."""
        if self.claim is not None:
            FieldSubmission.objects.filter(pk=self.claim.pk).update(object_id=result.pk)


def _when(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "d M Y H:i")


def _checked(captured_at: datetime, lokus: Lokus, now: datetime) -> datetime:
    if timezone.is_naive(captured_at):
        captured_at = timezone.make_aware(captured_at)
    if captured_at > now + CLOCK_AHEAD:
        raise ActionRefused(
            _(
                "The time of this entry (%(time)s WIB) is ahead of the server's clock. Check the date and "
                "time on your phone."
            )
            % {"time": _when(captured_at)}
        )
    if lokus.dispatched_at is not None and captured_at < lokus.dispatched_at:
        raise ActionRefused(
            _("The time of this entry (%(time)s WIB) is before the team was dispatched (%(dispatched)s WIB).")
            % {"time": _when(captured_at), "dispatched": _when(lokus.dispatched_at)}
        )
    return captured_at


def _claim(user: User, kind: str, lokus: Lokus, client_uuid: uuid.UUID, captured_at, now) -> FieldSubmission:
    try:
        with transaction.atomic():
            return FieldSubmission.objects.create(
                client_uuid=client_uuid, user=user, kind=kind, lokus=lokus, captured_at=captured_at, received_at=now
            )
    except IntegrityError:
        earlier = FieldSubmission.objects.filter(client_uuid=client_uuid).first()
        if earlier is None:
            raise
    if (earlier.user_id, earlier.kind, earlier.lokus_id) != (user.pk, kind, lokus.pk):
        raise ActionRefused(_("This entry cannot be accepted: its identifier is not valid. Record it again."))
    raise Replayed(earlier.result())


def start(
    *,
    user: User,
    kind: str,
    lokus: Lokus,
    client_uuid: uuid.UUID | None = None,
    captured_at: datetime | None = None,
) -> Submission:
    """Begin a field action inside its service's transaction: check the captured time and
    claim the UUID. Raises ``Replayed`` for a UUID this user already sent for this action,
    ActionRefused for a captured time out of range or a UUID known for anything else."""
    now = timezone.now()
    captured_at = now if captured_at is None else _checked(captured_at, lokus, now)
    claim = None if client_uuid is None else _claim(user, kind, lokus, client_uuid, captured_at, now)
    return Submission(captured_at=captured_at, received_at=now, claim=claim)
