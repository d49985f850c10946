"""Encryption at rest: ciphertext in the database, rotation, missing keys."""

from __future__ import annotations

import pytest
from django.core import serializers
from django.db import connection

from aurinko_auth import crypto
from aurinko_auth.crypto import DecryptionError
from aurinko_auth.models import Account

KEY_A = crypto.generate_key()
KEY_B = crypto.generate_key()


@pytest.fixture
def keys(settings):
    def use(*keys: str) -> None:
        settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "ENCRYPTION_KEYS": list(keys)}

    return use


def raw_credentials(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT credentials FROM {Account._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_credentials_are_ciphertext_in_db(app_factory, account_factory):
    app, _ = app_factory()
    acc = account_factory(app, credentials={"access_token": "secret-at-123",
                                            "refresh_token": "secret-rt-456"})
    raw = raw_credentials(acc.pk)
    assert raw and "secret-at-123" not in raw and "secret-rt-456" not in raw
    assert raw.startswith("gAAAAA")  # Fernet token
    assert Account.objects.get(pk=acc.pk).credentials["refresh_token"] == "secret-rt-456"


def test_round_trip():
    assert crypto.decrypt(crypto.encrypt("héllo")) == "héllo"
    assert crypto.encrypt("x") != crypto.encrypt("x")


def test_rotation_with_multifernet(keys, app_factory, account_factory):
    keys(KEY_B)
    app, _ = app_factory()
    acc = account_factory(app, credentials={"refresh_token": "rt-under-b"})
    old_raw = raw_credentials(acc.pk)
    keys(KEY_A, KEY_B)
    assert Account.objects.get(pk=acc.pk).credentials == {"refresh_token": "rt-under-b"}
    rotated = crypto.rotate(old_raw)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Account._meta.db_table} SET credentials = %s WHERE id = %s",
                       [rotated, acc.pk])
    keys(KEY_A)
    assert Account.objects.get(pk=acc.pk).credentials == {"refresh_token": "rt-under-b"}
    with pytest.raises(DecryptionError):
        crypto.decrypt(old_raw)


def test_missing_key_raises_decryption_error(keys, app_factory, account_factory):
    keys(KEY_B)
    app, _ = app_factory()
    acc = account_factory(app, credentials={"refresh_token": "rt"})
    keys(KEY_A)
    with pytest.raises(DecryptionError, match="No configured encryption key"):
        Account.objects.get(pk=acc.pk)
    with pytest.raises(DecryptionError):
        crypto.rotate(raw_credentials(acc.pk))


def test_dumpdata_never_reveals_plaintext(app_factory, account_factory):
    app, _ = app_factory()
    account_factory(app, credentials={"refresh_token": "plaintext-rt-789"})
    out = serializers.serialize("json", Account.objects.all())
    assert "plaintext-rt-789" not in out
    assert "<encrypted>" in out


def test_tokens_are_hashed_and_checked():
    token = crypto.new_token(crypto.PREFIX_ACCOUNT_TOKEN)
    assert token.startswith("aat_") and len(token) > 40
    stored = crypto.hash_token(token)
    assert token not in stored
    assert crypto.check_token(token, stored)
    assert not crypto.check_token(token + "x", stored)
