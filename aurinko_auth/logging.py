"""Logging helpers. Callback and return URLs carry codes and states in their query strings,
so request logs (runserver's ``django.server``, a proxy's access log) must not print them."""

from __future__ import annotations

import logging
import re

_QUERY = re.compile(r"\?[^\s\"']*")
# Our own secrets have recognisable prefixes (crypto.PREFIX_*); codes also travel in paths
# (POST /v1/auth/token/{code}).
_OWN_SECRETS = re.compile(r"\b(aat|aus|acd|acs|ast|abr)_[A-Za-z0-9_\-]+")


def redact_query_strings(text: str) -> str:
    return _OWN_SECRETS.sub(r"\1_[redacted]", _QUERY.sub("?[redacted]", text))


class RedactQueryStrings(logging.Filter):
    """Replaces every URL query string in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_query_strings(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_query_strings(a) if isinstance(a, str) else a
                                for a in record.args)
        return True
