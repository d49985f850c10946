"""Service-account credentials for tests, a fresh RSA key each time: Google's JSON keys and
Office 365 certificate credentials (a private key with its self-signed certificate)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


@dataclass
class TestKey:
    json_text: str
    client_email: str
    key_id: str
    public_pem: str
    private_pem: str


def make_service_account_key(
    client_email: str = "broker@proj.iam.gserviceaccount.com", key_id: str | None = None
) -> TestKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )
    key_id = key_id or secrets.token_hex(20)
    data = {
        "type": "service_account",
        "project_id": "proj",
        "private_key_id": key_id,
        "private_key": private_pem,
        "client_email": client_email,
        "client_id": "1234567890123456789012",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    return TestKey(json.dumps(data), client_email, key_id, public_pem, private_pem)


@dataclass
class TestCertificate:
    bundle: str  # what the app owner stores: private key + certificate, PEM
    certificate_pem: str  # what is registered at the provider
    certificate: x509.Certificate
    private_pem: str


def make_app_certificate(
    common_name: str = "aurinko-daemon",
    *,
    valid_for: dt.timedelta = dt.timedelta(days=365),
    key_type: str = "rsa",
) -> TestCertificate:
    """A self-signed certificate as ``openssl req -x509 -newkey rsa:2048`` makes for an
    Entra app registration (``valid_for`` negative: already expired)."""
    key = (
        ec.generate_private_key(ec.SECP256R1())
        if key_type == "ec"
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    start = min(now, now + valid_for) - dt.timedelta(days=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + valid_for)
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return TestCertificate(private_pem + certificate_pem, certificate_pem, certificate, private_pem)
