"""Exchange Web Services mailboxes, signed in with our hosted password form. The credentials
are checked by a real sign-in with exchangelib (NTLM or Basic, as the server asks; TLS
certificates verified) and one real EWS call (ResolveNames for the login) that names the
mailbox. Every HTTP connection goes through :class:`netguard.GuardedAdapter`: each host is
resolved once, checked and pinned (no second DNS lookup, no DNS rebinding)."""

from __future__ import annotations

import contextlib
import functools
import re
import ssl
from collections.abc import Iterator, Mapping
from types import SimpleNamespace
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import requests

from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import InvalidRequest, ProviderNotConfigured
from aurinko_auth.providers.base import Profile
from aurinko_auth.providers.exchange_online import refuse_exchange_online
from aurinko_auth.providers.forms import PasswordProvider, SignedIn, SignInFailed
from aurinko_auth.security import netguard
from aurinko_auth.security.transport import is_secure_or_loopback

MAX_LENGTHS = {"login": 320, "password": 1024, "serverUrl": 2048}
# The auth types this sign-in accepts (exchangelib's names): the server's WWW-Authenticate
# decides which.
AUTH_TYPES = ("NTLM", "basic")
# SOAP autodiscover candidates for an e-mail domain (MS-OXDSCLI steps 1 and 2).
AUTODISCOVER_URLS = (
    "https://{domain}/autodiscover/autodiscover.svc",
    "https://autodiscover.{domain}/autodiscover/autodiscover.svc",
)
DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")


