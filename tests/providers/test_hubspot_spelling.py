"""``Hubspot`` is Aurinko's spelling of the service type (its OpenAPI's ServiceType enum, seed
001): what we store and send; any case is accepted on input."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.test import Client

from aurinko_auth.models import Account, AuthState, ProviderConfig
from aurinko_auth.providers.registry import canonical_service_type, get_provider
from tests.conftest import RETURN_URL
from tests.contract.conformance import validate
from tests.flows.conftest import basic

pytestmark = pytest.mark.django_db

migration = importlib.import_module("aurinko_auth.migrations.0009_hubspot_service_type")


@pytest.mark.parametrize("given", ["Hubspot", "HubSpot", "hubspot", "HUBSPOT"])
def test_any_case_is_the_canonical_hubspot(given):
    assert get_provider(given).id == canonical_service_type(given) == "Hubspot"


def test_authorize_accepts_any_case_and_stores_hubspot(app_factory, provider_config_factory):
    app, _ = app_factory(scopes="Contacts.Read")
    provider_config_factory(app, "Hubspot")
    query = {"clientId": app.client_id, "scopes": "Contacts.Read", "returnUrl": RETURN_URL}
    response = Client().get("/v1/auth/authorize", {**query, "serviceType": "HubSpot"})
    assert response.status_code == 303, response.content
    assert response["Location"].startswith("https://app.hubspot.com/oauth/authorize")
    assert AuthState.objects.get().service_type == "Hubspot"


def test_accounts_show_hubspot_and_filters_take_any_case(app_factory, account_factory):
    app, secret = app_factory()
    account_factory(app, "Hubspot")
    account_factory(app, "Google")
    auth = {"HTTP_AUTHORIZATION": basic(app.client_id, secret)}
    for given in ("HubSpot", "hubspot", "Hubspot"):
        page = Client().get("/v1/am/accounts", {"serviceType": given}, **auth).json()
        assert [a["serviceType"] for a in page["records"]] == ["Hubspot"], page
        assert (
            validate("ApiAccountOutDto", {"serviceType": page["records"][0]["serviceType"]}) == []
        )


def test_aurinko_app_provider_stores_hubspot(app_factory, capsys):
    app, _ = app_factory()
    call_command(
        "aurinko_app", "provider", app.client_id, "HubSpot", "--oauth-client-id", "hub-client"
    )
    assert ProviderConfig.objects.get(app=app).service_type == "Hubspot"


def test_data_migration_renames_stored_hubspot_and_back(
    app_factory, account_factory, provider_config_factory
):
    app, _ = app_factory()
    account = account_factory(app, "HubSpot")
    config = provider_config_factory(app, "HubSpot")
    google = account_factory(app, "Google")
    migration.forwards(django_apps, None)
    assert Account.objects.get(pk=account.pk).service_type == "Hubspot"
    assert ProviderConfig.objects.get(pk=config.pk).service_type == "Hubspot"
    assert Account.objects.get(pk=google.pk).service_type == "Google"
    migration.backwards(django_apps, None)
    assert Account.objects.get(pk=account.pk).service_type == "HubSpot"
