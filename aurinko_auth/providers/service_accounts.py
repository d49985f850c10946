"""Service accounts (daemon access) as a provider capability.

A provider whose organisations can authorize the broker once for every mailbox mixes in
:class:`ServiceAccountProvider` and implements its hooks. The daemon flow
(:mod:`aurinko_auth.flows.daemon`), the daemon token lifecycle
(:mod:`aurinko_auth.lifecycle.daemon_tokens`), :mod:`aurinko_auth.services` and the admin ask
the registry for a provider and check ``isinstance(provider, ServiceAccountProvider)``; they
never ask which provider it is.

Two shapes of admin authorization exist (``admin_signs_in``):

* admin consent (False): the provider's consent page; its callback carries no code but names
  the organisation, and one app-only token serves all of its mailboxes (client credentials).
  When the consent would not name one organisation in advance (Office 365's
  ``organizations``), the admin first signs in with OpenID Connect (``daemon_sign_in_first``):
  the verified ID token proves the organisation and the admin's role, and the consent is then
  asked for exactly that organisation;
* admin sign-in (True): the administrator signs in with the provider's ordinary OAuth
  (identity only); the broker then proves the delegation with a token for the admin's own
  mailbox, and tokens are issued per mailbox (``token_per_mailbox``, the JWT bearer grant).

The grant mechanics shared by providers (an app-only token request classified like every
provider call, a JWT bearer assertion signed with PyJWT) are here too.
"""

from __future__ import annotations

import base64
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from oauthlib.common import to_unicode
from oauthlib.oauth2 import ServiceApplicationClient
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from oauthlib.oauth2.rfc6749.parameters import prepare_token_request

from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import InvalidRequest, ProviderNotConfigured
from aurinko_auth.providers.base import TERMINAL_USER, Profile, ProviderCallError, TokenSet
from aurinko_auth.security.oauth_transport import OAuth2Session

if TYPE_CHECKING:
    from aurinko_auth.models import Account, ProviderConfig

logger = logging.getLogger("aurinko_auth.daemon")


class InvalidServiceAccountKey(InvalidRequest):
    code = Code.SERVICE_ACCOUNT_KEY_INVALID
    default_message = "The service-account key is not valid."


class MailboxError(InvalidRequest):
    code = Code.MAILBOX_INVALID
    default_message = "The mailbox is not valid for this service account."


class UnknownMailbox(ProviderCallError):
    """The provider does not know the mailbox a per-mailbox token was asked for (deleted,
    suspended): that mailbox's problem, not the service account's."""

    def __init__(self, message: str, *, code: str = "invalid_grant") -> None:
        super().__init__(message, code=code, failure=TERMINAL_USER)


def not_configured(message: str) -> ProviderNotConfigured:
    return ProviderNotConfigured(message, code=Code.DAEMON_NOT_CONFIGURED)


@dataclass(frozen=True)
class IdTokenRules:
    """What the ID token of a daemon flow's admin sign-in must satisfy: signed by a key of
    ``jwks_url``, issued by ``issuer`` (``{tid}``: the token's tenant id), for ``audience``."""

    jwks_url: str
    issuer: str
    audience: str


@dataclass
class DaemonGrant:
    """What a completed admin authorization proved: the organisation (one daemon account per
    tenant or domain), its first app-only ``tokens`` when the provider issues org-wide ones,
    and the ``credentials`` the broker keeps for it (encrypted)."""

    profile: Profile
    credentials: dict[str, Any]
    tokens: TokenSet | None = None


