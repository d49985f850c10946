import pytest
from django.conf import settings as django_settings
from django.core import checks
from django.core.management import call_command, execute_from_command_line

from aurinko_auth import checks as our_checks
from aurinko_auth.checks import check_settings
from aurinko_auth.conf import DEFAULTS
from aurinko_auth.settings_checks import VALIDATORS


def ids(settings, **overrides):
    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, **overrides}
    return {e.id for e in check_settings()}


def test_settings_pass(settings):
    assert not any(i.startswith("aurinko_auth.E00") for i in ids(settings))


def messages(settings, check=check_settings, **overrides):
    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, **overrides}
    return {e.id: e for e in check()}


def test_missing_key_warns_and_deploy_refuses(settings):
    """Without a key, commands that need none (makemigrations, migrate) still run; the
    deploy check refuses it. The hint names the setting, not the demo's variable."""
    found = messages(settings, ENCRYPTION_KEYS=[])
    assert found["aurinko_auth.W001"].level == checks.WARNING
    assert 'AURINKO_AUTH["ENCRYPTION_KEYS"]' in found["aurinko_auth.W001"].hint
    assert not any(m.is_serious() for m in found.values()), found
    deploy = messages(settings, our_checks.check_deploy, ENCRYPTION_KEYS=[])
    assert deploy["aurinko_auth.E001"].is_serious()
    assert "AURINKO_ENCRYPTION_KEYS" not in str(deploy["aurinko_auth.E001"].hint)
    assert "aurinko_auth.W001" not in ids(settings, ENCRYPTION_KEYS=[], DEMO=True)
    assert "aurinko_auth.E001" not in messages(
        settings, our_checks.check_deploy, ENCRYPTION_KEYS=[], DEMO=True
    )


@pytest.mark.django_db
def test_makemigrations_runs_without_a_key(settings):
    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, "ENCRYPTION_KEYS": []}
    call_command("makemigrations", "aurinko_auth", "--check", "--dry-run", verbosity=0)


def test_keygen_runs_with_the_readme_placeholders(settings, capsys):
    settings.AURINKO_AUTH = {
        **django_settings.AURINKO_AUTH,
        "ENCRYPTION_KEYS": ["<Fernet key>", "<older key>"],
    }
    assert "aurinko_auth.E002" in ids(settings, ENCRYPTION_KEYS=["<Fernet key>"])
    # As from the command line (call_command skips checks): checks run where commands ask.
    execute_from_command_line(["manage.py", "aurinko_keygen"])
    assert len(capsys.readouterr().out.strip()) == 44


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


def test_every_setting_has_a_validator():
    assert set(VALIDATORS) == set(DEFAULTS)


def test_default_settings_pass_the_value_checks(settings):
    assert not our_checks.check_setting_values()
    settings.AURINKO_AUTH = {}
    assert not our_checks.check_setting_values()


@pytest.mark.parametrize(
    "name, value",
    [
        ("HTTP_TIMEOUT", "10"),
        ("HTTP_TIMEOUT", (5, 20, 30)),
        ("HTTP_TIMEOUT", 0),
        ("DIRECT_TIMEOUT", [5, None]),
        ("CORS_EXTRA_ORIGINS", "https://app.example.com"),
        ("CORS_EXTRA_ORIGINS", ["https://app.example.com/path"]),
        ("CORS_EXTRA_ORIGINS", ["app.example.com"]),
        ("ENCRYPTION_KEYS", "a-single-string"),
        ("ALLOWED_PRIVATE_NETWORKS", "10.0.0.0/8"),
        ("STATE_TTL", "600"),
        ("CODE_TTL", True),
        ("DEMO", "yes"),
        ("RATE_LIMIT_CACHE", "no-such-cache"),
        ("AUTH_CACHE", "no-such-cache"),
        ("FLOW_COOKIE_SAMESITE", "lax"),
        ("SESSION_COOKIE_SECURE", 1),
        ("DIRECT_RATE_LIMIT_APP", 3000),
        ("PROVIDERS", "aurinko_auth.providers.google.GoogleProvider"),
    ],
)
def test_a_typo_fails_check(settings, name, value):
    found = [
        m for m in messages(settings, our_checks.check_setting_values, **{name: value}).values()
    ]
    assert [m.id for m in found] == ["aurinko_auth.E010"], found
    assert f'AURINKO_AUTH["{name}"]' in found[0].msg
    assert found[0].is_serious()


@pytest.mark.parametrize(
    "name, value",
    [
        ("HTTP_TIMEOUT", 10),
        ("HTTP_TIMEOUT", 7.5),
        ("HTTP_TIMEOUT", [3, 10]),
        ("CORS_EXTRA_ORIGINS", ["https://app.example.com", "http://localhost:3000"]),
        ("AUTH_CACHE", "default"),
        ("DIRECT_RATE_LIMIT_APP", None),
    ],
)
def test_good_values_pass(settings, name, value):
    assert not messages(settings, our_checks.check_setting_values, **{name: value})


def test_one_number_timeout_is_used_for_both(settings):
    from aurinko_auth.conf import aurinko_settings

    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, "HTTP_TIMEOUT": 10}
    assert aurinko_settings.timeout("HTTP_TIMEOUT") == (10.0, 10.0)


def deploy_ids(settings, debug=False, caches=None, **overrides):
    settings.DEBUG = debug
    if caches is not None:
        settings.CACHES = caches
    return set(messages(settings, our_checks.check_deploy, **overrides))


SAFE = {"PUBLIC_URL": "https://auth.example.com"}
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def test_deploy_passes_a_production_setup(settings):
    assert not deploy_ids(settings, caches=REDIS, **SAFE)


def test_deploy_warns_on_a_loopback_or_http_public_url(settings):
    assert "aurinko_auth.W010" in deploy_ids(settings, caches=REDIS)  # the default
    assert "aurinko_auth.W010" in deploy_ids(
        settings, caches=REDIS, PUBLIC_URL="https://localhost:8443"
    )
    found = deploy_ids(settings, caches=REDIS, PUBLIC_URL="http://auth.example.com")
    assert "aurinko_auth.W011" in found


def test_deploy_warns_on_debug(settings):
    assert deploy_ids(settings, debug=True, caches=REDIS, **SAFE) == {"aurinko_auth.W012"}


def test_deploy_warns_on_a_per_process_cache(settings):
    assert deploy_ids(settings, caches=LOCMEM, **SAFE) == {"aurinko_auth.W013"}
    found = messages(settings, our_checks.check_deploy, AUTH_CACHE="default", **SAFE)
    assert [m.id for m in found.values()] == ["aurinko_auth.W013"]
