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
