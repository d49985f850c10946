"""Creating and changing apps in the admin: the secret shown once, rotation, return URLs,
scopes, provider configurations and the team."""

from __future__ import annotations

import json

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aurinko_auth import crypto
from aurinko_auth.admin.app_pages import SECRET_SESSION_KEY
from aurinko_auth.models import App, AppMembership, AuditEvent, ProviderConfig
from tests.admin.conftest import PROVIDER_SECRET, form_data

ADD_URL = "/admin/aurinko_auth/app/add/"


def change_url(app):
    return reverse("admin:aurinko_auth_app_change", args=[app.pk])


def all_session_data() -> str:
    return "".join(json.dumps(s.get_decoded()) for s in Session.objects.all())


def create_app(client, **extra):
    data = {
        "name": "Inbox Zero",
        "return_urls": "https://inboxzero.example/cb\nhttp://localhost:3000/cb",
        "allowed_scopes": ["Mail.Read", "Mail.Send"],
        **extra,
    }
    return client.post(ADD_URL, data)


def test_creating_an_app_shows_its_secret_exactly_once(client, staff_factory):
    owner = staff_factory("olivia")
    client.force_login(owner)
    response = create_app(client)
    app = App.objects.get(name="Inbox Zero")
    secret_url = reverse("admin:aurinko_auth_app_secret", args=[app.pk])
    assert response.status_code == 302 and response["Location"] == secret_url
    assert app.return_urls == ["https://inboxzero.example/cb", "http://localhost:3000/cb"]
    assert app.allowed_scopes == ["Mail.Read", "Mail.Send"]
    assert AppMembership.objects.get(app=app).user == owner
    # Between the POST and the page, the secret waits in the session encrypted only.
    stored = all_session_data()
    assert SECRET_SESSION_KEY in stored and "acs_" not in stored

    page = client.get(secret_url)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    secret = page.context["secret"]
    assert secret.startswith("acs_") and app.check_client_secret(secret)
    assert secret.encode() in page.content
    assert SECRET_SESSION_KEY not in all_session_data()

    again = client.get(secret_url)
    assert again.context["secret"] is None
    assert secret.encode() not in again.content
    assert app.client_secret_hint.encode() in again.content
    change = client.get(change_url(app))
    assert secret.encode() not in change.content
    assert app.client_secret_hint.encode() in change.content
    # Nothing stores it: neither the admin history nor the audit log.
    assert secret not in json.dumps(list(LogEntry.objects.values()), default=str)
    assert secret not in json.dumps(list(AuditEvent.objects.values()), default=str)
    assert AuditEvent.objects.filter(app=app, event="app.created", actor=owner).exists()


def test_another_user_cannot_collect_a_pending_secret(client, staff_factory, member_factory):
    owner, viewer = staff_factory("olivia"), staff_factory("vera")
    client.force_login(owner)
    create_app(client)
    app = App.objects.get(name="Inbox Zero")
    member_factory(app, viewer, "viewer")
    client.force_login(viewer)  # a new session: the pending secret is not theirs
    page = client.get(reverse("admin:aurinko_auth_app_secret", args=[app.pk]))
    assert page.status_code == 200 and page.context["secret"] is None


@pytest.mark.parametrize(
    "bad, message",
    [
        ("http://inboxzero.example/cb", "https"),
        ("https://inboxzero.example/cb#frag", "fragment"),
        ("https://*.inboxzero.example/cb", "not allowed"),
        ("https://inboxzero.example/*", "not allowed"),
        ("javascript:alert(1)", "absolute"),
        ("https://user:pw@inboxzero.example/cb", "credentials"),
    ],
)
def test_return_urls_are_validated(client, staff_factory, bad, message):
    client.force_login(staff_factory("olivia"))
    response = create_app(client, return_urls=f"https://ok.example/cb\n{bad}")
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors["return_urls"])
    assert message in errors
    assert not App.objects.filter(name="Inbox Zero").exists()


def test_unknown_scopes_are_refused(client, staff_factory):
    client.force_login(staff_factory("olivia"))
    response = create_app(client, allowed_scopes=["Mail.Read", "Root.Everything"])
    assert response.status_code == 200
    assert "allowed_scopes" in response.context["adminform"].form.errors


