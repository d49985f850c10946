"""Return URLs: exact matching, and a 400 page (never a redirect) for anything else."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from aurinko_auth.exceptions import InvalidReturnUrl
from aurinko_auth.security import returnurls
from tests.conftest import RETURN_URL

REGISTERED = [RETURN_URL, "https://app.example.com/q?a=1", "http://127.0.0.1:9000/cb"]

BAD = [
    "https://evil@app.example.com/callback",
    "https://app.example.com@evil.com/callback",
    "//app.example.com/callback",
    "https://app.example.com\\@evil.com/callback",
    "https:\\\\app.example.com/callback",
    "https://app.example.com:8443/callback",
    "http://app.example.com/callback",
    "https://evil.example.com/callback",
    "https://app.example.com/callback2",
    "https://app.example.com/callback/",
    "https://app.example.com/other/../callback",
    "https://app.example.com/x/%2e%2e/callback",
    "https://app.example.com/%2E%2E/callback",
    "https://\u0430pp.example.com/callback",  # Cyrillic a
    "https://app.example.com/callback?" + "x" * 5000,
    "https://app.example.com/callback#frag",
    "javascript:alert(1)//app.example.com/callback",
    "ftp://app.example.com/callback",
    "https://app.example.com/q?b=2",
    "https://app.example.com//callback",
    "",
]


@pytest.mark.parametrize("url", BAD)
def test_match_rejects(url):
    with pytest.raises(InvalidReturnUrl):
        returnurls.match(url, REGISTERED)


@pytest.mark.parametrize(
    "url",
    [
        RETURN_URL,
        "https://APP.example.com/callback",
        "https://app.example.com:443/callback",
        "https://app.example.com/callback?x=1",
        "https://app.example.com/q?a=1",
        "https://app.example.com/q?a=1&b=2",
        "http://127.0.0.1:9000/cb",
    ],
)
def test_match_accepts(url):
    assert returnurls.match(url, REGISTERED) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://app.example.com/cb",
        "https://*.example.com/cb",
        "https://a.com/cb#x",
        "https://u:p@a.com/cb",
        "javascript:alert(1)",
    ],
)
def test_validate_registered_rejects(url):
    with pytest.raises(InvalidReturnUrl):
        returnurls.validate_registered(url)


def test_with_params_keeps_existing_query():
    url = returnurls.with_params("https://a.com/cb?a=1", {"status": "success", "x": None})
    assert parse_qs(urlsplit(url).query) == {"a": ["1"], "status": ["success"]}


def test_with_params_replaces_a_parameter_it_sets():
    url = returnurls.with_params("https://a.com/cb?a=1&Status=success&code=x", {"status": "error"})
    assert parse_qs(urlsplit(url).query) == {"a": ["1"], "code": ["x"], "status": ["error"]}


FORGED = [
    RETURN_URL + "?status=success&code=acd_forged&state=forged",
    RETURN_URL + "?code=acd_forged",
    RETURN_URL + "?accessToken=aat_forged&accountId=1",
    RETURN_URL + "?STATUS=success",
    "https://app.example.com/q?a=1&error=none",
    RETURN_URL + "?details=all+fine",
    RETURN_URL + "?requestId=forged",
    RETURN_URL + "?REQUESTID=forged",
]


@pytest.mark.parametrize("url", FORGED)
def test_match_refuses_our_response_parameters_in_the_callers_query(url):
    """Issue 19 item 2: `?status=success&code=acd_forged` on a registered URL came back ahead
    of ours (an app reading the first value saw a success with the attacker's code)."""
    with pytest.raises(InvalidReturnUrl, match="must not contain"):
        returnurls.match(url, REGISTERED)


def test_registered_return_url_cannot_carry_response_parameters():
    with pytest.raises(InvalidReturnUrl, match="status"):
        returnurls.validate_registered("https://app.example.com/cb?status=success")


@pytest.mark.django_db
def test_authorize_with_forged_response_parameters_is_a_400_page(authorize):
    r = authorize(returnUrl=FORGED[0])
    assert r.status_code == 400 and "Location" not in r
    assert b"must not contain" in r.content


@pytest.fixture
def authorize(client, app_factory, provider_config_factory):
    app, _ = app_factory(return_urls=REGISTERED)
    provider_config_factory(app, "Google")

    def get(**over):
        params = {
            "clientId": app.client_id,
            "serviceType": "Google",
            "scopes": "Mail.Read",
            "returnUrl": RETURN_URL,
            "state": "s1",
        }
        params.update(over)
        return client.get("/v1/auth/authorize", {k: v for k, v in params.items() if v is not None})

    return get


def test_authorize_valid_redirects_to_provider(authorize):
    r = authorize()
    assert r.status_code == 303
    assert urlsplit(r["Location"]).netloc == "accounts.google.com"


@pytest.mark.django_db
@pytest.mark.parametrize("url", BAD[:-1] + [None])
def test_authorize_bad_return_url_is_400_page(authorize, url):
    r = authorize(returnUrl=url)
    assert r.status_code == 400
    assert "Location" not in r
    assert b"returnurl.invalid" in r.content or b"returnUrl" in r.content


def test_authorize_unknown_client_is_400_page(authorize):
    r = authorize(clientId="nope")
    assert r.status_code == 400 and "Location" not in r


@pytest.mark.parametrize(
    "over,error",
    [
        ({"serviceType": "Nope"}, "servicetype.invalid"),
        ({"scopes": "Mail.Read Bogus.Scope"}, None),
        ({"scopes": "Contacts.Read"}, None),
        ({"responseType": "cookie"}, "request.invalid"),
        ({"serviceType": "Office365"}, "provider.not_configured"),
    ],
)
def test_after_valid_return_url_errors_redirect(authorize, over, error):
    r = authorize(**over)
    assert r.status_code == 303, r.content
    loc = urlsplit(r["Location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == RETURN_URL
    q = parse_qs(loc.query)
    assert q["status"] == ["error"] and q["state"] == ["s1"] and q["message"][0]
    if error:
        assert q["error"] == [error]
    else:
        assert q["error"][0]


# -- issue 18 item 13: the refusal says what arrived and how it differs ----------------------


@pytest.mark.parametrize(
    "url, registered, differs",
    [
        ("https://app.example.com/cb/", "https://app.example.com/cb", "trailing slash (added)"),
        ("https://app.example.com/cb", "https://app.example.com/cb/", "trailing slash (missing)"),
        (
            "http://localhost:3000/cb",
            "http://127.0.0.1:3000/cb",
            "host (localhost instead of 127.0.0.1: loopback names differ too)",
        ),
        ("http://127.0.0.1:8000/cb", "https://127.0.0.1:8000/cb", "scheme (http instead of https)"),
        ("http://127.0.0.1:3001/cb", "http://127.0.0.1:3000/cb", "port (3001 instead of 3000)"),
    ],
)
def test_the_refusal_names_the_url_and_the_difference(url, registered, differs):
    with pytest.raises(InvalidReturnUrl) as refused:
        returnurls.match(url, ["https://elsewhere.example/x", registered])
    message = refused.value.message
    assert f"returnUrl {url} is not an authorized return URL" in message
    assert f"Closest registered: {registered};" in message
    assert differs in message


def test_the_refusal_never_shows_the_query(caplog, authorize):
    secret_query = "token=aat_SECRETVALUE&session=hush"
    with caplog.at_level("WARNING", logger="aurinko_auth.flows"):
        r = authorize(returnUrl=f"{RETURN_URL}/?{secret_query}")
    assert r.status_code == 400 and "Location" not in r
    page = r.content.decode()
    assert f"returnUrl {RETURN_URL}/ is not an authorized" in page
    assert "trailing slash (added)" in page
    assert "SECRETVALUE" not in page and "hush" not in page
    # Logged too (origin and path only), with the app's clientId.
    logged = [rec.getMessage() for rec in caplog.records if "returnUrl refused" in rec.getMessage()]
    assert len(logged) == 1 and "trailing slash" in logged[0]
    assert "SECRETVALUE" not in logged[0] and "hush" not in logged[0]
