"""Password sign-in (IMAP; EWS next) through our own hosted form, for the Account flow.

authorize -> our form (``/v1/auth/password/{state}``) -> a real login at the server -> the
account (credentials encrypted) -> returnUrl with a code, exactly like the OAuth flows. A
wrong password shows the form again and leaves the pending authorization usable until it
expires; only a successful login uses it up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from aurinko_auth.accounts import link_account
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.flows import authorize
from aurinko_auth.flows import state as flow_state
from aurinko_auth.models import App, AuthState, ProviderConfig
from aurinko_auth.providers.base import PasswordProvider
from aurinko_auth.providers.registry import get_provider


def start(*, app: App, provider: PasswordProvider, kind: str, unified: list[str],
          params: dict[str, Any], browser_id: str) -> authorize.Started:
    native = provider.native_scopes(unified)
    state = flow_state.create(
        app=app, kind=kind, service_type=provider.id,
        params={**params, "scopes": unified, "native": native}, secrets={},
        browser_id=browser_id,
    )
    return authorize.Started(f"{aurinko_settings.public_url}/v1/auth/password/{state}")


def pending_form(state: str, browser_id: str | None) -> tuple[AuthState, PasswordProvider]:
    """The pending authorization behind a form (StateError when it cannot be resumed)."""
    pending = flow_state.check(state, browser_id)
    provider = get_provider(pending.service_type)
    if not isinstance(provider, PasswordProvider):
        raise InvalidRequest("This authorization does not use a password form.")
    return pending, provider


def submit(state: str, browser_id: str | None, data: Mapping[str, str]) -> str:
    """Check the credentials by a real login; on success link the account and return the
    redirect to the app. Raises InvalidRequest (and subclasses) for the form to show."""
    from aurinko_auth.flows import account as account_flow

    pending, provider = pending_form(state, browser_id)
    credentials = provider.clean({key: data.get(key) or "" for key in data})
    config = ProviderConfig.objects.filter(app=pending.app, service_type=provider.id).first()
    profile = provider.verify(config, credentials)
    with transaction.atomic():
        flow_state.claim(pending)
        linked, _ = link_account(
            app=pending.app, provider=provider, profile=profile, tokens=None,
            credentials=credentials, requested_scopes=pending.params.get("scopes", []),
            requested_native=pending.params.get("native", []),
        )
        return account_flow.finish(pending, linked)
