"""Providers registered explicitly from ``AURINKO_AUTH["PROVIDERS"]`` (dotted paths), keyed by
their service type, like Django's ``PASSWORD_HASHERS``. No discovery by import side effects."""

from __future__ import annotations

from functools import lru_cache

from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from aurinko_auth.conf import aurinko_settings
from aurinko_auth.exceptions import UnsupportedServiceType
from aurinko_auth.providers.base import Provider


@lru_cache(maxsize=1)
def _load() -> tuple[dict[str, Provider], list[str]]:
    providers: dict[str, Provider] = {}
    duplicates: list[str] = []
    for path in aurinko_settings.PROVIDERS:
        cls = import_string(path)
        provider = cls()
        key = provider.id.lower()
        if key in providers:
            duplicates.append(provider.id)
        providers[key] = provider
    return providers, duplicates


def reset() -> None:
    _load.cache_clear()


def _settings_changed(*, setting: str, **kwargs: object) -> None:
    if setting == "AURINKO_AUTH":
        reset()


setting_changed.connect(_settings_changed)


def all_providers() -> list[Provider]:
    return list(_load()[0].values())


def duplicate_ids() -> list[str]:
    return list(_load()[1])


def get_provider(service_type: str | None) -> Provider:
    """The provider for a service type, matched case-insensitively."""
    provider = _load()[0].get((service_type or "").strip().lower())
    if provider is None:
        raise UnsupportedServiceType(
            f"Unknown or unsupported serviceType: {(service_type or '')[:40]!r}."
        )
    return provider


def canonical_service_type(service_type: str) -> str:
    return get_provider(service_type).id
