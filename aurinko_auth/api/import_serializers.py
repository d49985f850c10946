"""The bodies of account import (Aurinko's ``POST /v1/am/accounts`` and
``POST /v1/am/accounts/connect``): ``ApiAccountInDto`` parsed into
:class:`~aurinko_auth.flows.imports.AccountImport`, its query, and the answers."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers as s

from aurinko_auth.api.fields import FlagField
from aurinko_auth.api.serializers import StrictSerializer
from aurinko_auth.flows.imports import AccountImport
from aurinko_auth.providers.registry import canonical_service_type


def text(max_length: int, help_text: str = "") -> s.CharField:
    """An optional string of the import body (``null`` and absent are empty)."""
    return s.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=max_length,
        help_text=help_text,
    )


# Aurinko's sync settings: nothing an auth broker does with them. Refused when set (never
# dropped silently); absent, empty, null or false they are fine.
SYNC_SETTINGS = ("copyToSent", "email2", "serverInfo", "timezone", "serviceProvider")
MAX_PROVIDER_TOKEN = 16384


class AccountImportSerializer(StrictSerializer):
    """An account brought from elsewhere: Aurinko's ``ApiAccountInDto``. Provider tokens go
    as ``authString1`` (access token) and ``authString2`` (refresh token), or by their names
    ``accessToken`` and ``refreshToken``; a password account as ``loginString`` (or
    ``email``), ``password`` and ``serverUrl``."""

    unknown_noun = "field"

    serviceType = s.CharField(max_length=40)
    active = s.BooleanField(required=False, help_text="Always true (Aurinko's too).")
    authString1 = text(MAX_PROVIDER_TOKEN, "The provider's access token.")
    accessToken = text(MAX_PROVIDER_TOKEN, "= authString1.")
    authString2 = text(MAX_PROVIDER_TOKEN, "The provider's refresh token.")
    refreshToken = text(MAX_PROVIDER_TOKEN, "= authString2.")
    authExpiresAt = s.DateTimeField(
        required=False, allow_null=True, help_text="When the access token expires."
    )
    authObtainedAt = s.DateTimeField(required=False, allow_null=True)
    authScopes = s.ListField(child=s.CharField(max_length=64), required=False, max_length=64)
    authUserId = text(255, "The identity at the provider (required with pingProvider=false).")
    authOrgId = text(255)
    clientOrgId = text(255, "The app's own org id.")
    email = text(320)
    loginString = text(320)
    name = text(255)
    password = text(1024, "Password accounts (EWS, IMAP).")
    serverUrl = text(2048, "EWS endpoint, imaps://host:993 or imap://host:143 (STARTTLS), ...")
    oauthClientId = text(255, "When given, the app's provider client id.")
    trustServer = s.BooleanField(
        required=False, allow_null=True, help_text="Only false: certificates are verified."
    )
    copyToSent = s.BooleanField(required=False, allow_null=True)
    email2 = text(320)
    serverInfo = text(2048)
    timezone = text(64)
    serviceProvider = text(40)

    def validate_serviceType(self, value: str) -> str:  # noqa: N802 (the JSON name)
        return canonical_service_type(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = self.validate_shared(attrs)
        for ours, theirs in (("accessToken", "authString1"), ("refreshToken", "authString2")):
            if attrs.get(ours) and attrs.get(theirs) and attrs[ours] != attrs[theirs]:
                raise s.ValidationError(f"{ours} and {theirs} are the same field: they differ.")
        if not (attrs.get("loginString") or attrs.get("email")):
            raise s.ValidationError("Give loginString or email.")
        return attrs

    def validate_shared(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """What every ``ApiAccountInDto`` is held to: known fields, ``active``, no sync
        settings."""
        attrs = super().validate(attrs)
        if attrs.get("active") is False:
            raise s.ValidationError("active: an imported account is active (only true).")
        if attrs.get("trustServer"):
            raise s.ValidationError(
                "trustServer: server certificates are always verified here; trust a private "
                "CA with AURINKO_AUTH['PASSWORD_CA_BUNDLE'] instead."
            )
        refused = [name for name in SYNC_SETTINGS if attrs.get(name)]
        if refused:
            raise s.ValidationError(
                f"{refused[0]}: a sync setting of Aurinko's; this broker only authenticates "
                "(leave it out)."
            )
        return attrs

    def account_import(self) -> AccountImport:
        """The validated body as the import flow's :class:`AccountImport`."""
        data = {k: ("" if v is None else v) for k, v in self.validated_data.items()}
        return AccountImport(
            service_type=data.get("serviceType", ""),
            email=data.get("email", "").strip(),
            login_string=data.get("loginString", "").strip(),
            name=data.get("name", ""),
            auth_user_id=data.get("authUserId", "").strip(),
            auth_org_id=data.get("authOrgId", "").strip(),
            client_org_id=data.get("clientOrgId", "").strip(),
            server_url=data.get("serverUrl", "").strip(),
            password=data.get("password", ""),
            access_token=data.get("accessToken") or data.get("authString1", ""),
            refresh_token=data.get("refreshToken") or data.get("authString2", ""),
            expires_at=data.get("authExpiresAt") or None,
            obtained_at=data.get("authObtainedAt") or None,
            scopes=tuple(data.get("authScopes") or ()),
            oauth_client_id=data.get("oauthClientId", "").strip(),
        )


