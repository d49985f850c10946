"""The redirect page in the admin's provider configuration form (issue 16 item 5)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aurinko_auth.models import AuditEvent
from tests.admin.conftest import form_data

PAGE = "https://app.example.com/aurinko/redirect"


def change_url(app):
    return reverse("admin:aurinko_auth_app_change", args=[app.pk])


def test_the_owner_sets_and_removes_the_redirect_page(client, team):
    client.force_login(team.owner)
    page = client.get(change_url(team.app))
    assert b'name="provider_configs-0-redirect_page"' in page.content
    data = form_data(page)
    data["provider_configs-0-redirect_page"] = PAGE
    assert client.post(change_url(team.app), data).status_code == 302
    team.config.refresh_from_db()
    assert team.config.redirect_page == PAGE and team.config.redirect_uri == PAGE
    event = AuditEvent.objects.get(app=team.app, event="provider.changed")
    assert "redirect_page" in event.details["fields"]
    data = form_data(client.get(change_url(team.app)))
    assert data["provider_configs-0-redirect_page"] == PAGE
    data["provider_configs-0-redirect_page"] = ""
    assert client.post(change_url(team.app), data).status_code == 302
    team.config.refresh_from_db()
    assert team.config.redirect_page == ""


@pytest.mark.parametrize(
    "value, message",
    [
        ("http://app.example.com/r", "https"),
        ("https://app.example.com/r#x", "fragment"),
        ("https://me:pw@app.example.com/r", "credentials"),
        ("/relative", "absolute"),
    ],
)
def test_a_bad_redirect_page_is_refused(client, team, value, message):
    client.force_login(team.owner)
    data = form_data(client.get(change_url(team.app)))
    data["provider_configs-0-redirect_page"] = value
    response = client.post(change_url(team.app), data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][1].formset.forms[0].errors
    assert message in " ".join(errors["redirect_page"])
    team.config.refresh_from_db()
    assert team.config.redirect_page == ""


def test_a_viewer_sees_the_page_read_only(client, team):
    team.config.redirect_page = PAGE
    team.config.save()
    client.force_login(team.viewer)
    page = client.get(change_url(team.app))
    assert page.status_code == 200
    assert PAGE.encode() in page.content
    assert b'name="provider_configs-0-redirect_page"' not in page.content
