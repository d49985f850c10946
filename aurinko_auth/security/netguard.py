"""SSRF guard for every server a user or an app owner names (webhook receivers, self-hosted
SugarCRM, IMAP, EWS): the host is resolved once, every address it resolves to must be
public unless it lies in ``ALLOWED_PRIVATE_NETWORKS``, and the connection then goes to the
address that was checked, so a second DNS answer cannot point it elsewhere (DNS rebinding).
``pinned_session`` pins one origin; ``GuardedAdapter`` pins each host as requests reach it.

Numeric host forms (``2130706433``, ``0x7f.1``, ``[::1]``) are resolved by the system
resolver like names, so they are checked like any other address.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings as django_settings
from requests.adapters import HTTPAdapter

from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import InvalidRequest

_getaddrinfo = socket.getaddrinfo  # one name, so tests can stand in for DNS
DEFAULT_PORTS = {"http": 80, "https": 443}


class BlockedHost(InvalidRequest):
    """The server may not be contacted; ``code`` says why."""

    code = Code.HOST_PRIVATE_ADDRESS
    default_message = "The server's address is not a public address."


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(n, strict=False)
        for n in aurinko_settings.ALLOWED_PRIVATE_NETWORKS or ()
    ]


def is_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # is_global is False for private, loopback, link-local, shared (100.64/10), reserved,
    # unspecified and documentation ranges; multicast is refused explicitly.
    if ip.is_global and not ip.is_multicast:
        return True
    return any(ip in network for network in allowed_networks())


def resolve(host: str, port: int) -> str:
    """The checked address to connect to for ``host``; BlockedHost otherwise."""
    addresses = _addresses(host, port, "server")
    # Every answer must be allowed: one public record beside a private one is no excuse.
    if not addresses or not all(is_allowed(a) for a in addresses):
        raise BlockedHost()
    return addresses[0]


def _addresses(host: str, port: int, what: str) -> list[str]:
    """Every address ``host`` resolves to (``what`` names it in errors: server, endpoint)."""
    if not host or len(host) > 253 or "\x00" in host:
        raise BlockedHost(f"The {what}'s host name is not valid.", code=Code.HOST_INVALID)
    try:
        infos = _getaddrinfo(host.strip("[]"), port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise BlockedHost(
            f"The {what}'s host name does not resolve.", code=Code.HOST_DNS_ERROR
        ) from None
    return [info[4][0] for info in infos]


def loopback_endpoints_allowed() -> bool:
    """Owner-set endpoints may be on loopback in DEBUG or with ``ALLOW_LOOPBACK_ENDPOINTS``."""
    return bool(django_settings.DEBUG or aurinko_settings.ALLOW_LOOPBACK_ENDPOINTS)


def check_endpoint(url: str) -> str:
    """Refuse an app owner's endpoint override (``BlockedHost``) unless every address its host
    resolves to is public, in ``ALLOWED_PRIVATE_NETWORKS``, or loopback where
    :func:`loopback_endpoints_allowed`: the guard of user-named servers, for owner-named ones
    (else the Direct API relays whatever an internal host answers)."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise BlockedHost("The endpoint must be an http(s) URL.", code=Code.HOST_UNSUPPORTED_URL)
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise BlockedHost("The endpoint has an invalid port.", code=Code.HOST_INVALID) from None
    loopback = loopback_endpoints_allowed()
    addresses = _addresses(parts.hostname, port, "endpoint") or [""]
    for address in addresses:
        if not address or not (is_allowed(address) or (loopback and _is_loopback(address))):
            raise BlockedHost(
                f"The endpoint {parts.scheme}://{parts.netloc} is not a public address "
                "(allow private ones with ALLOWED_PRIVATE_NETWORKS, loopback with "
                "ALLOW_LOOPBACK_ENDPOINTS)."
            )
    return addresses[0]


