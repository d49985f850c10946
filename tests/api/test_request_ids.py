"""Request ids (issue 16 item 1): every response of ours names its request in
X-Aurinko-Request-Id, API errors carry the same id as requestId (ApiRequestFailed), and log
records made while the request runs carry it too."""

from __future__ import annotations

import logging
import uuid

from aurinko_auth import requestids
from tests.flows.conftest import basic

HEADER = "X-Aurinko-Request-Id"


def _id_of(response) -> str:
    request_id = response.headers[HEADER]
    assert str(uuid.UUID(request_id)) == request_id
    return request_id


def test_api_error_carries_the_request_id_of_its_header(conforms, client, db):
    r = client.get("/v1/account", HTTP_AUTHORIZATION="Bearer aat_nosuchtoken")
    assert r.status_code == 401
    body = conforms(r)
    assert body["code"] == "token.invalid"
    assert body["requestId"] == _id_of(r)


def test_validation_and_auth_errors_carry_it(client, app_with_account):
    _, _, _, _, auth = app_with_account
    r = client.get("/v1/am/accounts?nosuchfilter=1", HTTP_AUTHORIZATION=auth)
    assert r.status_code == 400 and r.json()["requestId"] == _id_of(r)
    r = client.get("/v1/am/accounts", HTTP_AUTHORIZATION=basic("nosuchclient", "x"))
    assert r.status_code == 401 and r.json()["requestId"] == _id_of(r)


def test_the_nul_guard_refusal_carries_it(client, db):
    r = client.get("/v1/account?x=%00")
    assert r.status_code == 400
    assert r.json()["requestId"] == _id_of(r)


def test_every_request_gets_a_new_id_and_a_client_cannot_choose_it(client, app_with_account):
    _, _, _, token, _ = app_with_account
    chosen = str(uuid.uuid4())
    ids = set()
    for _ in range(3):
        r = client.get(
            "/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_AURINKO_REQUEST_ID=chosen
        )
        assert r.status_code == 200
        ids.add(_id_of(r))
    assert len(ids) == 3 and chosen not in ids
    assert requestids.current() is None  # nothing left behind after the request


def test_log_records_and_the_error_page_carry_it(client, db, caplog):
    caplog.set_level(logging.INFO, logger="aurinko_auth")
    r = client.get(
        "/v1/auth/authorize",
        {"clientId": "nosuchclient", "serviceType": "Google", "returnUrl": "https://x.example/"},
    )
    assert r.status_code == 400
    request_id = _id_of(r)
    assert request_id in r.content.decode()
    refused = [rec for rec in caplog.records if rec.getMessage().startswith("flow refused")]
    assert refused and all(rec.requestId == request_id for rec in refused)


def test_records_outside_a_request_say_so(caplog):
    caplog.set_level(logging.INFO, logger="aurinko_auth")
    logging.getLogger("aurinko_auth.test").info("outside")
    assert caplog.records[-1].requestId == "-"


def test_the_filter_sets_it_for_records_of_another_factory():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    token = requestids.begin()
    try:
        assert requestids.RequestIdFilter().filter(record)
        assert record.requestId == requestids.current()
    finally:
        requestids.end(token)
