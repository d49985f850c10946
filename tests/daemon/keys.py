"""Google service-account JSON keys for tests: a fresh RSA key each time."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


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
