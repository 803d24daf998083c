"""The client's network address, read behind the reverse proxies this installation trusts."""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(request) -> str:
    """The address of the client that sent the request.

    X-Forwarded-For is read only when the direct peer (REMOTE_ADDR) is one of
    ``settings.TRUSTED_PROXIES``: anyone who reaches gunicorn directly could write any
    address there, and a new address on every attempt would never be locked out. Behind
    trusted proxies the header is walked from the right, past the addresses of the trusted
    proxies themselves, to the first address that is not one: everything left of it was
    written by the client. A malformed entry means the chain cannot be read, and the peer's
    own address is used."""
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return ""  # not an IP peer (a Unix socket): no address to trust or to store
    trusted = _networks(tuple(settings.TRUSTED_PROXIES))
    if not _is_trusted(peer, trusted):
        return str(peer)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not forwarded.strip():
        return str(peer)
    hop = peer
    for entry in reversed(forwarded.split(",")):
        hop = _address(entry)
        if hop is None:
            return str(peer)
        if not _is_trusted(hop, trusted):
            return str(hop)
    # Every hop is a trusted proxy (a request from inside the proxies' own network): the
    # farthest one is the client.
    return str(hop)


def peer_is_trusted_proxy(request) -> bool:
    """Whether the direct peer is one of ``settings.TRUSTED_PROXIES``, whose headers
    (X-Forwarded-For, X-Request-ID) may be believed."""
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    return peer is not None and _is_trusted(peer, _networks(tuple(settings.TRUSTED_PROXIES)))


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket ("::ffff:203.0.113.7") is the same client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address, trusted: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as error:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {entry!r} is not an IP address or network (e.g. 127.0.0.1 or 10.0.0.0/8)."
            ) from error
    return tuple(networks)