@functools.cache
def _exchangelib() -> SimpleNamespace:
    """exchangelib (the ``ews`` extra) and our guarded protocols, imported on first use so
    that the provider registers without it."""
    try:
        import exchangelib
        from exchangelib.autodiscover.protocol import AutodiscoverProtocol
        from exchangelib.protocol import CachingProtocol, Protocol
    except ImportError:
        raise ProviderNotConfigured("EWS needs exchangelib: install aurinko-auth[ews].") from None

    class Guarded:
        """Sessions that connect only through the SSRF guard, verify TLS with
        PASSWORD_CA_BUNDLE and ignore the environment (proxies, CA variables). All sessions
        of one sign-in share ``pins``: each host is resolved once."""

        HTTP_ADAPTER_CLS = netguard.GuardedAdapter
        pins: dict[tuple[str, int], str]

        def raw_session(
            self,
            prefix: str,
            oauth2_client: Any = None,
            oauth2_session_params: Any = None,
            oauth2_token_endpoint: Any = None,
        ) -> requests.Session:
            # exchangelib calls raw_session on the instance (a classmethod there).
            session = super().raw_session(  # type: ignore[misc]
                prefix, oauth2_client, oauth2_session_params, oauth2_token_endpoint
            )
            session.trust_env = False
            session.verify = aurinko_settings.PASSWORD_CA_BUNDLE or True
            adapter = session.get_adapter(prefix)
            adapter.pins = self.pins
            # Whatever URL a request goes to, it goes through the guarded adapter.
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            return session

        def create_session(self) -> requests.Session:
            session = super().create_session()  # type: ignore[misc]
            if type(session.auth) is requests.auth.HTTPBasicAuth:
                # requests sends str credentials as Latin-1 (and cannot send the others):
                # UTF-8, as RFC 7617 and browsers do.
                auth = session.auth
                session.auth = requests.auth.HTTPBasicAuth(
                    auth.username.encode(), auth.password.encode()
                )
            return session

    class _Uncached(CachingProtocol):
        """exchangelib keeps one Protocol per (endpoint, credentials) in a process-wide
        cache, failures included. A sign-in check must neither reuse another caller's
        protocol (whose sessions are not guarded) nor keep the password around: always a
        fresh instance."""

        def __call__(cls, *args: Any, **kwargs: Any) -> Any:
            return type.__call__(cls, *args, **kwargs)

    class GuardedProtocol(Guarded, Protocol, metaclass=_Uncached):
        pass

    class GuardedAutodiscoverProtocol(Guarded, AutodiscoverProtocol):
        pass

    return SimpleNamespace(
        Configuration=exchangelib.Configuration,
        Credentials=exchangelib.Credentials,
        FailFast=exchangelib.FailFast,
        GuardedProtocol=GuardedProtocol,
        GuardedAutodiscoverProtocol=GuardedAutodiscoverProtocol,
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it was raised from or during (exchangelib re-raises requests'
    errors as its own, keeping the original only as the cause or context)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _failure(exc: BaseException) -> SignInFailed:
    from exchangelib.errors import UnauthorizedError

    chain = list(_causes(exc))
    if any(isinstance(e, UnauthorizedError) for e in chain):
        return SignInFailed()
    if any(
        isinstance(e, (requests.exceptions.SSLError, ssl.SSLError, ssl.CertificateError))
        for e in chain
    ):
        return SignInFailed(
            "The server's TLS certificate could not be verified.", code=Code.SERVER_TLS_FAILED
        )
    if any(isinstance(e, (requests.exceptions.Timeout, TimeoutError)) for e in chain):
        return SignInFailed("The server did not answer in time.", code=Code.SERVER_TIMEOUT)
    if any(isinstance(e, (requests.exceptions.ConnectionError, ConnectionError)) for e in chain):
        return SignInFailed("The server could not be reached.", code=Code.SERVER_UNREACHABLE)
    return SignInFailed(
        "The server did not answer like an Exchange (EWS) server.", code=Code.SERVER_NOT_EWS
    )


def _domain_of(login: str) -> str | None:
    """The domain of an e-mail login (IDNA-encoded), or None."""
    if login.count("@") != 1:
        return None
    try:
        domain = login.rsplit("@", 1)[1].lower().encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return domain if DOMAIN.fullmatch(domain) else None


def _checked_url(url: str) -> str:
    """A server URL from the form or from autodiscover: https (http on loopback only), a
    host, no userinfo; a bare origin gets the standard EWS path."""
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (an invalid port raises)
    except ValueError:
        raise InvalidRequest("The server URL has an invalid port.") from None
    if (
        parts.scheme not in ("https", "http")
        or not parts.hostname
        or parts.username
        or parts.password
    ):
        raise InvalidRequest("The server URL must be an https URL.")
    if not is_secure_or_loopback(url):
        raise InvalidRequest("The server URL must use https (http only on loopback).")
    refuse_exchange_online(parts.hostname)
    return _endpoint(url)


def _autodiscover(
    ex: SimpleNamespace,
    login: str,
    password: str,
    pins: dict[tuple[str, int], str],
    timeout: tuple[float, ...],
) -> str:
    """The EWS endpoint of an e-mail login by SOAP autodiscover (GetUserSettings) at the
    standard candidates for its domain, in order, each through the guard. A candidate that
    refuses the password ends the search; unreachable ones are skipped."""
    from exchangelib.errors import RedirectError

    domain = _domain_of(login) or ""
    blocked: netguard.BlockedHost | None = None
    for template in AUTODISCOVER_URLS:
        protocol = ex.GuardedAutodiscoverProtocol(
            config=ex.Configuration(
                service_endpoint=template.format(domain=domain),
                credentials=ex.Credentials(login, password),
                retry_policy=ex.FailFast(),
            )
        )
        protocol.pins, protocol.TIMEOUT = pins, timeout
        try:
            if protocol.auth_type not in AUTH_TYPES:  # detected without credentials
                continue
            answer = protocol.get_user_settings(
                user=login, settings=["external_ews_url", "internal_ews_url"]
            )
            answer.raise_errors()
        except netguard.BlockedHost as exc:
            blocked = blocked or exc
            continue
        except RedirectError:
            continue  # MS-OXDSCLI redirects are not followed
        except Exception as exc:  # noqa: BLE001 (requests', exchangelib's and its parser's)
            failure = _failure(exc)
            if failure.code == Code.CREDENTIALS_INVALID:
                raise failure from None
            continue
        finally:
            with contextlib.suppress(Exception):
                protocol.close()
        url = answer.user_settings.get("external_ews_url") or answer.user_settings.get(
            "internal_ews_url"
        )
        if url and len(url) <= MAX_LENGTHS["serverUrl"] and "\x00" not in url:
            try:
                return _checked_url(url)
            except InvalidRequest:
                continue
    if blocked is not None:
        raise blocked
    raise SignInFailed(
        "No Exchange server was found for this e-mail address: enter the EWS server URL.",
        code=Code.SERVER_AUTODISCOVER_FAILED,
    )


def _endpoint(url: str) -> str:
    """The serverUrl as the EWS endpoint, normalized so that one server has one spelling
    (the account's identity includes it): lower-case scheme and host, no default port, and
    a bare origin gets the standard path."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    netloc = f"[{host}]" if ":" in host else host
    if parts.port and parts.port != netguard.DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{parts.port}"
    path = parts.path if parts.path not in ("", "/") else "/EWS/Exchange.asmx"
    return urlunsplit((scheme, netloc, path, parts.query, ""))


class EWSProvider(PasswordProvider):
    id = "EWS"
    service_provider = "EWS"
    name = "Exchange (EWS)"
    form_fields: ClassVar[tuple[str, ...]] = ("login", "password", "serverUrl")
    form_template = "aurinko_auth/password_fields/ews.html"
    # EWS reads and writes mail, calendars, contacts and tasks with the same credentials.
    scope_map = {
        "Mail.Read": ("ews",),
        "Mail.ReadWrite": ("ews",),
        "Mail.Send": ("ews",),
        "Mail.Drafts": ("ews",),
        "Mail.All": ("ews",),
        "Calendar.Read": ("ews",),
        "Calendar.ReadWrite": ("ews",),
        "Contacts.Read": ("ews",),
        "Contacts.ReadWrite": ("ews",),
        "Tasks.Read": ("ews",),
        "Tasks.ReadWrite": ("ews",),
    }

    def clean(self, data: Mapping[str, str]) -> dict[str, Any]:
        """Validate the form; raise InvalidRequest with a message for the user."""
        values = {k: (data.get(k) or "").strip() for k in ("login", "serverUrl")}
        values["password"] = data.get("password") or ""
        for key, value in values.items():
            if "\x00" in value:
                raise InvalidRequest("The form contains characters that are not allowed.")
            if len(value) > MAX_LENGTHS[key]:
                raise InvalidRequest(f"The {key} field is too long.")
        if not values["login"] or not values["password"]:
            raise InvalidRequest("Enter the login and the password.")
        login, url = values["login"], values["serverUrl"]
        if not url:
            if _domain_of(login) is None:
                raise InvalidRequest(
                    "Enter the EWS server URL (finding it automatically "
                    "needs an e-mail address as the login)."
                )
            return {"login": login, "password": values["password"], "serverUrl": ""}
        return {"login": login, "password": values["password"], "serverUrl": _checked_url(url)}

    def sign_in(self, config: Any, data: dict[str, Any]) -> SignedIn:
        profile = self.verify(config, data)
        # What is kept is the endpoint signed in to (the discovered one, when autodiscovered).
        return SignedIn(profile=profile, credentials={**data, "serverUrl": profile.server_url})

    def verify(self, config: Any, data: dict[str, Any]) -> Profile:
        """A real sign-in and one EWS call. Raises SignInFailed or netguard.BlockedHost."""
        ex = _exchangelib()
        from exchangelib.errors import RedirectError
        from exchangelib.properties import Mailbox
        from exchangelib.transport import NOAUTH, get_service_authtype

        login, timeout = data["login"], aurinko_settings.timeout("PASSWORD_TIMEOUT")
        pins: dict[tuple[str, int], str] = {}  # one DNS lookup per host for the whole sign-in
        endpoint = data["serverUrl"] or _autodiscover(ex, login, data["password"], pins, timeout)
        protocol = ex.GuardedProtocol(
            config=ex.Configuration(
                service_endpoint=endpoint,
                credentials=ex.Credentials(login, data["password"]),
                retry_policy=ex.FailFast(),
                max_connections=1,
            )
        )
        protocol.pins, protocol.TIMEOUT = pins, timeout
        try:
            # The server's WWW-Authenticate names the auth type (an unauthenticated
            # request, through the guard); only NTLM and Basic check a password.
            auth_type = get_service_authtype(protocol)
            if auth_type not in AUTH_TYPES:
                raise SignInFailed(
                    "The server does not offer NTLM or Basic sign-in.",
                    code=Code.SERVER_AUTH_UNSUPPORTED if auth_type != NOAUTH else "server.not_ews",
                )
            protocol.config.auth_type = auth_type
            # The first authenticated call: the server's version (ConvertId), then the mailbox.
            protocol.version  # noqa: B018 (guessed on access)
            found = protocol.resolve_names([login])
        except (netguard.BlockedHost, SignInFailed):
            raise
        except RedirectError:
            raise SignInFailed(
                "The server redirects elsewhere: enter the EWS endpoint itself.",
                code=Code.SERVER_NOT_EWS,
            ) from None
        except Exception as exc:  # noqa: BLE001 (requests', exchangelib's and its parser's)
            raise _failure(exc) from None
        finally:
            with contextlib.suppress(Exception):
                protocol.close()
        mailbox = next((m for m in found if isinstance(m, Mailbox)), None)
        email = (mailbox.email_address if mailbox else "") or (login if "@" in login else "")
        parts = urlsplit(endpoint)
        return Profile(
            auth_user_id=f"{login.lower()}@{parts.netloc.lower()}{parts.path.lower()}",
            email=email,
            name=(mailbox.name if mailbox else "") or "",
            login_string=login,
            server_url=endpoint,
            extra={"authType": auth_type},
        )
