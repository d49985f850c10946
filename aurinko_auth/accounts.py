"""Creating and updating accounts from a completed authorization."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from aurinko_auth import audit
from aurinko_auth.exceptions import AccountExists
from aurinko_auth.models import Account, App, ProviderConfig, TokenStatus
from aurinko_auth.providers.base import Profile, Provider, ProviderCallError, TokenSet
from aurinko_auth.providers.oauth2 import OAuth2Provider
from aurinko_auth.providers.registry import get_provider
from aurinko_auth.webhooks import events

logger = logging.getLogger("aurinko_auth.accounts")


def find_identity(
    app: App,
    service_type: str,
    auth_user_id: str,
    *,
    daemon: bool = False,
    lock: bool = False,
    parent: Account | None = None,
) -> Account | None:
    """The account of an identity: a personal or service account, or with ``parent`` the
    managed account of that mailbox of the service account (never one of the others)."""
    qs = Account.objects.filter(
        app=app, service_type=service_type, auth_user_id=auth_user_id, daemon=daemon, parent=parent
    )
    if lock:
        qs = qs.select_for_update()
    return qs.first()


def _audit_linked(app: App, account: Account, *, created: bool) -> None:
    """The audit log's record of a linking, in the linking's transaction (no secrets)."""
    audit.record(
        audit.Event.ACCOUNT_LINKED,
        app=app,
        accountId=account.pk,
        serviceType=account.service_type,
        email=account.email,
        created=created,
        daemon=account.daemon,
    )


def merge_credentials(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """New credentials over old ones; a response without a refresh token keeps the old one."""
    merged = dict(new)
    if not merged.get("refresh_token") and old.get("refresh_token"):
        merged["refresh_token"] = old["refresh_token"]
    return merged


@transaction.atomic
def link_account(
    *,
    app: App,
    provider: Provider,
    profile: Profile,
    tokens: TokenSet | None,
    credentials: dict[str, Any] | None = None,
    requested_scopes: list[str],
    requested_native: list[str],
    account_type: str = "",
    daemon: bool = False,
    client_org_id: str = "",
    recycle: bool = True,
    obtained_at: datetime | None = None,
    parent: Account | None = None,
) -> tuple[Account, bool]:
    """Create the account for this remote identity, or update the one that exists (same id):
    the same identity authorized again in the same app never duplicates. ``client_org_id``
    (the app's own org id) is set when given; ``recycle=False`` refuses an identity that has
    an account already (:class:`AccountExists`) instead of updating it. ``obtained_at``: when
    the grant was obtained, if not now (an imported account's). ``parent``: the service
    account of a managed mailbox account (its identity is then the mailbox within it)."""
    now = timezone.now()
    new_credentials = credentials if credentials is not None else tokens.credentials()
    native = tokens.scope if tokens and tokens.scope is not None else requested_native
    fields = {
        "login_string": profile.login_string or profile.email,
        "email": profile.email,
        "name": profile.name,
        "server_url": profile.server_url,
        "auth_org_id": profile.auth_org_id,
        "auth_obtained_at": obtained_at or now,
        "requested_scopes": requested_scopes,
        "native_scopes": native,
        "scopes": provider.unified_scopes(native)
        if tokens and tokens.scope is not None
        else list(requested_scopes),
        "token_status": TokenStatus.HEALTHY,
        "active": True,
        "last_error": "",
        "refresh_failures": 0,
        "refresh_retry_at": None,
        "access_token_expires_at": tokens.expires_at if tokens else None,
        "access_token_issued_at": tokens.issued_at if tokens else None,
    }
    if profile.extra:
        fields["extra_data"] = profile.extra
    if client_org_id:
        fields["client_org_id"] = client_org_id
    for attempt in range(2):
        account = find_identity(
            app, provider.id, profile.auth_user_id, daemon=daemon, lock=True, parent=parent
        )
        if account is not None:
            if not recycle:
                raise AccountExists(
                    f"recycle=false: this identity already has account {account.pk} in the app."
                )
            old_scopes = list(account.scopes or [])
            for key, value in fields.items():
                setattr(account, key, value)
            if account_type:
                account.account_type = account_type
            account.credentials = merge_credentials(account.credentials, new_credentials)
            account.credential_version += 1
            account.save()
            if daemon:
                mirror_to_managed(account)  # a working grant again: its mailboxes too
            _audit_linked(app, account, created=False)
            payload = events.account_payload(account)
            events.emit(app, "account.reauthorized", payload, account=account)
            if sorted(old_scopes) != sorted(account.scopes or []):
                events.emit(
                    app,
                    "account.scopes_changed",
                    {**payload, "previousScopes": old_scopes},
                    account=account,
                )
            return account, False
        try:
            with transaction.atomic():
                account = Account.objects.create(
                    app=app,
                    service_type=provider.id,
                    auth_user_id=profile.auth_user_id,
                    daemon=daemon,
                    parent=parent,
                    account_type=account_type,
                    credentials=new_credentials,
                    credential_version=1,
                    **fields,
                )
                _audit_linked(app, account, created=True)
                events.emit(
                    app, "account.created", events.account_payload(account), account=account
                )
            return account, True
        except IntegrityError:
            if attempt:  # a concurrent callback created it; the second pass updates it
                raise
    raise AssertionError("unreachable")


def mirror_to_managed(parent: Account) -> None:
    """A service account's token status, given to its managed accounts that are still active:
    their tokens are its grant (a revoked managed account stays revoked). One query, and a
    save per managed account whose status differs (its post_save drops its cached bodies)."""
    stale = Account.objects.filter(parent=parent, active=True).exclude(
        token_status=parent.token_status, last_error=parent.last_error
    )
    for managed in stale:
        managed.token_status, managed.last_error = parent.token_status, parent.last_error
        managed.save(update_fields=["token_status", "last_error", "updated_at"])


def revoke_grant(account: Account) -> bool:
    """Revoke the provider grant (RFC 7009 where the provider has it), forget the provider
    tokens and mark the account revoked. Returns whether the provider confirmed. A service
    account's managed accounts are revoked with it (their tokens were its grant); a managed
    account's own revocation leaves its service account alone (it holds no provider token)."""
    if account.daemon:
        for managed in Account.objects.filter(parent_id=account.pk, active=True):
            revoke_grant(managed)
    provider = get_provider(account.service_type)
    credentials = account.credentials
    confirmed = False
    if isinstance(provider, OAuth2Provider):
        config = ProviderConfig.objects.filter(
            app_id=account.app_id, service_type=account.service_type
        ).first()
        token, hint = credentials.get("refresh_token"), "refresh_token"
        if not token:
            token, hint = credentials.get("access_token"), "access_token"
        if config is not None and token:
            try:
                confirmed = provider.revoke(provider.resolve(config, account=account), token, hint)
            except ProviderCallError as exc:
                logger.warning(
                    "Revocation of account %s at %s failed: %s", account.pk, provider.id, exc.code
                )
    with transaction.atomic():
        # A model save (not QuerySet.update): its post_save announces the change, so the
        # user's cached account list shows the revocation at once (signals.py).
        account.credentials = {}
        account.active = False
        account.token_status = TokenStatus.REVOKED
        account.credential_version = models.F("credential_version") + 1
        account.access_token_expires_at = account.access_token_issued_at = None
        account.save(
            update_fields=[
                "credentials",
                "active",
                "token_status",
                "credential_version",
                "access_token_expires_at",
                "access_token_issued_at",
                "updated_at",
            ]
        )
        account.refresh_from_db(fields=["credential_version"])
        account.tokens.all().delete()
    return confirmed


def delete_account(account: Account) -> None:
    """Revoke at the provider when possible, then delete the account and its tokens. A
    service account's managed accounts are deleted with it, each with its own event."""
    if account.credentials:
        revoke_grant(account)
    with transaction.atomic():
        if account.daemon:
            for managed in Account.objects.filter(parent_id=account.pk):
                _deleted(managed)
        _deleted(account)


def _deleted(account: Account) -> None:
    events.emit(
        account.app_id, "account.deleted", events.account_payload(account), account=account.pk
    )
    audit.record(
        audit.Event.ACCOUNT_UNLINKED,
        app=account.app_id,
        accountId=account.pk,
        serviceType=account.service_type,
        email=account.email,
    )
    account.delete()


def account_page(app: App, params: dict[str, Any], **fixed: Any) -> dict[str, Any]:
    """One page of the app's accounts for ``/v1/am/accounts`` and ``/v1/am/svc_accounts``:
    ``params`` is a validated list query (``serviceType``, ``authOrgId``, ``clientOrgId``,
    ``active``, ``daemon``, ``limit``, ``offset``), ``fixed`` the filters the endpoint itself
    sets. Two queries (the page, the count) whatever the page size."""
    qs = Account.objects.filter(app=app, **fixed).order_by("id")
    if params.get("serviceType"):
        qs = qs.filter(service_type=params["serviceType"])
    if "authOrgId" in params:
        qs = qs.filter(auth_org_id=params["authOrgId"])
    if "clientOrgId" in params:
        qs = qs.filter(client_org_id=params["clientOrgId"])
    for name in ("active", "daemon"):
        if params.get(name) is not None:
            qs = qs.filter(**{name: params[name]})
    limit, offset = params["limit"], params["offset"]
    records = list(qs[offset : offset + limit])
    for account in records:
        account.app = app  # the page's accounts are the app's: no query per account
    total = qs.count()
    return {
        "records": records,
        "totalSize": total,
        "offset": offset,
        "limit": limit,
        "done": offset + len(records) >= total,
    }
