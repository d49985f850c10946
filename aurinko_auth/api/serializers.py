"""The API's payloads, each described once (Aurinko's field names): the views render them,
parse their inputs with them, and ``/v1/schema`` is generated from them (drf-spectacular)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any

from django.db.models import Model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers as s
from rest_framework.fields import Field, SkipField

from aurinko_auth.api.fields import (
    AbsentCharField,
    AbsentIntegerField,
    AbsentTimestampField,
    AccountKindField,
    AccountTypeField,
    CountField,
    FlagField,
    LastActivityField,
    OmitEmptyMixin,
    ScopeListField,
    ServiceProviderField,
    TimestampField,
    isoformat,
    non_negative,
    parse_id,  # noqa: F401 (the views parse ids with it)
)
from aurinko_auth.exceptions import UnsupportedServiceType
from aurinko_auth.models import Account, App
from aurinko_auth.providers.registry import all_providers, canonical_service_type, get_provider
from aurinko_auth.providers.service_accounts import ServiceAccountProvider


def missing_scopes(account: Account, app: App) -> list[str]:
    """Scopes the app requires (``App.required_scopes``, or else what this account last
    requested) that the provider has not granted to this account, in the required order."""
    granted = set(account.scopes or [])
    required = app.required_scopes or account.requested_scopes or []
    return [scope for scope in required if scope not in granted]


# --- serializers -----------------------------------------------------------------------------


class CompiledSerializer(s.Serializer):
    """A Serializer whose ``to_representation`` of model instances is planned once per model
    class: DRF's generic loop (readable fields, then ``get_attribute`` with its Mapping and
    callable checks for every field of every object) costs about eight times this plan per
    account (about 100 µs vs 13 µs on the bench machine). Fields whose source is a model field or property are
    read with ``attrgetter``; every other field keeps DRF's ``get_attribute``; each value
    still goes through its field's ``to_representation``. The result equals DRF's
    (tests/api/test_serializers.py compares them); other instances (dicts) take DRF's way."""

    def to_representation(self, instance: Any) -> dict[str, Any]:
        if not isinstance(instance, Model):
            return super().to_representation(instance)
        plans = self.__dict__.setdefault("plans", {})
        plan = plans.get(type(instance))
        if plan is None:
            plan = plans[type(instance)] = self.plan(type(instance))
        ret: dict[str, Any] = {}
        for name, get, represent in plan:
            try:
                attribute = get(instance)
            except SkipField:
                continue
            ret[name] = None if attribute is None else represent(attribute)
        return ret

    def plan(self, model: type[Model]) -> list[tuple[str, Callable[[Any], Any], Callable]]:
        names = {f.name for f in model._meta.concrete_fields} | {
            f.attname for f in model._meta.concrete_fields
        }
        plan = []
        for field in self._readable_fields:
            get = field.get_attribute
            attrs = field.source_attrs
            omit = getattr(field, "omit_empty", False)
            own = OmitEmptyMixin.get_attribute if omit else Field.get_attribute
            plain = type(field).get_attribute is own and len(attrs) == 1
            if plain and (
                attrs[0] in names or isinstance(getattr(model, attrs[0], None), property)
            ):
                get = _omitting(attrgetter(attrs[0])) if omit else attrgetter(attrs[0])
            plan.append((field.field_name, get, field.to_representation))
        return plan


