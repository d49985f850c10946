"""Concurrent first sign-ins of one identity end with one user (PostgreSQL: real row locks)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from aurinko_auth.flows import state as flow_state
from aurinko_auth.flows import user as user_flow
from aurinko_auth.models import Account, AppUser, AuthState, FlowKind, UserSession
from aurinko_auth.providers.base import Profile, TokenSet
from aurinko_auth.providers.registry import get_provider

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_primary_sign_ins_make_one_user(app_factory):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks, concurrent writers)")
    app, _ = app_factory()
    pendings = []
    for n in range(4):
        flow_state.create(
            app=app,
            kind=FlowKind.USER,
            service_type="Google",
            params=flow_state.FlowParams(
                return_url="https://app.example.com/callback",
                state=str(n),
                response_type="cookie",
                role="primary",
            ),
            secrets={},
            browser_id=f"abr_{n}",
        )
    pendings = list(AuthState.objects.select_related("app"))
    barrier = threading.Barrier(len(pendings))
    results, errors = [], []

    def complete(pending):
        try:
            barrier.wait()
            results.append(
                user_flow.complete_linked(
                    pending,
                    provider=get_provider("Google"),
                    profile=Profile(auth_user_id="same-sub", email="a@example.com"),
                    tokens=TokenSet(access_token="at", refresh_token="rt"),
                )
            )
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=complete, args=(p,)) for p in pendings]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == len(pendings)
    assert AppUser.objects.count() == 1
    account = Account.objects.get()
    assert account.account_type == "primary" and account.user == AppUser.objects.get()
    assert UserSession.objects.filter(user=account.user).count() == len(pendings)
