"""Webhooks end to end through a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from aurinko_auth import services
from aurinko_auth.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from aurinko_auth.webhooks import delivery, events

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


@pytest.fixture
def verify_webhook():
    """The verification snippet of docs/webhooks.md, executed as documented."""
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102
    return namespace["verify_webhook"]


def time_passes() -> None:
    """Make every scheduled retry due now (instead of waiting for the backoff)."""
    OutboxEvent.objects.filter(status="pending").update(next_attempt_at=timezone.now())


def deliver_all(rounds: int = 10) -> None:
    for _ in range(rounds):
        if not delivery.deliver_batch(10):
            return


def test_events_arrive_signed_verifiable_and_in_order(
    receiver, app_factory, account_factory, verify_webhook
):
    app, _ = app_factory()
    endpoint = WebhookEndpoint.objects.create(app=app, url=receiver.url)
    first, second = account_factory(app), account_factory(app)
    # The first delivery of `first`'s first event fails: its later events must wait for it.
    receiver.script = ["500"]
    with transaction.atomic():
        for n in range(3):
            for account in (first, second):
                events.emit(
                    app,
                    "account.refresh_failed",
                    {**events.account_payload(account), "n": n},
                    account=account,
                )
    deliver_all()
    got = [json.loads(r.body) for r in receiver.requests]
    # `first` is blocked behind its failed event; `second` went through in order.
    assert [(b["data"]["accountId"], b["data"]["n"]) for b in got] == [
        (first.pk, 0),
        (second.pk, 0),
        (second.pk, 1),
        (second.pk, 2),
    ]
    assert OutboxEvent.objects.filter(account_id=first.pk, status="pending").count() == 3
    time_passes()
    deliver_all()
    got = [json.loads(r.body)["data"] for r in receiver.requests[4:]]
    assert [(d["accountId"], d["n"]) for d in got] == [(first.pk, 0), (first.pk, 1), (first.pk, 2)]
    for request in receiver.requests:
        assert verify_webhook(endpoint.secret, request.headers, request.body)
        assert not verify_webhook("whsec_" + "A" * 32, request.headers, request.body)
    # Retries keep the webhook-id (receivers de-duplicate on it).
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[4].headers["webhook-id"]
    assert not OutboxEvent.objects.exclude(status="delivered").exists()
    assert WebhookDelivery.objects.count() == 7


def test_tampered_body_does_not_verify(receiver, app_factory, verify_webhook):
    app, _ = app_factory()
    endpoint = WebhookEndpoint.objects.create(app=app, url=receiver.url)
    client_secret = services.rotate_secret(app)
    deliver_all()
    [request] = receiver.requests
    assert json.loads(request.body)["type"] == "app.secret_rotated"
    assert client_secret.encode() not in request.body
    assert verify_webhook(endpoint.secret, request.headers, request.body)
    assert not verify_webhook(endpoint.secret, request.headers, request.body + b" ")


def test_rotation_overlap_signs_with_both_secrets(receiver, app_factory, verify_webhook):
    app, _ = app_factory()
    endpoint = WebhookEndpoint.objects.create(app=app, url=receiver.url)
    old = endpoint.secret
    new = endpoint.rotate_secret(timedelta(hours=1))
    events.emit(app, "app.secret_rotated", {"clientId": app.client_id})
    deliver_all()
    request = receiver.requests[-1]
    assert len(request.headers["webhook-signature"].split()) == 2
    assert verify_webhook(old, request.headers, request.body)
    assert verify_webhook(new, request.headers, request.body)
    # After the overlap only the new secret signs.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    events.emit(app, "app.secret_rotated", {"clientId": app.client_id})
    deliver_all()
    request = receiver.requests[-1]
    assert len(request.headers["webhook-signature"].split()) == 1
    assert not verify_webhook(old, request.headers, request.body)
    assert verify_webhook(new, request.headers, request.body)


def test_receiver_down_then_back_gets_every_event(receiver, app_factory, account_factory):
    app, _ = app_factory()
    account = account_factory(app)
    port = receiver.port
    WebhookEndpoint.objects.create(app=app, url=receiver.url)
    receiver.stop()
    for n in range(3):
        events.emit(app, "account.needs_reauth", {"accountId": account.pk, "n": n}, account=account)
    before = timezone.now()
    deliver_all()
    # One refused attempt of the oldest event, which then waits (backoff); the rest wait behind it.
    head = OutboxEvent.objects.order_by("id").first()
    assert head.attempts == 1 and head.status == "pending"
    assert head.last_error == "ConnectionError"
    assert head.next_attempt_at > before
    assert OutboxEvent.objects.filter(attempts=0).count() == 2
    receiver.port = port
    receiver.start()
    time_passes()
    deliver_all()
    assert [json.loads(r.body)["data"]["n"] for r in receiver.requests] == [0, 1, 2]
    assert set(OutboxEvent.objects.values_list("status", flat=True)) == {"delivered"}


def test_deliver_once_delivers_everything_due_even_events_held_back_for_order(
    receiver, app_factory, account_factory
):
    """Issue 19 item 8: one account's second event waits for its first within a pass; one
    `--once` run (cron) must still deliver both, and every other account's too."""
    app, _ = app_factory()
    WebhookEndpoint.objects.create(app=app, url=receiver.url)
    accounts = [account_factory(app) for _ in range(3)]
    for n in range(3):
        for account in accounts:
            events.emit(
                app, "account.needs_reauth", {"accountId": account.pk, "n": n}, account=account
            )
    call_command("aurinko_deliver_webhooks", "--once", "--batch-size", "50")
    assert set(OutboxEvent.objects.values_list("status", flat=True)) == {"delivered"}
    got = [json.loads(r.body)["data"] for r in receiver.requests]
    for account in accounts:
        assert [d["n"] for d in got if d["accountId"] == account.pk] == [0, 1, 2]


