"""A bounded, deterministic schemathesis run against /v1, in-process (WSGI): no 500s, and
every documented response conforms to the schema."""

from __future__ import annotations

import base64

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings

from aurinko_auth.models import AccountToken


def auth_headers(operation, credentials: dict[str, str]) -> dict[str, str]:
    """Real credentials matching the operation's security, so generated requests get past
    authentication too."""
    schemes = {name for req in operation.definition.raw.get("security", []) for name in req}
    if "accountToken" in schemes:
        return {"Authorization": "Bearer " + credentials["bearer"]}
    if "clientCredentials" in schemes:
        return {"Authorization": "Basic " + credentials["basic"]}
    return {}


@pytest.fixture
def keep_test_connection():
    """The real WSGI handler closes DB connections around each request (the test client
    does not): that would close the test's transaction. Disconnect it, as the client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_no_server_errors(db, app_factory, account_factory, keep_test_connection):
    app, secret = app_factory()
    account = account_factory(app, requested_scopes=["Mail.Read"], scopes=["Mail.Read"])
    credentials = {
        "bearer": AccountToken.issue(account),
        "basic": base64.b64encode(f"{app.client_id}:{secret}".encode()).decode(),
    }
    loaded = schemathesis.openapi.from_wsgi("/v1/schema?format=json", get_wsgi_application())
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert len(operations) >= 12
    calls = []

    def fuzz(operation) -> None:
        headers = auth_headers(operation, credentials)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            response = case.call(headers=headers)
            calls.append(response.status_code)
            assert response.status_code < 500, (case.method, case.path, response.text[:300])

        run()

    for operation in operations:
        fuzz(operation)
    assert calls and any(code < 300 for code in calls)
