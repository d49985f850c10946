"""The admin declares an app a public client (PKCE) and opts in to responseType=token
(issue 17 item 3)."""

from __future__ import annotations

from aurinko_auth.models import App
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


def test_admin_edits_trusted_domains(client, team):
    client.force_login(team.owner)
    url = f"/admin/aurinko_auth/app/{team.app.pk}/change/"
    data = form_data(client.get(url))
    data["trusted_domains"] = "https://addin.example.com\nhttp://plain.example.com\nhttps://*.x.com"
    refused = client.post(url, data)
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors["trusted_domains"]
    assert len(errors) == 2  # each refused origin, with its reason
    assert "'http://plain.example.com'" in errors[0] and "http only on loopback" in errors[0]
    assert "no wildcards" in errors[1]
    team.app.refresh_from_db()
    assert team.app.trusted_domains == []  # nothing saved
    data["trusted_domains"] = "HTTPS://AddIn.example.com:443/\n\nhttps://addin.example.com"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    team.app.refresh_from_db()
    assert team.app.trusted_domains == ["https://addin.example.com"]
    page = client.get(url).content.decode()
    assert "https://addin.example.com</textarea>" in page


def test_viewer_sees_trusted_domains_read_only(client, team):
    team.app.trusted_domains = ["https://addin.example.com"]
    team.app.save()
    client.force_login(team.viewer)
    page = client.get(f"/admin/aurinko_auth/app/{team.app.pk}/change/").content.decode()
    assert "https://addin.example.com" in page and 'name="trusted_domains"' not in page


def test_admin_creates_an_app_with_trusted_domains(client, team):
    client.force_login(team.owner)
    data = form_data(client.get("/admin/aurinko_auth/app/add/"))
    data.update(name="Add-in", trusted_domains="https://addin.example.com")
    response = client.post("/admin/aurinko_auth/app/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert App.objects.get(name="Add-in").trusted_domains == ["https://addin.example.com"]


def test_admin_declares_one_return_url_public(client, team):
    client.force_login(team.owner)
    url = f"/admin/aurinko_auth/app/{team.app.pk}/change/"
    data = form_data(client.get(url))
    server = team.app.return_urls[0]
    data["return_urls"] = f"{server}\n{EXTENSION_URLS[0]}"
    data["public_return_urls"] = EXTENSION_URLS[1]  # not among the return URLs
    refused = client.post(url, data)
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert "one of the app's return URLs" in " ".join(errors["public_return_urls"])
    assert "public client" in " ".join(errors["return_urls"])  # the extension page
    data["public_return_urls"] = EXTENSION_URLS[0]
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    team.app.refresh_from_db()
    assert not team.app.public_client
    assert team.app.return_urls == [server, EXTENSION_URLS[0]]
    assert team.app.public_return_urls == [EXTENSION_URLS[0]]
    page = client.get(url).content.decode()
    assert EXTENSION_URLS[0] in page