class ServiceAccountProvider:
    """The service-account capability of an OAuth 2.0 provider (mixed in before
    :class:`~aurinko_auth.providers.oauth2.OAuth2Provider`)."""

    # See the module docstring: False = admin consent, True = admin sign-in + delegation.
    admin_signs_in: ClassVar[bool] = False
    # One token per mailbox (and scope set) instead of one for the whole organisation.
    token_per_mailbox: ClassVar[bool] = False
    # The configuration holds a service-account key (``ProviderConfig.service_account_key``).
    takes_service_account_key: ClassVar[bool] = False

    # --- configuration -------------------------------------------------------------------
    def check_daemon_config(self, config: ProviderConfig) -> None:
        """Raise :class:`ProviderNotConfigured` (``daemon.not_configured``) when ``config``
        cannot serve service accounts; the flow calls it before any redirect."""
        raise NotImplementedError

    def parse_service_account_key(self, text: str) -> Any:
        """Parse and check a service-account key before it is stored; raise
        :class:`InvalidServiceAccountKey` with a message that never quotes the key."""
        raise InvalidServiceAccountKey(
            f"{getattr(self, 'id', '')} takes no service-account key.",
        )

    def describe_service_account_key(self, text: str) -> str:
        """What a stored key is, in words that are not secret (its account, its certificate),
        for the admin; empty when unreadable."""
        return ""

    # --- admin consent (admin_signs_in False) ----------------------------------------------
    def daemon_consent(self, config: ProviderConfig, extra: Mapping[str, str]) -> dict[str, str]:
        """What the consent request needs from the authorize request's provider parameters
        (``extra``, e.g. ``tenant``), validated; kept in the flow state until the callback."""
        raise NotImplementedError

    def daemon_consent_url(
        self, config: ProviderConfig, consent: Mapping[str, str], *, state: str, redirect_uri: str
    ) -> str:
        raise NotImplementedError

    def complete_daemon_consent(
        self, config: ProviderConfig, consent: Mapping[str, str], query: Mapping[str, str]
    ) -> DaemonGrant:
        """Check the consent callback's ``query`` and fetch the first app-only token."""
        raise NotImplementedError

    # --- the admin's OpenID sign-in before a consent (admin_signs_in False) ----------------
    def daemon_sign_in_first(self, consent: Mapping[str, str]) -> bool:
        """Whether ``consent`` needs the admin's OpenID Connect sign-in first, to prove which
        organisation consents (it names none yet). Default: never."""
        return False

    def daemon_sign_in_url(
        self,
        config: ProviderConfig,
        consent: Mapping[str, str],
        *,
        state: str,
        redirect_uri: str,
        code_challenge: str,
        nonce: str,
    ) -> str:
        """The authorization URL of the admin's sign-in (identity scopes only, PKCE, nonce)."""
        raise NotImplementedError

    def redeem_daemon_sign_in(
        self,
        config: ProviderConfig,
        consent: Mapping[str, str],
        query: Mapping[str, str],
        *,
        redirect_uri: str,
        code_verifier: str,
    ) -> TokenSet:
        """Check the sign-in callback's ``query`` and redeem its code (the tokens carry the
        ID token). A callback without a code (a consent answer where the sign-in belongs) is
        ``tenant.unproven``."""
        raise NotImplementedError

    def daemon_id_token_rules(self, config: ProviderConfig) -> IdTokenRules:
        """Where the sign-in's ID token keys are, its issuer and audience."""
        raise NotImplementedError

    def daemon_signed_in(self, config: ProviderConfig, claims: Mapping[str, Any]) -> dict[str, str]:
        """The verified ID token's ``claims``: refuse a user who cannot consent
        (``daemon.not_admin``) and return the consent for the proven organisation (flow
        parameters, like :meth:`daemon_consent`'s)."""
        raise NotImplementedError

    # --- admin sign-in (admin_signs_in True) -----------------------------------------------
    def complete_daemon_sign_in(
        self, config: ProviderConfig, admin: Profile, native: list[str]
    ) -> DaemonGrant:
        """The administrator signed in as ``admin``: prove the delegation for ``native``
        scopes (raise :class:`ProviderCallError` when refused) and describe the organisation."""
        raise NotImplementedError

    # --- imports (Aurinko's upsertServiceAccount) -------------------------------------------
    def import_service_account(
        self, config: ProviderConfig, *, org_id: str, mailbox: str, native: list[str]
    ) -> DaemonGrant:
        """Prove a service account an app imports (``POST /v1/am/svc_accounts``) with the
        app's own credentials, as the admin authorization's completion does: ``org_id`` is
        the organisation the body names (``authOrgId``), ``mailbox`` its ``email`` or
        ``loginString``. Raise :class:`InvalidRequest` for a body the provider cannot use and
        :class:`ProviderCallError` (or a :class:`ProviderError`) when the provider refuses."""
        raise NotImplementedError

    # --- daemon accounts ---------------------------------------------------------------------
    def service_account_token(
        self, config: ProviderConfig, account: Account, mailbox: str | None
    ) -> TokenSet:
        """A new app-only token for the daemon ``account`` (for ``mailbox`` when
        ``token_per_mailbox``). Raises :class:`ProviderCallError` (:class:`UnknownMailbox`
        when the provider does not know the mailbox)."""
        raise NotImplementedError

    def renew(self, config: ProviderConfig, account: Account) -> TokenSet:
        """New tokens for a stored account (the refresh job,
        :mod:`aurinko_auth.lifecycle.tokens`): a daemon account's organisation-wide token is
        fetched again with the service-account grant (it has no refresh token); the
        provider's user accounts refresh as usual."""
        if account.daemon and not self.token_per_mailbox:
            return self.service_account_token(config, account, None)
        return super().renew(config, account)  # type: ignore[misc]

    def check_mailbox(self, account: Account, mailbox: str) -> None:
        """Provider rules for a mailbox the daemon ``account`` acts for (a valid address
        already): raise :class:`MailboxError`. Default: any address."""

    def mailbox_probe(self, path: str, mailbox: str) -> str:
        """An ``access_probes`` path for one ``mailbox`` (a managed account's
        ``ensureAccess``). Default: the path itself, for per-mailbox tokens, which act as the
        mailbox; an app-only token names it in the path."""
        return path

    def managed_direct_path(self, path: str, mailbox: str) -> str | None:
        """The Direct API path (relative to the ``api`` endpoint, percent-encoded) a managed
        account of ``mailbox`` may reach for ``path``, or None when ``path`` is outside that
        mailbox. Default (per-mailbox tokens, which reach that mailbox only): ``path``."""
        return path

    def default_mailbox(self, account: Account) -> str:
        """The mailbox a per-mailbox token acts as when the caller names none."""
        return str((account.credentials or {}).get("default_mailbox") or "")

    def service_account_error(self, error: str, description: str) -> ProviderCallError:
        """The error an app-only token request's OAuth ``error`` becomes (``description``
        lower-cased). Providers refine the failure class of their own answers."""
        failure = self.classify_oauth_error(error, description)  # type: ignore[attr-defined]
        return ProviderCallError(
            f"{getattr(self, 'id', '')} refused the app-only token: {error}.",
            code=error[:64],
            failure=failure,
        )

    # --- grant mechanics ---------------------------------------------------------------------
    def fetch_app_token(self, session: OAuth2Session, url: str, **kwargs: Any) -> TokenSet:
        """One app-only token request through ``session`` (client credentials or JWT bearer),
        failures classified like every token call of the provider."""
        provider: Any = self  # an OAuth2Provider (see the class docstring)
        session.register_compliance_hook("access_token_response", provider.check_token_response)

        def call() -> dict[str, Any]:
            try:
                return session.fetch_token(url, timeout=provider.timeout(), **kwargs)
            except OAuth2Error as exc:
                error = exc.error or "provider_error"
                logger.info("%s app-only token request failed: %s", provider.id, error)
                raise self.service_account_error(error, (exc.description or "").lower()) from None

        # Network errors and unreadable bodies are classified by the provider's own wrapper.
        tokens = provider.parse_token(provider.call("app-only token request", call))
        tokens.scope = None  # app permissions are the app registration's, not in the response
        return tokens


