"""Encrypted model fields: NULL/empty stay visible, JSON round trip, no plaintext export."""

from __future__ import annotations

from django.core import serializers
from django.db import connection

from aurinko_auth.models import Account, ProviderConfig


def raw(model, column: str, pk: int):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_encrypted_text_field(app_factory, provider_config_factory):
    app, _ = app_factory()
    config = provider_config_factory(app, client_secret="GOCSPX-plain-secret")
    stored = raw(ProviderConfig, "client_secret", config.pk)
    assert "GOCSPX" not in stored and stored.startswith("gAAAAA")
    assert ProviderConfig.objects.get().client_secret == "GOCSPX-plain-secret"
    out = serializers.serialize("json", ProviderConfig.objects.all())
    assert "GOCSPX-plain-secret" not in out


def test_empty_values_stay_empty(app_factory, provider_config_factory, account_factory):
    app, _ = app_factory()
    config = provider_config_factory(app, client_secret="")
    assert raw(ProviderConfig, "client_secret", config.pk) == ""
    acc = account_factory(app, credentials={})
    assert raw(Account, "credentials", acc.pk) == ""
    assert Account.objects.get(pk=acc.pk).credentials == {}


def test_json_round_trip(app_factory, account_factory):
    app, _ = app_factory()
    creds = {"access_token": "a", "nested": {"x": [1, 2]}, "unicode": "žluťoučký"}
    acc = account_factory(app, credentials=creds)
    assert Account.objects.get(pk=acc.pk).credentials == creds
    assert "žluť" not in raw(Account, "credentials", acc.pk)