def test_deliver_once_ends_when_a_receiver_keeps_failing(receiver, app_factory, account_factory):
    app, _ = app_factory()
    WebhookEndpoint.objects.create(app=app, url=receiver.url)
    account = account_factory(app)
    receiver.script = ["500"] * 10
    for n in range(2):
        events.emit(app, "account.needs_reauth", {"accountId": account.pk, "n": n}, account=account)
    call_command("aurinko_deliver_webhooks", "--once")
    # One attempt of the head event; it then waits out its backoff and the second waits behind it.
    assert len(receiver.requests) == 1
    assert OutboxEvent.objects.filter(status="pending").count() == 2


def test_nothing_is_sent_for_a_rolled_back_change(receiver, app_factory):
    app, _ = app_factory()
    WebhookEndpoint.objects.create(app=app, url=receiver.url)
    seen = []
    events.app_secret_rotated.connect(
        lambda **kw: seen.append(kw["event_id"]), weak=False, dispatch_uid="test-rollback"
    )
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.rotate_secret(app)
            raise RuntimeError("roll back")
    finally:
        events.app_secret_rotated.disconnect(dispatch_uid="test-rollback")
    assert len(seen) == 1  # the signal ran, inside the transaction
    assert not OutboxEvent.objects.exists()
    call_command("aurinko_deliver_webhooks", "--once")
    assert receiver.requests == []


