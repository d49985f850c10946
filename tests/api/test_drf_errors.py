"""DRF's own refusals (an unreadable body, a Content-Type or Accept we do not serve) answer
with codes of our catalogue, never DRF's ``parse_error``-style codes that docs/errors.md does not
list, in the same ``{"code", "message", "requestId"}`` shape."""

from __future__ import annotations

import inspect
import json

import pytest
from rest_framework import exceptions as drf_exceptions

from aurinko_auth.api.errors import drf_code
from aurinko_auth.errorcodes import Code
from tests.flows.conftest import basic


@pytest.fixture
def app_client(client, app_factory):
    app, secret = app_factory()
    return client, basic(app.client_id, secret)


def assert_error(response, status, code):
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code and Code(code).status == status
    assert body["message"] and body["requestId"] == response["X-Aurinko-Request-Id"]


def test_unreadable_json_body(app_client):
    client, auth = app_client
    response = client.post(
        "/v1/am/accounts",
        data="{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    assert_error(response, 400, "request.malformed")


def test_body_of_a_type_we_do_not_read(app_client):
    client, auth = app_client
    response = client.post(
        "/v1/am/accounts",
        data="<xml/>",
        content_type="application/xml",
        HTTP_AUTHORIZATION=auth,
    )
    assert_error(response, 415, "request.unsupported_media_type")


def test_the_api_answers_json_whatever_accept_says(app_client):
    client, auth = app_client
    response = client.get("/v1/am/accounts", HTTP_AUTHORIZATION=auth, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"


def test_schema_with_an_accept_it_cannot_serve(client):
    """``/v1/schema`` negotiates (YAML or JSON): anything else is a 406 of the catalogue."""
    response = client.get("/v1/schema", HTTP_ACCEPT="text/csv")
    assert response.status_code == 406
    body = json.loads(response.content)
    assert body["code"] == "request.not_acceptable" and body["requestId"]


def test_every_drf_exception_maps_to_a_catalogue_code():
    """A DRF exception class added or renamed upstream still gets one of our codes."""
    classes = [
        cls
        for _, cls in inspect.getmembers(drf_exceptions, inspect.isclass)
        if issubclass(cls, drf_exceptions.APIException)
        and cls is not drf_exceptions.APIException
        and cls is not drf_exceptions.ValidationError
    ]
    assert len(classes) >= 9
    for cls in classes:
        exc = cls.__new__(cls)
        code = drf_code(exc)
        assert isinstance(code, Code)
        assert code is not Code.REQUEST_FAILED, cls
        assert code.status == cls.status_code, (cls, code)
