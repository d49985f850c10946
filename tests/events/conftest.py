from __future__ import annotations

import ipaddress
import socket

import pytest

from tests.peers.webhook_receiver import Receiver


def _loopback(host: object) -> bool:
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        return host == "localhost"


@pytest.fixture
def loopback_only(monkeypatch):
    """Fail loudly on any connection or resolution of a non-loopback address."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection

    def getaddrinfo(host, *args, **kwargs):
        if not _loopback(host):
            raise AssertionError(f"test tried to resolve non-loopback host {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def create_connection(address, *args, **kwargs):
        if not _loopback(address[0]):
            raise AssertionError(f"test tried to connect to {address!r}")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)


@pytest.fixture
def receiver(loopback_only, settings):
    """A started webhook receiver on loopback; loopback allowed as a private network."""
    settings.AURINKO_AUTH = {
        **settings.AURINKO_AUTH,
        "ALLOWED_PRIVATE_NETWORKS": ["127.0.0.0/8"],
        "WEBHOOK_TIMEOUT": (2.0, 0.5),
        "WEBHOOK_MAX_ATTEMPTS": 3,
    }
    peer = Receiver().start()
    yield peer
    peer.stop()
