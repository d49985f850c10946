"""The SSRF guard: refused before any socket is opened, and pinned connections that keep the
host name for Host, SNI and certificate checks (no DNS rebinding)."""

from __future__ import annotations

import http.server
import ipaddress
import socket
import ssl
import threading
from unittest import mock

import pytest
import requests
from django.conf import settings as django_settings

from aurinko_auth.security import netguard
from tests.peers.certs import self_signed

NAME = "hooks.example.test"  # .test never resolves: only the pin can reach it


@pytest.fixture
def no_sockets(monkeypatch):
    """Any attempt to connect fails loudly: the guard must refuse before that."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"a socket was opened: {args!r}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.0.0.1",
        "169.254.169.254",
        "[::1]",
        "2130706433",
        "0x7f.1",
        "0177.0.0.1",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "[::ffff:127.0.0.1]",
        "[fe80::1]",
        "localhost",
        "192.168.1.1",
        "172.16.0.1",
    ],
)
def test_private_and_special_addresses_are_refused(no_sockets, host):
    with pytest.raises(netguard.BlockedHost) as refused:
        netguard.resolve_public_host(f"https://{host}/x")
    assert refused.value.code == "host.private_address"


def test_a_name_that_resolves_to_a_private_address_is_refused(no_sockets):
    answers = [(2, 1, 6, "", ("93.184.216.34", 443)), (2, 1, 6, "", ("10.1.2.3", 443))]
    with (
        mock.patch.object(netguard, "_getaddrinfo", return_value=answers),
        pytest.raises(netguard.BlockedHost),
    ):
        netguard.resolve_public_host(f"https://{NAME}/")  # one private answer is enough


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/", "host.unsupported_url"),
        ("https:///x", "host.unsupported_url"),
        ("https://example.com:99999/", "host.invalid"),
        (f"https://{'a' * 300}.com/", "host.invalid"),
    ],
)
def test_bad_urls(no_sockets, url, code):
    with pytest.raises(netguard.BlockedHost) as refused:
        netguard.resolve_public_host(url)
    assert refused.value.code == code


def test_public_address_passes(no_sockets):
    with mock.patch.object(
        netguard, "_getaddrinfo", return_value=[(2, 1, 6, "", ("93.184.216.34", 443))]
    ):
        assert netguard.resolve_public_host(f"https://{NAME}/") == "93.184.216.34"


@pytest.fixture
def loopback_allowed(settings):
    settings.AURINKO_AUTH = {
        **django_settings.AURINKO_AUTH,
        "ALLOWED_PRIVATE_NETWORKS": ["127.0.0.1/32"],
    }


class Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        self.server.seen.append(self.headers["Host"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def serve(context: ssl.SSLContext | None = None):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.seen = []
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_pinned_session_connects_to_the_checked_address(loopback_allowed):
    server = serve()
    try:
        url = f"http://{NAME}:{server.server_port}/hook"
        with mock.patch.object(
            netguard, "_getaddrinfo", return_value=[(2, 1, 6, "", ("127.0.0.1", 0))]
        ):
            session = netguard.pinned_session(url)
        # DNS now knows nothing of the name: only the pinned address can have been used.
        assert session.post(url, data=b"{}", timeout=5).status_code == 204
        assert server.seen == [f"{NAME}:{server.server_port}"]
        with pytest.raises(netguard.BlockedHost):  # and it goes nowhere else
            session.post("http://other.example.test/", timeout=5)
    finally:
        server.shutdown()


def certificate(tmp_path, name: str):
    made = self_signed(tmp_path, (name,), addresses=(), stem=name)
    return made.cert_path, made.key_path


@pytest.mark.parametrize(("served_name", "ok"), [(NAME, True), ("other.example.test", False)])
def test_tls_checks_the_name_not_the_address(loopback_allowed, tmp_path, served_name, ok):
    cert_path, key_path = certificate(tmp_path, served_name)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server = serve(context)
    try:
        url = f"https://{NAME}:{server.server_port}/hook"
        with mock.patch.object(
            netguard, "_getaddrinfo", return_value=[(2, 1, 6, "", ("127.0.0.1", 0))]
        ):
            session = netguard.pinned_session(url)
        if ok:
            response = session.post(url, data=b"{}", timeout=5, verify=str(cert_path))
            assert response.status_code == 204
            assert server.seen == [f"{NAME}:{server.server_port}"]
        else:
            with pytest.raises(requests.exceptions.SSLError):
                session.post(url, data=b"{}", timeout=5, verify=str(cert_path))
    finally:
        server.shutdown()


def test_allowed_networks_let_private_addresses_through(settings):
    settings.AURINKO_AUTH = {
        **django_settings.AURINKO_AUTH,
        "ALLOWED_PRIVATE_NETWORKS": ["10.0.0.0/8"],
    }
    assert netguard.resolve_public_host("https://10.20.30.40/") == "10.20.30.40"
    assert ipaddress.ip_address("10.20.30.40") in netguard.allowed_networks()[0]


# --- GuardedAdapter: every host pinned as requests reach it ----------------------------------


def guarded_session():
    session = requests.Session()
    session.trust_env = False
    adapter = netguard.GuardedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session, adapter


def test_guarded_adapter_resolves_each_host_once_and_uses_the_checked_address(loopback_allowed):
    server = serve()
    try:
        session, adapter = guarded_session()
        answers = {NAME: "127.0.0.1", "other.example.test": "10.0.0.1"}

        def dns(host, port, *args, **kwargs):
            return [(2, 1, 6, "", (answers[host], port))]

        with mock.patch.object(netguard, "_getaddrinfo", side_effect=dns) as lookups:
            for _ in range(3):
                response = session.post(f"http://{NAME}:{server.server_port}/hook", timeout=5)
                assert response.status_code == 204
            assert lookups.call_count == 1  # later requests reuse the pin
            with (
                mock.patch.object(
                    socket, "create_connection", side_effect=AssertionError("a socket was opened")
                ),
                pytest.raises(netguard.BlockedHost),
            ):
                session.post(f"http://other.example.test:{server.server_port}/", timeout=5)
        assert server.seen == [f"{NAME}:{server.server_port}"] * 3
        assert adapter.pins == {(NAME, server.server_port): "127.0.0.1"}
    finally:
        server.shutdown()


@pytest.mark.parametrize(("served_name", "ok"), [(NAME, True), ("other.example.test", False)])
def test_guarded_adapter_checks_the_certificate_against_the_name(
    loopback_allowed, tmp_path, served_name, ok
):
    cert_path, key_path = certificate(tmp_path, served_name)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server = serve(context)
    try:
        session, _ = guarded_session()
        url = f"https://{NAME}:{server.server_port}/hook"
        with mock.patch.object(
            netguard, "_getaddrinfo", return_value=[(2, 1, 6, "", ("127.0.0.1", 0))]
        ):
            if ok:
                assert session.post(url, timeout=5, verify=str(cert_path)).status_code == 204
                assert server.seen == [f"{NAME}:{server.server_port}"]
            else:
                with pytest.raises(requests.exceptions.SSLError):
                    session.post(url, timeout=5, verify=str(cert_path))
    finally:
        server.shutdown()


def test_guarded_adapter_refuses_private_hosts_before_any_socket(no_sockets):
    session, _ = guarded_session()
    for host in ("127.0.0.1", "169.254.169.254", "[::1]", "2130706433", "0x7f.1"):
        with pytest.raises(netguard.BlockedHost):
            session.get(f"https://{host}/", timeout=5)
