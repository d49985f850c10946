"""Reading what an OAuth provider answers: token responses, and every failure of a provider
call classified for the token lifecycle (terminal for the user, terminal for the app,
transient, configuration). Shared by every OAuth provider through :class:`OAuth2Provider`;
providers whose errors are not RFC 6749's extend :meth:`check_token_response` and
:meth:`classify_oauth_error`."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, ClassVar

import requests
from django.utils import timezone
from oauthlib.oauth2.rfc6749.errors import MissingTokenError, OAuth2Error

from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import AccessDenied
from aurinko_auth.providers.base import (
    CONFIG,
    TERMINAL_APP,
    TERMINAL_USER,
    TRANSIENT,
    ProviderCallError,
    TokenSet,
    parse_retry_after,
)

logger = logging.getLogger("aurinko_auth.providers")


class ProviderResponses:
    """Token-response parsing and error classification (mixed into OAuth2Provider)."""

    id: ClassVar[str]
    # Provider error codes (besides invalid_grant) that mean "the user must authorize again".
    terminal_user_errors: ClassVar[tuple[str, ...]] = ()

    # --- parsing and errors ----------------------------------------------------------------
    def parse_token(self, token: dict[str, Any]) -> TokenSet:
        access_token = token.get("access_token")
        if not access_token:
            raise ProviderCallError(f"{self.id} returned no access token.")
        expires_at = None
        if token.get("expires_in") not in (None, ""):
            try:
                expires_at = timezone.now() + timedelta(seconds=int(token["expires_in"]))
            except (TypeError, ValueError):
                expires_at = None
        scope = token.get("scope")
        if isinstance(scope, str):
            scope = [s for s in scope.replace(",", " ").split() if s]
        known = {
            "access_token",
            "refresh_token",
            "token_type",
            "expires_in",
            "expires_at",
            "scope",
            "id_token",
        }
        return TokenSet(
            access_token=access_token,
            refresh_token=token.get("refresh_token") or "",
            token_type=token.get("token_type") or "Bearer",
            expires_at=expires_at,
            scope=list(scope) if scope else None,
            id_token=token.get("id_token") or "",
            extra={k: v for k, v in token.items() if k not in known},
            issued_at=timezone.now(),
        )

    def classify_oauth_error(self, error: str, description: str) -> str:
        if error == "invalid_grant" or error in self.terminal_user_errors:
            return TERMINAL_USER
        if error in ("invalid_client", "unauthorized_client"):
            return TERMINAL_APP
        if error in ("temporarily_unavailable", "server_error", "slow_down"):
            return TRANSIENT
        return CONFIG

    def check_token_response(self, response: requests.Response) -> requests.Response:
        """Compliance hook of token calls: a 5xx or 429 is transient whatever its body says.
        Providers whose errors are not RFC 6749's extend it (their own error bodies)."""
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderCallError(
                f"{self.id} token endpoint answered HTTP {response.status_code}.",
                code=Code.PROVIDER_UNAVAILABLE,
                failure=TRANSIENT,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        return response

    def call(self, what: str, fn: Any) -> Any:
        """Run one provider call, turning every failure into a classified ProviderCallError."""
        try:
            return fn()
        except ProviderCallError:
            raise
        except MissingTokenError:
            # A 200 whose body has no token (an HTML page, a proxy's answer): not an OAuth
            # error the provider chose, so it is a bad response, like unparsable ones.
            logger.info("%s %s returned no token", self.id, what)
            raise ProviderCallError(
                f"{self.id} returned an unreadable response ({what}).",
                code=Code.PROVIDER_BAD_RESPONSE,
                failure=TRANSIENT,
            ) from None
        except OAuth2Error as exc:
            error = exc.error or "provider_error"
            if error == "missing_token":
                # oauthlib's word for a body it could not read as a token (an HTML error
                # page, a proxy): the provider answered nonsense, not an OAuth error.
                logger.info("%s %s returned an unreadable response", self.id, what)
                raise ProviderCallError(
                    f"{self.id} returned an unreadable response ({what}).",
                    code=Code.PROVIDER_BAD_RESPONSE,
                    failure=TRANSIENT,
                ) from None
            failure = self.classify_oauth_error(error, exc.description or "")
            logger.info("%s %s failed: %s", self.id, what, error)
            if error == "access_denied":
                raise AccessDenied(f"{self.id} denied access.") from None
            raise ProviderCallError(
                f"{self.id} {what} failed: {error}.", code=error, failure=failure
            ) from None
        except requests.Timeout:
            logger.info("%s %s timed out", self.id, what)
            raise ProviderCallError(
                f"{self.id} did not answer in time ({what}).",
                code=Code.PROVIDER_TIMEOUT,
                failure=TRANSIENT,
            ) from None
        except requests.RequestException as exc:
            logger.info("%s %s failed: %s", self.id, what, type(exc).__name__)
            raise ProviderCallError(
                f"{self.id} could not be reached ({what}).",
                code=Code.PROVIDER_UNREACHABLE,
                failure=TRANSIENT,
            ) from None
        except (ValueError, KeyError, TypeError):
            # oauthlib could not parse the body (not JSON, not form-encoded).
            logger.info("%s %s returned an unreadable response", self.id, what)
            raise ProviderCallError(
                f"{self.id} returned an unreadable response ({what}).",
                code=Code.PROVIDER_BAD_RESPONSE,
                failure=TRANSIENT,
            ) from None
