"""Keep provider secrets out of logs written by the OAuth libraries we call.

requests-oauthlib logs, at DEBUG, the token request body (client secret, authorization code,
PKCE verifier, refresh token), the token response and the state. A project that turns on DEBUG
logging would write all of them; we drop those records at their source loggers."""

from __future__ import annotations

import logging

# urllib3 logs every request line at DEBUG, and some provider endpoints carry a token in the
# path (HubSpot's token information).
NOISY_LOGGERS = ("requests_oauthlib.oauth2_session", "requests_oauthlib", "oauthlib",
                 "urllib3.connectionpool",
                 # exchangelib logs every EWS request's headers at DEBUG: with Basic auth,
                 # the Authorization header is the password in base64. Its XML log and the
                 # auth-type detection go too (filters do not reach child loggers).
                 "exchangelib.util", "exchangelib.util.xml", "exchangelib.transport",
                 "exchangelib.protocol", "exchangelib.services.common")


class DropDebug(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def install() -> None:
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropDebug) for f in logger.filters):
            logger.addFilter(DropDebug())
