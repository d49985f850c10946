"""Managing apps and provider configurations (used by the command line and the admin)."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from aurinko_auth import scopes
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.models import App, AppMembership, IdentityTokenType, IdentityTrust, ProviderConfig
from aurinko_auth.providers.base import Provider
from aurinko_auth.providers.oauth2 import OAuth2Provider
from aurinko_auth.providers.registry import all_providers, get_provider
from aurinko_auth.providers.service_accounts import ServiceAccountProvider
from aurinko_auth.security import origins, returnurls
from aurinko_auth.security.transport import is_secure_or_loopback

# An imported app's credentials (its clientId and clientSecret at Aurinko): a client id is
# what goes into URLs, headers and add-in manifests, a secret must be long enough to be stored
# as a plain SHA-256 like ours (high entropy).
CLIENT_ID_RE = re.compile(r"\A[A-Za-z0-9._-]{8,64}\Z")
CLIENT_SECRET_RE = re.compile(r"\A[\x21-\x7e]{16,128}\Z")


def validate_client_id(client_id: str) -> str:
    """An imported app's client id: 8 to 64 of ``A-Z a-z 0-9 . _ -``, not taken."""
    if not CLIENT_ID_RE.match(client_id or ""):
        raise InvalidRequest(
            "A client id is 8 to 64 characters of letters, digits, '.', '_' and '-'."
        )
    if App.objects.filter(client_id=client_id).exists():
        raise InvalidRequest("An app with this client id exists already.")
    return client_id


def validate_client_secret(secret: str) -> str:
    """An imported app's client secret: 16 to 128 printable ASCII characters, no spaces."""
    if not CLIENT_SECRET_RE.match(secret or ""):
        raise InvalidRequest(
            "A client secret is 16 to 128 printable ASCII characters without spaces."
        )
    return secret


@transaction.atomic
def create_app(
    *,
    name: str,
    return_urls: list[str],
    scopes: str | list[str] = "",
    owner: Any = None,
    required_scopes: str | list[str] = "",
    client_id: str | None = None,
    client_secret: str | None = None,
    aurinko_signatures: bool = False,
    public_client: bool = False,
    token_response: bool = False,
    cookie_partitioned: bool = False,
    cookie_host_prefix: bool = False,
    trusted_domains: list[str] | None = None,
    public_return_urls: list[str] = (),
) -> tuple[App, str]:
    """Register an app. Returns it and its client secret (the only time it is shown).
    Moving from Aurinko: ``client_id`` and ``client_secret`` keep the app's credentials
    (add-in manifests and the app's configuration stay valid); ``aurinko_signatures`` makes
    ``userSignature`` Aurinko's (keyed with the client secret itself). ``public_client``:
    flows need PKCE and codes are redeemed without the secret (``public_return_urls``: only
    the flows to these, added as return URLs); ``token_response`` lets ``responseType=token``
    put the account token in a return URL on a trusted domain."""
    if not name.strip():
        raise InvalidRequest("An app needs a name.")
    allowed = scopes_list(scopes)
    public_urls = [u.strip() for u in public_return_urls]
    urls = returnurls.validate_list(
        [*return_urls, *public_urls], public_client=public_client, public_urls=public_urls
    )
    app = App(
        name=name.strip(),
        return_urls=urls,
        public_return_urls=returnurls.validate_public(public_urls, urls),
        allowed_scopes=allowed,
        required_scopes=validate_required_scopes(required_scopes, allowed),
        aurinko_signatures=aurinko_signatures,
        public_client=public_client,
        token_response=token_response,
        cookie_partitioned=cookie_partitioned,
        cookie_host_prefix=cookie_host_prefix,
        trusted_domains=origins.validate_trusted_list(trusted_domains or []),
    )
    if client_id is not None:
        app.client_id = validate_client_id(client_id)
    secret = app.set_client_secret(
        validate_client_secret(client_secret) if client_secret is not None else None
    )
    app.save()
    if owner is not None:
        AppMembership.objects.create(app=app, user=owner, role=AppMembership.Role.OWNER)
    return app, secret


