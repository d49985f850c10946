"""The app page's trusted identity tokens (docs/add-ins.md)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aurinko_auth.models import AuditEvent, IdentityTrust
from tests.admin.conftest import form_data

pytestmark = pytest.mark.django_db


def test_admin_sets_and_removes_a_trust(client, team):
    url = reverse("admin:aurinko_auth_app_change", args=[team.app.pk])
    client.force_login(team.admin)
    data = form_data(client.get(url))
    prefix = "identity_trusts"
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-0-token_type": "exchangeIdToken",
            f"{prefix}-0-audiences": "https://addin.example.com/taskpane.html\n",
            f"{prefix}-0-tenants": "",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context and [
        f.errors for i in response.context["inline_admin_formsets"] for f in i.formset
    ]
    trust = IdentityTrust.objects.get(app=team.app)
    assert trust.audiences == ["https://addin.example.com/taskpane.html"]
    event = AuditEvent.objects.get(app=team.app, event="trust.changed")
    assert event.details["type"] == "exchangeIdToken"

    # The stored trust round-trips through the form unchanged; a bad audience is refused.
    data = form_data(client.get(url))
    assert data[f"{prefix}-0-audiences"] == "https://addin.example.com/taskpane.html"
    data[f"{prefix}-0-audiences"] = "javascript:alert(1)"
    response = client.post(url, data)
    assert response.status_code == 200 and "add-in URL" in response.content.decode()
    trust.refresh_from_db()
    assert trust.audiences == ["https://addin.example.com/taskpane.html"]

    data[f"{prefix}-0-audiences"] = "https://addin.example.com/taskpane.html"
    data[f"{prefix}-0-DELETE"] = "on"
    assert client.post(url, data).status_code == 302
    assert not IdentityTrust.objects.exists()
    assert AuditEvent.objects.filter(app=team.app, event="trust.removed").exists()


def test_viewers_see_but_cannot_change_trusts(client, team):
    IdentityTrust.objects.create(app=team.app, token_type="googleIdToken", audiences=["g-1"])
    client.force_login(team.viewer)
    page = client.get(reverse("admin:aurinko_auth_app_change", args=[team.app.pk]))
    assert page.status_code == 200 and "g-1" in page.content.decode()
    assert "identity_trusts-0-audiences" not in page.content.decode()
