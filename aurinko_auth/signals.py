"""Keeps the auth caches honest (``AUTH_CACHE``, ``AUTH_LOCAL_CACHE``): deleting a token, an
account, a user or a session, or changing an account, a user or an app (disabled, secret
rotated), announces the change (:func:`aurinko_auth.hotpath.channel.announce`): once it
commits, the shared cache's entries are tombstoned and every worker drops its own.

Writes that bypass signals (``QuerySet.update``) announce themselves where they revoke
(:func:`aurinko_auth.usersessions.revoke` and its peers); the refresher's ``tokenStatus`` and
``active`` changes are announced here, on the lifecycle events that go with them."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from aurinko_auth.hotpath.cache import auth_cache
from aurinko_auth.hotpath.channel import announce, announce_account
from aurinko_auth.identity import principals as identity_principals
from aurinko_auth.models import Account, AccountToken, App, AppUser, IdentityTrust, UserSession
from aurinko_auth.webhooks import events


def _hashes_where(**lookup: Any) -> list[str]:
    """The token hashes a change affects, for the shared cache (none without one)."""
    if auth_cache() is None:
        return []
    return list(AccountToken.objects.filter(**lookup).values_list("token_hash", flat=True))


@receiver(post_delete, sender=AccountToken, dispatch_uid="aurinko_token_deleted")
def _token_deleted(sender: Any, instance: AccountToken, using: str, **kwargs: Any) -> None:
    announce([], [instance.token_hash], using=using)


@receiver(post_save, sender=Account, dispatch_uid="aurinko_account_saved")
def _account_saved(
    sender: Any, instance: Account, created: bool, using: str, **kwargs: Any
) -> None:
    # A new account changes its user's account list; a changed one its tokens' entries too.
    tags = [f"u:{instance.user_id}"] if instance.user_id else []
    if created:
        announce(tags, using=using)
        return
    announce_account(instance.pk, instance.user_id, using=using)


@receiver(post_delete, sender=Account, dispatch_uid="aurinko_account_deleted")
def _account_deleted(sender: Any, instance: Account, using: str, **kwargs: Any) -> None:
    tags = [f"a:{instance.pk}", *([f"u:{instance.user_id}"] if instance.user_id else [])]
    announce(tags, using=using)


@receiver(post_save, sender=App, dispatch_uid="aurinko_app_saved")
def _app_saved(sender: Any, instance: App, created: bool, using: str, **kwargs: Any) -> None:
    if not created:
        announce([f"p:{instance.pk}"], _hashes_where(account__app_id=instance.pk), using=using)


@receiver(post_delete, sender=App, dispatch_uid="aurinko_app_deleted")
def _app_deleted(sender: Any, instance: App, using: str, **kwargs: Any) -> None:
    announce([f"p:{instance.pk}"], using=using)


@receiver(events.account_refresh_failed, dispatch_uid="aurinko_account_refresh_failed")
@receiver(events.account_needs_reauth, dispatch_uid="aurinko_account_needs_reauth")
@receiver(events.account_recovered, dispatch_uid="aurinko_account_recovered")
def _token_status_changed(sender: Any, account: Account | int | None, **kwargs: Any) -> None:
    """The refresher writes ``tokenStatus`` and ``active`` with ``QuerySet.update`` (no model
    signal); these events go with each change from or to healthy, so the account's cached
    ``GET /v1/account`` bodies and its user's account list go once it commits, instead of
    being shown up to ``AUTH_CACHE_TIMEOUT`` later. The lifecycle emits them with the row."""
    if isinstance(account, Account):
        announce_account(account.pk, account.user_id)


@receiver(post_save, sender=AppUser, dispatch_uid="aurinko_user_saved")
@receiver(post_delete, sender=AppUser, dispatch_uid="aurinko_user_deleted")
def _user_changed(sender: Any, instance: AppUser, using: str, **kwargs: Any) -> None:
    if not kwargs.get("created"):
        announce([f"u:{instance.pk}"], using=using)


@receiver(post_save, sender=UserSession, dispatch_uid="aurinko_session_saved")
@receiver(post_delete, sender=UserSession, dispatch_uid="aurinko_session_deleted")
def _session_changed(sender: Any, instance: UserSession, using: str, **kwargs: Any) -> None:
    if not kwargs.get("created"):
        announce([f"i:{instance.pk}"], using=using)


@receiver(post_save, sender=IdentityTrust, dispatch_uid="aurinko_trust_saved")
@receiver(post_delete, sender=IdentityTrust, dispatch_uid="aurinko_trust_deleted")
def _trust_changed(sender: Any, instance: IdentityTrust, **kwargs: Any) -> None:
    # Identity-token requests read trusts from Django's cache (identity/principals.py).
    identity_principals.forget_trust(instance)


@receiver(post_save, sender=App, dispatch_uid="aurinko_app_saved_trusts")
def _app_saved_trusts(sender: Any, instance: App, **kwargs: Any) -> None:
    for trust in IdentityTrust.objects.filter(app=instance):
        trust.app = instance
        identity_principals.forget_trust(trust)
