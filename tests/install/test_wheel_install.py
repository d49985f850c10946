"""The app installed the way users install it, into a Django project wired from the README.

Once per session: a clean clone of HEAD is built into a wheel and an sdist (``python -m build``,
or ``pip wheel --no-deps`` without the ``build`` package), and the wheel is installed into a
fresh virtualenv outside the checkout, with nothing else (its dependencies come from PyPI).
Then, for each host variant, ``django-admin startproject`` makes a project that is wired with
the snippets of README.md's section "Using it in your own Django project" (read between its
``<!-- install:NAME -->`` markers, so the README cannot drift from what works), the README's
commands are run, a provider configuration points at the OAuth2 test peer
(django-oauth-toolkit, tests/peers/oauth_server.py), the project is served with
``runserver`` on loopback and an Account flow runs end to end against it.

The README is read from the same clone as the wheel (HEAD): commit before running this.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from tests.peers.oauth_server import OAuthPeer, free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
# Our own secrets, as they would appear in a log line: codes, states, tokens, sessions.
OUR_SECRETS = re.compile(r"\b(?:acd|ast|aat|aus)_[A-Za-z0-9_-]{8,}")
# Variables of the test process that must not reach the user's project.
LEAKY_ENV = ("PYTHON", "DJANGO_", "AURINKO_", "OAUTHLIB_", "VIRTUAL_ENV")
LEAKY_VARS = {"DATABASE_URL", "CACHE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "LOG_LEVEL"}
SUPERUSER_PASSWORD = "owner-pw-for-tests"


def run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 180):
    """A command that must succeed (harness steps): RuntimeError with its output otherwise."""
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(map(str, args))} exited {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


# --- README snippets ----------------------------------------------------------------------


class ReadmeError(Exception):
    """The README's own-project section is not what this test can follow. Not an
    AssertionError, so that no xfail mark can swallow it."""


def readme_block(readme: str, name: str) -> str:
    """The text between ``<!-- install:NAME -->`` and ``<!-- /install:NAME -->``, without its
    code fence or its indentation."""
    match = re.search(rf"<!-- install:{name} -->\n(.*?)<!-- /install:{name} -->", readme, re.S)
    if not match:
        raise ReadmeError(f"no <!-- install:{name} --> ... <!-- /install:{name} --> block")
    lines = match.group(1).strip("\n").splitlines()
    if lines and lines[0].startswith("```"):
        if not lines[-1].startswith("```"):
            raise ReadmeError(f"unclosed code fence in the {name} block")
        lines = lines[1:-1]
    else:
        lines = [line[4:] if line.startswith("    ") else line for line in lines]
    return "\n".join(lines) + "\n"


def readme_commands(readme: str) -> list[list[str]]:
    """The ``python manage.py ...`` commands of the commands block, continuations joined;
    other lines (sample output) are skipped."""
    text = readme_block(readme, "commands").replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        if line.startswith("python manage.py "):
            commands.append(shlex.split(line, comments=True)[2:])
    if not commands:
        raise ReadmeError("no `python manage.py` command in the commands block")
    return commands


def fill(text: str, placeholder: str, value: str) -> str:
    if placeholder not in text:
        raise ReadmeError(f"the snippet no longer contains {placeholder!r}")
    return text.replace(placeholder, value)


def extend_lists(snippet: str) -> str:
    """``NAME = [..., x]`` in the README means "add x to the project's NAME", and
    ``NAME = {..., k: v}`` "add k to the project's NAME"."""
    snippet = re.sub(r"^(\w+) = \[\.\.\., ", r"\1 = [*\1, ", snippet, flags=re.M)
    return re.sub(r"^(\w+) = \{\.\.\., ", r"\1 = {**\1, ", snippet, flags=re.M)


# --- the build and the user's virtualenv ---------------------------------------------------


@dataclass
class Dists:
    source: Path  # the clean clone the distributions were built from
    wheel: Path
    sdist: Path | None  # None without the `build` package


@dataclass
class UserVenv:
    path: Path
    python: Path
    env: dict[str, str]


def have_build() -> bool:
    try:
        import build  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="session")
def dists(tmp_path_factory) -> Dists:
    base = tmp_path_factory.mktemp("install-build")
    head = run(["git", "rev-parse", "HEAD"], cwd=ROOT).stdout.strip()
    source = base / "source"
    run(["git", "clone", "--quiet", "--no-checkout", ROOT, source], cwd=base)
    run(["git", "checkout", "--quiet", "--detach", head], cwd=source)
    out = base / "dist"
    if have_build():
        # sdist first, then the wheel built from the unpacked sdist (as PyPI users get it).
        run([sys.executable, "-m", "build", "--outdir", out, source], cwd=base, timeout=300)
    else:
        run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, source],
            cwd=base,
            timeout=300,
        )
    wheels = list(out.glob("aurinko_auth-*.whl"))
    sdists = list(out.glob("aurinko_auth-*.tar.gz"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one wheel, built {sorted(out.iterdir())}")
    return Dists(source, wheels[0], sdists[0] if sdists else None)


def clean_env(venv: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(LEAKY_ENV) and k not in LEAKY_VARS
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="session")
def user_venv(tmp_path_factory, dists) -> UserVenv:
    path = tmp_path_factory.mktemp("install-venv") / "venv"
    run([sys.executable, "-m", "venv", path], cwd=path.parent)
    env = clean_env(path)
    python = path / "bin" / "python"
    # What the README's pip line installs: the package alone (its dependencies from PyPI).
    run([python, "-m", "pip", "install", "-q", dists.wheel], cwd=path.parent, env=env, timeout=600)
    run([python, "-m", "pip", "check"], cwd=path.parent, env=env)
    where = run(
        [python, "-c", "import aurinko_auth; print(aurinko_auth.__file__)"],
        cwd=path.parent,
        env=env,
    ).stdout.strip()
    if not Path(where).is_relative_to(path):
        raise RuntimeError(f"aurinko_auth imported from {where}, not from the venv")
    return UserVenv(path, python, env)


@pytest.fixture(scope="module")
def readme(dists) -> str:
    return (dists.source / "README.md").read_text()


@pytest.fixture(scope="module")
def oauth_peer(tmp_path_factory) -> Iterator[OAuthPeer]:
    peer = OAuthPeer.start(tmp_path_factory.mktemp("install-peer"))
    peer.add_user("alice", "alice-pw", "alice@example.com", "Alice Example")
    yield peer
    peer.stop()


# --- the distributions' contents ----------------------------------------------------------


def tracked_package_files(source: Path) -> list[str]:
    files = run(["git", "ls-files", "aurinko_auth"], cwd=source).stdout.split()
    assert "aurinko_auth/py.typed" in files
    return files


def test_wheel_contents(dists):
    names = set(zipfile.ZipFile(dists.wheel).namelist())
    expected = tracked_package_files(dists.source)
    missing = [f for f in expected if f not in names]
    assert not missing, f"tracked files missing from the wheel: {missing}"
    for kind in ("templates/", "static/", "migrations/0001_initial.py", "py.typed"):
        assert any(n.startswith("aurinko_auth/" + kind) for n in names), kind
    top = {n.split("/", 1)[0] for n in names}
    assert top == {"aurinko_auth", dists.wheel.name.split("-py3")[0] + ".dist-info"}, top
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    metadata = zipfile.ZipFile(dists.wheel).read(meta).decode()
    assert re.search(r"^Requires-Dist: django\b", metadata, re.M | re.I), metadata[:2000]
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_sdist_contents(dists):
    if dists.sdist is None:
        pytest.skip("the `build` package is not installed (pip install -e '.[test]')")
    with tarfile.open(dists.sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for required in ("pyproject.toml", "README.md", "LICENSE", "PKG-INFO"):
        assert required in names, required
    missing = [f for f in tracked_package_files(dists.source) if f not in names]
    assert not missing, f"tracked files missing from the sdist: {missing}"


# --- a host project ------------------------------------------------------------------------


@dataclass
class Host:
    """A project made by ``django-admin startproject`` in the user's venv."""

    venv: UserVenv
    dir: Path
    public_url: str = ""
    port: int = 0
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    log: Any = None
    serves: int = 0
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, venv: UserVenv, workdir: Path) -> Host:
        workdir.mkdir(parents=True)
        django_admin = venv.path / "bin" / "django-admin"
        run([django_admin, "startproject", "host", workdir], cwd=workdir, env=venv.env)
        return cls(venv, workdir, env=dict(venv.env))

    @property
    def settings_py(self) -> Path:
        return self.dir / "host" / "settings.py"

    def append(self, path: Path, text: str) -> None:
        with path.open("a") as fh:
            fh.write("\n# ---- added by the install test\n" + text)

    def manage(self, *args: str, env: dict[str, str] | None = None, check: bool = True):
        cmd = [str(self.venv.python), "manage.py", *args]
        full_env = {**self.env, **(env or {})}
        if check:
            return run(cmd, cwd=self.dir, env=full_env)
        return subprocess.run(
            cmd, cwd=self.dir, env=full_env, capture_output=True, text=True, timeout=120
        )

    def serve(self, env: dict[str, str]) -> None:
        """``runserver`` on the project's port with ``env`` added; its output in a new log."""
        self.serves += 1
        self.log_path = self.dir / f"server-{self.serves}.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [self.venv.python, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=self.dir,
            env={**self.env, **env, "PYTHONUNBUFFERED": "1"},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.wait_until_up()

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.output()}")
            try:
                requests.get(f"{self.public_url}/v1/health", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(f"the server did not answer:\n{self.output()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None:
            self.log.close()
            self.log = None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""


@pytest.fixture
def host(user_venv, tmp_path) -> Iterator[Host]:
    made = Host.create(user_venv, tmp_path / "host")
    yield made
    made.stop()


def wire_from_readme(host: Host, readme: str, *, public_url: str, mount: str = "") -> None:
    """settings.py and urls.py as the README says; placeholders are left to the caller."""
    settings = fill(
        readme_block(readme, "settings"), '"https://auth.example.com"', repr(public_url)
    )
    host.append(host.settings_py, extend_lists(settings))
    urls = readme_block(readme, "urls")
    if mount:
        readme_mount = 'path("", include("aurinko_auth.urls"))'
        urls = fill(urls, readme_mount, readme_mount.replace('path(""', f'path("{mount}"'))
    host.append(host.dir / "host" / "urls.py", extend_lists(urls))


def is_fernet_key(value: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(value.encode())) == 32
    except ValueError:
        return False


def set_key(host: Host) -> None:
    """The user runs ``aurinko_keygen`` and pastes its key over the README's placeholders
    (generated with ``cryptography`` while the command cannot run: see test_keygen_...)."""
    result = host.manage("aurinko_keygen", check=False)
    key = result.stdout.strip()
    if result.returncode != 0 or not is_fernet_key(key):
        generate = "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
        key = run([host.venv.python, "-c", generate], cwd=host.dir, env=host.env).stdout.strip()
    text = host.settings_py.read_text()
    host.settings_py.write_text(fill(text, '["<Fernet key>", "<older key>"]', json.dumps([key])))


def run_readme_commands(host: Host, readme: str, oauth_peer: OAuthPeer) -> dict[str, Any]:
    """The README's commands in order, with the test's values for the placeholders.
    Returns the app (clientId, clientSecret, returnUrl, scopes)."""
    app: dict[str, Any] = {}
    peer_client: tuple[str, str] | None = None
    for args in readme_commands(readme):
        name = args[0]
        if name == "aurinko_keygen":
            set_key(host)
        elif name == "migrate":
            host.manage(*args, "--noinput")
        elif name == "createsuperuser":
            password = {"DJANGO_SUPERUSER_PASSWORD": SUPERUSER_PASSWORD}
            host.manage(*args, "--noinput", "--email", "owner@example.com", env=password)
        elif args[:2] == ["aurinko_app", "create"]:
            if "--owner" not in args:
                raise ReadmeError("the first app is created without --owner")
            printed = json.loads(host.manage(*args).stdout)
            assert set(printed) == {"clientId", "clientSecret"}, printed
            app.update(printed)
            app["returnUrl"] = args[args.index("--return-url") + 1]
            app["scopes"] = args[args.index("--scopes") + 1].split()
        elif args[:2] == ["aurinko_app", "provider"]:
            if not app:
                raise ReadmeError("a provider is configured before an app is created")
            args = list(args)
            args[2] = app["clientId"]
            app["serviceType"] = args[3]
            peer_client = oauth_peer.add_client(host.public_url + "/v1/auth/callback")
            # "--opt=value": the peer's random secret may start with "-", which argparse would
            # take for an option (1 run in 64).
            for option, value in zip(("--oauth-client-id", "--oauth-client-secret"), peer_client):
                at = args.index(option)
                args[at : at + 2] = [f"{option}={value}"]
            for endpoint, url in oauth_peer.endpoints().items():
                args += ["--endpoint", f"{endpoint}={url}"]
            host.manage(*args)
        else:
            raise ReadmeError(f"a command this test does not know: {args}")
    if not (app and peer_client):
        raise ReadmeError("the commands create no app or no provider")
    return app


def page_text(response: requests.Response) -> str:
    """What a person would read on an error page (the HTML's body text), or the JSON."""
    body = re.sub(r"(?s)<(script|style|head)\b.*?</\1>", " ", response.text)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()[:1500]


def follow(browser: requests.Session, url: str, stop_host: str, peer: OAuthPeer) -> str:
    """A browser's redirects from ``url``, signing in at the peer (and consenting) when asked,
    until one leaves for ``stop_host`` (the app's return URL), which is returned."""
    for _ in range(12):
        if urlsplit(url).hostname == stop_host:
            return url
        if "/sandbox/login/" in url:
            response = peer.login(browser, url, "alice", "alice-pw")
        else:
            response = browser.get(url, allow_redirects=False, timeout=15)
        assert response.status_code in (301, 302, 303), (
            f"{urlsplit(url).path} answered {response.status_code}: {page_text(response)}"
        )
        url = requests.compat.urljoin(url, response.headers["Location"])
    raise AssertionError("too many redirects")


def authorize_url(host: Host, app: dict[str, Any], path: str, **extra: str) -> str:
    params = {
        "clientId": app["clientId"],
        "serviceType": app["serviceType"],
        "scopes": app["scopes"][0],
        "returnUrl": app["returnUrl"],
        "state": "s-1",
        **extra,
    }
    return f"{host.public_url}/v1/auth/{path}?" + "&".join(
        f"{k}={quote(v, safe='')}" for k, v in params.items()
    )


def account_flow(host: Host, app: dict[str, Any], oauth_peer: OAuthPeer) -> dict[str, Any]:
    """authorize -> the peer's login and consent -> callback -> code -> token -> account.
    The code is first presented with a wrong secret (a 401 that request logs print, with the
    code in its path), then redeemed."""
    browser = requests.Session()
    return_url = app["returnUrl"]
    final = follow(
        browser, authorize_url(host, app, "authorize"), urlsplit(return_url).hostname, oauth_peer
    )
    query = parse_qs(urlsplit(final).query)
    assert query.get("status") == ["success"], query
    assert query["state"] == ["s-1"]
    token_url = f"{host.public_url}/v1/auth/token/{query['code'][0]}"
    refused = requests.post(token_url, auth=(app["clientId"], "acs_wrong-secret"), timeout=15)
    assert refused.status_code == 401, page_text(refused)
    exchanged = requests.post(token_url, auth=(app["clientId"], app["clientSecret"]), timeout=15)
    assert exchanged.status_code == 200, (
        f"POST /v1/auth/token/{{code}} answered {exchanged.status_code}: {page_text(exchanged)}"
    )
    token = exchanged.json()["accessToken"]
    me = requests.get(
        f"{host.public_url}/v1/account", headers={"Authorization": f"Bearer {token}"}, timeout=15
    )
    assert me.status_code == 200, f"GET /v1/account answered {me.status_code}: {page_text(me)}"
    listed = requests.get(
        f"{host.public_url}/v1/am/accounts", auth=(app["clientId"], app["clientSecret"]), timeout=15
    )
    assert listed.status_code == 200, f"GET /v1/am/accounts: {page_text(listed)}"
    return me.json()


def user_flow(host: Host, app: dict[str, Any], oauth_peer: OAuthPeer) -> dict[str, Any]:
    """authorizeUser (primary, cookie) -> the peer -> callback sets the session cookie, scoped
    to the host's mount point -> ``GET /v1/user`` with it."""
    browser = requests.Session()
    start = authorize_url(host, app, "authorizeUser", accountRole="primary")
    final = follow(browser, start, urlsplit(app["returnUrl"]).hostname, oauth_peer)
    query = parse_qs(urlsplit(final).query)
    assert query.get("status") == ["success"], query
    sessions = [c for c in browser.cookies if c.name.startswith("AUR")]
    assert len(sessions) == 1, list(browser.cookies)
    cookie = sessions[0]
    assert cookie.path == (urlsplit(host.public_url).path or "") + "/", cookie.path
    assert cookie.has_nonstandard_attr("HttpOnly")
    # The cookie is Secure (SESSION_COOKIE_SECURE): requests keeps it from http, a browser on
    # loopback would send it. Send it as the browser would.
    me = requests.get(
        f"{host.public_url}/v1/user",
        headers={"Cookie": f"{cookie.name}={cookie.value}"},
        timeout=15,
    )
    assert me.status_code == 200, f"GET /v1/user answered {me.status_code}: {page_text(me)}"
    return me.json()


def assert_no_secret_in(output: str) -> None:
    leaked = sorted(set(OUR_SECRETS.findall(output)))
    assert not leaked, f"our secrets in the server's output: {leaked}"


# --- host variants -------------------------------------------------------------------------

DRF_GLOBALS: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.BrowsableAPIRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.MultiPartParser"],
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.AcceptHeaderVersioning",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": "1/hour", "user": "1/hour"},
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 1,
    "EXCEPTION_HANDLER": "host.drf_errors.handler",
}
# A host exception handler that would turn every error into its own shape.
DRF_ERRORS = """from rest_framework.response import Response


def handler(exc, context):
    return Response({"host": "error"}, status=418)
"""


