"""Issue 16 (bad input): under the broker's own namespaces an unknown path is the API's JSON 404
and a method an endpoint does not take is a JSON 405 (``method.not_allowed``), never Django's
HTML page; other ``/v1/`` paths stay the host's."""

from __future__ import annotations

import pytest

from tests.contract.conformance import validate
from tests.flows.conftest import basic


@pytest.mark.parametrize(
    "path",
    ["/v1/am/nothing", "/v1/am/accounts/1/x", "/v1/user/nothing", "/v1/account/x",
     "/v1/auth/token", "/v1/auth/nothing"],
)  # fmt: skip
def test_unknown_paths_of_ours_are_json_404s(client, db, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "resource.not_found" and response.json()["message"]
    assert "no-store" in response["Cache-Control"]


def test_other_v1_paths_are_left_to_the_host(client, db):
    response = client.get("/v1/accounting")  # not ours: the host's own 404 (or view)
    assert response.status_code == 404 and "json" not in response["Content-Type"]


def test_methods_not_taken_are_json_405s(client, app_factory):
    app, secret = app_factory()
    response = client.post("/v1/health")  # a Django view (require_safe)
    assert response.status_code == 405 and response.json()["code"] == "method.not_allowed"
    assert set(response["Allow"].split(", ")) == {"GET", "HEAD"}
    response = client.put("/v1/am/accounts", HTTP_AUTHORIZATION=basic(app.client_id, secret))
    assert response.status_code == 405 and response.json()["code"] == "method.not_allowed"
    assert "GET" in response["Allow"]


HEADER = "X-Aurinko-Request-Id"


def _assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and body["message"]
    assert body["requestId"] == response[HEADER]
    assert validate("ApiRequestFailed", body) == []
    return body


@pytest.mark.parametrize("path", ["/v1/auth/token/", "/v1/am/no/such/path", "/v1/user/x/y"])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_404_bodies_are_api_request_failed_with_the_request_id(client, db, path, method):
    _assert_json_error(getattr(client, method)(path), 404, "resource.not_found")


def test_unknown_paths_are_json_404_under_a_mount_point(client, db, settings):
    settings.ROOT_URLCONF = "tests.mount_urls"
    _assert_json_error(client.get("/broker/v1/am/nosuch"), 404, "resource.not_found")
    outside = client.get("/elsewhere")  # the host's own 404, not ours
    assert outside.status_code == 404 and HEADER not in outside


def test_405_bodies_are_api_request_failed_with_the_request_id(client, app_with_account):
    _, _, _, token, _ = app_with_account
    _assert_json_error(client.post("/v1/health"), 405, "method.not_allowed")
    r = client.put("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}")
    _assert_json_error(r, 405, "method.not_allowed")
    assert "GET" in r["Allow"]


def test_browser_flow_pages_keep_their_pages(client, db):
    r = client.post("/v1/auth/authorize")
    assert r.status_code == 405
    assert not r.get("Content-Type", "").startswith("application/json")
