"""The app's own redirect page on a provider configuration (issue 16 item 5): what is accepted,
what is refused (with nothing written), and how it is set with ``aurinko_app provider`` and
shown by ``aurinko_doctor``. The flows that use it: tests/flows/test_redirect_page.py."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from aurinko_auth import doctor, services
from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.models import ProviderConfig
from aurinko_auth.security.returnurls import validate_redirect_page

pytestmark = pytest.mark.django_db

PAGE = "https://app.example.com/aurinko/redirect"


@pytest.mark.parametrize(
    "url",
    [
        PAGE,
        "https://app.example.com:8443/r",
        "https://app.example.com/",
        "http://127.0.0.1:5000/redirect.html",
        "http://localhost:3000/r",
        "http://[::1]:3000/r",
        "  https://app.example.com/r  ",  # trimmed
    ],
)
def test_accepted(url):
    assert validate_redirect_page(url) == url.strip()


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://app.example.com/r", "https"),
        ("https://app.example.com/r#frag", "fragment"),
        ("https://app.example.com/r#", "fragment"),
        ("https://user:pw@app.example.com/r", "credentials"),
        ("https://user@app.example.com/r", "credentials"),
        ("https://app.example.com/r?state=x", "query"),
        ("https://app.example.com/r?", "query"),
        ("/v1/auth/callback", "absolute"),
        ("app.example.com/r", "absolute"),
        ("ftp://app.example.com/r", "absolute"),
        ("javascript:alert(1)", "absolute"),
        ("https:///r", "absolute"),
        ("https://app.example.com:99999/r", "not a valid URL"),
        ("https://app.example.com/a/../r", "path"),
        ("https://app.example.com/%2e%2e/r", "path"),
        ("https://app.example.com/r x", "characters"),
        ("https://app.example.com/\u00e9", "characters"),
        ("https://app.example.com/r\x00", "characters"),
        ("https://app.example.com/" + "r" * 500, "longer"),
    ],
)
def test_refused(url, why):
    with pytest.raises(InvalidRequest) as refused:
        validate_redirect_page(url)
    assert why in refused.value.message


def test_configure_provider_sets_keeps_and_removes_it(app_factory):
    app, _ = app_factory()
    config = services.configure_provider(
        app, "Google", client_id="g", client_secret="s", redirect_page=PAGE
    )
    assert config.redirect_page == PAGE and config.redirect_uri == PAGE
    services.configure_provider(app, "Google", client_id="g2")  # None keeps it
    assert ProviderConfig.objects.get().redirect_page == PAGE
    config = services.configure_provider(app, "Google", redirect_page="")
    assert config.redirect_page == ""
    assert config.redirect_uri == "http://127.0.0.1:8000/v1/auth/callback"


def test_a_refused_page_writes_nothing(app_factory):
    app, _ = app_factory()
    services.configure_provider(app, "Google", client_id="g", client_secret="s")
    with pytest.raises(InvalidRequest):
        services.configure_provider(
            app, "Google", client_id="changed", redirect_page="http://app.example.com/r"
        )
    config = ProviderConfig.objects.get()
    assert config.client_id == "g" and config.redirect_page == ""


@pytest.mark.parametrize("service_type", ["IMAP", "EWS", "SugarCRM"])
def test_providers_signing_in_on_our_form_take_no_page(app_factory, service_type):
    app, _ = app_factory()
    with pytest.raises(InvalidRequest) as refused:
        services.configure_provider(app, service_type, redirect_page=PAGE)
    assert "no redirect page" in refused.value.message
    assert not ProviderConfig.objects.exists()


def run(*args: str) -> dict:
    out = StringIO()
    call_command("aurinko_app", *args, stdout=out)
    return json.loads(out.getvalue())


def test_aurinko_app_provider_redirect_page(app_factory):
    app, _ = app_factory()
    base = ["provider", app.client_id, "Office365", "--oauth-client-id", "azure"]
    shown = run(*base, "--oauth-client-secret", "s", "--redirect-page", PAGE)
    assert shown["redirectPage"] == PAGE and shown["redirectUri"] == PAGE
    assert ProviderConfig.objects.get().redirect_page == PAGE
    # Left out: kept.
    assert run(*base)["redirectPage"] == PAGE
    with pytest.raises(CommandError, match="https"):
        run(*base, "--redirect-page", "http://app.example.com/r")
    assert ProviderConfig.objects.get().redirect_page == PAGE
    shown = run(*base, "--redirect-page", "")
    assert shown["redirectPage"] is None
    assert shown["redirectUri"] == "http://127.0.0.1:8000/v1/auth/callback"
    assert ProviderConfig.objects.get().redirect_page == ""


def test_doctor_shows_the_page_and_refuses_a_bad_stored_one(app_factory, provider_config_factory):
    app, _ = app_factory()
    config = provider_config_factory(app, "Google", redirect_page=PAGE)
    found = doctor.check_config(config, probe=False)
    (info,) = [f for f in found if f.level == doctor.INFO]
    assert PAGE in info.message and "/v1/auth/callback" in info.message
    config.redirect_page = "https://app.example.com/r#x"  # written around the checks
    found = doctor.check_config(config, probe=False)
    assert [f.message for f in found if f.level == doctor.ERROR] == [
        "The redirect page must not contain a fragment."
    ]
