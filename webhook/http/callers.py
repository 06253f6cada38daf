"""Who is asking: the client address, believing X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from webhook.settings import ProxyNetwork


def _trusted(address: str, proxies: Sequence[ProxyNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(
    peer: str | None, forwarded_for: str | None, proxies: Sequence[ProxyNetwork]
) -> str:
    """The address to rate-limit: the peer, or, when the peer is a trusted proxy, the
    rightmost X-Forwarded-For entry that is not itself a trusted proxy."""
    address = peer or "unknown"
    if not forwarded_for or not proxies or not _trusted(address, proxies):
        return address
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        if not hop:
            continue
        address = hop
        if not _trusted(hop, proxies):
            break
    return address


def forwarded_https(
    peer: str | None, forwarded_proto: str | None, proxies: Sequence[ProxyNetwork]
) -> bool:
    """The client reached a trusted proxy over https: the peer is a trusted proxy and the
    X-Forwarded-Proto value it set (the rightmost) is `https`."""
    if not forwarded_proto or not proxies or not _trusted(peer or "", proxies):
        return False
    return forwarded_proto.split(",")[-1].strip().lower() == "https"