@dataclass(frozen=True)
class Variant:
    mount: str = ""  # "" (the README's root mount) or a prefix such as "broker/"
    settings: str = ""  # appended to the host's settings.py
    # PUBLIC_URL with the mount point in it ("https://site/broker"), not just the origin.
    public_url_has_mount: bool = False


VARIANTS = [
    pytest.param(Variant(), id="root-mount"),
    # PUBLIC_URL is the site's origin; every path comes from reverse() and the mount point.
    pytest.param(Variant(mount="broker/"), id="prefix-mount"),
    # PUBLIC_URL naming the mount as well: it is not added twice.
    pytest.param(Variant(mount="broker/", public_url_has_mount=True), id="prefix-in-public-url"),
    pytest.param(Variant(settings=f"REST_FRAMEWORK = {DRF_GLOBALS!r}\n"), id="drf-globals"),
    # Django's default LOGGING with DEBUG off (the README's DEBUG-on startproject is the rest).
    pytest.param(
        Variant(settings='DEBUG = False\nAURINKO_AUTH["ALLOW_LOOPBACK_ENDPOINTS"] = True\n'),
        id="default-logging-debug-off",
    ),
]


@pytest.fixture(scope="module")
def host_projects(user_venv, readme, oauth_peer, tmp_path_factory):
    """``get(variant) -> (host, app)``: a project wired from the README, its commands run;
    made once per variant."""
    made: dict[Variant, tuple[Host, dict[str, Any]]] = {}

    def get(variant: Variant) -> tuple[Host, dict[str, Any]]:
        if variant not in made:
            host = Host.create(user_venv, tmp_path_factory.mktemp("install-host") / "project")
            host.port = free_port()
            origin = f"http://127.0.0.1:{host.port}"
            host.public_url = f"{origin}/{variant.mount}".rstrip("/")
            setting = host.public_url if variant.public_url_has_mount else origin
            wire_from_readme(host, readme, public_url=setting, mount=variant.mount)
            (host.dir / "host" / "drf_errors.py").write_text(DRF_ERRORS)
            hosts = 'ALLOWED_HOSTS = ["127.0.0.1", "localhost"]\n'
            host.append(host.settings_py, hosts + variant.settings)
            made[variant] = host, run_readme_commands(host, readme, oauth_peer)
        return made[variant]

    yield get
    for host, _ in made.values():
        host.stop()


