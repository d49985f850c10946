"""Encryption at rest (MultiFernet, rotation) and our own hashed tokens."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core import serializers
from django.db import connection

from aurinko_auth import crypto
from aurinko_auth.crypto import DecryptionError
from aurinko_auth.models import Account, ProviderConfig


def raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def with_keys(settings, *keys: str) -> None:
    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, "ENCRYPTION_KEYS": list(keys)}


def test_provider_secrets_are_ciphertext_in_the_database(
    app_factory, account_factory, provider_config_factory
):
    app, _ = app_factory()
    config = provider_config_factory(app, client_secret="GOCSPX-very-secret")
    account = account_factory(
        app, credentials={"access_token": "ya29.plain", "refresh_token": "1//plain"}
    )
    stored = raw_column("aurinko_auth_account", "credentials", account.pk)
    assert "ya29.plain" not in stored and "1//plain" not in stored
    assert stored.startswith("gAAAAA")  # a Fernet token
    assert "GOCSPX" not in raw_column("aurinko_auth_providerconfig", "client_secret", config.pk)
    assert Account.objects.get(pk=account.pk).credentials["refresh_token"] == "1//plain"
    assert ProviderConfig.objects.get(pk=config.pk).client_secret == "GOCSPX-very-secret"


def test_key_rotation_round_trip(settings, app_factory, account_factory):
    old = django_settings.AURINKO_AUTH["ENCRYPTION_KEYS"][0]
    new = Fernet.generate_key().decode()
    app, _ = app_factory()
    account = account_factory(app, credentials={"access_token": "at"})
    with_keys(settings, new, old)  # the new key encrypts, both decrypt
    assert Account.objects.get(pk=account.pk).credentials == {"access_token": "at"}
    stored = raw_column("aurinko_auth_account", "credentials", account.pk)
    rotated = crypto.rotate(stored)
    Account.objects.filter(pk=account.pk).update(credentials={"access_token": "at"})
    with_keys(settings, new)  # old key removed
    assert crypto.decrypt(rotated) == '{"access_token":"at"}'
    assert Account.objects.get(pk=account.pk).credentials == {"access_token": "at"}


def test_a_removed_key_fails_clearly(settings):
    ciphertext = crypto.encrypt("secret")
    with_keys(settings, Fernet.generate_key().decode())
    with pytest.raises(DecryptionError):
        crypto.decrypt(ciphertext)


def test_serialisation_never_reveals_plaintext(app_factory, account_factory):
    app, _ = app_factory()
    account = account_factory(app, credentials={"refresh_token": "1//never-dump"})
    dumped = serializers.serialize("json", [account])
    assert "1//never-dump" not in dumped


def test_tokens_have_prefixes_and_are_hashed():
    token = crypto.new_token(crypto.PREFIX_ACCOUNT_TOKEN)
    assert token.startswith("aat_") and len(token) > 40
    assert crypto.hash_token(token) != token and len(crypto.hash_token(token)) == 64
    assert crypto.check_token(token, crypto.hash_token(token))
    assert not crypto.check_token(token + "x", crypto.hash_token(token))


def test_demo_key_is_derived_only_in_demo(settings):
    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, "ENCRYPTION_KEYS": [], "DEMO": True}
    assert crypto.decrypt(crypto.encrypt("x")) == "x"
    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, "ENCRYPTION_KEYS": [], "DEMO": False}
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")
