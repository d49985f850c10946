"""Accounts (actions that revoke at the provider), the audit log, the dashboard and the query
counts of the lists."""

from __future__ import annotations

import json

import pytest
import responses
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aurinko_auth import audit
from aurinko_auth.models import Account, AccountToken, AuditEvent

GOOGLE_REVOKE = "https://oauth2.googleapis.com/revoke"
ACCOUNTS = "/admin/aurinko_auth/account/"


def test_account_pages_never_show_provider_tokens(client, team, account_token_factory):
    account_token_factory(team.account)
    for user in (team.owner, team.viewer, team.superuser):
        client.force_login(user)
        for url in (ACCOUNTS, reverse("admin:aurinko_auth_account_change", args=[team.account.pk])):
            page = client.get(url)
            assert page.status_code == 200
            assert b"provider-at-" not in page.content and b"provider-rt-" not in page.content
            assert b"aat_" not in page.content


def test_account_list_filters_and_search(client, team):
    client.force_login(team.owner)

    def emails(**params):
        page = client.get(ACCOUNTS, params)
        return sorted(a.email for a in page.context["cl"].result_list)

    assert emails() == ["alice@example.com", "bob@example.com"]
    assert emails(service_type="Office365") == ["bob@example.com"]
    assert emails(token_status__exact="needs_reauth") == ["bob@example.com"]
    assert emails(active__exact="1") == ["alice@example.com", "bob@example.com"]
    assert emails(q="alice") == ["alice@example.com"]
    assert emails(q="carol") == []  # another app's account
    page = client.get(ACCOUNTS)
    filters = {f.title: f for f in page.context["cl"].filter_specs}
    assert [c for c, _ in filters["app"].lookup_choices] == [str(team.app.pk)]
    from aurinko_auth.providers.registry import all_providers

    assert {c for c, _ in filters["service type"].lookup_choices} == {p.id for p in all_providers()}


@responses.activate
def test_deactivating_revokes_at_the_provider(client, team, account_token_factory):
    responses.post(GOOGLE_REVOKE, status=200, body="")
    account_token_factory(team.account)
    client.force_login(team.admin)
    response = client.post(
        ACCOUNTS, {"action": "deactivate_accounts", "_selected_action": [team.account.pk]}
    )
    assert response.status_code == 302
    assert len(responses.calls) == 1
    assert "token=provider-rt-" in responses.calls[0].request.body
    team.account.refresh_from_db()
    assert team.account.active is False and team.account.token_status == "revoked"
    assert team.account.credentials == {}
    assert not AccountToken.objects.filter(account=team.account).exists()
    event = AuditEvent.objects.get(event="account.deactivated")
    assert event.details == {
        "accountId": team.account.pk,
        "serviceType": "Google",
        "providerConfirmed": True,
    }
    assert event.app == team.app and event.actor == team.admin


@responses.activate
def test_deleting_accounts_revokes_and_deletes(client, team):
    responses.post(GOOGLE_REVOKE, status=200, body="")
    client.force_login(team.owner)
    # The action says what deleting an account does.
    assert b"Delete the selected accounts (revokes at the provider)" in client.get(ACCOUNTS).content
    confirm = client.post(
        ACCOUNTS, {"action": "delete_selected", "_selected_action": [team.account.pk]}
    )
    assert confirm.status_code == 200 and b"alice@example.com" in confirm.content
    client.post(
        ACCOUNTS,
        {"action": "delete_selected", "_selected_action": [team.account.pk], "post": "yes"},
    )
    assert not Account.objects.filter(pk=team.account.pk).exists()
    assert len(responses.calls) == 1
    assert AuditEvent.objects.filter(event="account.deleted", app=team.app).count() == 1


