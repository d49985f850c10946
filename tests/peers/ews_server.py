"""The smallest honest Exchange Web Services endpoint for tests: HTTPS on 127.0.0.1 with a
self-signed certificate (trusted through ``ca_path``), real server-side NTLM (pyspnego's NTLM
acceptor, with channel binding to the certificate, users from an ``NTLM_USER_FILE``) and/or
Basic authentication, answering the SOAP operations a sign-in sends (ConvertId, which
exchangelib uses to learn the server version, and ResolveNames) with the response shapes
from Microsoft's EWS reference.

Modes: ``ews`` (the endpoint), ``html`` (a web server that is not EWS: 200 text/html to
everything) and ``slow`` (accepts, completes TLS, then never answers until stopped).

NTLM's acceptor reads its users from the file named by the NTLM_USER_FILE environment
variable: set ``os.environ["NTLM_USER_FILE"] = str(server.user_file)`` (tests use
monkeypatch) while the server runs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import http.server
import ssl
import tempfile
import threading
import xml.etree.ElementTree as ET  # noqa: N817 (building only; parsing is defusedxml's)
from dataclasses import dataclass, field
from pathlib import Path

import spnego
import spnego.channel_bindings
from defusedxml import ElementTree as SafeET

from tests.peers.certs import self_signed

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
MESSAGES = "http://schemas.microsoft.com/exchange/services/2006/messages"
TYPES = "http://schemas.microsoft.com/exchange/services/2006/types"
AUTODISCOVER = "http://schemas.microsoft.com/exchange/2010/Autodiscover"
ADDRESSING = "http://www.w3.org/2005/08/addressing"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PATH = "/EWS/Exchange.asmx"
AUTODISCOVER_PATH = "/autodiscover/autodiscover.svc"
NAMES = ("localhost", "ews.example.test", "example.com", "autodiscover.example.com")

ET.register_namespace("s", SOAP)
ET.register_namespace("m", MESSAGES)
ET.register_namespace("t", TYPES)
ET.register_namespace("a", ADDRESSING)
ET.register_namespace("i", XSI)


@dataclass
class User:
    login: str  # what the user types: alice@example.com or DOMAIN\bob
    password: str
    name: str
    smtp: str


def _envelope(body: ET.Element) -> bytes:
    """A SOAP response with the ServerVersionInfo header Exchange 2016 CU sends."""
    envelope = ET.Element(f"{{{SOAP}}}Envelope")
    header = ET.SubElement(envelope, f"{{{SOAP}}}Header")
    ET.SubElement(
        header,
        f"{{{TYPES}}}ServerVersionInfo",
        {
            "MajorVersion": "15",
            "MinorVersion": "1",
            "MajorBuildNumber": "2507",
            "MinorBuildNumber": "6",
            "Version": "V2017_07_11",
        },
    )
    ET.SubElement(envelope, f"{{{SOAP}}}Body").append(body)
    return ET.tostring(envelope, encoding="utf-8", xml_declaration=True)


def _response(
    operation: str, klass: str, code: str, text: str = ""
) -> tuple[ET.Element, ET.Element]:
    response = ET.Element(f"{{{MESSAGES}}}{operation}Response")
    messages = ET.SubElement(response, f"{{{MESSAGES}}}ResponseMessages")
    message = ET.SubElement(
        messages, f"{{{MESSAGES}}}{operation}ResponseMessage", {"ResponseClass": klass}
    )
    if text:
        ET.SubElement(message, f"{{{MESSAGES}}}MessageText").text = text
    ET.SubElement(message, f"{{{MESSAGES}}}ResponseCode").text = code
    if klass == "Error":
        ET.SubElement(message, f"{{{MESSAGES}}}DescriptiveLinkKey").text = "0"
    return response, message


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: NTLM authenticates the connection
    server: EWSHTTPServer

    def setup(self) -> None:
        super().setup()
        self.ntlm = None  # the NTLM handshake in progress on this connection
        self.ntlm_user = ""  # who NTLM authenticated on this connection

    def log_message(self, *args: object) -> None:
        pass

    # --- plumbing -----------------------------------------------------------------------------
    def _send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "text/xml; charset=utf-8",
        challenges: tuple[str, ...] = (),
    ) -> None:
        self.send_response(status)
        for challenge in challenges:
            self.send_header("WWW-Authenticate", challenge)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _challenges(self) -> tuple[str, ...]:
        offered = []
        if "NTLM" in self.server.auth:
            offered.append("NTLM")
        if "Basic" in self.server.auth:
            offered.append('Basic realm="ews.example.test"')
        return tuple(offered)

    def do_GET(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._dispatch(b"")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _dispatch(self, body: bytes) -> None:
        self.server.requests.append((self.command, self.path, self.headers.get("Authorization")))
        if self.server.mode == "slow":
            self.server.stopping.wait()
            return
        if self.server.mode == "html":
            self._send(
                200,
                b"<!doctype html><title>Welcome</title><p>It works.</p>",
                "text/html; charset=utf-8",
            )
            return
        path = self.path.lower()
        if self.command != "POST" or path not in (PATH.lower(), AUTODISCOVER_PATH):
            self._send(404, b"Not Found", "text/plain")
            return
        user = self._authenticate()
        if user is None:
            return
        self.server.signed_in.append(user)
        if path == AUTODISCOVER_PATH:
            self._autodiscover(body, user)
        else:
            self._soap(body, user)

    # --- authentication -----------------------------------------------------------------------
    def _authenticate(self) -> User | None:
        """The user of this request, or None after answering 401 (challenge or refusal)."""
        if self.ntlm_user:
            return self.server.users_by_login[self.ntlm_user]
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.upper() == "NTLM" and "NTLM" in self.server.auth:
            return self._ntlm(value.strip())
        if scheme.upper() == "BASIC" and "Basic" in self.server.auth:
            return self._basic(value.strip())
        self._send(401, challenges=self._challenges())
        return None

    def _ntlm(self, value: str) -> User | None:
        try:
            token = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            self._send(400, b"Bad NTLM token", "text/plain")
            return None
        if self.ntlm is None:
            self.ntlm = spnego.server(
                protocol="ntlm",
                options=spnego.NegotiateOptions.use_ntlm,
                channel_bindings=self.server.channel_bindings,
            )
        try:
            out = self.ntlm.step(token)
        except spnego.exceptions.SpnegoError:
            self.ntlm = None  # a wrong password (or a bad binding): refused
            self._send(401, challenges=self._challenges())
            return None
        if not self.ntlm.complete:
            self._send(401, challenges=(f"NTLM {base64.b64encode(out or b'').decode()}",))
            return None
        principal = self.ntlm.client_principal or ""
        self.ntlm = None
        user = self.server.users_by_principal.get(principal.lower())
        if user is None:
            self._send(401, challenges=self._challenges())
            return None
        self.ntlm_user = user.login.lower()
        return user

    def _basic(self, value: str) -> User | None:
        try:
            login, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, ValueError):
            login, password = "", ""
        user = self.server.users_by_login.get(login.lower())
        if user is None or user.password != password:
            self._send(401, challenges=self._challenges())
            return None
        return user

    # --- SOAP ---------------------------------------------------------------------------------
    def _autodiscover(self, body: bytes, user: User) -> None:
        """SOAP autodiscover's GetUserSettings: the EWS URL of the user's own mailbox."""
        try:
            envelope = SafeET.fromstring(body)
            request = envelope.find(
                f"{{{SOAP}}}Body/{{{AUTODISCOVER}}}GetUserSettingsRequestMessage"
                f"/{{{AUTODISCOVER}}}Request"
            )
            asked = (
                (
                    request.findtext(
                        f"{{{AUTODISCOVER}}}Users/{{{AUTODISCOVER}}}User/{{{AUTODISCOVER}}}Mailbox"
                    )
                    or ""
                )
                .strip()
                .lower()
            )
            wanted = [
                e.text
                for e in request.iterfind(
                    f"{{{AUTODISCOVER}}}RequestedSettings/{{{AUTODISCOVER}}}Setting"
                )
            ]
        except (SafeET.ParseError, AttributeError):
            self._send(400, b"Bad Request", "text/plain")
            return
        envelope = ET.Element(f"{{{SOAP}}}Envelope")
        header = ET.SubElement(envelope, f"{{{SOAP}}}Header")
        ET.SubElement(
            header, f"{{{ADDRESSING}}}Action", {f"{{{SOAP}}}mustUnderstand": "1"}
        ).text = (
            "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/"
            "GetUserSettingsResponse"
        )
        info = ET.SubElement(header, f"{{{AUTODISCOVER}}}ServerVersionInfo")
        for name, value in (
            ("MajorVersion", "15"),
            ("MinorVersion", "1"),
            ("MajorBuildNumber", "2507"),
            ("MinorBuildNumber", "6"),
            ("Version", "Exchange2015"),
        ):
            ET.SubElement(info, f"{{{AUTODISCOVER}}}{name}").text = value
        message = ET.SubElement(
            ET.SubElement(envelope, f"{{{SOAP}}}Body"),
            f"{{{AUTODISCOVER}}}GetUserSettingsResponseMessage",
        )
        response = ET.SubElement(message, f"{{{AUTODISCOVER}}}Response")
        ET.SubElement(response, f"{{{AUTODISCOVER}}}ErrorCode").text = "NoError"
        ET.SubElement(response, f"{{{AUTODISCOVER}}}ErrorMessage")
        answer = ET.SubElement(
            ET.SubElement(response, f"{{{AUTODISCOVER}}}UserResponses"),
            f"{{{AUTODISCOVER}}}UserResponse",
        )
        known = asked == user.smtp.lower()  # a user may only ask about their own mailbox
        ET.SubElement(answer, f"{{{AUTODISCOVER}}}ErrorCode").text = (
            "NoError" if known else "InvalidUser"
        )
        ET.SubElement(answer, f"{{{AUTODISCOVER}}}ErrorMessage").text = (
            "No error." if known else f"Invalid user: '{asked}'"
        )
        ET.SubElement(answer, f"{{{AUTODISCOVER}}}RedirectTarget", {f"{{{XSI}}}nil": "true"})
        ET.SubElement(answer, f"{{{AUTODISCOVER}}}UserSettingErrors")
        settings = ET.SubElement(answer, f"{{{AUTODISCOVER}}}UserSettings")
        if known and "ExternalEwsUrl" in wanted:
            setting = ET.SubElement(
                settings, f"{{{AUTODISCOVER}}}UserSetting", {f"{{{XSI}}}type": "StringSetting"}
            )
            ET.SubElement(setting, f"{{{AUTODISCOVER}}}Name").text = "ExternalEwsUrl"
            ET.SubElement(setting, f"{{{AUTODISCOVER}}}Value").text = self.server.ews_url
        self._send(200, ET.tostring(envelope, encoding="utf-8", xml_declaration=True))

    def _soap(self, body: bytes, user: User) -> None:
        try:
            envelope = SafeET.fromstring(body)
            operation = next(iter(envelope.find(f"{{{SOAP}}}Body")))
        except (SafeET.ParseError, TypeError, StopIteration):
            self._send(400, b"Bad Request", "text/plain")
            return
        name = operation.tag.rsplit("}", 1)[-1]
        if name == "ConvertId":
            # Nothing to convert here: the answer Exchange gives for a malformed id (what
            # exchangelib's version guess sends), with the version header it reads.
            response, _ = _response(
                "ConvertId", "Error", "ErrorInvalidIdMalformed", "Id is malformed."
            )
        elif name == "ResolveNames":
            entry = (operation.findtext(f"{{{MESSAGES}}}UnresolvedEntry") or "").strip().lower()
            found = [
                u
                for u in self.server.users
                if entry
                and entry in (u.smtp.lower(), u.login.lower(), u.login.lower().rsplit("\\", 1)[-1])
            ]
            if not found:
                response, _ = _response(
                    "ResolveNames",
                    "Error",
                    "ErrorNameResolutionNoResults",
                    "No results were found.",
                )
            else:
                response, message = _response("ResolveNames", "Success", "NoError")
                resolutions = ET.SubElement(
                    message,
                    f"{{{MESSAGES}}}ResolutionSet",
                    {"TotalItemsInView": str(len(found)), "IncludesLastItemInRange": "true"},
                )
                for match in found:
                    mailbox = ET.SubElement(
                        ET.SubElement(resolutions, f"{{{TYPES}}}Resolution"), f"{{{TYPES}}}Mailbox"
                    )
                    ET.SubElement(mailbox, f"{{{TYPES}}}Name").text = match.name
                    ET.SubElement(mailbox, f"{{{TYPES}}}EmailAddress").text = match.smtp
                    ET.SubElement(mailbox, f"{{{TYPES}}}RoutingType").text = "SMTP"
                    ET.SubElement(mailbox, f"{{{TYPES}}}MailboxType").text = "Mailbox"
        else:
            response, _ = _response(
                name,
                "Error",
                "ErrorInvalidRequest",
                "This test server does not implement the operation.",
            )
        self._send(200, _envelope(response))


class EWSHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


@dataclass
class EWSServer:
    httpd: EWSHTTPServer
    ca_path: Path
    user_file: Path
    workdir: tempfile.TemporaryDirectory
    thread: threading.Thread
    requests: list = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}{PATH}"

    @property
    def signed_in(self) -> list[User]:
        return self.httpd.signed_in

    @classmethod
    def start(
        cls, users: list[User], *, auth: tuple[str, ...] = ("NTLM", "Basic"), mode: str = "ews"
    ) -> EWSServer:
        workdir = tempfile.TemporaryDirectory(prefix="ews-")
        directory = Path(workdir.name)
        made = self_signed(directory, NAMES)
        cert_path, key_path, der = made.cert_path, made.key_path, made.der
        # pyspnego's NTLM acceptor reads users as DOMAIN:USER:PASSWORD lines.
        user_file = directory / "ntlm_users"
        lines = []
        for user in users:
            domain, _, name = user.login.rpartition("\\")
            lines.append(f"{domain}:{name}:{user.password}")
        user_file.write_text("\n".join(lines) + "\n")
        user_file.chmod(0o600)

        httpd = EWSHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        httpd.users = list(users)
        httpd.users_by_login = {u.login.lower(): u for u in users}
        # The principal pyspnego reports: DOMAIN\user, or the bare user without a domain.
        httpd.users_by_principal = {u.login.lower(): u for u in users}
        httpd.auth = auth
        httpd.mode = mode
        httpd.requests = []
        # What autodiscover answers as the EWS URL (tests may name it by a host name).
        httpd.ews_url = f"https://127.0.0.1:{httpd.server_address[1]}{PATH}"
        httpd.signed_in = []
        httpd.stopping = threading.Event()
        # RFC 5929 tls-server-end-point: the NTLM client binds its answer to this certificate.
        httpd.channel_bindings = spnego.channel_bindings.GssChannelBindings(
            application_data=b"tls-server-end-point:" + hashlib.sha256(der).digest()
        )
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        server = cls(
            httpd=httpd, ca_path=cert_path, user_file=user_file, workdir=workdir, thread=thread
        )
        server.requests = httpd.requests
        return server

    def stop(self) -> None:
        self.httpd.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
        self.workdir.cleanup()
