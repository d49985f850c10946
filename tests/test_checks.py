from __future__ import annotations

from aurinko_auth.checks import check_settings


def ids(settings, **over):
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, **over}
    return {m.id for m in check_settings()}


def test_valid_settings_pass(settings):
    assert ids(settings) == set()


def test_missing_key_is_e001(settings):
    assert "aurinko_auth.E001" in ids(settings, ENCRYPTION_KEYS=[], DEMO=False)


def test_missing_key_allowed_in_demo(settings):
    assert ids(settings, ENCRYPTION_KEYS=[], DEMO=True) == set()


def test_invalid_key_is_e002(settings):
    assert ids(settings, ENCRYPTION_KEYS=["not-a-key"]) == {"aurinko_auth.E002"}


def test_non_https_public_url_is_e003(settings):
    assert ids(settings, PUBLIC_URL="http://auth.example.com") == {"aurinko_auth.E003"}
    assert ids(settings, PUBLIC_URL="http://127.0.0.1:8000") == set()