@pytest.mark.parametrize("variant", VARIANTS)
def test_flows_in_a_host_project(variant, host_projects, oauth_peer):
    """The Account and the User flow, served by runserver without OAUTHLIB_INSECURE_TRANSPORT
    (the peer is http on loopback), with nothing of ours in the server's output."""
    host, app = host_projects(variant)
    host.serve({})
    try:
        me = account_flow(host, app, oauth_peer)
        assert me["serviceType"] == app["serviceType"]
        assert me["email"] == "alice@example.com"
        assert me["tokenStatus"] == "active"
        assert me["scopes"] == app["scopes"][:1]
        user = user_flow(host, app, oauth_peer)
        assert [a["email"] for a in user["accounts"]] == ["alice@example.com"], user
        host.stop()
        assert "/v1/auth/callback?[redacted]" in host.output(), host.output()[-2000:]
        assert_no_secret_in(host.output())
    except AssertionError as exc:
        host.stop()
        raise AssertionError(f"{exc}\n--- server output ---\n{host.output()[-6000:]}") from None
    finally:
        host.stop()


def test_a_host_setting_typo_fails_check(host, readme):
    """A settings typo fails ``check`` with the setting's name, not a sign-in later."""
    wire_from_readme(host, readme, public_url="http://127.0.0.1:8000")
    set_key(host)
    host.append(host.settings_py, 'AURINKO_AUTH["HTTP_TIMEOUT"] = "10"\n')
    result = host.manage("check", check=False)
    assert result.returncode == 1
    assert 'AURINKO_AUTH["HTTP_TIMEOUT"]' in result.stderr, result.stderr


