"""ProviderConfig.options: provider settings that are not a tenant (SugarCRM's platform)."""

import importlib
import json

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command

from aurinko_auth import services
from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.models import ProviderConfig
from aurinko_auth.providers.sugarcrm import SugarCRMProvider

migration = importlib.import_module("aurinko_auth.migrations.0006_providerconfig_options")


def test_data_migration_moves_sugars_platform_out_of_tenant_and_back(
    app_factory, provider_config_factory
):
    app, _ = app_factory()
    sugar = provider_config_factory(app, "SugarCRM", client_id="", tenant="acme_sync")
    office = provider_config_factory(app, "Office365", tenant="contoso.onmicrosoft.com")
    migration.platform_to_options(django_apps, None)
    sugar.refresh_from_db()
    office.refresh_from_db()
    assert (sugar.tenant, sugar.options) == ("", {"platform": "acme_sync"})
    assert SugarCRMProvider().platform(sugar) == "acme_sync"
    assert (office.tenant, office.options) == ("contoso.onmicrosoft.com", {})
    migration.platform_to_tenant(django_apps, None)
    sugar.refresh_from_db()
    assert (sugar.tenant, sugar.options) == ("acme_sync", {})


def test_unknown_or_malformed_options_are_refused(app_factory):
    app, _ = app_factory()
    with pytest.raises(InvalidRequest, match="no option 'colour'"):
        services.configure_provider(app, "SugarCRM", options={"colour": "blue"})
    with pytest.raises(InvalidRequest, match="no option"):
        services.configure_provider(app, "Google", client_id="c", options={"platform": "x"})
    with pytest.raises(InvalidRequest, match="text"):
        services.configure_provider(app, "SugarCRM", options={"platform": "x" * 300})
    assert not ProviderConfig.objects.filter(app=app, service_type="Google").exists()


def test_command_sets_options(app_factory, capsys):
    app, _ = app_factory()
    call_command(
        "aurinko_app", "provider", app.client_id, "SugarCRM", "--option", "platform=crm_sync"
    )
    out = json.loads(capsys.readouterr().out)
    assert out["options"] == {"platform": "crm_sync"}
    config = ProviderConfig.objects.get(app=app, service_type="SugarCRM")
    assert SugarCRMProvider().platform(config) == "crm_sync" and config.tenant == ""
