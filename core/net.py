from django.conf import settings


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the address the trusted reverse proxy saw
    (the last TRUSTED_PROXY_COUNT hops of X-Forwarded-For are ours)."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops and (forwarded := request.META.get("HTTP_X_FORWARDED_FOR")):
        chain = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(chain) >= hops:
            return chain[-hops]
    return request.META.get("REMOTE_ADDR", "")
