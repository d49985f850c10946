"""The form family: providers signed in through our own hosted form instead of the provider's
consent page (``FormSignIn``), and those whose password is what the broker keeps
(``PasswordProvider``). The form flow is :mod:`aurinko_auth.flows.password`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.providers.base import Profile, Provider, TokenSet

if TYPE_CHECKING:
    from aurinko_auth.models import ProviderConfig


class SignInFailed(InvalidRequest):
    """The server refused or could not be used; shown on the form, no account is made."""

    code = Code.CREDENTIALS_INVALID
    default_message = "The server did not accept this login and password."


@dataclass
class SignedIn:
    """What a sign-in through our hosted form proved: the identity, and what the broker keeps
    for the account: provider ``tokens`` (SugarCRM's password grant) or the ``credentials``
    themselves (EWS, IMAP), encrypted at rest."""

    profile: Profile
    tokens: TokenSet | None = None
    credentials: dict[str, Any] | None = None


class FormSignIn:
    """A provider signed in through our own hosted form (``/v1/auth/password/{state}``)
    instead of the provider's consent page. The form always asks ``login`` and ``password``;
    ``form_template`` adds the provider's own fields (server, port, ...)."""

    form_fields: ClassVar[tuple[str, ...]] = ("login", "password")
    form_template: ClassVar[str] = ""
    form_noun: ClassVar[str] = "account"
    login_label: ClassVar[str] = "Login (usually your e-mail address)"
    # Whether the broker keeps the password (EWS, IMAP) or only what the sign-in returned
    # (SugarCRM's tokens): the form tells the user which.
    keeps_password: ClassVar[bool] = True
    # The browser never leaves our form for the provider: no redirect page.
    redirects_browser: ClassVar[bool] = False

    def clean(self, data: Mapping[str, str]) -> dict[str, Any]:
        """The form's values, validated; raise InvalidRequest with a message for the user."""
        raise NotImplementedError

    def sign_in(self, config: ProviderConfig | None, data: dict[str, Any]) -> SignedIn:
        """A real sign-in at the server with the cleaned values."""
        raise NotImplementedError

    def form_initial(self, server_url: str) -> dict[str, str]:
        """The form's fields pre-filled from the authorize request's ``serverUrl`` (empty when
        it is not a server of this provider). Default: the form's own ``serverUrl`` field."""
        return {"serverUrl": server_url} if "serverUrl" in self.form_fields else {}

    def login_of(self, data: Mapping[str, str]) -> str:
        """The login a failed sign-in is counted against (rate limits), normalized."""
        return (data.get("login") or "").strip().lower()[:320]


class PasswordProvider(FormSignIn, Provider):
    """Providers whose password is what the broker keeps (EWS, IMAP): ``verify`` performs a
    real login and returns a Profile; the cleaned form values are stored encrypted."""

    kind = "password"
    form_noun = "mailbox"

    def verify(self, config: ProviderConfig | None, data: dict[str, Any]) -> Profile:
        raise NotImplementedError

    def sign_in(self, config: ProviderConfig | None, data: dict[str, Any]) -> SignedIn:
        return SignedIn(profile=self.verify(config, data), credentials=data)
