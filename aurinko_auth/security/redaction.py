"""Keep secrets out of logs.

Request logs: callback and return URLs carry codes and states in their query strings, so
request logs (runserver's ``django.server``, a proxy's access log) must not print them.

Library logs:

requests-oauthlib logs, at DEBUG, the token request body (client secret, authorization code,
PKCE verifier, refresh token), the token response and the state. A project that turns on DEBUG
logging would write all of them; we drop those records at their source loggers."""

from __future__ import annotations

import logging
import re

# urllib3 logs every request line at DEBUG, and some provider endpoints carry a token in the
# path (HubSpot's token information).
NOISY_LOGGERS = (
    "requests_oauthlib.oauth2_session",
    "requests_oauthlib",
    "oauthlib",
    "urllib3.connectionpool",
    # exchangelib logs every EWS request's headers at DEBUG: with Basic auth,
    # the Authorization header is the password in base64. Its XML log and the
    # auth-type detection go too (filters do not reach child loggers).
    "exchangelib.util",
    "exchangelib.util.xml",
    "exchangelib.transport",
    "exchangelib.protocol",
    "exchangelib.services.common",
)


class DropDebug(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


# Loggers whose records carry request URLs, filtered where the records are made (a logger's
# filters apply to its own records before they propagate to any handler).
REQUEST_LOGGERS = ("django.server", "django.request", "django.security.csrf")


def _add_filter(target: logging.Filterer, kind: type[logging.Filter]) -> None:
    if not any(isinstance(f, kind) for f in target.filters):
        target.addFilter(kind())


def install() -> None:
    """Called by ``AppConfig.ready``, after Django applied the host's ``LOGGING``: whatever
    that is (Django's default included), request logs lose query strings and our secrets,
    and the library loggers lose their DEBUG records."""
    for name in NOISY_LOGGERS:
        _add_filter(logging.getLogger(name), DropDebug)
    for name in REQUEST_LOGGERS:
        _add_filter(logging.getLogger(name), RedactQueryStrings)
    # Records of other loggers that reach the root's handlers (a host's own request logging).
    for handler in logging.getLogger().handlers:
        _add_filter(handler, RedactQueryStrings)


_QUERY = re.compile(r"\?[^\s\"']*")
# Our own secrets have recognisable prefixes (crypto.PREFIX_*); codes also travel in paths
# (POST /v1/auth/token/{code}).
_OWN_SECRETS = re.compile(r"\b(aat|aus|acd|acs|ast|abr)_[A-Za-z0-9_\-]+")


def redact_query_strings(text: str) -> str:
    return _OWN_SECRETS.sub(r"\1_[redacted]", _QUERY.sub("?[redacted]", text))


class RedactQueryStrings(logging.Filter):
    """Replaces every URL query string, and our own codes, states and tokens, in a record's
    message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_query_strings(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_query_strings(a) if isinstance(a, str) else a for a in record.args
            )
        return True
