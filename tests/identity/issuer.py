"""A local identity-token issuer on loopback: its own RSA keys, OpenID metadata, JWKS and an
Exchange authentication metadata document with its certificate, served by a tiny threaded
HTTP server; it mints tokens of every type and counts the requests it answers."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
ENTRA_AUDIENCE = "5f2c0e0a-0000-4000-8000-000000000001"
GOOGLE_AUDIENCE = "1234-addon.apps.googleusercontent.com"
ADDIN_URL = "https://addin.example.com/taskpane.html"
EXCHANGE_ISSUER = "00000002-0000-0ff1-ce00-000000000000"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Key:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Exchange test")])
        now = dt.datetime.now(dt.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(self.private, hashes.SHA256())
        )
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        self.der = der
        self.x5t = _b64url(hashlib.sha1(der).digest())  # noqa: S324 (x5t is SHA-1 by RFC 7515)

    def jwk(self) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}


class Issuer:
    """``base``: http://127.0.0.1:PORT. Documents are served from ``routes`` (path -> JSON or
    (status, bytes)); ``hits`` counts requests per path."""

    def __init__(self) -> None:
        self.keys = [Key("k1")]
        self.routes: dict[str, Any] = {}
        self.hits: dict[str, int] = {}
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                issuer.hits[path] = issuer.hits.get(path, 0) + 1
                route = issuer.routes.get(path)
                if callable(route):
                    route = route()
                if route is None:
                    status, body = 404, b"{}"
                elif isinstance(route, tuple):
                    status, body = route
                else:
                    status, body = 200, json.dumps(route).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client stopped reading (size limit)
                    self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.publish()

    # --- documents ------------------------------------------------------------------------
    @property
    def entra_issuer(self) -> str:
        return f"{self.base}/{TENANT}/v2.0"

    @property
    def google_issuer(self) -> str:
        return f"{self.base}/google"

    @property
    def amurl(self) -> str:
        return f"{self.base}/autodiscover/metadata/json/1"

    def publish(self) -> None:
        jwks = {"keys": [k.jwk() for k in self.keys]}
        self.routes["/keys"] = jwks
        for issuer in (self.entra_issuer, self.google_issuer):
            path = issuer[len(self.base) :]
            self.routes[f"{path}/.well-known/openid-configuration"] = {
                "issuer": issuer,
                "jwks_uri": f"{self.base}/keys",
            }
        self.routes["/autodiscover/metadata/json/1"] = {
            "id": "_70b34511-d105-4e2b-9675-39f53305bb01",
            "version": "1.0",
            "name": "Exchange",
            "realm": "*",
            "serviceName": EXCHANGE_ISSUER,
            "issuer": f"{EXCHANGE_ISSUER}@*",
            "allowedAudiences": [f"{EXCHANGE_ISSUER}@*"],
            "token_issuer": EXCHANGE_ISSUER,
            "keys": [
                {
                    "usage": "signing",
                    "keyinfo": {"x5t": k.x5t},
                    "keyvalue": {
                        "type": "x509Certificate",
                        "value": base64.b64encode(k.der).decode(),
                    },
                }
                for k in self.keys
            ],
        }

    def rotate(self, kid: str) -> Key:
        self.keys.append(Key(kid))
        self.publish()
        return self.keys[-1]

    # --- tokens ---------------------------------------------------------------------------
    def sign(self, claims: dict, key: Key | None = None, **header: Any) -> str:
        key = key or self.keys[0]
        headers = {"kid": key.kid, **header}
        return jwt.encode(claims, key.pem, algorithm="RS256", headers=headers)

    def entra(self, key: Key | None = None, **over: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": self.entra_issuer,
            "aud": ENTRA_AUDIENCE,
            "tid": TENANT,
            "oid": "00000000-0000-0000-66f3-3332eca7ea81",
            "preferred_username": "adele@contoso.example",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            **over,
        }
        return self.sign({k: v for k, v in claims.items() if v is not None}, key)

    def google(self, key: Key | None = None, **over: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": "https://accounts.google.com",
            "aud": GOOGLE_AUDIENCE,
            "sub": "110169484474386276334",
            "hd": "example.com",
            "email": "adele@example.com",
            "iat": now,
            "exp": now + 3600,
            **over,
        }
        return self.sign({k: v for k, v in claims.items() if v is not None}, key)

    def exchange(self, key: Key | None = None, amurl: str | None = None, **over: Any) -> str:
        key = key or self.keys[0]
        now = int(time.time())
        appctx = {"msexchuid": "53e925fa-76ba-45e1-be0f-4ef08b59d389@contoso.example"}
        appctx |= {"version": "ExIdTok.V1", "amurl": amurl or self.amurl}
        claims = {
            "aud": ADDIN_URL,
            "iss": f"{EXCHANGE_ISSUER}@{uuid.UUID(TENANT)}",
            "nbf": now,
            "exp": now + 3600,
            "appctxsender": f"00000002-0000-0ff1-ce00-000000000000@{TENANT}",
            "isbrowserhostedapp": "true",
            "appctx": json.dumps(appctx),
            **over,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, key.pem, algorithm="RS256", headers={"x5t": key.x5t})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