@pytest.mark.parametrize("keys", ["readme-placeholders", "no-key"])
def test_keygen_before_a_key_is_configured(keys, host, readme):
    """A newcomer copies the settings (with the README's placeholder keys, or none yet), then
    runs the README's first command to get a key; without a key, makemigrations and migrate
    run too (a CI job, a fresh clone), and ``check --deploy`` names the setting."""
    if readme_commands(readme)[0] != ["aurinko_keygen"]:
        raise ReadmeError("the first command is not aurinko_keygen")
    wire_from_readme(host, readme, public_url="http://127.0.0.1:8000")
    if keys == "no-key":
        text = host.settings_py.read_text()
        host.settings_py.write_text(fill(text, '["<Fernet key>", "<older key>"]', "[]"))
    result = host.manage("aurinko_keygen", check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert is_fernet_key(result.stdout.strip()), result.stdout
    if keys == "no-key":
        for args in (["makemigrations", "--check", "--dry-run"], ["migrate", "--noinput"]):
            done = host.manage(*args, check=False)
            assert done.returncode == 0, (args, done.stderr[-3000:])
            assert "aurinko_auth.W001" in done.stderr, done.stderr
        deploy = host.manage("check", "--deploy", check=False)
        assert deploy.returncode == 1
        assert 'AURINKO_AUTH["ENCRYPTION_KEYS"]' in deploy.stderr, deploy.stderr
        assert "AURINKO_ENCRYPTION_KEYS" not in deploy.stderr + deploy.stdout
        assert "aurinko_auth.W010" in deploy.stderr  # PUBLIC_URL on loopback


# --- staff MFA with passkeys, as the README's block sets it ---------------------------------


def readme_pip_line(block: str) -> list[str]:
    """The ``# pip install ...`` comment that opens a settings block, as arguments."""
    match = re.match(r"# pip install (\S+)", block)
    if not match:
        raise ReadmeError("the block does not open with a `# pip install ...` line")
    return ["install", "-q", *shlex.split(match.group(1))]


def test_staff_mfa_with_passkeys_in_a_host_project(user_venv, readme, tmp_path):
    """The README's MFA block in a startproject host served at ``http://localhost:PORT``: its
    pip line installs the extra beside the wheel, ``check`` passes with the relying-party
    settings the block tells a host to set (django-otp-webauthn has no defaults: E010, E011,
    E030), the login page offers a passkey with a challenge for PUBLIC_URL's host, and the
    README's enrolment path (a recovery code from ``addstatictoken``) opens the admin."""
    block = readme_block(readme, "mfa")
    run(
        [user_venv.python, "-m", "pip", *readme_pip_line(block)],
        cwd=tmp_path,
        env=user_venv.env,
        timeout=300,
    )
    host = Host.create(user_venv, tmp_path / "mfa-host")
    host.port = free_port()
    host.public_url = f"http://localhost:{host.port}"
    wire_from_readme(host, readme, public_url=host.public_url)
    set_key(host)
    mfa = fill(block, '"auth.example.com"', '"localhost"')
    mfa = fill(mfa, '"https://auth.example.com"', repr(host.public_url))
    host.append(host.settings_py, extend_lists(mfa) + 'ALLOWED_HOSTS = ["localhost"]\n')
    checked = host.manage("check", check=False)
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert "otp_webauthn." not in checked.stderr and "W052" not in checked.stderr, checked.stderr
    host.manage("migrate", "--noinput")
    password = {"DJANGO_SUPERUSER_PASSWORD": SUPERUSER_PASSWORD}
    host.manage(
        "createsuperuser",
        "--username",
        "admin",
        "--email",
        "owner@example.com",
        "--noinput",
        env=password,
    )
    recovery = host.manage("addstatictoken", "admin").stdout.strip()
    host.serve({})
    try:
        browser = requests.Session()
        login_url = f"{host.public_url}/admin/login/?next=/admin/"
        page = browser.get(login_url, timeout=15)
        assert page.status_code == 200 and "Log in with a passkey" in page.text, page_text(page)
        csrf = {"X-CSRFToken": browser.cookies["csrftoken"]}
        options = browser.post(
            f"{host.public_url}/admin/django_otp_webauthn/webauthncredential/passkey-options/",
            headers=csrf,
            timeout=15,
        )
        assert options.status_code == 200, page_text(options)
        assert options.json()["rpId"] == "localhost"
        form = {"username": "admin", "password": SUPERUSER_PASSWORD, "next": "/admin/"}
        form["csrfmiddlewaretoken"] = browser.cookies["csrftoken"]
        asked = browser.post(login_url, data=form, allow_redirects=False, timeout=15)
        assert asked.status_code == 200, asked.status_code  # the password alone opens nothing
        devices = re.findall(r'<option value="(otp_static[^"]+)"', asked.text)
        assert len(devices) == 1, page_text(asked)
        form.update(otp_device=devices[0], otp_token=recovery)
        form["csrfmiddlewaretoken"] = browser.cookies["csrftoken"]
        signed_in = browser.post(login_url, data=form, allow_redirects=False, timeout=15)
        assert signed_in.status_code == 302, page_text(signed_in)
        assert signed_in.headers["Location"] == "/admin/"
        passkeys = browser.get(
            f"{host.public_url}/admin/django_otp_webauthn/webauthncredential/", timeout=15
        )
        assert passkeys.status_code == 200 and "Register a passkey" in passkeys.text
    except AssertionError as exc:
        host.stop()
        raise AssertionError(f"{exc}\n--- server output ---\n{host.output()[-6000:]}") from None
    finally:
        host.stop()


# --- gunicorn, as the README serves it ----------------------------------------------------


def readme_gunicorn(readme: str, port: int) -> list[str]:
    text = readme_block(readme, "gunicorn").replace("\\\n", " ")
    lines = [line for line in text.splitlines() if line.startswith("gunicorn ")]
    if len(lines) != 1:
        raise ReadmeError("the gunicorn block has no single `gunicorn ...` command")
    args = shlex.split(lines[0], comments=True)
    if args[-1] != "yourproject.wsgi":
        raise ReadmeError("the gunicorn command does not end with yourproject.wsgi")
    # gunicorn 27 writes under ~/.gunicorn without --no-control-socket (TESTING-NOTES).
    return [*args[:-1], "--bind", f"127.0.0.1:{port}", "--no-control-socket", "host.wsgi"]


def test_gunicorn_access_log_with_the_readme_format(user_venv, readme, oauth_peer, tmp_path):
    """gunicorn with the README's logger class and access-log format: codes travel in paths
    (and stay redeemable after a 401), states in queries; none appears in its output."""
    run(
        [user_venv.python, "-m", "pip", "install", "-q", "gunicorn"],
        cwd=tmp_path,
        env=user_venv.env,
        timeout=300,
    )
    host = Host.create(user_venv, tmp_path / "gunicorn-host")
    host.port = free_port()
    host.public_url = f"http://127.0.0.1:{host.port}"
    wire_from_readme(host, readme, public_url=host.public_url)
    host.append(
        host.settings_py,
        'DEBUG = False\nALLOWED_HOSTS = ["127.0.0.1"]\nAURINKO_AUTH["ALLOW_LOOPBACK_ENDPOINTS"] = True\n',
    )
    app = run_readme_commands(host, readme, oauth_peer)
    args = readme_gunicorn(readme, host.port)
    host.log_path = host.dir / "gunicorn.log"
    host.log = host.log_path.open("wb")
    host.process = subprocess.Popen(
        [user_venv.path / "bin" / args[0], *args[1:]],
        cwd=host.dir,
        env={**host.env, "PYTHONUNBUFFERED": "1"},
        stdout=host.log,
        stderr=subprocess.STDOUT,
    )
    try:
        host.wait_until_up()
        me = account_flow(host, app, oauth_peer)
        assert me["email"] == "alice@example.com"
        host.stop()
        output = host.output()
        assert "POST /v1/auth/token/acd_[redacted]" in output, output[-3000:]
        assert "/v1/auth/callback?[redacted]" in output, output[-3000:]
        assert_no_secret_in(output)
    finally:
        host.stop()


# --- the demo ------------------------------------------------------------------------------


def test_make_demo_installs_only_the_project_extra(dists):
    """``make demo`` needs ``.[project]``, not the test toolchain (``make test`` installs
    that); checked on the Makefile's own recipes (``make -n``)."""
    source = dists.source
    demo = run(["make", "-n", "demo"], cwd=source).stdout
    installs = [line for line in demo.splitlines() if "pip install" in line and "-e" in line]
    assert installs and all("'.[project]'" in line for line in installs), demo
    test = run(["make", "-n", "test"], cwd=source).stdout
    assert any("'.[test" in line for line in test.splitlines()), test
