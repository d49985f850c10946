"""Office 365 service accounts: admin consent, then the client credentials grant.

``GET /v1/auth/authorizeDaemon`` sends the admin to Microsoft's admin-consent endpoint
(``adminconsent``, tenant from the request's ``tenant``, default the configured tenant or
``organizations``); the callback names the consented tenant, and an app-only Microsoft Graph
token for it (client credentials, scope ``https://graph.microsoft.com/.default``) proves the
consent: it is asked for the tenant the flow started for (a domain name resolves there; for
``organizations``, the callback's), and its ``tid`` claim must be the callback's tenant.
One token serves every mailbox of the tenant; there is no refresh token.

The app authenticates with its client secret or, when the configuration holds a certificate
credential (``service_account_key``: a PEM file with the private key and the certificate
registered in the app registration), with a client assertion signed by that key (RFC 7523,
``private_key_jwt``; Microsoft's "certificate credentials"). The certificate wins over a
secret when both are stored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jwt
from oauthlib.common import add_params_to_uri
from oauthlib.oauth2 import BackendApplicationClient

from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import AccessDenied, InvalidRequest, ProviderError
from aurinko_auth.providers.base import Profile, TokenSet
from aurinko_auth.providers.service_accounts import (
    CLIENT_ASSERTION_TYPE,
    CertificateCredential,
    DaemonGrant,
    InvalidServiceAccountKey,
    ServiceAccountProvider,
    not_configured,
    parse_certificate_credential,
)
from aurinko_auth.security.oauth_transport import OAuth2Session

if TYPE_CHECKING:
    from aurinko_auth.models import Account, ProviderConfig

logger = logging.getLogger("aurinko_auth.daemon")

GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)


def is_tenant_id(value: str) -> bool:
    return bool(_GUID.match(value or ""))


def clean_tenant(value: str) -> str:
    """A tenant an admin may consent for: a tenant id (GUID), a verified domain name, or
    ``organizations``. ``common`` and ``consumers`` are refused: personal Microsoft accounts
    cannot give admin consent, and client credentials need a concrete tenant."""
    value = (value or "").strip().lower()
    if value in ("common", "consumers"):
        raise InvalidRequest(
            f"tenant {value!r} cannot give admin consent: use the tenant id, the tenant's "
            "domain name or 'organizations'.",
            code=Code.TENANT_INVALID,
        )
    if value == "organizations" or is_tenant_id(value) or _DOMAIN.match(value):
        return value
    raise InvalidRequest(
        "tenant must be a tenant id (GUID), a domain name or 'organizations'.",
        code=Code.TENANT_INVALID,
    )


class Office365ServiceAccounts(ServiceAccountProvider):
    """Mixed into :class:`~aurinko_auth.providers.office365.Office365Provider`."""

    admin_signs_in = False
    token_per_mailbox = False
    # The certificate credential (private key + certificate), instead of a client secret.
    takes_service_account_key = True

    def check_daemon_config(self, config: ProviderConfig) -> None:
        if not config.client_id or not (config.client_secret or config.service_account_key):
            raise not_configured(
                "Office 365 service accounts need the app's OAuth client id and a client "
                "secret or a certificate (client credentials)."
            )
        if config.service_account_key:
            certificate_of(config)

    def parse_service_account_key(self, text: str) -> CertificateCredential:
        return parse_certificate_credential(text)

    def describe_service_account_key(self, text: str) -> str:
        try:
            return parse_certificate_credential(text).describe()
        except InvalidServiceAccountKey:
            return ""

    def daemon_consent(self, config: ProviderConfig, extra: Mapping[str, str]) -> dict[str, str]:
        requested = extra.get("tenant", "")
        if requested:
            return {"tenant": clean_tenant(requested)}
        configured = (config.tenant or "").lower()
        # A single-tenant app registration names its tenant; "common" cannot consent.
        if configured and configured not in ("common", "consumers"):
            return {"tenant": clean_tenant(configured)}
        return {"tenant": "organizations"}

    def daemon_consent_url(
        self, config: ProviderConfig, consent: Mapping[str, str], *, state: str, redirect_uri: str
    ) -> str:
        provider: Any = self
        url = provider.endpoint("adminconsent", config, tenant=consent["tenant"])
        return add_params_to_uri(
            url,
            [
                ("client_id", config.client_id),
                ("scope", GRAPH_DEFAULT_SCOPE),
                ("redirect_uri", redirect_uri),
                ("state", state),
            ],
        )

    def complete_daemon_consent(
        self, config: ProviderConfig, consent: Mapping[str, str], query: Mapping[str, str]
    ) -> DaemonGrant:
        error = query.get("error")
        if error:
            if error == "access_denied":
                raise AccessDenied("The administrator declined the consent.")
            raise ProviderError(
                f"Microsoft returned an error: {error[:64]}.", code=error[:64], status=400
            )
        if (query.get("admin_consent") or "").lower() != "true":
            raise AccessDenied(
                "Microsoft did not confirm the admin consent.", code=Code.ADMIN_CONSENT_MISSING
            )
        tenant = (query.get("tenant") or "").strip().lower()
        if not is_tenant_id(tenant):
            raise InvalidRequest("Microsoft returned no tenant id.", code=Code.TENANT_INVALID)
        requested = consent.get("tenant", "organizations")
        if is_tenant_id(requested) and requested != tenant:
            raise InvalidRequest(
                "The consent was given for another tenant than the one asked.",
                code=Code.TENANT_MISMATCH,
            )
        # The redirect's tenant is only a claim. The app-only token is asked for the tenant the
        # flow started for (a domain name resolves there) or, for "organizations", for the
        # claimed one; the tenant Microsoft issued it in (its tid) must be the claimed one.
        tokens = self.client_credentials_token(
            config, tenant if requested == "organizations" else requested
        )
        proven = token_tenant(tokens.access_token)
        if proven != tenant:
            logger.warning("Office 365 admin consent refused: app-only token tid mismatch")
            raise InvalidRequest(
                "Microsoft issued the app-only token in another tenant than the consent named."
                if proven
                else "Microsoft's app-only token names no tenant (tid): the consent is unproven.",
                code=Code.TENANT_MISMATCH,
            )
        return tenant_grant(tenant, tokens)

    def import_service_account(
        self, config: ProviderConfig, *, org_id: str, mailbox: str, native: list[str]
    ) -> DaemonGrant:
        """The tenant (``authOrgId``: its id or a verified domain; default the configured
        tenant when it names one) consented to the app if an app-only token for it is
        issued, in that tenant (its ``tid``)."""
        if mailbox:
            raise InvalidRequest(
                "email, loginString: an Office 365 service account is the tenant's, not a "
                "mailbox's; leave them out (a mailbox is a managed account: "
                "POST /v1/am/svc_accounts/{id}/accounts).",
            )
        configured = (config.tenant or "").lower()
        if not org_id and configured not in ("", "common", "consumers", "organizations"):
            org_id = configured
        if not org_id:
            raise InvalidRequest(
                "authOrgId: name the tenant (its id or a verified domain name).",
                code=Code.TENANT_INVALID,
            )
        requested = clean_tenant(org_id)
        if requested == "organizations":
            raise InvalidRequest(
                "authOrgId: 'organizations' is no tenant; name the tenant id or a domain name.",
                code=Code.TENANT_INVALID,
            )
        tokens = self.client_credentials_token(config, requested)
        proven = token_tenant(tokens.access_token)
        if not proven or (is_tenant_id(requested) and proven != requested):
            logger.warning("Office 365 service account import refused: app-only token tid")
            raise InvalidRequest(
                "Microsoft issued the app-only token in another tenant than authOrgId."
                if proven
                else "Microsoft's app-only token names no tenant (tid): the consent is unproven.",
                code=Code.TENANT_MISMATCH,
            )
        return tenant_grant(proven, tokens)

    def service_account_token(
        self, config: ProviderConfig, account: Account, mailbox: str | None
    ) -> TokenSet:
        return self.client_credentials_token(config, account.auth_org_id)

    def client_credentials_token(self, config: ProviderConfig, tenant: str) -> TokenSet:
        """An app-only Microsoft Graph token for ``tenant`` (client credentials grant),
        the app authenticated by its certificate when one is stored, else by its secret."""
        self.check_daemon_config(config)
        if not is_tenant_id(tenant) and not _DOMAIN.match(tenant or ""):
            raise InvalidRequest(
                "Client credentials need a concrete tenant.", code=Code.TENANT_INVALID
            )
        provider: Any = self
        url = provider.endpoint("token", config, tenant=tenant)
        if config.service_account_key:
            authentication = {
                "client_assertion_type": CLIENT_ASSERTION_TYPE,
                "client_assertion": certificate_of(config).client_assertion(config.client_id, url),
            }
        else:
            authentication = {"client_secret": config.client_secret}
        session = OAuth2Session(client=BackendApplicationClient(client_id=config.client_id))
        return self.fetch_app_token(
            session,
            url,
            client_id=config.client_id,
            include_client_id=True,
            scope=[GRAPH_DEFAULT_SCOPE],
            **authentication,
        )


def tenant_grant(tenant: str, tokens: TokenSet) -> DaemonGrant:
    """The daemon account of a proven ``tenant`` and its first app-only ``tokens``."""
    profile = Profile(
        auth_user_id=tenant,
        auth_org_id=tenant,
        login_string=tenant,
        name=f"Microsoft 365 tenant {tenant}",
    )
    return DaemonGrant(profile, {**tokens.credentials(), "tenant": tenant}, tokens)


def token_tenant(access_token: str) -> str:
    """The tenant id (``tid``) of a Microsoft app-only access token, lower-cased; empty when
    the token carries none.

    The signature is not verified, deliberately (docs/security.md, "Office 365 admin
    consent"): the token is the answer to our own client-authenticated request, read from
    Microsoft's token endpoint over a TLS connection we opened (OpenID Connect Core 3.1.3.7
    allows TLS server authentication in place of the signature for exactly this case), and
    Microsoft Graph tokens are not verifiable by a client anyway (their header's ``nonce`` is
    hashed before signing; only Graph checks them)."""
    try:
        claims = jwt.decode(access_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return ""
    tid = claims.get("tid")
    return tid.strip().lower() if isinstance(tid, str) and is_tenant_id(tid.strip()) else ""


def certificate_of(config: ProviderConfig) -> CertificateCredential:
    """The configuration's stored certificate credential; a stored one that no longer loads
    (expired) is a configuration problem, said before any redirect."""
    try:
        return parse_certificate_credential(config.service_account_key)
    except InvalidServiceAccountKey as exc:
        raise not_configured(
            f"The app's Office 365 certificate cannot be used: {exc.message}"
        ) from None
