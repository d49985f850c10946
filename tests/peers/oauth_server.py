"""A real OAuth2/OpenID Connect server for end-to-end tests: the sandbox identity provider
(django-oauth-toolkit) running in its own process on loopback.

    peer = OAuthPeer.start(tmp_path)      # migrates, serves on a free port
    peer.add_user("alice", "pw")
    peer.add_role("alice", role_template_id)              # a directory role, in wids
    client_id, secret = peer.add_client(redirect_uri)
    peer.add_app_certificate(client_id, certificate_pem)   # certificate credentials
    peer.endpoints()                      # endpoint overrides for a ProviderConfig
    instance = peer.add_sugar_client()    # SugarCRM's REST API v11 at this instance URL
    peer.stop()
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from project.sandbox.endpoints import (
    sandbox_daemon_endpoints,
    sandbox_endpoints,
    sandbox_zoho_endpoints,
)

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class OAuthPeer:
    base_url: str
    process: subprocess.Popen
    env: dict[str, str]
    log_path: Path

    @classmethod
    def start(
        cls, workdir: Path, *, access_token_seconds: int = 3600, host: str = "127.0.0.1"
    ) -> OAuthPeer:
        workdir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "project.sandbox.peer_settings",
            "SANDBOX_DB": str(workdir / "sandbox.sqlite3"),
            "SANDBOX_OIDC_KEY_FILE": str(workdir / "oidc.pem"),
            "SANDBOX_ACCESS_TOKEN_SECONDS": str(access_token_seconds),
            "SANDBOX_SERVICE_ACCOUNTS_FILE": str(workdir / "service-accounts.json"),
            "SANDBOX_APP_CERTIFICATES_FILE": str(workdir / "app-certificates.json"),
            "PYTHONPATH": str(ROOT),
        }
        env.pop("DATABASE_URL", None)
        cls._manage(env, "migrate", "--noinput", "-v", "0")
        port = free_port()
        log_path = workdir / "peer.log"
        log = open(log_path, "wb")  # noqa: SIM115  (kept open for the child's lifetime)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--no-control-socket",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "2",
                "--threads",
                "4",
                "--timeout",
                "60",
                "django.core.wsgi:get_wsgi_application()",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        peer = cls(f"http://{host}:{port}", process, env, log_path)
        peer._wait_ready()
        return peer

    @staticmethod
    def _manage(env: dict[str, str], *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "django", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"sandbox {args[0]} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def _wait_ready(self, timeout: float = 30.0) -> None:
        url = self.url("/sandbox/o/.well-known/openid-configuration")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sandbox exited:\n{self.log_path.read_text()}")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"sandbox did not start:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def url(self, path: str) -> str:
        return urljoin(self.base_url, path)

    def add_user(self, username: str, password: str, email: str = "", name: str = "") -> None:
        self._manage(self.env, "sandbox_seed", "--user", f"{username}:{password}:{email}:{name}")

    def add_role(self, username: str, role_template_id: str) -> None:
        """Give a user a Microsoft Entra directory role (in their ID tokens' ``wids``)."""
        self._manage(self.env, "sandbox_seed", "--role", f"{username}:{role_template_id}")

    def add_client(
        self, *redirect_uris: str, grant: str = "authorization-code", client_id: str | None = None
    ) -> tuple[str, str]:
        client_id = client_id or "client-" + secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        # "--opt=value": a random secret may start with "-", which argparse takes for an option.
        args = [
            "sandbox_seed",
            f"--client-id={client_id}",
            f"--client-secret={secret}",
            "--grant",
            grant,
        ]
        for uri in redirect_uris:
            args += ["--redirect-uri", uri]
        self._manage(self.env, *args)
        return client_id, secret

    def add_sugar_client(self, client_id: str = "sugar") -> str:
        """SugarCRM's public client (password and refresh grants, no secret). Returns the
        instance URL the sandbox answers Sugar's REST API v11 under."""
        self._manage(
            self.env,
            "sandbox_seed",
            f"--client-id={client_id}",
            "--public",
            "--grant",
            "password",
            "--name",
            "SugarCRM",
        )
        return self.url("/sandbox")

    def token_counts(self, username: str, *args: str) -> dict[str, Any]:
        """The user's token counts at the server (``sandbox_tokens``)."""
        return json.loads(self._manage(self.env, "sandbox_tokens", username, *args))

    def endpoints(self) -> dict[str, str]:
        """Endpoint overrides that point a provider configuration at this server."""
        return sandbox_endpoints(self.base_url)

    def zoho_endpoints(self, sign_in_at: str = "accounts.zoho.eu") -> dict[str, str]:
        """Overrides for Zoho: sign-in at the data centre ``sign_in_at``, everything else at
        the data centre the callback names."""
        return sandbox_zoho_endpoints(self.base_url, sign_in_at)

    def daemon_endpoints(self, service_type: str) -> dict[str, str]:
        """Overrides for the service-account flow: Microsoft's admin consent and per-tenant
        token endpoint, or Google's JWT bearer token endpoint."""
        return {**self.endpoints(), **sandbox_daemon_endpoints(self.base_url, service_type)}

    def add_service_account(
        self, client_email: str, key_id: str, public_pem: str, *, domain: str, scopes: list[str]
    ) -> None:
        """Register a Google service account (its public key, under ``key_id``) with
        domain-wide delegation of ``scopes`` for ``domain``; read by the server per request."""
        path = Path(self.env["SANDBOX_SERVICE_ACCOUNTS_FILE"])
        data = json.loads(path.read_text()) if path.is_file() else {}
        entry = data.setdefault(client_email, {"keys": {}})
        entry["keys"][key_id] = public_pem
        entry.update(domain=domain, scopes=list(scopes))
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)

    def add_app_certificate(self, client_id: str, certificate_pem: str) -> None:
        """Register a certificate for the client ``client_id`` (Microsoft's certificate
        credentials: the client may then authenticate with assertions its key signs)."""
        path = Path(self.env["SANDBOX_APP_CERTIFICATES_FILE"])
        data = json.loads(path.read_text()) if path.is_file() else {}
        data.setdefault(client_id, []).append(certificate_pem)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)

    def login(
        self, session: requests.Session, login_url: str, username: str, password: str
    ) -> requests.Response:
        """Post the sandbox login form (the CSRF token is the cookie Django set)."""
        page = session.get(login_url, timeout=10)
        page.raise_for_status()
        host = urlsplit(login_url).hostname
        token = session.cookies.get("sandbox_csrftoken", domain=host) or session.cookies.get(
            "sandbox_csrftoken"
        )
        nxt = parse_qs(urlsplit(login_url).query).get("next", [""])[0]
        return session.post(
            login_url,
            allow_redirects=False,
            timeout=10,
            data={
                "csrfmiddlewaretoken": token,
                "username": username,
                "password": password,
                "next": nxt,
            },
            headers={"Referer": login_url},
        )