def test_admin_edits_return_urls_scopes_and_disables_the_app(client, team):
    client.force_login(team.admin)
    page = client.get(change_url(team.app))
    data = form_data(page)
    data["return_urls"] = "https://app.example.com/callback\nhttps://app.example.com/other"
    data["allowed_scopes"] = ["Calendar.Read", "Mail.Read"]
    data.pop("active", None)
    response = client.post(change_url(team.app), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    team.app.refresh_from_db()
    assert team.app.return_urls == [
        "https://app.example.com/callback",
        "https://app.example.com/other",
    ]
    assert team.app.allowed_scopes == ["Mail.Read", "Calendar.Read"]
    assert team.app.active is False
    events = dict(
        AuditEvent.objects.filter(app=team.app, actor=team.admin).values_list("event", "details")
    )
    assert events["app.disabled"] == {}
    assert sorted(events["app.changed"]["fields"]) == ["allowed_scopes", "return_urls"]


def test_only_owners_rotate_the_secret(client, team):
    url = reverse("admin:aurinko_auth_app_rotate_secret", args=[team.app.pk])
    for user in (team.admin, team.viewer):
        client.force_login(user)
        assert client.post(url, {"confirm": "on"}).status_code == 403
    team.app.refresh_from_db()
    assert team.app.check_client_secret(team.secret)

    client.force_login(team.owner)
    assert client.get(change_url(team.app)).context["can_rotate"] is True
    unconfirmed = client.post(url, {})
    assert unconfirmed.status_code == 200 and unconfirmed.context["form"].errors
    response = client.post(url, {"confirm": "on"})
    assert response["Location"] == reverse("admin:aurinko_auth_app_secret", args=[team.app.pk])
    new_secret = client.get(response["Location"]).context["secret"]
    team.app.refresh_from_db()
    assert team.app.check_client_secret(new_secret)
    assert not team.app.check_client_secret(team.secret)
    assert client.get(response["Location"]).context["secret"] is None
    event = AuditEvent.objects.get(app=team.app, event="app.secret_rotated")
    assert event.actor == team.owner and event.ip == "127.0.0.1"


def test_provider_secrets_are_never_rendered(client, team):
    team.config.service_account_key = json.dumps(
        {
            "type": "service_account",
            "client_email": "sync@proj.iam.gserviceaccount.com",
            "private_key": "-----BEGIN PRIVATE KEY-----\nSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n",
        }
    )
    team.config.save()
    for user in (team.superuser, team.owner, team.admin, team.viewer):
        client.force_login(user)
        page = client.get(change_url(team.app))
        assert page.status_code == 200
        assert PROVIDER_SECRET.encode() not in page.content
        assert b"SECRETKEYMATERIAL" not in page.content
        assert b"sync@proj.iam.gserviceaccount.com" in page.content  # which key is stored


def test_admin_adds_a_provider_configuration_with_a_key_file(client, team):
    client.force_login(team.admin)
    page = client.get(change_url(team.app))
    data = form_data(page)
    prefix = "provider_configs"
    n = int(data[f"{prefix}-TOTAL_FORMS"])
    from tests.daemon.keys import make_app_certificate

    # Office 365 takes a certificate credential (a PEM with the private key and the
    # certificate); Google's JSON key is tests/daemon's.
    key = make_app_certificate().bundle
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": str(n + 1),
            f"{prefix}-{n}-service_type": "Office365",
            f"{prefix}-{n}-client_id": "azure-client-id",
            f"{prefix}-{n}-new_client_secret": "azure-secret-value",
            f"{prefix}-{n}-tenant": "contoso.onmicrosoft.com",
            f"{prefix}-{n}-endpoints": "token = http://127.0.0.1:9999/{tenant}/token",
            f"{prefix}-{n}-key_file": SimpleUploadedFile(
                "key.pem", key.encode(), content_type="application/x-pem-file"
            ),
        }
    )
    response = client.post(change_url(team.app), data)
    assert response.status_code == 302, [
        f.errors for f in response.context["inline_admin_formsets"][1].formset
    ]
    config = ProviderConfig.objects.get(app=team.app, service_type="Office365")
    assert config.client_secret == "azure-secret-value"
    assert config.service_account_key == key
    assert config.endpoints == {"token": "http://127.0.0.1:9999/{tenant}/token"}
    # Encrypted at rest.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_secret, service_account_key FROM "
            "aurinko_auth_providerconfig WHERE id = %s",
            [config.pk],
        )
        raw_secret, raw_key = cursor.fetchone()
    assert "azure-secret-value" not in raw_secret and "PRIVATE KEY" not in raw_key
    assert crypto.decrypt(raw_secret) == "azure-secret-value"
    event = AuditEvent.objects.get(app=team.app, event="provider.added")
    assert event.details["serviceType"] == "Office365"
    assert event.details["secretChanged"] == "yes"
    assert "azure-secret-value" not in json.dumps(event.details)
    assert "azure-secret-value" not in json.dumps(list(LogEntry.objects.values()), default=str)


def test_an_empty_secret_field_keeps_the_stored_secret(client, team):
    client.force_login(team.owner)
    data = form_data(client.get(change_url(team.app)))
    data["provider_configs-0-client_id"] = "new-client-id"
    assert client.post(change_url(team.app), data).status_code == 302
    team.config.refresh_from_db()
    assert team.config.client_id == "new-client-id"
    assert team.config.client_secret == PROVIDER_SECRET
    event = AuditEvent.objects.get(app=team.app, event="provider.changed")
    assert event.details["fields"] == ["client_id"] and event.details["secretChanged"] == "no"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("endpoints", "token = http://login.example.com/token", "https"),
        ("endpoints", "nonsense = https://login.example.com/x", "no endpoint"),
        ("endpoints", "just-a-url", "name = URL"),
        ("client_id", "", "client id"),
    ],
)
def test_provider_configuration_is_validated(client, team, field, value, message):
    client.force_login(team.owner)
    data = form_data(client.get(change_url(team.app)))
    data[f"provider_configs-0-{field}"] = value
    response = client.post(change_url(team.app), data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][1].formset.forms[0].errors
    assert message in " ".join(errors[field])


