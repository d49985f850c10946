"""A gunicorn logger class whose access log cannot print our secrets:
``gunicorn --logger-class aurinko_auth.gunicorn_logging.RedactingLogger ...``.

Codes travel in paths (``POST /v1/auth/token/acd_...``, and a code stays redeemable after a
401) and states and provider codes in query strings, so every access-log atom is redacted
whatever ``--access-logformat`` says: query strings and our prefixed values
(``security.redaction``), and credential headers entirely. Imported by gunicorn only (gunicorn
is not a dependency of the app)."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from aurinko_auth.security.redaction import redact_query_strings

REDACTED = "[redacted]"
# Atoms printed whole would give a secret away (Basic credentials are base64): the query
# string, and any header or environ variable about credentials or cookies.
SECRET_WORDS = ("authorization", "cookie", "query_string")


class RedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if not isinstance(value, str) or value in ("", "-"):
                continue
            if key == "q" or any(word in key for word in SECRET_WORDS):
                atoms[key] = REDACTED
            else:
                atoms[key] = redact_query_strings(value)
        return atoms
