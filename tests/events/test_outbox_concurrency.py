"""Several workers: a claimed (locked) event is skipped by the others (PostgreSQL SKIP LOCKED)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from aurinko_auth.models import OutboxEvent, WebhookEndpoint
from aurinko_auth.webhooks import delivery, events

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_locked_event_is_skipped_by_another_worker(app_factory):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks)")
    app, _ = app_factory()
    WebhookEndpoint.objects.create(app=app, url="https://hooks.example/h")
    events.emit(app, "app.secret_rotated", {"n": 1})
    events.emit(app, "app.secret_rotated", {"n": 2})
    first = OutboxEvent.objects.order_by("id").first()
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                list(OutboxEvent.objects.select_for_update().filter(pk=first.pk))
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10)
        claimed = delivery.claim(10)  # must not block on the locked row
        assert [e.payload["data"]["n"] for e in claimed] == [2]
    finally:
        release.set()
        thread.join()
    # Claimed events are leased: a second pass does not take them again.
    assert [e.payload["data"]["n"] for e in delivery.claim(10)] == [1]
    assert delivery.claim(10) == []
