"""Every OAuth2 provider passes the shared contract in ``mixin.py``."""

from __future__ import annotations

import responses

from aurinko_auth.models import Account
from aurinko_auth.providers.google import GoogleProvider
from aurinko_auth.providers.hubspot import HubSpotProvider
from aurinko_auth.providers.office365 import Office365Provider
from aurinko_auth.providers.salesforce import SalesforceProvider
from aurinko_auth.providers.zoho import ZohoProvider
from tests.providers.mixin import ProviderContract


class TestGoogle(ProviderContract):
    provider_class = GoogleProvider
    data_file = "google.json"


class TestOffice365(ProviderContract):
    provider_class = Office365Provider
    data_file = "office365.json"


class TestZoho(ProviderContract):
    provider_class = ZohoProvider
    data_file = "zoho.json"


class TestSalesforce(ProviderContract):
    provider_class = SalesforceProvider
    data_file = "salesforce.json"


class TestHubSpot(ProviderContract):
    provider_class = HubSpotProvider
    data_file = "hubspot.json"


class TestZohoDataCentres:
    """Zoho names the user's data centre on the callback; only Zoho's own servers count."""

    def _config(self, **endpoints):
        from aurinko_auth.models import ProviderConfig

        return ProviderConfig(
            service_type="Zoho", client_id="c", client_secret="s", endpoints=endpoints
        )

    def test_callback_accounts_server_picks_token_endpoint(self):
        provider = ZohoProvider()
        config = provider.resolve(
            self._config(), query={"location": "eu", "accounts-server": "https://accounts.zoho.eu"}
        )
        assert provider.endpoint("token", config) == "https://accounts.zoho.eu/oauth/v2/token"
        assert provider.endpoint("userinfo", config) == "https://accounts.zoho.eu/oauth/user/info"

    def test_forged_accounts_server_ignored(self):
        provider = ZohoProvider()
        for forged in (
            "https://evil.example/",
            "https://accounts.zoho.eu.evil.example",
            "http://accounts.zoho.eu",
            "https://accounts.zoho.eu:8443",
        ):
            config = provider.resolve(self._config(), query={"accounts-server": forged})
            assert provider.endpoint("token", config) == "https://accounts.zoho.com/oauth/v2/token"

    def test_app_override_wins(self):
        provider = ZohoProvider()
        config = provider.resolve(
            self._config(token="https://127.0.0.1:9/t"),
            query={"accounts-server": "https://accounts.zoho.in"},
        )
        assert provider.endpoint("token", config) == "https://127.0.0.1:9/t"

    def test_account_data_centre_used_for_refresh(self):
        provider = ZohoProvider()
        config = provider.resolve(
            self._config(),
            account=Account(extra_data={"accounts_server": "https://accounts.zoho.com.au"}),
        )
        assert provider.endpoint("token", config) == "https://accounts.zoho.com.au/oauth/v2/token"

    @responses.activate
    def test_profile_records_data_centre(self):
        provider = ZohoProvider()
        config = provider.resolve(
            self._config(), query={"accounts-server": "https://accounts.zoho.jp"}
        )
        responses.get(
            "https://accounts.zoho.jp/oauth/user/info", json={"ZUID": 7, "Email": "a@b.jp"}
        )
        tokens = provider.parse_token(
            {"access_token": "at", "api_domain": "https://www.zohoapis.jp"}
        )
        profile = provider.fetch_profile(config, tokens)
        assert profile.extra["accounts_server"] == "https://accounts.zoho.jp"
        assert profile.server_url == "https://www.zohoapis.jp"


class TestZohoDataCentreTemplates:
    """An app's override with ``{accounts_host}`` routes each data centre through the app's
    own URL; the data centre still comes only from Zoho's own server names."""

    TEMPLATE = "http://127.0.0.1:9/zoho/{accounts_host}/oauth/v2/token"

    def _config(self, **endpoints):
        from aurinko_auth.models import ProviderConfig

        return ProviderConfig(
            service_type="Zoho", client_id="c", client_secret="s", endpoints=endpoints
        )

    def test_template_filled_with_the_callbacks_data_centre(self):
        provider = ZohoProvider()
        config = provider.resolve(
            self._config(token=self.TEMPLATE), query={"accounts-server": "https://accounts.zoho.eu"}
        )
        assert (
            provider.endpoint("token", config)
            == "http://127.0.0.1:9/zoho/accounts.zoho.eu/oauth/v2/token"
        )
        # Endpoints the app did not override go to the data centre itself.
        assert provider.endpoint("userinfo", config) == "https://accounts.zoho.eu/oauth/user/info"

    def test_template_without_a_data_centre_is_zohos_default(self):
        provider = ZohoProvider()
        for query in ({}, {"accounts-server": "https://evil.example"}):
            config = provider.resolve(self._config(token=self.TEMPLATE), query=query)
            assert (
                provider.endpoint("token", config)
                == "http://127.0.0.1:9/zoho/accounts.zoho.com/oauth/v2/token"
            )

    def test_account_refresh_uses_the_template(self):
        provider = ZohoProvider()
        config = provider.resolve(
            self._config(token=self.TEMPLATE),
            account=Account(extra_data={"accounts_server": "https://accounts.zoho.in"}),
        )
        assert (
            provider.endpoint("token", config)
            == "http://127.0.0.1:9/zoho/accounts.zoho.in/oauth/v2/token"
        )

    @responses.activate
    def test_profile_records_the_callbacks_data_centre_behind_a_template(self):
        provider = ZohoProvider()
        config = provider.resolve(
            self._config(
                token=self.TEMPLATE,
                userinfo="http://127.0.0.1:9/zoho/{accounts_host}/oauth/user/info",
            ),
            query={"accounts-server": "https://accounts.zoho.jp"},
        )
        responses.get(
            "http://127.0.0.1:9/zoho/accounts.zoho.jp/oauth/user/info",
            json={"ZUID": 7, "Email": "a@b.jp"},
        )
        profile = provider.fetch_profile(config, provider.parse_token({"access_token": "at"}))
        assert profile.extra["accounts_server"] == "https://accounts.zoho.jp"
