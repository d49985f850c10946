"""IMAP mailboxes, signed in with our hosted password form. The credentials are checked by a
real login (TLS, or STARTTLS before any credential is sent; certificates verified) over a
connection pinned to the address the SSRF guard checked."""

from __future__ import annotations

import contextlib
import imaplib
import ssl
from collections.abc import Mapping
from typing import Any, ClassVar

from aurinko_auth import inputs
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.providers.base import Profile
from aurinko_auth.providers.exchange_online import refuse_exchange_online
from aurinko_auth.providers.forms import PasswordProvider, SignInFailed
from aurinko_auth.security import netguard

SECURITY = ("ssl", "starttls")
DEFAULT_PORTS = {"ssl": 993, "starttls": 143}
MAX_LENGTHS = {"login": 320, "password": 1024, "host": 253, "smtpHost": 253}


def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=aurinko_settings.PASSWORD_CA_BUNDLE or None)


class _Pinned:
    """imaplib's socket goes to the address netguard checked (no second DNS lookup)."""

    def _create_socket(self, timeout: float | None) -> Any:
        return netguard.pinned_connection(self.host, self.port, timeout or 15.0)


class PinnedIMAP4(_Pinned, imaplib.IMAP4):
    pass


class PinnedIMAP4SSL(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout: float | None) -> Any:
        sock = netguard.pinned_connection(self.host, self.port, timeout or 15.0)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def _login(client: imaplib.IMAP4, login: str, password: str) -> None:
    """LOGIN for ASCII credentials; SASL PLAIN (RFC 4616, UTF-8) for the others, which
    LOGIN cannot carry. A server that announces LOGINDISABLED gets PLAIN too."""
    ascii_only = login.isascii() and password.isascii()
    if ascii_only and "LOGINDISABLED" not in client.capabilities:
        client.login(login, password)
        return
    if "AUTH=PLAIN" not in client.capabilities:
        raise SignInFailed(
            "The server cannot accept this login or password (it offers no "
            "AUTH=PLAIN for non-ASCII characters).",
            code=Code.SERVER_AUTH_PLAIN,
        )
    message = b"\0" + login.encode() + b"\0" + password.encode()
    client.authenticate("PLAIN", lambda _challenge: message)


class IMAPProvider(PasswordProvider):
    id = "IMAP"
    service_provider = "IMAP"
    name = "IMAP"
    form_fields: ClassVar[tuple[str, ...]] = (
        "login",
        "password",
        "host",
        "port",
        "security",
        "smtpHost",
        "smtpPort",
    )
    form_template = "aurinko_auth/password_fields/imap.html"
    # IMAP reads and writes mail; sending needs SMTP, which this sign-in does not check.
    scope_map = {"Mail.Read": ("imap",), "Mail.ReadWrite": ("imap",), "Mail.Drafts": ("imap",)}

    def form_initial(self, server_url: str) -> dict[str, str]:
        # imaps://host:993, imap://host:143 (STARTTLS) or a bare host name.
        scheme, sep, rest = server_url.partition("://")
        if not sep:
            scheme, rest = "imaps", server_url
        security = {"imaps": "ssl", "imap": "starttls"}.get(scheme.lower())
        host, _, port = rest.rstrip("/").partition(":")
        if security is None or not host or "/" in host or (port and not port.isdigit()):
            return {}
        return {"host": host, "port": port, "security": security}

    def clean(self, data: Mapping[str, str]) -> dict[str, Any]:
        """Validate the form; raise InvalidRequest with a message for the user."""
        values = {
            k: (data.get(k) or "").strip()
            for k in ("login", "host", "port", "security", "smtpHost", "smtpPort")
        }
        values["password"] = data.get("password") or ""
        for key, value in values.items():
            if "\x00" in value:
                raise InvalidRequest("The form contains characters that are not allowed.")
            if len(value) > MAX_LENGTHS.get(key, 16):
                raise InvalidRequest(f"The {key} field is too long.")
        if not values["login"] or not values["password"] or not values["host"]:
            raise InvalidRequest("Enter the login, the password and the IMAP server.")
        security = values["security"] or "ssl"
        if security not in SECURITY:
            raise InvalidRequest("Security must be SSL/TLS or STARTTLS.")
        port = inputs.decimal(
            values["port"] or str(DEFAULT_PORTS[security]), minimum=1, maximum=65535
        )
        if port is None:
            raise InvalidRequest("The port must be a number from 1 to 65535.")
        refuse_exchange_online(values["host"])
        cleaned = {
            "login": values["login"],
            "password": values["password"],
            "host": values["host"].lower().strip("[]"),
            "port": port,
            "security": security,
        }
        if values["smtpHost"]:
            smtp_port = inputs.decimal(values["smtpPort"] or "587", minimum=1, maximum=65535)
            if smtp_port is None:
                raise InvalidRequest("The SMTP port must be a number from 1 to 65535.")
            cleaned.update(smtpHost=values["smtpHost"].lower(), smtpPort=smtp_port)
        return cleaned

    def verify(self, config: Any, data: dict[str, Any]) -> Profile:
        """A real login (then LOGOUT). Raises SignInFailed or netguard.BlockedHost."""
        timeout = aurinko_settings.timeout("PASSWORD_TIMEOUT")[1]
        host, port = data["host"], data["port"]
        try:
            if data["security"] == "ssl":
                client: imaplib.IMAP4 = PinnedIMAP4SSL(
                    host, port, ssl_context=_tls_context(), timeout=timeout
                )
            else:
                client = PinnedIMAP4(host, port, timeout=timeout)
                if "STARTTLS" not in client.capabilities:
                    with contextlib.suppress(imaplib.IMAP4.error, OSError):
                        client.logout()
                    raise SignInFailed(
                        "The server does not offer STARTTLS; the password is never sent "
                        "unencrypted. Choose SSL/TLS or another port.",
                        code=Code.SERVER_NO_STARTTLS,
                    )
                client.starttls(_tls_context())  # before any credential is sent
            try:
                _login(client, data["login"], data["password"])
            finally:
                with contextlib.suppress(imaplib.IMAP4.error, OSError):
                    client.logout()
        except (netguard.BlockedHost, SignInFailed):
            raise
        except imaplib.IMAP4.abort:
            raise SignInFailed(
                "The server closed the connection: is it an IMAP server?", code=Code.SERVER_NOT_IMAP
            ) from None
        except imaplib.IMAP4.error as exc:
            text = str(exc).lower()
            if "auth" in text or "login" in text or "credential" in text:
                raise SignInFailed() from None
            raise SignInFailed(
                "The server did not answer like an IMAP server.", code=Code.SERVER_NOT_IMAP
            ) from None
        except (ssl.SSLError, ssl.CertificateError):
            raise SignInFailed(
                "The server's TLS certificate could not be verified.", code=Code.SERVER_TLS_FAILED
            ) from None
        except TimeoutError:
            raise SignInFailed(
                "The server did not answer in time.", code=Code.SERVER_TIMEOUT
            ) from None
        except OSError:
            raise SignInFailed(
                "The server could not be reached.", code=Code.SERVER_UNREACHABLE
            ) from None
        login = data["login"]
        return Profile(
            auth_user_id=f"{login.lower()}@{host}:{port}",
            email=login if "@" in login else "",
            login_string=login,
            server_url=f"{'imaps' if data['security'] == 'ssl' else 'imap'}://{host}:{port}",
        )