# What a service account import cannot carry: its grant is the app's provider configuration.
APP_CREDENTIAL_FIELDS = (
    "authString1",
    "accessToken",
    "authString2",
    "refreshToken",
    "authExpiresAt",
    "authObtainedAt",
    "password",
    "serverUrl",
    "oauthClientId",
)
REFUSED_HERE = (
    "Refused here (400): a service account's grant is the app's provider configuration, "
    "and its app-only tokens are fetched, never imported."
)


class ServiceAccountImportSerializer(AccountImportSerializer):
    """A service (daemon) account as an app imports it (``POST /v1/am/svc_accounts``,
    Aurinko's ``ApiAccountInDto``): ``serviceType``, ``authOrgId`` (the Office 365 tenant id or
    domain; the Google Workspace domain), ``authScopes``, for Google the administrator's
    ``email`` (or ``loginString``), and optionally ``authUserId`` (must be the organisation),
    ``name`` and ``clientOrgId``. No tokens, secrets or keys: the grant is the app's provider
    configuration (its client secret, certificate or service-account key), and app-only
    tokens are fetched, never imported."""

    # Aurinko's ApiAccountInDto has them: described as refused here (/v1/schema says so).
    authString1 = text(MAX_PROVIDER_TOKEN, REFUSED_HERE)
    accessToken = text(MAX_PROVIDER_TOKEN, REFUSED_HERE)
    authString2 = text(MAX_PROVIDER_TOKEN, REFUSED_HERE)
    refreshToken = text(MAX_PROVIDER_TOKEN, REFUSED_HERE)
    authExpiresAt = s.DateTimeField(required=False, allow_null=True, help_text=REFUSED_HERE)
    authObtainedAt = s.DateTimeField(required=False, allow_null=True, help_text=REFUSED_HERE)
    password = text(1024, REFUSED_HERE)
    serverUrl = text(2048, REFUSED_HERE)
    oauthClientId = text(255, REFUSED_HERE)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = self.validate_shared(attrs)
        given = [name for name in APP_CREDENTIAL_FIELDS if attrs.get(name)]
        if given:
            raise s.ValidationError(
                f"{given[0]}: a service account's grant is the app's provider configuration "
                "(client secret, certificate or service-account key: manage.py aurinko_app "
                "provider ...); its app-only tokens are fetched, not imported."
            )
        return attrs


class ServiceAccountImportQuery(StrictSerializer):
    """The query of ``POST /v1/am/svc_accounts``."""

    recycleKeys = s.CharField(required=False, allow_blank=True)

    def validate_recycleKeys(self, value: str) -> str:  # noqa: N802 (the query name)
        if value:
            raise s.ValidationError(
                "recycleKeys: a service account import updates the service account of the "
                "same organisation (serviceType and authOrgId), and only that."
            )
        return value


