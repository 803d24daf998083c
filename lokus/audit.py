from lokus.models import ActivityPlan, AuditEntry, Lokus


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
    """Append one entry to the audit log (the timeline). Call inside the action's transaction."""
    return AuditEntry.objects.create(
        plan=plan, lokus=lokus, actor=actor, action=action, from_state=from_state, to_state=to_state, note=note
    )
