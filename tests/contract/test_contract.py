"""The extract of Aurinko's contract and the validator the conformance tests use."""

from __future__ import annotations

import re

import pytest

from tests.contract.conformance import contract, response_schema, validate

# Seed 004 (Aurinko's Outlook add-in guide): a signed-in user's GET /v1/user.
SEED_004_USER = {
    "id": "3df3ce21-07c0-4cec-a8de-ed4c570ee15c",
    "appId": 1,
    "email": "user@yoxel.net",
    "authOrgId": "abcda5bb-1d9f-0514-a4c6-1234502167890",
    "trustedIdentity": True,
    "accounts": [
        {
            "id": 2739,
            "serviceType": "Office365",
            "type": "primary",
            "active": True,
            "daemon": False,
            "loginString": "user@yoxel.net",
            "email": "user@yoxel.net",
            "name": "Addin User",
            "authUserId": "abcdabcb-ad8d-4bee-bd69-787675478785",
            "authOrgId": "abcda5bb-1d9f-0514-a4c6-1234502167890",
            "authObtainedAt": "2021-03-21T16:58:56.823Z",
        }
    ],
}
ACCOUNT = {"id": 1, "serviceType": "Google", "type": "personal", "tokenStatus": "active"}


def test_the_extract_names_its_source():
    source = contract()["source"]
    assert source["repository"] == "Aurinko-Yoxel/aurinko-sdk"
    assert source["file"] == "aurinko-sdk/api/openapi.yaml"
    assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])


def test_the_extract_holds_every_auth_schema():
    schemas = contract()["schemas"]
    for name in (
        "AccountSaveResult",
        "EndUserDto",
        "EndUserAccountDto",
        "EndUserAccountsPage",
        "ApiAccountOutDto",
        "AccountsPage",
        "OkResponse",
        "ApiRequestFailed",
        "PreparedAuthToken",
        "Scope",
        "ServiceType",
        "ServiceTypeDaemon",
        "ServiceTypeNonDaemon",
        "AccountType",
        "UserAccountType",
        "TokenStatus",
    ):
        assert name in schemas
    assert schemas["AccountType"]["enum"] == ["daemon", "personal", "managed"]
    assert schemas["ApiAccountOutDto"]["properties"]["serverUrl"] == {
        "type": "string",
        "nullable": False,
    }


def test_the_seeds_user_conforms():
    assert validate("EndUserDto", SEED_004_USER) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"serverUrl": None}, "serverUrl: None is not of type 'string'"),
        ({"type": None}, "type: None is not one of"),
        ({"type": "primary"}, "type: 'primary' is not one of"),
        ({"serviceType": "HubSpot"}, "serviceType: 'HubSpot' is not one of"),
        ({"tokenStatus": "healthy"}, "tokenStatus: 'healthy' is not one of"),
        ({"authObtainedAt": "yesterday"}, "authObtainedAt: 'yesterday' is not a 'date-time'"),
        ({"id": 2**63}, "id: 9223372036854775808 is greater than the maximum"),
        ({"authScopes": ["Mail.Everything"]}, "authScopes/0: 'Mail.Everything' is not one of"),
    ],
)
def test_what_breaks_a_generated_client_is_refused(change, problem):
    problems = validate("ApiAccountOutDto", {**ACCOUNT, **change})
    assert any(p.startswith(problem) for p in problems), problems


def test_fields_outside_the_contract_are_allowed():
    assert validate("ApiAccountOutDto", {**ACCOUNT, "missingScopes": []}) == []


def test_error_bodies_are_api_request_failed():
    assert response_schema("GET", "/v1/am/accounts", 400) == "ApiRequestFailed"
    assert response_schema("GET", "/broker/v1/user", 401) == "ApiRequestFailed"
    bad = {"code": "x", "message": "y", "requestId": "not-a-uuid"}
    assert validate("ApiRequestFailed", bad) == ["requestId: 'not-a-uuid' is not a 'uuid'"]


def test_a_status_the_contract_does_not_list_is_refused():
    with pytest.raises(AssertionError, match="answered 204"):
        response_schema("POST", "/v1/user/logout", 204)
    assert response_schema("POST", "/v1/user/logout", 200) == "OkResponse"
    # A success described without a body answers OkResponse.
    assert response_schema("DELETE", "/v1/account", 200) == "OkResponse"
    with pytest.raises(AssertionError, match="not an operation"):
        response_schema("GET", "/v1/health", 200)
