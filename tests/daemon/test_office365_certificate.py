"""Office 365 service accounts authenticated with a certificate (client assertion, RFC 7523):
the key check, the assertion Microsoft receives (recorded shape, signature verified with the
certificate), storage encrypted, the admin upload and the command."""

from __future__ import annotations

import base64
from datetime import timedelta
from io import StringIO
from urllib.parse import parse_qs

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import hashes
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from aurinko_auth.admin.forms import ProviderConfigForm, stored_key_label
from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.lifecycle.daemon_tokens import daemon_access_token
from aurinko_auth.models import ProviderConfig
from tests.daemon.keys import make_app_certificate

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
MS_TOKEN = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def cert_account(app_factory, provider_config_factory, account_factory):
    def make():
        app, _ = app_factory()
        credential = make_app_certificate()
        provider_config_factory(
            app, "Office365", client_secret="", service_account_key=credential.bundle
        )
        account = account_factory(
            app,
            "Office365",
            daemon=True,
            auth_user_id=TENANT,
            auth_org_id=TENANT,
            credentials={"access_token": "old", "tenant": TENANT},
            access_token_expires_at=timezone.now() - timedelta(seconds=5),
        )
        return account, credential

    return make


@responses.activate
def test_token_request_carries_a_signed_assertion_not_a_secret(cert_account):
    account, credential = cert_account()
    responses.post(
        MS_TOKEN, json={"token_type": "Bearer", "expires_in": 3599, "access_token": "app-token"}
    )
    assert daemon_access_token(account) == "app-token"
    body = parse_qs(responses.calls[0].request.body)
    assert "client_secret" not in body
    assert "Authorization" not in responses.calls[0].request.headers
    assert body["grant_type"] == ["client_credentials"]
    assert body["client_id"] == ["provider-client-id"]
    assert body["scope"] == ["https://graph.microsoft.com/.default"]
    assert body["client_assertion_type"] == [
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    ]
    assertion = body["client_assertion"][0]
    header = jwt.get_unverified_header(assertion)
    assert header["alg"] == "PS256" and header["typ"] == "JWT"
    assert header["x5t#S256"] == b64url(credential.certificate.fingerprint(hashes.SHA256()))
    assert header["x5t"] == b64url(credential.certificate.fingerprint(hashes.SHA1()))
    # The signature verifies with the certificate's public key (what Microsoft holds).
    claims = jwt.decode(
        assertion,
        credential.certificate.public_key(),
        algorithms=["PS256"],
        audience=MS_TOKEN,
        issuer="provider-client-id",
        options={"require": ["exp", "nbf", "iat", "jti", "sub"]},
    )
    assert claims["sub"] == "provider-client-id"
    assert 0 < claims["exp"] - claims["nbf"] <= 600
    # Another key does not verify it.
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            assertion,
            make_app_certificate().certificate.public_key(),
            algorithms=["PS256"],
            audience=MS_TOKEN,
        )


@responses.activate
def test_each_token_request_has_a_new_assertion(cert_account):
    account, _ = cert_account()
    responses.post(MS_TOKEN, json={"token_type": "Bearer", "expires_in": 1, "access_token": "a"})
    daemon_access_token(account)
    account.refresh_from_db()
    account.access_token_expires_at = None
    account.save()
    daemon_access_token(account)
    jtis = {
        jwt.decode(
            parse_qs(c.request.body)["client_assertion"][0], options={"verify_signature": False}
        )["jti"]
        for c in responses.calls
    }
    assert len(jtis) == 2


def bad_bundles():
    good = make_app_certificate()
    other = make_app_certificate()
    return [
        (good.certificate_pem, "no readable PEM private key"),
        (good.private_pem, "no readable PEM certificate"),
        (good.private_pem + other.certificate_pem, "matches the private key"),
        (make_app_certificate(valid_for=timedelta(days=-1)).bundle, "expired"),
        (make_app_certificate(key_type="ec").bundle, "not RSA"),
        ("not a pem", "no readable PEM private key"),
    ]


def test_malformed_certificates_are_refused_and_nothing_is_stored(app_factory, configure):
    app, _ = app_factory()
    for text, words in bad_bundles():
        with pytest.raises(InvalidRequest) as info:
            configure(app, "Office365", client_id="cid", service_account_key=text)
        assert info.value.code == "service_account_key.invalid"
        assert words in info.value.message, info.value.message
        assert "BEGIN" not in info.value.message
    assert not ProviderConfig.objects.filter(service_account_key__gt="").exists()


def test_certificate_is_stored_encrypted_and_described(app_factory, configure):
    app, _ = app_factory()
    credential = make_app_certificate("contoso-daemon")
    config = configure(app, "Office365", client_id="cid", service_account_key=credential.bundle)
    with connection.cursor() as cursor:
        cursor.execute("SELECT service_account_key FROM aurinko_auth_providerconfig")
        raw = cursor.fetchone()[0]
    assert "PRIVATE" not in raw and "CERTIFICATE" not in raw
    label = stored_key_label(config)
    thumb = credential.certificate.fingerprint(hashes.SHA1()).hex().upper()
    assert "CN=contoso-daemon" in label and thumb in label


def test_a_certificate_replaces_the_secret_for_the_daemon_flow(client, daemon_app):
    app, _, _ = daemon_app(
        "Office365", client_secret="", service_account_key=make_app_certificate().bundle
    )
    r = client.get(
        "/v1/auth/authorizeDaemon",
        {
            "clientId": app.client_id,
            "serviceType": "Office365",
            "scopes": "Mail.Read",
            "returnUrl": "https://app.example.com/callback",
            "state": "s",
        },
    )
    assert r.status_code == 303
    assert r["Location"].startswith("https://login.microsoftonline.com/"), r["Location"]


def test_admin_upload_of_a_certificate(app_factory):
    app, _ = app_factory()
    credential = make_app_certificate()

    def form(text: str) -> ProviderConfigForm:
        return ProviderConfigForm(
            data={"service_type": "Office365", "client_id": "cid", "endpoints": ""},
            files={"key_file": SimpleUploadedFile("app.pem", text.encode())},
            instance=ProviderConfig(app=app),
        )

    bad = form(credential.private_pem)
    assert not bad.is_valid()
    assert "certificate" in str(bad.errors["key_file"])
    good = form(credential.bundle)
    assert good.is_valid(), good.errors  # a certificate instead of a client secret
    config = good.save()
    assert ProviderConfig.objects.get(pk=config.pk).service_account_key == credential.bundle


def test_command_stores_a_certificate(app_factory, tmp_path):
    app, _ = app_factory()
    bundle = tmp_path / "app.pem"
    bundle.write_text(make_app_certificate().bundle)
    out = StringIO()
    call_command(
        "aurinko_app",
        "provider",
        app.client_id,
        "Office365",
        "--oauth-client-id",
        "cid",
        "--service-account-key",
        str(bundle),
        stdout=out,
    )
    assert "PRIVATE" not in out.getvalue()
    assert ProviderConfig.objects.get(app=app).service_account_key.startswith("-----BEGIN")