@pytest.mark.parametrize(
    "content, message",
    [
        (b"{not json", "not JSON"),
        (
            b'{"type": "authorized_user", "client_email": "a", "private_key": "b"}',
            "service-account",
        ),
        (b'{"type": "service_account", "client_email": "a@b.c"}', "private_key"),
    ],
)
def test_service_account_key_files_are_validated(client, team, content, message):
    client.force_login(team.owner)
    data = form_data(client.get(change_url(team.app)))
    data["provider_configs-0-key_file"] = SimpleUploadedFile("key.json", content)
    response = client.post(change_url(team.app), data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][1].formset.forms[0].errors
    assert message in " ".join(errors["key_file"])


def test_a_second_configuration_for_the_same_provider_is_refused(client, team):
    client.force_login(team.owner)
    data = form_data(client.get(change_url(team.app)))
    data.update(
        {
            "provider_configs-TOTAL_FORMS": "2",
            "provider_configs-1-service_type": "Google",
            "provider_configs-1-client_id": "dup",
        }
    )
    response = client.post(change_url(team.app), data)
    assert response.status_code == 200
    assert ProviderConfig.objects.filter(app=team.app).count() == 1


def test_owner_manages_the_team_and_admins_cannot(client, team, staff_factory):
    newcomer = staff_factory("nina")
    client.force_login(team.admin)
    data = form_data(client.get(change_url(team.app)))
    data.update(
        {
            "memberships-TOTAL_FORMS": str(int(data["memberships-TOTAL_FORMS"]) + 1),
            "memberships-3-user": "nina",
            "memberships-3-role": "owner",
        }
    )
    client.post(change_url(team.app), data)
    assert not AppMembership.objects.filter(user=newcomer).exists()

    client.force_login(team.owner)
    page = client.get(change_url(team.app))
    assert b"olivia" in page.content and b"vera" in page.content
    data = form_data(page)
    data.update(
        {
            "memberships-TOTAL_FORMS": "4",
            "memberships-3-user": "nina@example.com",
            "memberships-3-role": "viewer",
        }
    )
    response = client.post(change_url(team.app), data)
    assert response.status_code == 302
    assert AppMembership.objects.get(user=newcomer, app=team.app).role == "viewer"
    added = AuditEvent.objects.get(event="member.added")
    assert added.details == {"user": "nina", "role": "viewer"} and added.actor == team.owner
    client.force_login(newcomer)
    assert client.get(change_url(team.app)).status_code == 200


def test_unknown_users_and_removing_the_last_owner_are_refused(client, team):
    client.force_login(team.owner)
    data = form_data(client.get(change_url(team.app)))
    data.update(
        {
            "memberships-TOTAL_FORMS": "4",
            "memberships-3-user": "nobody",
            "memberships-3-role": "viewer",
        }
    )
    response = client.post(change_url(team.app), data)
    assert response.status_code == 200
    assert "No staff user" in str(response.context["inline_admin_formsets"][0].formset.errors)

    data = form_data(client.get(change_url(team.app)))
    owner_row = next(
        k.split("-")[1] for k, v in data.items() if k.endswith("-user") and v == "olivia"
    )
    data[f"memberships-{owner_row}-role"] = "admin"
    response = client.post(change_url(team.app), data)
    assert response.status_code == 200
    assert "at least one owner" in str(
        response.context["inline_admin_formsets"][0].formset.non_form_errors()
    )
    assert AppMembership.objects.get(user=team.owner).role == "owner"


def test_deleting_an_app_is_for_owners_and_audited(client, team):
    client.force_login(team.owner)
    response = client.post(
        reverse("admin:aurinko_auth_app_delete", args=[team.app.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not App.objects.filter(pk=team.app.pk).exists()
    event = AuditEvent.objects.get(event="app.deleted")
    assert event.app is None and event.details["name"] == "Mail Sync"
    # Their own events outside any app stay visible to them.
    events = client.get(reverse("admin:aurinko_auth_auditevent_changelist"))
    assert event in list(events.context["cl"].result_list)


def test_enable_and_disable_actions(client, team):
    client.force_login(team.admin)
    changelist = reverse("admin:aurinko_auth_app_changelist")
    client.post(changelist, {"action": "disable_apps", "_selected_action": [team.app.pk]})
    team.app.refresh_from_db()
    assert team.app.active is False
    client.post(changelist, {"action": "enable_apps", "_selected_action": [team.app.pk]})
    team.app.refresh_from_db()
    assert team.app.active is True
    assert list(
        AuditEvent.objects.filter(app=team.app, event__startswith="app.")
        .order_by("id")
        .values_list("event", flat=True)
    ) == ["app.disabled", "app.enabled"]