@responses.activate
def test_deleting_one_account_from_its_page(client, team):
    responses.post(GOOGLE_REVOKE, status=200, body="")
    client.force_login(team.admin)
    url = reverse("admin:aurinko_auth_account_delete", args=[team.account.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Account.objects.filter(pk=team.account.pk).exists()
    assert len(responses.calls) == 1


def test_revoking_broker_access_tokens(client, team, account_token_factory):
    account_token_factory(team.account)
    account_token_factory(team.account)
    client.force_login(team.owner)
    client.post(ACCOUNTS, {"action": "revoke_access_tokens", "_selected_action": [team.account.pk]})
    assert not AccountToken.objects.filter(account=team.account).exists()
    assert AuditEvent.objects.get(event="account.tokens_revoked").details["count"] == 2


@responses.activate
def test_viewers_and_outsiders_cannot_act_on_accounts(client, team):
    client.force_login(team.viewer)
    page = client.get(ACCOUNTS)
    assert page.context["action_form"] is None
    client.post(ACCOUNTS, {"action": "deactivate_accounts", "_selected_action": [team.account.pk]})
    client.post(
        ACCOUNTS,
        {"action": "delete_selected", "_selected_action": [team.account.pk], "post": "yes"},
    )
    # The owner of another app selects an account of Mail Sync by id: not in their list.
    client.force_login(team.other_owner)
    client.post(ACCOUNTS, {"action": "deactivate_accounts", "_selected_action": [team.account.pk]})
    client.post(
        ACCOUNTS,
        {"action": "delete_selected", "_selected_action": [team.account.pk], "post": "yes"},
    )
    team.account.refresh_from_db()
    assert team.account.active is True and team.account.credentials
    assert len(responses.calls) == 0


def test_mixed_roles_act_only_where_allowed(client, team, member_factory):
    member_factory(team.other_app, team.viewer, "admin")  # viewer here, admin there
    client.force_login(team.viewer)
    client.post(
        ACCOUNTS,
        {
            "action": "revoke_access_tokens",
            "_selected_action": [team.account.pk, team.other_account.pk],
        },
    )
    events = AuditEvent.objects.filter(event="account.tokens_revoked")
    assert [e.app_id for e in events] == [team.other_app.pk]


def test_admin_sign_ins_are_audited_without_the_password(client, team):
    login = reverse("admin:login")
    client.post(login, {"username": "olivia", "password": "wrong-password-typo"})
    client.post(login, {"username": "olivia", "password": "correct horse battery staple"})
    failed = AuditEvent.objects.get(event="admin.signin_failed")
    ok = AuditEvent.objects.get(event="admin.signin", actor=team.owner)
    assert failed.actor_name == "olivia" and failed.ip == "127.0.0.1"
    assert ok.actor_name == "olivia"
    dump = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert "wrong-password-typo" not in dump and "battery" not in dump


def test_audit_record_redacts_secret_details(db, team):
    event = audit.record(
        audit.Event.PROVIDER_CHANGED,
        app=team.app,
        client_secret="oops",
        nested={"refresh_token": "rt", "fine": 1},
        fields=["client_id"],
    )
    event.refresh_from_db()
    assert event.details == {
        "client_secret": "[redacted]",
        "nested": {"refresh_token": "[redacted]", "fine": 1},
        "fields": ["client_id"],
    }
    with pytest.raises(ValueError):
        audit.record("made.up", app=team.app)


def test_audit_log_is_read_only(client, team):
    client.force_login(team.owner)
    url = reverse("admin:aurinko_auth_auditevent_change", args=[team.event.pk])
    page = client.get(url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(url, {"event": "app.created"}).status_code == 403
    assert (
        client.get(
            reverse("admin:aurinko_auth_auditevent_delete", args=[team.event.pk])
        ).status_code
        == 403
    )
    assert client.get(reverse("admin:aurinko_auth_auditevent_add")).status_code == 403
    other = reverse("admin:aurinko_auth_auditevent_change", args=[team.other_event.pk])
    assert client.get(other).status_code == 404


def test_dashboard_counts_accounts_and_lists_failures(client, team, account_factory):
    account_factory(team.app, "Google", active=False, token_status="revoked")
    audit.record(audit.Event.USER_SIGN_IN_FAILED, app=team.app, reason="state.invalid")
    client.force_login(team.viewer)
    page = client.get(reverse("admin:aurinko_auth_app_dashboard", args=[team.app.pk]))
    assert page.status_code == 200
    rows = {r["service_type"]: r for r in page.context["providers"]}
    statuses = [s.value for s in page.context["statuses"]]
    assert rows["Google"]["total"] == 2 and rows["Google"]["inactive"] == 1
    assert rows["Google"]["statuses"][statuses.index("healthy")] == 1
    assert rows["Google"]["statuses"][statuses.index("revoked")] == 1
    assert rows["Office365"]["statuses"][statuses.index("needs_reauth")] == 1
    assert page.context["totals"]["total"] == 3
    failing = [a.email for a in page.context["failing_accounts"]]
    assert "bob@example.com" in failing and "alice@example.com" not in failing
    assert {e.event for e in page.context["failures"]} == {"auth.failed", "user.signin_failed"}
    assert b"carol@example.com" not in page.content


def test_the_change_page_links_to_the_dashboard(client, team):
    client.force_login(team.viewer)
    page = client.get(reverse("admin:aurinko_auth_app_change", args=[team.app.pk]))
    assert reverse("admin:aurinko_auth_app_dashboard", args=[team.app.pk]).encode() in page.content


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.mark.parametrize(
    "url",
    [
        "/admin/aurinko_auth/app/",
        "/admin/aurinko_auth/account/",
        "/admin/aurinko_auth/auditevent/",
    ],
)
def test_changelists_do_not_grow_queries_with_rows(
    client, team, app_factory, member_factory, account_factory, url
):
    client.force_login(team.owner)
    client.get(url)  # warm caches (content types, sessions)
    before, _ = _count_queries(client, url)
    for i in range(6):
        app, _ = app_factory(name=f"App {i}")
        member_factory(app, team.owner, "viewer")
        for _ in range(2):
            account_factory(app, "Office365")
        audit.record(audit.Event.APP_CHANGED, app=app, fields=["name"])
    after, response = _count_queries(client, url)
    assert response.context["cl"].result_count > 6
    assert after == before
    # session, user, memberships, count(s), rows and filter choices: a small fixed number.
    assert after <= 10


def test_dashboard_queries_do_not_grow_with_accounts(client, team, account_factory):
    client.force_login(team.owner)
    url = reverse("admin:aurinko_auth_app_dashboard", args=[team.app.pk])
    client.get(url)
    before, _ = _count_queries(client, url)
    for service_type in ("Google", "Office365"):
        for _ in range(5):
            account_factory(team.app, service_type, token_status="retrying", last_error="e")
    after, _ = _count_queries(client, url)
    assert after == before


def test_deleting_a_service_account_with_its_managed_accounts_selected(
    client, team, account_factory
):
    """Deleting a service account deletes its managed accounts: selected together, the
    admin's deletion is the service account's, and each account is unlinked once."""
    parent = account_factory(team.app, "Office365", daemon=True, auth_user_id="t", credentials={})
    managed = [
        account_factory(team.app, "Office365", parent=parent, credentials={}) for _ in range(2)
    ]
    client.force_login(team.owner)
    selected = [managed[0].pk, parent.pk]
    client.post(
        ACCOUNTS, {"action": "delete_selected", "_selected_action": selected, "post": "yes"}
    )
    assert not Account.objects.filter(pk__in=[parent.pk, *(m.pk for m in managed)]).exists()
    deleted = AuditEvent.objects.get(event="account.deleted", app=team.app)
    assert deleted.details["accountId"] == parent.pk
    unlinked = AuditEvent.objects.filter(event="account.unlinked", app=team.app)
    assert sorted(e.details["accountId"] for e in unlinked) == sorted(
        [parent.pk, *(m.pk for m in managed)]
    )