def _omitting(get: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``get``, skipping the field when the value is empty (OmitEmptyMixin's rule)."""

    def get_present(instance: Any) -> Any:
        value = get(instance)
        if not value:
            raise SkipField
        return value

    return get_present


# --- payloads --------------------------------------------------------------------------------


class ErrorSerializer(s.Serializer):
    code = s.CharField(help_text="Stable machine-readable error code.")
    message = s.CharField(help_text="Human-readable explanation.")
    requestId = s.UUIDField(help_text="This request's id (X-Aurinko-Request-Id, our logs).")


class AccountSerializer(CompiledSerializer):
    """A connected account."""

    # missingScopes reads account.app: callers that have the app set it (no query per account).

    id = s.IntegerField(source="pk")
    serviceType = s.CharField(source="service_type")
    serviceProvider = ServiceProviderField()
    type = AccountKindField(source="kind", help_text="personal, daemon or managed.")
    daemon = s.BooleanField()
    parentId = AbsentIntegerField(
        source="parent_id", help_text="A managed account's service account."
    )
    mailboxAddress = AbsentCharField(
        source="mailbox_address", help_text="The mailbox a managed account acts for."
    )
    active = s.BooleanField()
    loginString = s.CharField(source="login_string", allow_blank=True)
    email = s.CharField(allow_blank=True)
    name = s.CharField(allow_blank=True)
    # Left out when empty (never null), as Aurinko's schema has them.
    serverUrl = AbsentCharField(source="server_url")
    authUserId = s.CharField(source="auth_user_id")
    authOrgId = AbsentCharField(source="auth_org_id")
    clientOrgId = AbsentCharField(source="client_org_id", help_text="The app's own org id.")
    userId = AbsentCharField(source="user_id", help_text="The app user it belongs to (User flow).")
    authObtainedAt = AbsentTimestampField(source="auth_obtained_at")
    tokenIssuedAt = AbsentTimestampField(
        source="access_token_issued_at",
        help_text="When the provider issued the access token held now (left out while unknown).",
    )
    authExpiresAt = AbsentTimestampField(
        source="access_token_expires_at", help_text="When the provider's access token expires."
    )
    scopes = ScopeListField(help_text="Granted scopes (= grantedScopes).")
    requestedScopes = ScopeListField(source="requested_scopes")
    grantedScopes = ScopeListField(source="scopes")
    # Aurinko's names: the granted unified scopes and the provider's own granted scopes.
    authScopes = ScopeListField(source="scopes")
    authNativeScopes = ScopeListField(source="native_scopes")
    missingScopes = s.SerializerMethodField(
        help_text="Required by the app, not granted (docs/scopes.md)."
    )
    tokenStatus = s.CharField(source="public_token_status")
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")

    @extend_schema_field(s.ListField(child=s.CharField()))
    def get_missingScopes(self, account: Account) -> list[str]:  # noqa: N802 (the JSON name)
        return missing_scopes(account, account.app)


# The fields AccountSerializer reads (and App.active, which authentication checks): the lean
# GET /v1/account without a token cache selects only these (tests/api/test_lean.py checks
# that serializing such instances makes no query).
ACCOUNT_JSON_FIELDS = (
    "id",
    "service_type",
    "account_type",
    "daemon",
    "parent",
    "active",
    "login_string",
    "email",
    "name",
    "server_url",
    "auth_user_id",
    "auth_org_id",
    "client_org_id",
    "auth_obtained_at",
    "scopes",
    "requested_scopes",
    "native_scopes",
    "token_status",
    "user",
    "access_token_expires_at",
    "access_token_issued_at",
    "created_at",
    "updated_at",
)
ACCOUNT_JSON_APP_FIELDS = ("id", "required_scopes", "active")

# Bound once: DRF copies a serializer's declared fields for every new instance, which costs
# more than rendering an account (bench/); to_representation keeps no state between calls.
_ACCOUNT = AccountSerializer()


def account_json(account: Account, app: App | None = None) -> dict[str, Any]:
    """One account as the API shows it (``app``: the account's app, if the caller has it)."""
    if app is not None:
        account.app = app
    return _ACCOUNT.to_representation(account)


class AccountPageSerializer(s.Serializer):
    records = AccountSerializer(many=True)
    totalSize = s.IntegerField()
    offset = s.IntegerField()
    limit = s.IntegerField()
    done = s.BooleanField(help_text="No account after this page.")


class StrictSerializer(s.Serializer):
    """A query or body whose unknown names are a 400, never ignored (a typo'd filter must
    never answer every account of the app; a typo'd field must not be dropped)."""

    unknown_noun = "parameter"

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = self.initial_data if isinstance(self.initial_data, dict | Mapping) else {}
        unknown = sorted(set(given) - set(self.fields))
        if unknown:
            raise s.ValidationError(
                f"Unknown {self.unknown_noun} {unknown[0][:64]!r} "
                f"(known: {', '.join(self.fields)})."
            )
        return attrs


class PageQuery(StrictSerializer):
    """What the account lists of ``/v1/am/*`` share: paging and the org filters. A parameter
    a list does not know is a 400."""

    serviceType = s.CharField(required=False, allow_blank=True)
    authOrgId = s.CharField(required=False, max_length=255, help_text="The provider's org id.")
    clientOrgId = s.CharField(
        required=False, max_length=255, help_text="The app's own org id (authorize's clientOrgId)."
    )
    subscriptionId = s.IntegerField(
        required=False,
        help_text="Aurinko's per-account subscriptions; refused here (webhooks are per app).",
    )
    limit = CountField(default=50, maximum=200, minimum=1, error_messages=non_negative("limit"))
    offset = CountField(default=0, maximum=10**9, error_messages=non_negative("offset"))

    def validate_serviceType(self, value: str) -> str | None:  # noqa: N802 (the query name)
        return canonical_service_type(value) if value else None

    def validate_subscriptionId(self, value: int) -> int:  # noqa: N802 (the query name)
        raise s.ValidationError(
            "subscriptionId: this broker has no per-account subscriptions (its webhooks are "
            "the app's, docs/webhooks.md); filter by serviceType, authOrgId or clientOrgId."
        )


class AccountListQuery(PageQuery):
    """The query of ``GET /v1/am/accounts``."""

    active = FlagField(error_messages={"invalid": "active must be true or false."})
    daemon = FlagField(error_messages={"invalid": "daemon must be true or false."})


class SvcAccountListQuery(PageQuery):
    """The query of ``GET /v1/am/svc_accounts`` (Aurinko's ``getSvcAccounts``): a
    ``serviceType`` must be one with service accounts (``ServiceTypeDaemon``)."""

    def validate_serviceType(self, value: str) -> str | None:  # noqa: N802 (the query name)
        if not value:
            return None
        provider = get_provider(value)
        if not isinstance(provider, ServiceAccountProvider):
            daemons = [p.id for p in all_providers() if isinstance(p, ServiceAccountProvider)]
            raise UnsupportedServiceType(
                f"{provider.id} has no service accounts here (only {', '.join(daemons)})."
            )
        return provider.id


class UserAccountSerializer(AccountSerializer):
    """One of a signed-in user's accounts (``/v1/user``, ``/v1/user/accounts*``): ``type`` is
    its role as Aurinko's documentation shows it (seed 004: primary or secondary), not
    AccountType, and ``userAccountType`` the same role under the OpenAPI's name. Unknown
    strings are left out as in every account (AccountSerializer)."""

    userAccountType = AccountTypeField(source="account_type")

    def get_fields(self) -> dict[str, Field]:
        fields = super().get_fields()  # ``type`` keeps its place among the fields
        fields["type"] = AccountTypeField(source="account_type", help_text="primary or secondary.")
        return fields


_USER_ACCOUNT = UserAccountSerializer()


def user_account_json(account: Account, app: App | None = None) -> dict[str, Any]:
    """One of a user's accounts as the session API shows it."""
    if app is not None:
        account.app = app
    return _USER_ACCOUNT.to_representation(account)


def primary_first(accounts: list[Account]) -> list[Account]:
    return sorted(accounts, key=lambda a: (a.account_type != Account.Type.PRIMARY, a.pk))


class PrimaryNameField(s.CharField):
    """EndUserDto ``name``: the user's primary account's name (a user has no name of its own);
    left out when unknown."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def get_attribute(self, instance: Any) -> str:
        primary = primary_first(self.parent.context["accounts"])[:1]
        if not primary or not primary[0].name:
            raise SkipField
        return primary[0].name


class UserSerializer(CompiledSerializer):
    """A signed-in user (Aurinko's EndUserDto) and its accounts, the primary account first;
    strings it does not know are left out, never null."""

    # The accounts are context["accounts"] (read in one query by the view).

    id = s.UUIDField(source="pk")
    appId = s.IntegerField(source="app_id")
    email = s.CharField(allow_blank=True)
    name = PrimaryNameField()
    authOrgId = AbsentCharField(source="auth_org_id")
    createdAt = TimestampField(source="created_at")
    trustedIdentity = s.BooleanField(source="trusted_identity")
    accounts = s.SerializerMethodField()

    # Last, where with_last_activity puts it.
    lastActivity = LastActivityField(
        help_text="The user's latest activity: this session's last recorded use (this request "
        "included), precise to SESSION_TOUCH_INTERVAL. Left out without a session."
    )

    @extend_schema_field(UserAccountSerializer(many=True))
    def get_accounts(self, user: Any) -> list[dict[str, Any]]:
        return [user_account_json(a, user.app) for a in primary_first(self.context["accounts"])]


def user_json(user: Any, accounts: list[Account]) -> dict[str, Any]:
    """GET /v1/user's body: ``user`` (with its app) and ``accounts``, all of them (the DRF
    view and the lean one both render this)."""
    return UserSerializer(user, context={"accounts": accounts}).data


def with_last_activity(body: dict[str, Any], session: Any) -> dict[str, Any]:
    """``user_json``'s ``body`` with ``lastActivity`` (last): ``session``'s last use, touched
    for this request already (usersessions.touch). The body without it is cached, the same
    for every request; None (an identity-token request) leaves it out."""
    if session is None:
        return body
    return {**body, "lastActivity": isoformat(session.last_used_at)}


class SessionSerializer(CompiledSerializer):
    """One of a user's sessions."""

    # context["current"] is the request's own session.

    id = s.IntegerField(source="pk")
    current = s.SerializerMethodField()
    createdAt = TimestampField(source="created_at")
    lastUsedAt = TimestampField(source="last_used_at")
    expiresAt = TimestampField(source="expires_at")
    userAgent = s.CharField(source="user_agent", allow_blank=True)
    ip = s.CharField(allow_null=True)

    def get_current(self, session: Any) -> bool:
        current = self.context.get("current")
        return current is not None and session.pk == current.pk


class SessionListSerializer(s.Serializer):
    records = SessionSerializer(many=True)


class TokenExchangeSerializer(s.Serializer):
    """A redeemed code: the account token (the User flow adds userId and, for a primary
    sign-in, userSession)."""

    accountId = s.IntegerField()
    accessToken = s.CharField()
    userId = s.UUIDField(required=False)
    userSession = s.CharField(required=False)


class RevokedSerializer(s.Serializer):
    revoked = s.BooleanField()
    providerConfirmed = s.BooleanField()