def scopes_list(value: str | list[str]) -> list[str]:
    if isinstance(value, list):
        value = " ".join(value)
    return scopes.parse_scopes(value)


def validate_required_scopes(required: str | list[str], allowed: list[str]) -> list[str]:
    """The app's required scopes (docs/scopes.md): unified scopes the app may request."""
    wanted = scopes_list(required)
    outside = [s for s in wanted if s not in allowed]
    if outside:
        raise InvalidRequest(
            f"Required scopes must be allowed scopes too: {', '.join(outside)} is not allowed."
        )
    return wanted


@transaction.atomic
def set_scopes(
    app: App, *, allowed: str | list[str] | None = None, required: str | list[str] | None = None
) -> App:
    """Change an app's allowed and/or required scopes (None keeps a list as it is)."""
    if allowed is not None:
        app.allowed_scopes = scopes_list(allowed)
    current = app.required_scopes or []
    app.required_scopes = validate_required_scopes(
        current if required is None else required, app.allowed_scopes
    )
    app.save(update_fields=["allowed_scopes", "required_scopes", "updated_at"])
    return app


@transaction.atomic
def set_aurinko_signatures(app: App, enabled: bool, client_secret: str = "") -> App:
    """Switch an app's ``userSignature`` to Aurinko's (keyed with the client secret, which is
    then kept encrypted for that one purpose) or back to the derived key. Either way needs
    the current client secret (checked in constant time): it is never stored otherwise."""
    if not client_secret or not app.check_client_secret(client_secret):
        raise InvalidRequest(
            "Give the app's current client secret: the signing key is made from it.",
            code=Code.CLIENT_INVALID,
        )
    app.aurinko_signatures = enabled
    app.set_signing_key(client_secret)
    app.save(update_fields=["aurinko_signatures", "user_signing_key", "updated_at"])
    return app


@transaction.atomic
def set_client_type(
    app: App,
    *,
    public_client: bool | None = None,
    token_response: bool | None = None,
    public_urls: list[str] = (),
    confidential_urls: list[str] = (),
) -> App:
    """Declare an app a public client (PKCE) or not, allow ``responseType=token`` or not (None
    keeps a setting), make ``public_urls`` public return URLs (added as return URLs when
    missing) and ``confidential_urls`` no longer public (extension pages must stay public)."""
    if public_client is not None:
        app.public_client = public_client
    public = [u for u in app.public_return_urls or [] if u not in confidential_urls]
    public += [u.strip() for u in public_urls]
    app.return_urls = returnurls.validate_list(
        [*(app.return_urls or []), *public], public_client=app.public_client, public_urls=public
    )
    app.public_return_urls = returnurls.validate_public(public, app.return_urls)
    if token_response is not None:
        app.token_response = token_response
    fields = ["public_client", "token_response", "return_urls", "public_return_urls"]
    app.save(update_fields=[*fields, "updated_at"])
    return app


@transaction.atomic
def set_session_cookie(
    app: App,
    *,
    partitioned: bool | None = None,
    host_prefix: bool | None = None,
    lifetime: int | None = None,
    idle_timeout: int | None = None,
) -> App:
    """The app's sessions and their cookie: ``Partitioned`` (CHIPS) and/or named
    ``__Host-...`` (docs/add-ins.md), the sessions' lifetime and idle timeout in seconds (0:
    the deployment's); None keeps a setting as it is. Applies to sessions started from now."""
    if partitioned is not None:
        app.cookie_partitioned = partitioned
    if host_prefix is not None:
        app.cookie_host_prefix = host_prefix
    if lifetime is not None:
        app.session_lifetime = lifetime or None
    if idle_timeout is not None:
        app.session_idle_timeout = idle_timeout or None
    fields = ["session_lifetime", "session_idle_timeout"]
    try:
        app.full_clean(exclude=[f.name for f in app._meta.fields if f.name not in fields])
    except ValidationError as exc:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise InvalidRequest(problems) from None
    app.save(update_fields=["cookie_partitioned", "cookie_host_prefix", *fields, "updated_at"])
    return app


