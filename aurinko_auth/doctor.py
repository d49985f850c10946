"""Checks an app's provider configurations against each provider's lifecycle facts and says
what will break. Used by ``python manage.py aurinko_doctor``."""

from __future__ import annotations

from dataclasses import dataclass

import requests

from aurinko_auth.conf import aurinko_settings
from aurinko_auth.exceptions import AurinkoError
from aurinko_auth.models import App, ProviderConfig
from aurinko_auth.providers.oauth2 import OAuth2Provider
from aurinko_auth.providers.registry import get_provider
from aurinko_auth.security.returnurls import validate_redirect_page
from aurinko_auth.security.transport import is_secure_or_loopback

ERROR = "error"
WARNING = "warning"
INFO = "info"


@dataclass
class Finding:
    level: str
    service_type: str
    message: str


def check_config(config: ProviderConfig, *, probe: bool = True) -> list[Finding]:
    found: list[Finding] = []

    def add(level: str, message: str) -> None:
        found.append(Finding(level, config.service_type, message))

    try:
        provider = get_provider(config.service_type)
    except AurinkoError:
        add(ERROR, "no provider is registered for this service type")
        return found
    for name, url in (config.endpoints or {}).items():
        if name not in provider.endpoints:
            add(WARNING, f"endpoint override {name!r} is not used by {provider.id}")
        if not is_secure_or_loopback(provider.example_endpoint(str(url))):
            add(ERROR, f"endpoint {name!r} ({url}) must use https (http only on loopback)")
    if not isinstance(provider, OAuth2Provider):
        return found
    if config.redirect_page:
        try:
            validate_redirect_page(config.redirect_page)
        except AurinkoError as exc:
            add(ERROR, exc.message)
        else:
            add(
                INFO,
                f"redirect URI sent to the provider: {config.redirect_page} (the app's redirect "
                f"page: register it there; it must forward its query to "
                f"{aurinko_settings.callback_url})",
            )
    if provider.requires_client_credentials and not config.client_id:
        add(ERROR, "missing OAuth client id")
    if provider.requires_client_credentials and not config.client_secret:
        add(ERROR, "missing OAuth client secret")
    if provider.refresh_token_cap:
        add(
            WARNING,
            f"{provider.id} keeps at most {provider.refresh_token_cap} refresh tokens "
            "per user and client; each new consent beyond that revokes the oldest",
        )
    if provider.inactivity_limit_days:
        add(
            WARNING,
            f"refresh tokens unused for {provider.inactivity_limit_days} days expire; "
            "keep accounts refreshed",
        )
    if provider.offline_scope:
        lacking = _accounts_without(config, provider.offline_scope)
        if lacking:
            add(
                WARNING,
                f"{lacking} active account(s) were granted no {provider.offline_scope!r} "
                "scope, so no refresh token: they stop working when their access "
                "token expires (an admin policy may strip it; authorize them again)",
            )
    for message in provider.config_warnings(config):
        add(WARNING, message)
    if probe and not provider.endpoints_per_account:
        try:
            token_url = provider.endpoint("token", config)
        except AurinkoError as exc:
            add(ERROR, f"token endpoint: {exc}")
        else:
            try:
                # Any HTTP answer (even 400/405) proves the endpoint is there.
                requests.head(token_url, timeout=provider.timeout(), allow_redirects=False)
            except requests.RequestException as exc:
                add(ERROR, f"token endpoint {token_url} is unreachable ({type(exc).__name__})")
    return found


def _accounts_without(config: ProviderConfig, scope: str) -> int:
    """Active personal accounts (no service or managed account: no refresh token of their
    own) of the config's app and provider whose granted native scopes are known and lack
    ``scope`` (scanned in Python: JSON containment differs between databases, and the doctor
    is an occasional admin command)."""
    from aurinko_auth.models import Account

    granted = Account.objects.filter(
        app_id=config.app_id,
        service_type=config.service_type,
        active=True,
        daemon=False,
        parent__isnull=True,
    ).values_list("native_scopes", flat=True)
    return sum(1 for scopes in granted.iterator(chunk_size=2000) if scopes and scope not in scopes)


def check_app(app: App, *, probe: bool = True) -> list[Finding]:
    found: list[Finding] = []
    configs = list(app.provider_configs.order_by("service_type"))
    if not configs:
        found.append(Finding(WARNING, "-", "the app has no provider configuration"))
    for config in configs:
        found.extend(check_config(config, probe=probe))
    return found
