from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from aurinko_auth.models import AppMembership, UserSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_factory(db):
    def make(username: str, superuser: bool = False):
        return get_user_model().objects.create_user(
            username, password="pw", is_staff=True, is_superuser=superuser
        )

    return make


def test_app_user_admin_is_scoped_and_ends_sessions(
    client, app_factory, user_factory, session_factory, staff_factory
):
    mine, _ = app_factory(name="Mine")
    theirs, _ = app_factory(name="Theirs")
    my_user = user_factory(mine, email="mine@example.com")
    user_factory(theirs, email="theirs@example.com")
    token = session_factory(my_user)
    owner = staff_factory("owner", superuser=False)
    owner.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_appuser", "change_appuser"])
    )
    AppMembership.objects.create(app=mine, user=owner)
    client.force_login(owner)
    page = client.get("/admin/aurinko_auth/appuser/")
    assert page.status_code == 200
    assert b"mine@example.com" in page.content and b"theirs@example.com" not in page.content
    detail = client.get(f"/admin/aurinko_auth/appuser/{my_user.pk}/change/")
    assert detail.status_code == 200
    assert UserSession.objects.get().token_hash.encode() not in detail.content
    assert token.encode() not in detail.content
    response = client.post(
        "/admin/aurinko_auth/appuser/",
        {"action": "end_sessions", "_selected_action": [str(my_user.pk)]},
    )
    assert response.status_code == 302
    assert UserSession.objects.get().revoked_at is not None


def test_app_user_admin_shows_host_identities_read_only(
    client, app_factory, user_factory, staff_factory
):
    from aurinko_auth.models import HostIdentity

    app, _ = app_factory()
    user = user_factory(app, email="addin@example.com")
    HostIdentity.objects.create(
        app=app, user=user, token_type="entraIdToken", subject="tid-1:oid-1"
    )
    client.force_login(staff_factory("root", superuser=True))
    detail = client.get(f"/admin/aurinko_auth/appuser/{user.pk}/change/")
    assert detail.status_code == 200
    assert b"tid-1:oid-1" in detail.content
    assert b"host identities (identity-token sign-in)" in detail.content.lower()
    # Read-only: no input of the inline's formset for the subject.
    assert b'name="host_identities-0-subject"' not in detail.content