class SignedAssertionClient(ServiceApplicationClient):
    """oauthlib's JWT bearer client (RFC 7523), signing RS256 with PyJWT and naming the key
    (``kid``) so the token endpoint picks the right public key after a key rotation."""

    def __init__(
        self, client_id: str, private_key: str, key_id: str, claims: dict[str, Any]
    ) -> None:
        super().__init__(client_id)
        self._private_key = private_key
        self._key_id = key_id
        self._claims = claims

    def prepare_request_body(self, body: str = "", **kwargs: Any) -> str:
        headers = {"kid": self._key_id} if self._key_id else None
        assertion = jwt.encode(self._claims, self._private_key, algorithm="RS256", headers=headers)
        return prepare_token_request(self.grant_type, body=body, assertion=to_unicode(assertion))


# --- certificate credentials (RFC 7523 client authentication) ----------------------------------

# An assertion is used once, at once: Microsoft advises a few minutes of validity.
CLIENT_ASSERTION_LIFETIME = 600
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class CertificateCredential:
    """An app's private key and the X.509 certificate registered for it at the provider."""

    private_key: str  # PEM
    certificate: x509.Certificate

    @property
    def thumbprint_sha1(self) -> str:
        """``x5t``: the base64url SHA-1 thumbprint of the certificate's DER encoding."""
        return _b64url(self.certificate.fingerprint(hashes.SHA1()))  # noqa: S303 (a name, not a MAC)

    @property
    def thumbprint_sha256(self) -> str:
        """``x5t#S256``: the base64url SHA-256 thumbprint."""
        return _b64url(self.certificate.fingerprint(hashes.SHA256()))

    @property
    def hex_thumbprint(self) -> str:
        """The thumbprint as the provider's console shows it (SHA-1, upper-case hex)."""
        return self.certificate.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303

    @property
    def expires_at(self) -> datetime:
        return self.certificate.not_valid_after_utc

    def describe(self) -> str:
        subject = self.certificate.subject.rfc4514_string() or "(no subject)"
        return (
            f"certificate {subject}, thumbprint {self.hex_thumbprint}, "
            f"expires {self.expires_at:%Y-%m-%d}"
        )

    def client_assertion(self, client_id: str, audience: str) -> str:
        """A signed client assertion (RFC 7523 section 2.2) for ``audience`` (the token
        endpoint): PS256 with the certificate named by ``x5t#S256`` and ``x5t``."""
        now = int(time.time())
        claims = {
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": str(uuid.uuid4()),
            "nbf": now,
            "iat": now,
            "exp": now + CLIENT_ASSERTION_LIFETIME,
        }
        headers = {"x5t#S256": self.thumbprint_sha256, "x5t": self.thumbprint_sha1}
        return jwt.encode(claims, self.private_key, algorithm="PS256", headers=headers)


