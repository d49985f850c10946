"""The pending authorization's typed parameters, and the import rule among the flows."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from aurinko_auth.flows import state as flow_state
from aurinko_auth.flows.state import ClientInfo, FlowParams
from aurinko_auth.models import AuthState, FlowKind

FLOWS = Path(flow_state.__file__).parent


def _everything_set() -> FlowParams:
    return FlowParams(
        return_url="https://app.example.com/cb",
        state="s1",
        response_type="cookie",
        scopes=["Mail.Read"],
        native=["openid", "mail"],
        consent_forced=True,
        account_id=7,
        role="secondary",
        client=ClientInfo(user_agent="Thunderbird", ip="192.0.2.7"),
        user_id="3df3ce21-07c0-4cec-a8de-ed4c570ee15c",
        session_id=11,
        replaces_session=12,
        tenant="contoso.onmicrosoft.com",
        proven_tenant="72f988bf-86f1-41af-91ab-2d7cd011db47",
        daemon_scopes=["Mail.Read"],
        daemon_native=["https://mail.google.com/"],
        native_extra=["https://mail.google.com/"],
        client_org_id="tenant-42",
        auth_email="alice@example.com",
        ensure_scopes=True,
        ensure_access=True,
        recycle=False,
        prompt="consent",
        server_url="https://mail.example.com/EWS/Exchange.asmx",
        prepared_id=5,
        mailbox_info="shared@example.com",
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        redirect_uri="https://app.example.com/aurinko/redirect",
        public_client=True,
    )


@pytest.mark.django_db
def test_create_and_params_of_round_trip_in_aurinko_keys(app_factory):
    app, _ = app_factory()
    params = _everything_set()
    flow_state.create(
        app=app,
        kind=FlowKind.USER,
        service_type="Google",
        params=params,
        secrets={},
        browser_id="abr_x",
    )
    row = AuthState.objects.get()
    assert flow_state.params_of(row) == params
    assert row.params == {
        "returnUrl": "https://app.example.com/cb",
        "state": "s1",
        "responseType": "cookie",
        "scopes": ["Mail.Read"],
        "native": ["openid", "mail"],
        "consentForced": True,
        "accountId": 7,
        "role": "secondary",
        "client": {"userAgent": "Thunderbird", "ip": "192.0.2.7"},
        "userId": "3df3ce21-07c0-4cec-a8de-ed4c570ee15c",
        "sessionId": 11,
        "replacesSession": 12,
        "mailboxInfo": "shared@example.com",
        "preparedAuth": 5,
        "tenant": "contoso.onmicrosoft.com",
        "provenTenant": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "daemonScopes": ["Mail.Read"],
        "daemonNative": ["https://mail.google.com/"],
        "nativeScopes": ["https://mail.google.com/"],
        "clientOrgId": "tenant-42",
        "authEmail": "alice@example.com",
        "ensureScopes": True,
        "ensureAccess": True,
        "recycle": False,
        "prompt": "consent",
        "serverUrl": "https://mail.example.com/EWS/Exchange.asmx",
        "codeChallenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "redirectUri": "https://app.example.com/aurinko/redirect",
        "publicClient": True,
    }


def test_unknown_and_missing_keys_of_an_older_row():
    old = {"returnUrl": "https://app.example.com/cb", "accountId": None, "someOldKey": 1}
    assert FlowParams.from_json(old) == FlowParams(return_url="https://app.example.com/cb")
    assert FlowParams.from_json({}).client == ClientInfo()


def test_client_user_agent_is_stored_truncated():
    long = FlowParams(client=ClientInfo(user_agent="x" * 1000))
    assert len(FlowParams.from_json(long.to_json()).client.user_agent) == 300


def _flow_imports(path: Path) -> set[str]:
    """The flows a module imports, function-level imports included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "aurinko_auth.flows":
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "aurinko_auth.flows."
        ):
            found.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            found |= {
                a.name.split(".")[2] for a in node.names if a.name.startswith("aurinko_auth.flows.")
            }
    return found - {path.stem}


def test_flows_import_each_other_without_circles():
    graph = {p.stem: _flow_imports(p) for p in FLOWS.glob("*.py") if p.stem != "__init__"}
    assert graph["state"] == set()
    assert graph["options"] == {"state"}  # the authorize parameters, parsed in one place
    assert graph["pkce"] == set()  # the app's PKCE challenge and verifier (issue 17 item 3)
    assert graph["common"] == {"state", "options", "pkce"}  # shared helpers import no flow
    assert graph["password"] <= {"common", "state"}  # started by account and user
    importing_all = {m for m, deps in graph.items() if {"account", "user", "daemon"} <= deps}
    assert importing_all == {"callback"}

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        for dep in graph.get(module, ()):
            visit(dep, (*path, module))

    for module in graph:
        visit(module, ())
