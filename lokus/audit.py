"""The audit log: the append-only timeline of a plan and its lokus, one entry per step."""

from lokus.models import ActivityPlan, Assignment, AuditEntry, Lokus


def record(
    actor,
    action: str,
    *,
    plan: ActivityPlan,
    lokus: Lokus | None = None,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
) -> AuditEntry:
    """Append one entry, its plan and lokus given. Services say it through ``log``, which
    reads them from the object the step changed. Call inside the action's transaction."""
    return AuditEntry.objects.create(
        plan=plan, lokus=lokus, actor=actor, action=action, from_state=from_state, to_state=to_state, note=note
    )


def log(
    actor,
    action: str,
    subject: ActivityPlan | Lokus | Assignment,
    *,
    from_state: str | None = None,
    note: str = "",
    lokus: Lokus | None = None,
) -> AuditEntry:
    """Record one step taken on ``subject``: the plan, the lokus or the member's assignment
    it changed. The entry's plan and lokus follow from the subject (``lokus`` names the lokus
    a step on a plan made).

    For a state change, ``from_state`` is the state the subject left ("" when it was just
    created) and the state it reached is read from the subject, so call this after the
    transition. Leave ``from_state`` out for a step that changes no state. Call inside the
    action's transaction."""
    if isinstance(subject, ActivityPlan):
        plan, state = subject, subject.status
    elif isinstance(subject, Lokus):
        plan, lokus, state = subject.plan, subject, subject.state
    else:
        plan, lokus, state = subject.lokus.plan, subject.lokus, subject.state
    if from_state is None:
        return record(actor, action, plan=plan, lokus=lokus, note=note)
    return record(actor, action, plan=plan, lokus=lokus, from_state=from_state, to_state=state, note=note)
