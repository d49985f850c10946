"""The API's fields (api/serializers.py's building blocks): Aurinko's timestamps, values left
out when empty, the two meanings of an account's ``type``, and the query parameters' rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rest_framework import serializers as s
from rest_framework.fields import SkipField

from aurinko_auth import inputs
from aurinko_auth.exceptions import UnsupportedServiceType
from aurinko_auth.models import Account
from aurinko_auth.providers.registry import get_provider


def isoformat(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TimestampField(s.DateTimeField):
    """Aurinko's timestamps: ISO 8601 in UTC with milliseconds, ``...T12:00:00.000Z``."""

    def to_representation(self, value: datetime | None) -> str | None:
        return isoformat(value)


class OmitEmptyMixin:
    """An empty stored value leaves the field out of the JSON (Aurinko's schema has no
    ``null`` for it; README, the /v1/account example); the schema marks it optional."""

    omit_empty = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)  # type: ignore[call-arg]

    def get_attribute(self, instance: Any) -> Any:
        value = super().get_attribute(instance)  # type: ignore[misc]
        if not value:
            raise SkipField
        return value


class LastActivityField(OmitEmptyMixin, TimestampField):
    """EndUserDto ``lastActivity``: ``context["last_activity"]``, left out without one. The
    views add it per request (serializers.with_last_activity): the rest of the body is cached."""

    def get_attribute(self, instance: Any) -> Any:
        value = self.parent.context.get("last_activity")
        if value is None:
            raise SkipField
        return value


class AbsentCharField(OmitEmptyMixin, s.CharField):
    pass


class AbsentTimestampField(OmitEmptyMixin, TimestampField):
    pass


class AbsentIntegerField(OmitEmptyMixin, s.IntegerField):
    pass


# Aurinko's AccountType of an account (/v1/account, /v1/am/*): what kind of grant it is.
ACCOUNT_KINDS = ("personal", "daemon", "managed")


class AccountKindField(s.ChoiceField):
    """``type`` in /v1/account and /v1/am/*: ``daemon`` for a daemon (service) account,
    ``managed`` for a mailbox of one, else ``personal``; never ``null``. Its source is
    ``Account.kind``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ACCOUNT_KINDS, **kwargs)

    def to_representation(self, value: str) -> str:
        return value


class AccountTypeField(s.ChoiceField):
    """``type`` in /v1/user's accounts: the account's role for the user (seed 004)."""

    def __init__(self, **kwargs: Any) -> None:
        choices = [value for value in Account.Type.values if value]
        super().__init__(choices=choices, **kwargs)


class ServiceProviderField(s.CharField):
    """``serviceProvider``: Aurinko's ServiceProvider of the account's provider (the provider's
    ``service_provider``); left out for a provider outside that enum or no longer configured."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="service_type", required=False, **kwargs)

    def get_attribute(self, instance: Any) -> str:
        try:
            name = get_provider(super().get_attribute(instance)).service_provider
        except UnsupportedServiceType:
            raise SkipField from None
        if not name:
            raise SkipField
        return name


class ScopeListField(s.ListField):
    """A list of scope strings (an unset list is ``[]``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=s.CharField(), **kwargs)

    def get_attribute(self, instance: Any) -> list[str]:
        return list(super().get_attribute(instance) or [])


class IdField(s.RegexField):
    """A numeric id as the API receives it (a path segment, ``X-Aurinko-AccountId``): 1 to 18
    ASCII digits, surrounding spaces ignored."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(r"\A[0-9]{1,18}\Z", **kwargs)

    def run_validation(self, data: Any = s.empty) -> int:
        return int(super().run_validation(data))


_ID = IdField()


def parse_id(raw: Any) -> int | None:
    """The id in ``raw``, or None when it is not one (the views answer 404)."""
    try:
        return _ID.run_validation(raw)
    except s.ValidationError:
        return None


class FlagField(s.BooleanField):
    """A query-string flag: ``true``/``1``/``yes`` or ``false``/``0``/``no``, any case; empty
    is unset."""

    TRUE_VALUES = {"true", "1", "yes"}
    FALSE_VALUES = {"false", "0", "no"}
    NULL_VALUES = {""}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)
        self.default_empty_html = s.empty  # absent from the query: unset, not False

    def to_internal_value(self, data: Any) -> bool | None:
        return super().to_internal_value(data.lower() if isinstance(data, str) else data)


class CountField(s.IntegerField):
    """A non-negative integer query parameter, capped at ``maximum`` (larger values are
    ``maximum``, not an error), at least ``minimum``."""

    def __init__(self, *, default: int, maximum: int, minimum: int = 0, **kwargs: Any) -> None:
        self.minimum, self.maximum = minimum, maximum
        super().__init__(default=default, min_value=0, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str) and len(data) > self.MAX_STRING_LENGTH:
            self.fail("max_string_length")
        number = inputs.capped(data, self.maximum)
        if number is None:
            self.fail("invalid")
        return max(min(number, self.maximum), self.minimum)


def non_negative(name: str) -> dict[str, str]:
    message = f"{name} must be a non-negative integer."
    return {"invalid": message, "min_value": message, "max_string_length": message}
