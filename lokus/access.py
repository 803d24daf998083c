from lokus.enums import Classification
from lokus.models import AccessLog, Lokus

LOGGED = {Classification.TERBATAS, Classification.RAHASIA}


def record_access(request, kind: str, lokus: Lokus, object_id: int, classification: str) -> None:
    """Append who viewed or downloaded a Terbatas or Rahasia object (the SOP's data
    confidentiality rule: sensitive information only to authorised people, traceably)."""
    if classification not in LOGGED:
        return
    from accounts.security import client_ip

    AccessLog.objects.create(
        user=request.user,
        kind=kind,
        lokus=lokus,
        object_id=object_id,
        classification=classification,
        ip_address=client_ip(request)[:45],
    )
