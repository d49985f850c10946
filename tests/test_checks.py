from django.conf import settings as django_settings

from aurinko_auth.checks import check_settings


def ids(settings, **overrides):
    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, **overrides}
    return {e.id for e in check_settings()}


def test_settings_pass(settings):
    assert not any(i.startswith("aurinko_auth.E00") for i in ids(settings))


def test_missing_key_refused_outside_the_demo(settings):
    assert "aurinko_auth.E001" in ids(settings, ENCRYPTION_KEYS=[])
    assert "aurinko_auth.E001" not in ids(settings, ENCRYPTION_KEYS=[], DEMO=True)


def test_invalid_key(settings):
    assert "aurinko_auth.E002" in ids(settings, ENCRYPTION_KEYS=["not-a-fernet-key"])


def test_public_url_must_be_https(settings):
    assert "aurinko_auth.E003" in ids(settings, PUBLIC_URL="http://auth.example.com")
    assert "aurinko_auth.E003" not in ids(settings, PUBLIC_URL="https://auth.example.com")
    assert "aurinko_auth.E003" not in ids(settings, PUBLIC_URL="http://127.0.0.1:8000")


def test_duplicate_providers(settings):
    google = "aurinko_auth.providers.google.GoogleProvider"
    assert "aurinko_auth.E005" in ids(settings, PROVIDERS=[google, google])


def test_bad_private_network(settings):
    assert "aurinko_auth.E006" in ids(settings, ALLOWED_PRIVATE_NETWORKS=["10.0.0.0/33"])
    assert "aurinko_auth.E006" not in ids(
        settings, ALLOWED_PRIVATE_NETWORKS=["10.0.0.0/8", "fd00::/8"]
    )


def test_bad_rate(settings):
    assert "aurinko_auth.E007" in ids(settings, PASSWORD_FAILURE_RATE_IP="ten per hour")
    assert "aurinko_auth.E007" not in ids(
        settings, PASSWORD_FAILURE_RATE_IP="5/30s", PASSWORD_FAILURE_RATE_LOGIN=None
    )
