"""Minimal SSRF guard for user-given server URLs (SugarCRM). Same contract as
``aurinko_auth.netguard.resolve_public_host`` being built on the ``password`` branch; the two
are to be unified at merge: resolve once, refuse private/loopback/link-local/multicast/
reserved addresses unless inside ``ALLOWED_PRIVATE_NETWORKS``, return the pinned address."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from aurinko_auth.exceptions import InvalidRequest


def resolve_public_host(url: str) -> str:
    """The one IP address ``url``'s host resolves to, refusing non-public ones."""
    from aurinko_auth.conf import aurinko_settings

    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidRequest("The server URL must be an http(s) URL.")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise InvalidRequest("The server's host name does not resolve.") from None
    allowed = [ipaddress.ip_network(n) for n in
               getattr(aurinko_settings, "ALLOWED_PRIVATE_NETWORKS", ()) or ()]
    address = ipaddress.ip_address(infos[0][4][0])
    if any(address in net for net in allowed):
        return str(address)
    if (address.is_private or address.is_loopback or address.is_link_local
            or address.is_multicast or address.is_reserved or address.is_unspecified):
        raise InvalidRequest("The server's address is not a public address.")
    return str(address)
