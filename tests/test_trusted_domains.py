"""An app's trusted domains (Aurinko's setting): what an origin may be, how it is stored and
changed (services, ``aurinko_app origins``), and migration 0014's data step."""

from __future__ import annotations

import importlib
import json
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command

from aurinko_auth import services
from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.models import App
from aurinko_auth.security import origins

pytestmark = pytest.mark.django_db

EXTENSION = "chrome-extension://" + "a" * 32


@pytest.mark.parametrize(
    "given, stored",
    [
        ("https://addin.example.com", "https://addin.example.com"),
        ("HTTPS://AddIn.Example.COM/", "https://addin.example.com"),
        ("https://addin.example.com:443", "https://addin.example.com"),
        ("https://addin.example.com:8443", "https://addin.example.com:8443"),
        ("http://localhost:5173", "http://localhost:5173"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://[::1]:3000", "http://[::1]:3000"),
        ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
        (EXTENSION, EXTENSION),
    ],
)
def test_trusted_domains_are_stored_as_browsers_send_origin(given, stored):
    assert origins.validate_trusted(given) == stored


@pytest.mark.parametrize(
    "given, says",
    [
        ("", "an origin such as"),
        ("addin.example.com", "an origin such as"),
        ("http://addin.example.com", "https"),
        ("https://*.example.com", "no wildcards"),
        ("https://addin.example.com/page", "no path"),
        ("https://addin.example.com?x=1", "no path"),
        ("https://addin.example.com#x", "no path"),
        ("https://user:pw@addin.example.com", "credentials"),
        ("https://addin.example.com:99999", "not a valid origin"),
        ("https://bücher.example", "punycode"),
        ("https://bad_host.example.com", "not a valid host name"),
        ("ftp://addin.example.com", "https origin"),
        ("javascript://addin.example.com", "https origin"),
        ("chrome-extension://not-an-id", "32-letter id"),
        ("moz-extension://5f2c0b5e-1d2c-4d7e-9a7e-0a1b2c3d4e5f", "moz-extension UUID"),
        ("null", "an origin such as"),
    ],
)
def test_what_is_not_a_trusted_domain_is_refused_saying_why(given, says):
    with pytest.raises(InvalidRequest) as refused:
        origins.validate_trusted(given)
    assert says in refused.value.message


def test_every_refused_origin_is_named_and_duplicates_collapse():
    assert origins.validate_trusted_list(
        ["https://a.example.com", "https://A.example.com:443/", "https://b.example.com"]
    ) == ["https://a.example.com", "https://b.example.com"]
    with pytest.raises(InvalidRequest) as refused:
        origins.validate_trusted_list(["http://a.example.com", "https://b.example.com/x"])
    assert "'http://a.example.com'" in refused.value.message
    assert "'https://b.example.com/x'" in refused.value.message
    too_many = [f"https://h{i}.example.com" for i in range(origins.MAX_TRUSTED_DOMAINS + 1)]
    with pytest.raises(InvalidRequest, match="at most"):
        origins.validate_trusted_list(too_many)


def test_a_return_url_is_on_a_trusted_domain_by_exact_origin(app_factory):
    app, _ = app_factory(trusted_domains=["https://app.example.com"])
    assert origins.is_trusted_domain("https://app.example.com/callback?x=1", app)
    assert origins.is_trusted_domain("https://APP.example.com:443/cb", app)
    for other in (
        "http://app.example.com/callback",
        "https://app.example.com:8443/callback",
        "https://sub.app.example.com/callback",
        "https://app.example.com.evil.net/callback",
    ):
        assert not origins.is_trusted_domain(other, app), other


def test_add_remove_and_replace(app_factory):
    app, _ = app_factory()
    assert app.trusted_domains == []
    origins.set_trusted_domains(app, add=["https://a.example.com", "HTTPS://b.example.com"])
    assert App.objects.get(pk=app.pk).trusted_domains == [
        "https://a.example.com",
        "https://b.example.com",
    ]
    origins.set_trusted_domains(app, remove=["https://A.example.com/"])
    assert App.objects.get(pk=app.pk).trusted_domains == ["https://b.example.com"]
    with pytest.raises(InvalidRequest, match="Not a trusted domain"):
        origins.set_trusted_domains(app, remove=["https://c.example.com"])
    with pytest.raises(InvalidRequest, match="https"):
        origins.set_trusted_domains(app, add=["https://c.example.com", "http://d.example.com"])
    assert App.objects.get(pk=app.pk).trusted_domains == ["https://b.example.com"]
    origins.set_trusted_domains(app, replace=["https://c.example.com"])
    assert App.objects.get(pk=app.pk).trusted_domains == ["https://c.example.com"]
    created, _ = services.create_app(
        name="x", return_urls=[], trusted_domains=["https://x.example.com:443"]
    )
    assert created.trusted_domains == ["https://x.example.com"]


def run(*args: str) -> dict:
    out = StringIO()
    call_command("aurinko_app", *args, stdout=out)
    return json.loads(out.getvalue())


def test_aurinko_app_origins_lists_adds_removes_and_clears(app_factory):
    app, _ = app_factory()
    cid = app.client_id
    assert run("origins", cid) == {"clientId": cid, "trustedDomains": []}
    added = run("origins", cid, "--add", "https://a.example.com", "--add", EXTENSION)
    assert added == {"clientId": cid, "trustedDomains": ["https://a.example.com", EXTENSION]}
    assert run("origins", cid, "--remove", EXTENSION)["trustedDomains"] == ["https://a.example.com"]
    with pytest.raises(CommandError, match="https"):
        run("origins", cid, "--add", "http://b.example.com")
    with pytest.raises(CommandError, match="Not a trusted domain"):
        run("origins", cid, "--remove", "https://b.example.com")
    assert App.objects.get(pk=app.pk).trusted_domains == ["https://a.example.com"]
    listed = {a["clientId"]: a for a in run_list()}
    assert listed[cid]["trustedDomains"] == ["https://a.example.com"]
    assert run("origins", cid, "--clear", "--add", "https://c.example.com")["trustedDomains"] == [
        "https://c.example.com"
    ]
    assert run("origins", cid, "--clear")["trustedDomains"] == []
    with pytest.raises(CommandError, match="No app"):
        run("origins", "nope")


def run_list() -> list:
    out = StringIO()
    call_command("aurinko_app", "list", stdout=out)
    return json.loads(out.getvalue())


def test_aurinko_app_create_with_trusted_domains():
    created = run(
        "create",
        "--name",
        "Add-in",
        "--return-url",
        "https://app.example.com/cb",
        "--trusted-domain",
        "https://addin.example.com",
    )
    assert App.objects.get(client_id=created["clientId"]).trusted_domains == [
        "https://addin.example.com"
    ]
    with pytest.raises(CommandError, match="no wildcards"):
        run("create", "--name", "x", "--trusted-domain", "https://*.example.com")


def test_migration_keeps_token_responses_where_they_went(app_factory):
    """Migration 0014: an app allowing responseType=token gets its return URLs' origins as
    trusted domains (every return URL that received a token still does); others get none."""
    step = importlib.import_module("aurinko_auth.migrations.0014_app_trusted_domains")
    token_app, _ = app_factory(
        return_urls=[
            "https://app.example.com/cb",
            "https://app.example.com:443/other",
            "http://localhost:5173/cb",
        ],
        token_response=True,
    )
    code_app, _ = app_factory(token_response=False)
    public_app, _ = app_factory(token_response=True, public_client=True)
    step.keep_token_responses(django_apps, None)
    assert App.objects.get(pk=token_app.pk).trusted_domains == [
        "https://app.example.com",
        "http://localhost:5173",
    ]
    assert App.objects.get(pk=code_app.pk).trusted_domains == []
    assert App.objects.get(pk=public_app.pk).trusted_domains == []
    # What the step stores is what validate_trusted would.
    for origin in App.objects.get(pk=token_app.pk).trusted_domains:
        assert origins.validate_trusted(origin) == origin