@transaction.atomic
def rotate_secret(app: App) -> str:
    from aurinko_auth.webhooks import events

    secret = app.set_client_secret()
    app.save(
        update_fields=["client_secret_hash", "client_secret_hint", "user_signing_key", "updated_at"]
    )
    events.emit(
        app, "app.secret_rotated", {"clientId": app.client_id, "secretHint": app.client_secret_hint}
    )
    return secret


def validate_endpoints(provider: Any, endpoints: dict[str, str]) -> dict[str, str]:
    known = set(provider.endpoints) | {"authorize", "token", "userinfo", "revoke", "api", "issuer"}
    for name, url in endpoints.items():
        if name not in known:
            raise InvalidRequest(
                f"{provider.id} has no endpoint {name!r} (known: {', '.join(sorted(known))})."
            )
        if not is_secure_or_loopback(provider.example_endpoint(url)):
            raise InvalidRequest(f"Endpoint {name!r} must use https (http only on loopback).")
    return endpoints


def validate_service_account_key(provider: Any, key: str) -> str:
    """A service-account key, checked by its provider before it is stored (encrypted); an
    empty string removes the stored key."""
    if not key.strip():
        return ""
    if not isinstance(provider, ServiceAccountProvider) or not provider.takes_service_account_key:
        takers = [
            p.id
            for p in all_providers()
            if isinstance(p, ServiceAccountProvider) and p.takes_service_account_key
        ]
        raise InvalidRequest(
            f"{provider.id} takes no service-account key ({' and '.join(takers)} only).",
            code=Code.SERVICE_ACCOUNT_KEY_INVALID,
        )
    provider.parse_service_account_key(key)
    return key


@transaction.atomic  # a refused value writes nothing
def configure_provider(
    app: App,
    service_type: str,
    *,
    client_id: str = "",
    client_secret: str | None = None,
    tenant: str = "",
    service_account_key: str | None = None,
    endpoints: dict[str, str] | None = None,
    options: dict[str, str] | None = None,
    redirect_page: str | None = None,
) -> ProviderConfig:
    """Create or update an app's configuration for one provider. A secret left as None keeps
    the stored one (write-only); so does a ``redirect_page`` left as None ("" removes it)."""
    provider = get_provider(service_type)
    if (
        isinstance(provider, OAuth2Provider)
        and provider.requires_client_credentials
        and not client_id
    ):
        existing = ProviderConfig.objects.filter(app=app, service_type=provider.id).first()
        if existing is None or not existing.client_id:
            raise InvalidRequest(f"{provider.id} needs an OAuth client id.")
    config, _ = ProviderConfig.objects.get_or_create(app=app, service_type=provider.id)
    if client_id:
        config.client_id = client_id
    if client_secret is not None:
        config.client_secret = client_secret
    config.tenant = tenant or config.tenant
    if service_account_key is not None:
        config.service_account_key = validate_service_account_key(provider, service_account_key)
    if endpoints:
        config.endpoints = {**(config.endpoints or {}), **validate_endpoints(provider, endpoints)}
    if options:
        config.options = {**(config.options or {}), **validate_options(provider, options)}
    if redirect_page is not None:
        config.redirect_page = provider.check_redirect_page(redirect_page)
    config.save()
    return config


def validate_options(provider: Provider, options: dict[str, Any]) -> dict[str, str]:
    """Provider options (``ProviderConfig.options``): only names the provider reads, text."""
    known = provider.option_names
    for name, value in options.items():
        if name not in known:
            names = ", ".join(sorted(known)) or "none"
            raise InvalidRequest(f"{provider.id} has no option {name!r} (known: {names}).")
        if not isinstance(value, str) or len(value) > 255 or "\x00" in value:
            raise InvalidRequest(f"Option {name!r} must be text of at most 255 characters.")
    return {name: value.strip() for name, value in options.items()}


