"""The admin shows the refresh state (and never the credentials)."""

from __future__ import annotations

from django.utils import timezone

from aurinko_auth.models import ProviderConfig, TokenStatus


def test_admin_shows_refresh_state(admin_client, linked_account):
    account, _ = linked_account(token_status=TokenStatus.RETRYING, last_error="provider.timeout")
    ProviderConfig.objects.filter(app=account.app).update(
        last_error="invalid_client", last_error_at=timezone.now()
    )
    page = admin_client.get("/admin/aurinko_auth/account/")
    assert page.status_code == 200
    assert b"provider.timeout" in page.content and b"Retrying" in page.content
    page = admin_client.get(f"/admin/aurinko_auth/account/{account.pk}/change/")
    assert page.status_code == 200
    assert account.credentials["refresh_token"].encode() not in page.content
    page = admin_client.get(f"/admin/aurinko_auth/app/{account.app.pk}/change/")
    assert page.status_code == 200
    assert b"invalid_client" in page.content
