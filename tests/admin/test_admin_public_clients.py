"""The admin declares an app a public client (PKCE) and opts in to responseType=token
(issue 17 item 3)."""

from __future__ import annotations

from tests.admin.conftest import form_data
from tests.test_public_clients import EXTENSION_URLS


def test_admin_declares_an_app_public(client, team):
    client.force_login(team.owner)
    url = f"/admin/aurinko_auth/app/{team.app.pk}/change/"
    data = form_data(client.get(url))
    data["return_urls"] = EXTENSION_URLS[0]
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert "public client" in " ".join(refused.context["adminform"].form.errors["return_urls"])
    data["public_client"] = "on"
    data["token_response"] = "on"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    team.app.refresh_from_db()
    assert team.app.public_client and team.app.token_response
    assert team.app.return_urls == [EXTENSION_URLS[0]]
