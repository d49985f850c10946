"""Scopes the sandbox grants: OpenID Connect's, plus the native scopes of the providers it
stands in for (read from the providers, so new mappings need no change here)."""

from aurinko_auth.providers.google import GoogleProvider
from aurinko_auth.providers.hubspot import HubSpotProvider
from aurinko_auth.providers.office365 import Office365Provider
from aurinko_auth.providers.salesforce import SalesforceProvider
from aurinko_auth.providers.zoho import ZohoProvider


def _scopes() -> dict[str, str]:
    scopes = {
        "openid": "OpenID Connect",
        "email": "Email address",
        "profile": "Basic profile",
        "offline_access": "Offline access",
        # Office 365 app-only tokens (client credentials, service accounts).
        "https://graph.microsoft.com/.default": "Application permissions (Office365)",
    }
    for provider in (
        GoogleProvider,
        Office365Provider,
        ZohoProvider,
        SalesforceProvider,
        HubSpotProvider,
    ):
        for native in provider.base_scopes:
            scopes.setdefault(native, native)
        for unified, natives in provider.scope_map.items():
            for native in natives:
                scopes.setdefault(native, f"{unified} ({provider.id})")
    return scopes


SANDBOX_SCOPES = _scopes()
