"""Admin details (issue 18, items 7 and 15): a typed provider secret is never silently dropped,
new configurations do not claim working refreshes nor offer to remove what is not stored,
Account-flow accounts show what they are."""

from __future__ import annotations

from django.urls import reverse

from aurinko_auth.models import AuditEvent, ProviderConfig
from tests.admin.conftest import form_data

PREFIX = "provider_configs"


def change_url(app):
    return reverse("admin:aurinko_auth_app_change", args=[app.pk])


def add_config(data, **fields):
    n = int(data[f"{PREFIX}-TOTAL_FORMS"])
    data[f"{PREFIX}-TOTAL_FORMS"] = str(n + 1)
    for name, value in fields.items():
        data[f"{PREFIX}-{n}-{name}"] = value
    return n


def config_form(response, n):
    return response.context["inline_admin_formsets"][1].formset.forms[n]


def test_a_typed_secret_lost_in_a_rerender_is_asked_for_again_not_dropped(client, team):
    client.force_login(team.owner)
    data = form_data(client.get(change_url(team.app)))
    n = add_config(
        data,
        service_type="Office365",
        client_id="azure-client-id",
        new_client_secret="azure-secret-value",
        endpoints="token = http://login.example.com/token",  # refused: http off loopback
    )
    response = client.post(change_url(team.app), data)
    assert response.status_code == 200
    form = config_form(response, n)
    assert "endpoints" in form.errors
    # The password field re-renders empty (never echoed back) and says so.
    assert b"azure-secret-value" not in response.content
    assert "not shown again" in form.fields["new_client_secret"].help_text

    # The browser sends the re-rendered form back with the error fixed: the secret is empty now.
    data[f"{PREFIX}-{n}-endpoints"] = ""
    data[f"{PREFIX}-{n}-new_client_secret"] = ""
    response = client.post(change_url(team.app), data)
    assert response.status_code == 200, "saved a configuration without its secret"
    errors = config_form(response, n).errors
    assert "needs an OAuth client secret" in " ".join(errors["new_client_secret"])
    assert not ProviderConfig.objects.filter(app=team.app, service_type="Office365").exists()

    data[f"{PREFIX}-{n}-new_client_secret"] = "azure-secret-value"
    assert client.post(change_url(team.app), data).status_code == 302
    config = ProviderConfig.objects.get(app=team.app, service_type="Office365")
    assert config.client_secret == "azure-secret-value"


def test_removing_the_only_secret_is_refused(client, team):
    client.force_login(team.owner)
    data = form_data(client.get(change_url(team.app)))
    data[f"{PREFIX}-0-clear_client_secret"] = "on"
    response = client.post(change_url(team.app), data)
    assert response.status_code == 200
    assert "new_client_secret" in config_form(response, 0).errors
    team.config.refresh_from_db()
    assert team.config.client_secret
    assert not AuditEvent.objects.filter(event="provider.changed").exists()


def test_a_new_configuration_neither_claims_working_refreshes_nor_offers_removal(
    client, team, provider_config_factory
):
    unused = provider_config_factory(team.app, "Zoho", client_secret="")
    client.force_login(team.owner)
    page = client.get(change_url(team.app))
    forms = {f.instance.service_type: f for f in page.context["inline_admin_formsets"][1].formset}
    # Google has a secret stored: it may be removed; Zoho has none: nothing to remove.
    assert forms["Google"]["clear_client_secret"].is_hidden is False
    assert forms["Zoho"]["clear_client_secret"].is_hidden is True
    assert forms["Zoho"]["clear_service_account_key"].is_hidden is True
    inline = page.context["inline_admin_formsets"][1].opts
    configs = {c.service_type: c for c in inline.get_queryset(page.wsgi_request)}
    assert inline.refresh_state(configs["Google"]) == "working"  # team.account uses it
    assert inline.refresh_state(configs["Zoho"]).startswith("not used yet")
    assert unused.pk == configs["Zoho"].pk
    # The page shows one "Remove the stored secret" checkbox: Google's (Zoho's and the empty
    # form's are hidden).
    assert page.content.count(b"fieldBox field-clear_client_secret checkbox-row") == 1
    assert page.content.count(b"fieldBox field-clear_client_secret hidden") == 2


def test_the_provider_inline_takes_one_query_whatever_the_number_of_configs(
    client, team, provider_config_factory, django_assert_num_queries
):
    for service_type in ["Zoho", "Salesforce", "Hubspot"]:
        provider_config_factory(team.app, service_type)
    client.force_login(team.owner)
    page = client.get(change_url(team.app))
    inline = page.context["inline_admin_formsets"][1].opts
    with django_assert_num_queries(1):
        states = [inline.refresh_state(c) for c in inline.get_queryset(page.wsgi_request)]
    assert len(states) == 4


def test_account_flow_accounts_are_not_type_none(client, team, account_factory):
    user_flow = account_factory(team.app, "Google", email="u@example.com", account_type="primary")
    client.force_login(team.owner)
    page = client.get("/admin/aurinko_auth/account/")
    assert b"Account flow (no user)" in page.content
    assert b"Primary (of a user)" in page.content
    detail = client.get(reverse("admin:aurinko_auth_account_change", args=[team.account.pk]))
    assert b"Account flow (no user)" in detail.content
    assert b">None<" not in detail.content
    assert user_flow.pk


def test_required_scopes_are_edited_in_the_admin(client, team):
    client.force_login(team.admin)
    url = change_url(team.app)
    data = form_data(client.get(url))
    data["allowed_scopes"] = ["Mail.Read", "Calendar.Read"]
    data["required_scopes"] = ["Mail.Send"]
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Mail.Send is not allowed" in " ".join(
        response.context["adminform"].form.errors["required_scopes"]
    )
    data["required_scopes"] = ["Calendar.Read"]
    assert client.post(url, data).status_code == 302
    team.app.refresh_from_db()
    assert team.app.required_scopes == ["Calendar.Read"]
    event = AuditEvent.objects.get(app=team.app, event="app.changed")
    assert "required_scopes" in event.details["fields"]
    # A viewer sees them, read-only.
    client.force_login(team.viewer)
    page = client.get(url)
    assert b"Calendar.Read" in page.content
    assert b'name="required_scopes"' not in page.content


def test_every_bad_return_url_is_reported(client, staff_factory):
    client.force_login(staff_factory("nina"))
    response = client.post(
        "/admin/aurinko_auth/app/add/",
        {
            "name": "x",
            "return_urls": "http://app.example/cb\nhttps://ok.example/cb\nhttps://a.example/cb#f",
            "allowed_scopes": ["Mail.Read"],
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["return_urls"]
    assert len(errors) == 2
    assert "http://app.example/cb" in errors[0] and "https://a.example/cb#f" in errors[1]


def test_the_command_line_reports_every_bad_return_url_too():
    import pytest

    from aurinko_auth.exceptions import InvalidRequest
    from aurinko_auth.security import returnurls

    with pytest.raises(InvalidRequest) as refused:
        returnurls.validate_list(["http://a.example/cb", "https://b.example/cb#x"])
    assert "http://a.example/cb" in refused.value.message
    assert "https://b.example/cb#x" in refused.value.message