def _is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def resolve_public_host(url: str) -> str:
    """The checked address of ``url``'s host (http or https URLs only)."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise BlockedHost("The server URL must be an http(s) URL.", code=Code.HOST_UNSUPPORTED_URL)
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise BlockedHost("The server URL has an invalid port.", code=Code.HOST_INVALID) from None
    return resolve(parts.hostname, port)


class PinnedAdapter(HTTPAdapter):
    """Sends requests for ``hostname`` to ``address``, keeping the name for the Host header,
    TLS SNI and certificate verification."""

    def __init__(self, hostname: str, address: str, **kwargs: Any) -> None:
        self.hostname = hostname.lower()
        self.address = address
        super().__init__(**kwargs)

    def build_connection_pool_key_attributes(
        self, request: Any, verify: Any, cert: Any = None
    ) -> tuple[dict, dict]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        if (host_params.get("host") or "").lower() != self.hostname:
            raise BlockedHost("A request left the pinned host.", code=Code.HOST_UNPINNED)
        host_params = {**host_params, "host": self.address}
        if host_params.get("scheme") == "https":
            pool_kwargs = {
                **pool_kwargs,
                "server_hostname": self.hostname,
                "assert_hostname": self.hostname,
            }
        return host_params, pool_kwargs

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        request.headers["Host"] = urlsplit(request.url).netloc
        return super().send(request, **kwargs)


class GuardedAdapter(HTTPAdapter):
    """Pins every host its requests go to, as they go: the first request to a host resolves
    it once (:func:`resolve`: BlockedHost unless allowed) and every connection to that host
    goes to the checked address, keeping the name for the Host header, TLS SNI and
    certificate verification. For clients that choose their URLs themselves (exchangelib's
    endpoints), where a single pinned origin would not do."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.pins: dict[tuple[str, int], str] = {}
        super().__init__(*args, **kwargs)

    def pin(self, host: str, port: int) -> str:
        key = (host.lower().strip("[]"), port)
        if key not in self.pins:
            self.pins[key] = resolve(key[0], port)  # the only DNS lookup for this host
        return self.pins[key]

    def build_connection_pool_key_attributes(
        self, request: Any, verify: Any, cert: Any = None
    ) -> tuple[dict, dict]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        scheme, host = host_params.get("scheme") or "", host_params.get("host") or ""
        if scheme not in DEFAULT_PORTS:
            raise BlockedHost(
                "The server URL must be an http(s) URL.", code=Code.HOST_UNSUPPORTED_URL
            )
        address = self.pin(host, host_params.get("port") or DEFAULT_PORTS[scheme])
        name = host.lower().strip("[]")
        host_params = {**host_params, "host": address}
        if scheme == "https":
            pool_kwargs = {**pool_kwargs, "server_hostname": name, "assert_hostname": name}
        return host_params, pool_kwargs

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        request.headers["Host"] = urlsplit(request.url).netloc
        return super().send(request, **kwargs)


def pinned_session(url: str) -> requests.Session:
    """A session whose requests to ``url``'s origin go to the checked address (and nowhere
    else: no proxies from the environment, no redirects to other hosts through it)."""
    return pin(requests.Session(), url)


def endpoint_session(url: str) -> requests.Session:
    """:func:`pinned_session` for an endpoint checked as :func:`check_endpoint` checks owner-set
    ones (loopback where allowed), pinned to the address that was checked."""
    return pin(requests.Session(), url, address=check_endpoint(url))


def pin(session: requests.Session, url: str, address: str | None = None) -> requests.Session:
    """Pin an existing session (e.g. requests-oauthlib's ``OAuth2Session``) like
    :func:`pinned_session`: resolve ``url``'s host once, check it, and send every request of
    the session to that address; requests to any other origin fail."""
    address = address or resolve_public_host(url)
    parts = urlsplit(url)
    session.trust_env = False
    # Anything but this origin fails instead of leaving the pin (longest prefix wins).
    session.mount("http://", _Refuse())
    session.mount("https://", _Refuse())
    session.mount(f"{parts.scheme}://{parts.netloc}", PinnedAdapter(parts.hostname or "", address))
    return session


class _Refuse(HTTPAdapter):
    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        raise BlockedHost("A request left the pinned host.", code=Code.HOST_UNPINNED)


def pinned_connection(host: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to the checked address of ``host`` (for protocols other than HTTP)."""
    return socket.create_connection((resolve(host, port), port), timeout=timeout)
