"""Owner scoping: every admin page renders for each role, and nothing outside a user's apps
exists for them (404, never 403)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aurinko_auth.models import App


def urls(t):
    app, account, event = t.app.pk, t.account.pk, t.event.pk
    return {
        "index": reverse("admin:index"),
        "app_index": reverse("admin:app_list", args=["aurinko_auth"]),
        "app_list": reverse("admin:aurinko_auth_app_changelist"),
        "app_add": reverse("admin:aurinko_auth_app_add"),
        "app_change": reverse("admin:aurinko_auth_app_change", args=[app]),
        "app_history": reverse("admin:aurinko_auth_app_history", args=[app]),
        "app_dashboard": reverse("admin:aurinko_auth_app_dashboard", args=[app]),
        "app_secret": reverse("admin:aurinko_auth_app_secret", args=[app]),
        "app_delete": reverse("admin:aurinko_auth_app_delete", args=[app]),
        "app_rotate": reverse("admin:aurinko_auth_app_rotate_secret", args=[app]),
        "account_list": reverse("admin:aurinko_auth_account_changelist"),
        "account_change": reverse("admin:aurinko_auth_account_change", args=[account]),
        "account_history": reverse("admin:aurinko_auth_account_history", args=[account]),
        "account_delete": reverse("admin:aurinko_auth_account_delete", args=[account]),
        "audit_list": reverse("admin:aurinko_auth_auditevent_changelist"),
        "audit_change": reverse("admin:aurinko_auth_auditevent_change", args=[event]),
    }


EVERYONE = [
    "index",
    "app_index",
    "app_list",
    "app_add",
    "app_change",
    "app_history",
    "app_dashboard",
    "app_secret",
    "account_list",
    "account_change",
    "account_history",
    "audit_list",
    "audit_change",
]
EXPECTED = {
    "superuser": dict.fromkeys(EVERYONE + ["app_delete", "app_rotate", "account_delete"], 200),
    "owner": dict.fromkeys(EVERYONE + ["app_delete", "app_rotate", "account_delete"], 200),
    "admin": {
        **dict.fromkeys(EVERYONE + ["account_delete"], 200),
        "app_delete": 403,
        "app_rotate": 403,
    },
    "viewer": {
        **dict.fromkeys(EVERYONE, 200),
        "app_delete": 403,
        "app_rotate": 403,
        "account_delete": 403,
    },
    # Another app's owner: Mail Sync's objects do not exist for them.
    "other_owner": {
        "index": 200,
        "app_index": 200,
        "app_list": 200,
        "app_add": 200,
        "account_list": 200,
        "audit_list": 200,
        **dict.fromkeys(
            [
                "app_change",
                "app_history",
                "app_dashboard",
                "app_secret",
                "app_delete",
                "app_rotate",
                "account_change",
                "account_history",
                "account_delete",
                "audit_change",
            ],
            404,
        ),
    },
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_every_admin_page_renders_for_each_role(client, team, role):
    client.force_login(getattr(team, role))
    for name, url in urls(team).items():
        if name not in EXPECTED[role]:
            continue
        response = client.get(url)
        assert response.status_code == EXPECTED[role][name], (name, response.status_code)
        if response.status_code == 200:
            assert b"Traceback" not in response.content


def test_a_staff_user_without_apps_sees_only_the_app_list_and_may_create_one(client, team):
    client.force_login(team.loner)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    models = [m["object_name"] for a in index.context["app_list"] for m in a["models"]]
    # Their own passkeys too (tests/settings.py installs django-otp-webauthn).
    assert models == ["App", "AuditEvent", "WebAuthnCredential"]
    assert client.get(reverse("admin:aurinko_auth_app_changelist")).context["cl"].result_count == 0
    assert client.get(reverse("admin:aurinko_auth_app_add")).status_code == 200
    assert client.get(reverse("admin:aurinko_auth_account_changelist")).status_code == 403
    for name, url in urls(team).items():
        if name.endswith(("_change", "_history", "_delete", "_dashboard", "_secret", "_rotate")):
            assert client.get(url).status_code == 404, name


def test_non_staff_users_are_sent_to_the_login_page(client, staff_factory, team):
    user = staff_factory("nostaff", staff=False)
    client.force_login(user)
    for name, url in urls(team).items():
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("admin:login"))


def test_lists_show_only_the_users_own_apps(client, team):
    client.force_login(team.other_owner)
    apps = client.get(reverse("admin:aurinko_auth_app_changelist")).context["cl"].result_list
    assert [a.name for a in apps] == ["Other app"]
    accounts = client.get(reverse("admin:aurinko_auth_account_changelist"))
    assert [a.email for a in accounts.context["cl"].result_list] == ["carol@example.com"]
    assert b"alice@example.com" not in accounts.content
    # The app filter offers only their own app, and another app's id finds nothing.
    assert b"Mail Sync" not in accounts.content
    filtered = client.get(reverse("admin:aurinko_auth_account_changelist"), {"app": team.app.pk})
    assert list(filtered.context["cl"].result_list) == []
    events = client.get(reverse("admin:aurinko_auth_auditevent_changelist"))
    seen = {(e.app_id, e.event, e.actor_id) for e in events.context["cl"].result_list}
    # Their app's events, and their own sign-ins (no app); nothing of Mail Sync.
    assert seen == {
        (team.other_app.pk, "auth.failed", None),
        (None, "admin.signin", team.other_owner.pk),
    }


def test_superuser_sees_every_app(client, team):
    client.force_login(team.superuser)
    apps = client.get(reverse("admin:aurinko_auth_app_changelist")).context["cl"].result_list
    assert {a.name for a in apps} == {"Mail Sync", "Other app"}


def test_viewer_cannot_change_the_app(client, team):
    client.force_login(team.viewer)
    url = reverse("admin:aurinko_auth_app_change", args=[team.app.pk])
    page = client.get(url)
    assert page.context["has_change_permission"] is False
    assert b'name="_save"' not in page.content
    response = client.post(url, {"name": "Hijacked", "return_urls": "https://evil.example/cb"})
    assert response.status_code == 403
    team.app.refresh_from_db()
    assert team.app.name == "Mail Sync"


def test_viewer_and_others_cannot_delete_or_disable(client, team):
    client.force_login(team.viewer)
    changelist = reverse("admin:aurinko_auth_app_changelist")
    page = client.get(changelist)
    assert page.context["action_form"] is None  # no actions offered to a viewer
    client.post(changelist, {"action": "disable_apps", "_selected_action": [team.app.pk]})
    team.app.refresh_from_db()
    assert team.app.active is True
    client.force_login(team.admin)
    response = client.post(
        reverse("admin:aurinko_auth_app_delete", args=[team.app.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert App.objects.filter(pk=team.app.pk).exists()


def test_bulk_delete_refuses_apps_where_the_user_is_not_owner(client, team, member_factory):
    member_factory(team.other_app, team.owner, "admin")  # owner of Mail Sync, admin elsewhere
    client.force_login(team.owner)
    response = client.post(
        reverse("admin:aurinko_auth_app_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [team.app.pk, team.other_app.pk],
            "post": "yes",
        },
    )
    assert response.status_code == 403
    assert App.objects.count() == 2


def test_direct_urls_with_garbage_ids_are_404(client, team):
    client.force_login(team.owner)
    for url in [
        "/admin/aurinko_auth/app/abc/dashboard/",
        "/admin/aurinko_auth/app/999999/change/",
        "/admin/aurinko_auth/account/x/change/",
    ]:
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("value", ["²", "١", "9" * 30, "-1", "x"])
def test_app_filter_with_a_hostile_id_finds_nothing(client, team, value):
    """Issue 19 item 4: ``?app=²`` was a 500 ("²".isdigit() is true, int("²") raises)."""
    client.force_login(team.other_owner)
    response = client.get(reverse("admin:aurinko_auth_account_changelist"), {"app": value})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