class ManagedAccountImportSerializer(ServiceAccountImportSerializer):
    """A managed mailbox account of a service account
    (``POST /v1/am/svc_accounts/{accId}/accounts``, Aurinko's ``ApiAccountInDto``): the
    mailbox as ``email`` (or ``loginString``), optionally ``name``, ``clientOrgId`` (default:
    the service account's), ``authScopes`` (default and at most: the service account's) and
    ``serviceType`` (only the service account's). No tokens, secrets or keys: its tokens are
    the service account's grant."""

    serviceType = s.CharField(max_length=40, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if attrs.get("authOrgId"):
            raise s.ValidationError(
                "authOrgId: a managed account is of its service account's organisation."
            )
        if not (attrs.get("loginString") or attrs.get("email")):
            raise s.ValidationError("email: the mailbox the managed account acts for.")
        return attrs


class ManagedAccountQuery(StrictSerializer):
    """The query of ``POST /v1/am/svc_accounts/{accId}/accounts``."""

    ensureAccess = FlagField(
        help_text="Probe the mailbox's Email, Calendar, Contacts, Tasks of authScopes first.",
        error_messages={"invalid": "ensureAccess must be true or false."},
    )
    userAccount = s.ChoiceField(
        choices=["primary", "secondary"],
        required=False,
        error_messages={"invalid_choice": "userAccount must be primary or secondary."},
    )
    userId = s.CharField(required=False, allow_blank=True)
    recycleKeys = s.CharField(required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if attrs.get("userAccount") or attrs.get("userId"):
            raise s.ValidationError(
                "userAccount, userId: managed accounts are the app's, not attached to users "
                "here; a user signs in with the User flow (docs/service-accounts.md)."
            )
        if attrs.get("recycleKeys"):
            raise s.ValidationError(
                "recycleKeys: a managed account is upserted by its mailbox within its service "
                "account, and only that."
            )
        return attrs


class AccountImportQuery(StrictSerializer):
    """The query of ``POST /v1/am/accounts``."""

    pingProvider = FlagField(
        help_text="Check the credentials at the provider before saving (default true).",
        error_messages={"invalid": "pingProvider must be true or false."},
    )
    ensureAccess = FlagField(
        help_text="Also check the mailbox, calendar, ... of authScopes is reachable.",
        error_messages={"invalid": "ensureAccess must be true or false."},
    )
    userAccount = s.CharField(required=False, allow_blank=True)
    userId = s.CharField(required=False, allow_blank=True)
    recycleKeys = s.CharField(required=False, allow_blank=True)

    def validate_userAccount(self, value: str) -> str:  # noqa: N802 (the query name)
        if value:
            raise s.ValidationError(
                "userAccount, userId: imported accounts are not attached to users here; "
                "a user signs in with the User flow (docs/migrating-from-aurinko.md)."
            )
        return value

    validate_userId = validate_userAccount  # noqa: N815 (the query name)

    def validate_recycleKeys(self, value: str) -> str:  # noqa: N802 (the query name)
        if value:
            raise s.ValidationError(
                "recycleKeys: an import updates the account of the same provider identity "
                "(serviceType and authUserId), and only that."
            )
        return value


class AccountSaveResultSerializer(s.Serializer):
    """Aurinko's ``AccountSaveResult``: the account and a new account token for it."""

    accountId = s.IntegerField()
    accessToken = s.CharField(help_text="A new account token (never the provider's).")


class OkSerializer(s.Serializer):
    """Aurinko's ``OkResponse``."""

    status = s.ChoiceField(choices=["Ok"])


class PreparedAuthSerializer(s.Serializer):
    """Aurinko's ``PreparedAuthToken``: the ``token`` for ``/v1/auth/authorize?token=``."""

    token = s.CharField()
