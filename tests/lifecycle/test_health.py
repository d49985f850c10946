"""GET /v1/health."""

from __future__ import annotations

from unittest import mock

from django.db import DatabaseError


def test_health_ok(client, db):
    r = client.get("/v1/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-cache" in r["Cache-Control"]
    assert client.post("/v1/health").status_code == 405


def test_health_reports_a_broken_database_without_details(client, db):
    with mock.patch(
        "aurinko_auth.health.connection.cursor",
        side_effect=DatabaseError("password authentication failed for secret"),
    ):
        r = client.get("/v1/health")
    assert r.status_code == 503
    assert r.json() == {"status": "error", "database": "error", "cache": "ok"}
    assert b"secret" not in r.content
