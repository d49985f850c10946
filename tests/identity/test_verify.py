"""Identity tokens verified against a local issuer on loopback: every type, every refusal,
key rotation, bounded refetches, fail closed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from django.core.cache import cache

from aurinko_auth.exceptions import IdentityRefused
from aurinko_auth.identity import keys, tokens
from tests.identity.issuer import TENANT, Key

pytestmark = pytest.mark.django_db
HOUR = 3600


def refusal(trust, token) -> str:
    with pytest.raises(IdentityRefused) as caught:
        tokens.verify(trust, token)
    assert caught.value.status in (401, 503)
    return str(caught.value.code)


def test_entra_token_verified_against_the_tenant_metadata_and_keys(trust_factory, issuer):
    trust = trust_factory("entraIdToken")
    verified = tokens.verify(trust, issuer.entra())
    assert verified.subject == f"{TENANT}:00000000-0000-0000-66f3-3332eca7ea81"
    assert verified.claims["tid"] == TENANT
    assert issuer.hits == {f"/{TENANT}/v2.0/.well-known/openid-configuration": 1, "/keys": 1}


def test_google_token_keeps_hd_and_accepts_both_issuer_spellings(trust_factory, issuer):
    trust = trust_factory("googleIdToken")
    verified = tokens.verify(trust, issuer.google())
    assert verified.subject == "110169484474386276334"
    assert verified.claims["hd"] == "example.com"
    assert (
        tokens.verify(trust, issuer.google(iss="accounts.google.com")).subject == verified.subject
    )
    assert (
        refusal(trust, issuer.google(iss="https://accounts.google.com.evil")) == "identity.issuer"
    )


def test_google_issuer_override_reads_its_metadata(trust_factory, issuer):
    trust = trust_factory("googleIdToken", issuer=issuer.google_issuer, jwks_url="")
    assert tokens.verify(trust, issuer.google(iss=issuer.google_issuer)).subject
    assert refusal(trust, issuer.google()) == "identity.issuer"


def test_exchange_token_verified_with_the_amurl_certificate(trust_factory, issuer):
    trust = trust_factory("exchangeIdToken")
    verified = tokens.verify(trust, issuer.exchange())
    assert verified.subject == (
        f"{issuer.amurl}|53e925fa-76ba-45e1-be0f-4ef08b59d389@contoso.example"
    )
    assert verified.claims == {
        "msexchuid": "53e925fa-76ba-45e1-be0f-4ef08b59d389@contoso.example",
        "amurl": issuer.amurl,
    }


def test_exchange_refusals(trust_factory, issuer):
    trust = trust_factory("exchangeIdToken")
    assert (
        refusal(trust, issuer.exchange(aud="https://other.example/x.html")) == "identity.audience"
    )
    assert refusal(trust, issuer.exchange(appctx="{}")) == "identity.malformed"
    assert refusal(trust, issuer.exchange(appctx=None)) == "identity.malformed"
    assert refusal(trust, issuer.exchange(iss="someone-else@x")) == "identity.issuer"
    assert refusal(trust, issuer.exchange(exp=int(time.time()) - HOUR)) == "identity.expired"
    # A trust's issuer pins the Exchange server: an amurl elsewhere is refused before any fetch.
    pinned = trust_factory("exchangeIdToken", issuer="https://mail.contoso.example/")
    issuer.hits.clear()
    assert refusal(pinned, issuer.exchange()) == "identity.issuer"
    assert issuer.hits == {}
    # The amurl goes through the SSRF guard: a private address is never fetched.
    assert refusal(trust, issuer.exchange(amurl="http://10.0.0.1/metadata")) == "identity.issuer"


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"exp": int(time.time()) - HOUR}, "identity.expired"),
        ({"nbf": int(time.time()) + HOUR}, "identity.not_yet_valid"),
        ({"iat": int(time.time()) + HOUR}, "identity.not_yet_valid"),
        ({"aud": "another-apps-client-id"}, "identity.audience"),
        ({"iss": "https://login.microsoftonline.com/common/v2.0"}, "identity.issuer"),
        ({"oid": None}, "identity.malformed"),
        ({"tid": None}, "identity.malformed"),
        ({"exp": None}, "identity.malformed"),
    ],
)
def test_entra_refusals(trust_factory, issuer, over, code):
    trust = trust_factory("entraIdToken")
    assert refusal(trust, issuer.entra(**over)) == code


def test_token_of_another_apps_audience_is_refused(trust_factory, issuer):
    other = trust_factory("entraIdToken", audiences=["other-app-client-id"])
    assert refusal(other, issuer.entra()) == "identity.audience"


def test_tenant_allow_list(trust_factory, issuer):
    trust = trust_factory("entraIdToken", tenants=["72f988bf-86f1-41af-91ab-2d7cd011db47"])
    issuer.hits.clear()
    assert refusal(trust, issuer.entra()) == "identity.tenant"
    assert issuer.hits == {}  # refused before anything is fetched
    trust.tenants = [TENANT.upper()]
    assert tokens.verify(trust, issuer.entra()).claims["tid"] == TENANT


def _unsigned(header: dict, claims: dict, signature: bytes = b"") -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}.{base64.urlsafe_b64encode(signature).decode()}"


def test_alg_none_and_hs256_with_the_public_key_are_refused(trust_factory, issuer):
    trust = trust_factory("entraIdToken")
    claims = jwt.decode(issuer.entra(), options={"verify_signature": False})
    assert refusal(trust, _unsigned({"alg": "none", "kid": "k1"}, claims)) == "identity.algorithm"
    # HS256 keyed with the issuer's public key (the classic confusion attack).
    public_pem = (
        issuer.keys[0]
        .private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    unsigned = _unsigned({"alg": "HS256", "kid": "k1", "typ": "JWT"}, claims).rsplit(".", 1)[0]
    mac = hmac.new(public_pem, unsigned.encode(), hashlib.sha256).digest()
    forged = unsigned + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    assert refusal(trust, forged) == "identity.algorithm"
    issuer.hits.clear()
    # The RS256 header with a wrong signature.
    tampered = (
        issuer.entra().rsplit(".", 1)[0] + "." + base64.urlsafe_b64encode(b"x" * 256).decode()
    )
    assert refusal(trust, tampered) == "identity.signature"


def test_signed_by_a_key_the_issuer_does_not_publish(trust_factory, issuer):
    trust = trust_factory("entraIdToken")
    stranger = Key("k1")  # same kid, other key
    assert refusal(trust, issuer.entra(key=stranger)) == "identity.signature"


def test_oversized_and_malformed_tokens(trust_factory, issuer):
    trust = trust_factory("entraIdToken")
    assert refusal(trust, "a" * 20000) == "identity.too_large"
    for bad in ("", "not-a-jwt", "a.b.c", "é.é.é", "eyJhbGciOiJSUzI1NiJ9.e30"):
        assert refusal(trust, bad) == "identity.malformed"
    assert issuer.hits == {}


def test_unknown_kid_refetches_once_per_interval_then_accepts_a_rotated_key(trust_factory, issuer):
    trust = trust_factory("entraIdToken")
    stranger = Key("zz")
    tokens.verify(trust, issuer.entra())
    assert issuer.hits["/keys"] == 1
    # A made-up kid: the copy is younger than REFETCH_INTERVAL, so no fetch at all.
    for _ in range(5):
        assert refusal(trust, issuer.entra(key=stranger)) == "identity.key_unknown"
    assert issuer.hits["/keys"] == 1
    # Once the copy is old enough, an unknown kid (a rotation) fetches the set again, once.
    new = issuer.rotate("k2")
    _age_copies(keys.REFETCH_INTERVAL + 1)
    assert tokens.verify(trust, issuer.entra(key=new)).subject
    assert issuer.hits["/keys"] == 2
    assert tokens.verify(trust, issuer.entra(key=new)).subject
    assert tokens.verify(trust, issuer.entra()).subject  # the old key still published
    assert issuer.hits["/keys"] == 2


def _age_copies(seconds: float) -> None:
    for url, (fetched_at, parsed) in list(keys._local.items()):
        keys._local[url] = (fetched_at - seconds, parsed)
        shared = cache.get(keys._cache_key(url))
        if shared is not None:
            cache.set(keys._cache_key(url), (shared[0] - seconds, shared[1]))


def test_keys_shared_through_the_django_cache(trust_factory, issuer):
    trust = trust_factory("entraIdToken")
    tokens.verify(trust, issuer.entra())
    keys.clear()  # another process: only the shared cache has the documents
    tokens.verify(trust, issuer.entra())
    assert issuer.hits["/keys"] == 1


def test_unreachable_or_bad_key_server_fails_closed(trust_factory, issuer):
    trust = trust_factory("entraIdToken", jwks_url=issuer.base + "/keys")
    for body in [(500, b"oops"), (200, b"x" * (keys.MAX_BYTES + 10)), (200, b"[1, 2]")]:
        issuer.routes["/keys"] = body
        keys.clear()
        assert refusal(trust, issuer.entra()) == "identity.keys_unavailable", body[1][:10]
    issuer.routes["/keys"] = (200, b'{"keys": 3}')
    keys.clear()
    assert refusal(trust, issuer.entra()) == "identity.keys_unavailable"
    closed = trust_factory("entraIdToken", jwks_url="http://127.0.0.1:9/keys")
    assert refusal(closed, issuer.entra()) == "identity.keys_unavailable"


def test_key_server_that_never_answers_times_out(trust_factory, issuer, monkeypatch):
    release = threading.Event()
    issuer.routes["/slow"] = lambda: release.wait(5) and None
    monkeypatch.setattr(keys, "TIMEOUT", (0.5, 0.5))
    trust = trust_factory("entraIdToken", jwks_url=issuer.base + "/slow")
    started = time.monotonic()
    assert refusal(trust, issuer.entra()) == "identity.keys_unavailable"
    release.set()
    assert time.monotonic() - started < 3


def test_a_failing_key_server_is_asked_once_a_minute(trust_factory, issuer):
    trust = trust_factory("entraIdToken", jwks_url=issuer.base + "/keys")
    issuer.routes["/keys"] = (500, b"oops")
    for _ in range(3):
        assert refusal(trust, issuer.entra()) == "identity.keys_unavailable"
    assert issuer.hits["/keys"] == 1
    issuer.publish()  # the server is back
    keys._failed[issuer.base + "/keys"] -= keys.REFETCH_INTERVAL + 1
    assert tokens.verify(trust, issuer.entra()).subject
    assert issuer.hits["/keys"] == 2


def test_default_entra_keys_are_one_set_for_every_tenant(trust_factory, issuer, monkeypatch):
    """Without overrides, Microsoft's common key set verifies every tenant's tokens: a token
    naming a made-up tenant costs no fetch of its own."""
    monkeypatch.setattr(tokens, "ENTRA_JWKS", issuer.base + "/keys")
    monkeypatch.setattr(tokens, "ENTRA_ISSUER", issuer.base + "/{tid}/v2.0")
    trust = trust_factory("entraIdToken", issuer="")
    assert tokens.verify(trust, issuer.entra()).claims["tid"] == TENANT
    other = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    verified = tokens.verify(trust, issuer.entra(tid=other, iss=f"{issuer.base}/{other}/v2.0"))
    assert verified.subject.startswith(other + ":")
    assert issuer.hits == {"/keys": 1}  # no metadata, no per-tenant fetch
    # The issuer is still the token's own tenant's.
    assert refusal(trust, issuer.entra(tid=other)) == "identity.issuer"


def test_the_process_holds_a_bounded_number_of_documents(monkeypatch):
    monkeypatch.setattr(keys, "MAX_URLS", 3)
    held = {f"u{i}": i for i in range(5)}
    keys._trim(held)
    assert list(held) == ["u2", "u3", "u4"]
