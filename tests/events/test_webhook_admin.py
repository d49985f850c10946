from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from aurinko_auth.models import AppMembership, OutboxEvent, WebhookEndpoint
from aurinko_auth.webhooks import events


@pytest.fixture
def owner_client(client, db):
    user = get_user_model().objects.create_user("owner", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="aurinko_auth"))
    client.force_login(user)
    return client, user


def test_admin_lists_only_own_apps_events_and_replays(owner_client, app_factory):
    client, user = owner_client
    mine, _ = app_factory(name="Mine")
    theirs, _ = app_factory(name="Theirs")
    AppMembership.objects.create(app=mine, user=user)
    for app in (mine, theirs):
        WebhookEndpoint.objects.create(app=app, url=f"https://{app.pk}.example/h")
        events.emit(app, "app.secret_rotated", {"clientId": app.client_id})
    OutboxEvent.objects.update(status="dead", attempts=10)
    page = client.get("/admin/aurinko_auth/outboxevent/")
    assert page.status_code == 200
    assert f"{mine.pk}.example" in page.content.decode()
    assert f"{theirs.pk}.example" not in page.content.decode()
    ids = list(OutboxEvent.objects.values_list("pk", flat=True))
    response = client.post(
        "/admin/aurinko_auth/outboxevent/", {"action": "replay", "_selected_action": ids}
    )
    assert response.status_code == 302
    assert dict(OutboxEvent.objects.values_list("app_id", "status")) == {
        mine.pk: "pending",
        theirs.pk: "dead",
    }


# -- issue 18 item 8: scoped by role, no model permissions needed ----------------------------


@pytest.fixture
def webhook_team(app_factory):
    """App "Hooks" with an owner, an admin and a viewer (staff, no model permissions), one
    endpoint and one dead event; another app with its own endpoint."""
    User = get_user_model()
    app, _ = app_factory(name="Hooks")
    other, _ = app_factory(name="Other")
    users = {}
    for role in ("owner", "admin", "viewer"):
        users[role] = User.objects.create_user(role, password="pw", is_staff=True)
        AppMembership.objects.create(app=app, user=users[role], role=role)
    endpoint = WebhookEndpoint.objects.create(app=app, url="https://hooks.example/h")
    WebhookEndpoint.objects.create(app=other, url="https://other.example/h")
    events.emit(app, "app.secret_rotated", {"clientId": app.client_id})
    OutboxEvent.objects.update(status="dead", attempts=10)
    return app, other, users, endpoint


def test_an_owner_without_model_permissions_manages_endpoints(client, webhook_team):
    app, other, users, endpoint = webhook_team
    client.force_login(users["owner"])
    listing = client.get("/admin/aurinko_auth/webhookendpoint/")
    assert listing.status_code == 200
    assert b"hooks.example" in listing.content and b"other.example" not in listing.content
    add = client.get("/admin/aurinko_auth/webhookendpoint/add/")
    assert add.status_code == 200
    # Only the user's own apps are offered.
    choices = [str(c[0]) for c in add.context["adminform"].form.fields["app"].choices]
    assert str(app.pk) in choices and str(other.pk) not in choices
    response = client.post(
        "/admin/aurinko_auth/webhookendpoint/add/",
        {"app": app.pk, "url": "https://hooks.example/second", "event_types": "[]", "active": "on"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert WebhookEndpoint.objects.filter(app=app, url="https://hooks.example/second").exists()
    page = client.get(f"/admin/aurinko_auth/webhookendpoint/{endpoint.pk}/change/")
    assert page.status_code == 200 and endpoint.secret.encode() in page.content
    # Another app's endpoint does not exist for them.
    theirs = WebhookEndpoint.objects.get(app=other)
    assert client.get(f"/admin/aurinko_auth/webhookendpoint/{theirs.pk}/change/").status_code == 404


def test_a_viewer_neither_sees_nor_rotates_secrets_nor_replays(client, webhook_team):
    app, other, users, endpoint = webhook_team
    secret = endpoint.secret
    client.force_login(users["viewer"])
    listing = client.get("/admin/aurinko_auth/webhookendpoint/")
    assert listing.status_code == 200 and b"hooks.example" in listing.content
    assert b"rotate_signing_secret" not in listing.content  # the action is not offered
    page = client.get(f"/admin/aurinko_auth/webhookendpoint/{endpoint.pk}/change/")
    assert page.status_code == 200
    assert secret.encode() not in page.content
    client.post(
        "/admin/aurinko_auth/webhookendpoint/",
        {"action": "rotate_signing_secret", "_selected_action": [endpoint.pk]},
    )
    endpoint.refresh_from_db()
    assert endpoint.secret == secret
    assert client.get("/admin/aurinko_auth/webhookendpoint/add/").status_code == 403
    ids = list(OutboxEvent.objects.values_list("pk", flat=True))
    client.post("/admin/aurinko_auth/outboxevent/", {"action": "replay", "_selected_action": ids})
    assert set(OutboxEvent.objects.values_list("status", flat=True)) == {"dead"}


def test_an_admin_rotates_and_replays(client, webhook_team):
    app, other, users, endpoint = webhook_team
    secret = endpoint.secret
    client.force_login(users["admin"])
    response = client.post(
        "/admin/aurinko_auth/webhookendpoint/",
        {"action": "rotate_signing_secret", "_selected_action": [endpoint.pk]},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret != secret and endpoint.previous_secret == secret
    ids = list(OutboxEvent.objects.values_list("pk", flat=True))
    client.post("/admin/aurinko_auth/outboxevent/", {"action": "replay", "_selected_action": ids})
    assert set(OutboxEvent.objects.filter(app=app).values_list("status", flat=True)) == {"pending"}


def test_a_selection_mixing_roles_acts_only_where_the_role_allows(
    client, webhook_team, app_factory
):
    app, other, users, endpoint = webhook_team
    # The admin of "Hooks" is a viewer of a third app.
    third, _ = app_factory(name="Third")
    AppMembership.objects.create(app=third, user=users["admin"], role="viewer")
    third_endpoint = WebhookEndpoint.objects.create(app=third, url="https://third.example/h")
    third_secret, secret = third_endpoint.secret, endpoint.secret
    client.force_login(users["admin"])
    client.post(
        "/admin/aurinko_auth/webhookendpoint/",
        {"action": "rotate_signing_secret", "_selected_action": [endpoint.pk, third_endpoint.pk]},
    )
    endpoint.refresh_from_db()
    third_endpoint.refresh_from_db()
    assert endpoint.secret != secret
    assert third_endpoint.secret == third_secret
