from core.enums import LOGGED_CLASSIFICATIONS
from core.models import AccessLog
from core.net import client_ip


def record_access(request, kind: str, lokus_id: int, object_id: int, classification: str) -> None:
    """Append who viewed or downloaded a Terbatas or Rahasia object (the SOP's data
    confidentiality rule: sensitive information only to authorised people, traceably).
    Reading is the point of this log, so a GET may write it."""
    if classification not in LOGGED_CLASSIFICATIONS:
        return
    AccessLog.objects.create(
        user=request.user,
        kind=kind,
        lokus_id=lokus_id,
        object_id=object_id,
        classification=classification,
        ip_address=client_ip(request)[:45],
    )
