"""Model fields whose values are encrypted at rest with the configured MultiFernet."""

from __future__ import annotations

import json
from typing import Any

from django.db import models

from aurinko_auth import crypto


class EncryptedTextField(models.TextField):
    """A text value stored as a Fernet token. Empty strings and NULL stay as they are, so
    "no secret" is visible without a key; everything else is ciphertext in the database."""

    description = "Text encrypted with the configured Fernet keys"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)

    def value_to_string(self, obj: Any) -> str:
        # Never serialise the plaintext (dumpdata, admin history); empty stays visible.
        return "<encrypted>" if self.value_from_object(obj) else ""


class EncryptedJSONField(models.TextField):
    """A JSON document stored as a Fernet token (empty dict when unset)."""

    description = "JSON encrypted with the configured Fernet keys"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", dict)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return {}
        return json.loads(crypto.decrypt(value))

    def to_python(self, value: Any) -> Any:
        if isinstance(value, dict | list) or value is None:
            return value
        if value == "":
            return {}
        return json.loads(value)

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        if value == {} or value == "":
            return ""
        return crypto.encrypt(json.dumps(value, separators=(",", ":"), sort_keys=True))

    def value_to_string(self, obj: Any) -> str:
        # Never serialise the plaintext (dumpdata, admin history).
        return "<encrypted>"