# --- identity-token trust (docs/add-ins.md) -----------------------------------------------
TENANT_GUID_RE = re.compile(r"\A[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")
DOMAIN_RE = re.compile(r"\A(?=.{1,253}\Z)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\Z")
AUDIENCE_RE = re.compile(r"\A[\x21-\x7e]{1,255}\Z")


def _trust_url(label: str, url: str) -> str:
    url = (url or "").strip()
    if url and (len(url) > 500 or not is_secure_or_loopback(url.replace("{tid}", "tid"))):
        raise InvalidRequest(f"{label} must be an https URL (http only on loopback).")
    return url


def validate_trust(
    token_type: str, audiences: list[str], tenants: list[str], issuer: str, jwks: str
) -> dict[str, Any]:
    """The fields of an :class:`IdentityTrust`, checked: at least one audience (for Exchange
    tokens the add-in URLs), tenants as the token type names them (Entra and Exchange: tenant
    ids; Google: hosted domains), issuer and key-set overrides as https URLs."""
    if token_type not in IdentityTokenType.values:
        raise InvalidRequest(
            f"Unknown token type {token_type[:40]!r} (one of {', '.join(IdentityTokenType.values)})."
        )
    cleaned = list(dict.fromkeys(a.strip() for a in audiences if a.strip()))
    if not cleaned:
        raise InvalidRequest("Give at least one audience (--audience).")
    for audience in cleaned:
        if not AUDIENCE_RE.match(audience):
            raise InvalidRequest(f"Audience {audience[:60]!r} is not valid.")
        if token_type == IdentityTokenType.EXCHANGE and not is_secure_or_loopback(audience):
            raise InvalidRequest(
                f"Exchange identity tokens' audience is the add-in URL: {audience[:60]!r} is "
                "not an https URL."
            )
    pattern = DOMAIN_RE if token_type == IdentityTokenType.GOOGLE else TENANT_GUID_RE
    kind = "a hosted domain" if token_type == IdentityTokenType.GOOGLE else "a tenant id (GUID)"
    allowed = list(dict.fromkeys(t.strip().lower() for t in tenants if t.strip()))
    for tenant in allowed:
        if not pattern.match(tenant):
            raise InvalidRequest(f"Tenant {tenant[:60]!r} is not {kind}.", code=Code.TENANT_INVALID)
    if token_type == IdentityTokenType.EXCHANGE:
        # An Exchange token's iss is "00000002-0000-0ff1-ce00-000000000000@{tenant}", not a
        # URL; its key comes from the metadata document the token's amurl names, which must
        # be the --jwks URL (by default Exchange Online's).
        issuer = issuer.strip()
        if issuer and not AUDIENCE_RE.match(issuer):
            raise InvalidRequest("The issuer is not valid.")
    else:
        issuer = _trust_url("The issuer", issuer)
    return {
        "audiences": cleaned,
        "tenants": allowed,
        "issuer": issuer,
        "jwks_url": _trust_url("The key set URL", jwks),
    }


@transaction.atomic
def set_trust(
    app: App,
    token_type: str,
    *,
    audiences: list[str],
    tenants: list[str] = (),  # type: ignore[assignment]
    issuer: str = "",
    jwks: str = "",
) -> IdentityTrust:
    """Make ``app`` accept identity tokens of ``token_type`` (replacing what it had)."""
    fields = validate_trust(token_type, list(audiences), list(tenants), issuer, jwks)
    trust, _ = IdentityTrust.objects.update_or_create(
        app=app, token_type=token_type, defaults=fields
    )
    return trust


@transaction.atomic
def remove_trust(app: App, token_type: str) -> bool:
    """Stop accepting ``token_type`` for ``app``; False when it was not trusted."""
    deleted, _ = IdentityTrust.objects.filter(app=app, token_type=token_type).delete()
    return bool(deleted)
