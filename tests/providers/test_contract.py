"""Every OAuth2 provider passes the shared contract in ``mixin.py``."""

from __future__ import annotations

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
