"""Keeps the account-token cache (``AUTH_CACHE``) honest: deleting a token or an account, or
changing an account or an app, removes the affected entries at once."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from aurinko_auth.hotpath.cache import auth_cache, forget_tokens
from aurinko_auth.models import Account, AccountToken, App

__all__ = ["forget_tokens"]


@receiver(post_delete, sender=AccountToken, dispatch_uid="aurinko_token_deleted")
def _token_deleted(sender: Any, instance: AccountToken, **kwargs: Any) -> None:
    forget_tokens([instance.token_hash])


@receiver(post_save, sender=Account, dispatch_uid="aurinko_account_saved")
def _account_saved(sender: Any, instance: Account, created: bool, **kwargs: Any) -> None:
    if not created and auth_cache() is not None:
        forget_tokens(
            AccountToken.objects.filter(account_id=instance.pk)
            .values_list("token_hash", flat=True)
            .iterator()
        )


@receiver(post_save, sender=App, dispatch_uid="aurinko_app_saved")
def _app_saved(sender: Any, instance: App, created: bool, **kwargs: Any) -> None:
    if not created and auth_cache() is not None:
        forget_tokens(
            AccountToken.objects.filter(account__app_id=instance.pk)
            .values_list("token_hash", flat=True)
            .iterator()
        )