@pytest.mark.parametrize(
    "answer,error",
    [
        ("500", "http_500"),
        ("redirect", "redirect_not_followed"),
        ("slow", "timeout"),
    ],
)
def test_failing_receiver_is_retried_then_dead(receiver, app_factory, answer, error):
    app, _ = app_factory()
    WebhookEndpoint.objects.create(app=app, url=receiver.url)
    receiver.script = [answer] * 3
    events.emit(app, "app.secret_rotated", {"clientId": app.client_id})
    for _ in range(3):
        time_passes()
        call_command("aurinko_deliver_webhooks", "--once")
    event = OutboxEvent.objects.get()
    assert event.status == "dead" and event.attempts == 3 and event.last_error == error
    assert list(event.deliveries.values_list("attempt", "error")) == [
        (3, error),
        (2, error),
        (1, error),
    ]
    # Redirects are not followed: only the hook path was ever requested.
    assert {r.path for r in receiver.requests} == {"/hook"}
    # Replay (the admin action) sends it again.
    assert delivery.replay([event]) == 1
    call_command("aurinko_deliver_webhooks", "--once")
    event.refresh_from_db()
    assert event.status == "delivered"


def test_private_address_receiver_refused_unless_allowed(receiver, app_factory, settings):
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "ALLOWED_PRIVATE_NETWORKS": []}
    app, _ = app_factory()
    WebhookEndpoint.objects.create(app=app, url=receiver.url.replace("127.0.0.1", "localhost"))
    events.emit(app, "app.secret_rotated", {"clientId": app.client_id})
    call_command("aurinko_deliver_webhooks", "--once")
    assert receiver.requests == []
    assert OutboxEvent.objects.get().last_error == "private_address"
    settings.AURINKO_AUTH = {
        **settings.AURINKO_AUTH,
        "ALLOWED_PRIVATE_NETWORKS": ["127.0.0.0/8", "::1/128"],
    }
    time_passes()
    call_command("aurinko_deliver_webhooks", "--once")
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest",
        "http://[::ffff:192.168.1.1]/x",
        "ftp://example.com/x",
    ],
)
def test_private_and_odd_hosts_are_blocked(loopback_only, url):
    with pytest.raises(delivery.BlockedAddress):
        delivery.check_webhook_host(url)


def test_event_type_filter_and_inactive_endpoints(app_factory):
    app, _ = app_factory()
    wanted = WebhookEndpoint.objects.create(
        app=app, url="https://a.example/h", event_types=["account.deleted"]
    )
    WebhookEndpoint.objects.create(app=app, url="https://b.example/h", active=False)
    events.emit(app, "app.secret_rotated", {})
    events.emit(app, "account.deleted", {"accountId": 9}, account=9)
    assert list(OutboxEvent.objects.values_list("endpoint_id", "event_type")) == [
        (wanted.pk, "account.deleted")
    ]
    with pytest.raises(ValueError):
        events.emit(app, "account.exploded", {})


def test_lifecycle_paths_write_the_outbox(app_factory, account_factory):
    from aurinko_auth.accounts import delete_account, link_account
    from aurinko_auth.providers.base import Profile, TokenSet
    from aurinko_auth.providers.registry import get_provider

    app, _ = app_factory()
    WebhookEndpoint.objects.create(app=app, url="https://a.example/h")
    provider = get_provider("Google")
    profile = Profile(auth_user_id="g-1", email="ann@example.com")

    def link(scope):
        return link_account(
            app=app,
            provider=provider,
            profile=profile,
            tokens=TokenSet(access_token="at", refresh_token="rt", scope=scope),
            requested_scopes=["Mail.Read"],
            requested_native=[],
        )

    account, created = link(["https://www.googleapis.com/auth/gmail.readonly"])
    again, created_again = link(
        [
            "https://www.googleapis.com/auth/gmail.readonly",
            "https://www.googleapis.com/auth/calendar.readonly",
        ]
    )
    assert created and not created_again and again.pk == account.pk
    delete_account(again)
    types = list(OutboxEvent.objects.values_list("event_type", flat=True))
    assert types == [
        "account.created",
        "account.reauthorized",
        "account.scopes_changed",
        "account.deleted",
    ]
    payloads = json.dumps(list(OutboxEvent.objects.values_list("payload", flat=True)))
    assert '"at"' not in payloads and '"rt"' not in payloads