def parse_certificate_credential(text: str) -> CertificateCredential:
    """A PEM text holding an unencrypted RSA private key and its X.509 certificate (either
    order; a chain may follow). Raises :class:`InvalidServiceAccountKey` with a message that
    never quotes the key."""
    data = (text or "").encode()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise InvalidServiceAccountKey(
            "The private key is encrypted: store it without a passphrase "
            "(openssl pkey -in key.pem -out key-plain.pem)."
        ) from None
    except ValueError:
        raise InvalidServiceAccountKey("The file holds no readable PEM private key.") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidServiceAccountKey("The private key is not RSA.")
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise InvalidServiceAccountKey(
            "The file holds no readable PEM certificate next to the private key."
        ) from None
    public = key.public_key().public_numbers()
    own = [
        c
        for c in certificates
        if isinstance(c.public_key(), rsa.RSAPublicKey)
        and c.public_key().public_numbers() == public
    ]
    if not own:
        raise InvalidServiceAccountKey("No certificate in the file matches the private key.")
    certificate = own[0]
    if certificate.not_valid_after_utc <= datetime.now(UTC):
        raise InvalidServiceAccountKey(
            f"The certificate expired on {certificate.not_valid_after_utc:%Y-%m-%d}."
        )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return CertificateCredential(pem, certificate)
