"""A real IMAP server for tests: Debian's Dovecot, started on loopback from a passwd-file,
with IMAPS and IMAP+STARTTLS on free ports and a self-signed certificate for 127.0.0.1 and
localhost (trusted through the CA file in ``ca_path``). Stopped by its own PID."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.peers.certs import self_signed
from tests.peers.oauth_server import free_port

MAIL_UID = 65534  # nobody: Dovecot refuses root for mail processes


@dataclass
class Dovecot:
    process: subprocess.Popen
    imaps_port: int
    imap_port: int
    ca_path: Path
    log_path: Path
    workdir: Path

    @classmethod
    def start(cls, users: dict[str, str], *, failure_delay: str = "0") -> Dovecot:
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        # Dovecot's unprivileged processes must traverse every parent: not pytest's 0700 dirs.
        workdir = Path(tempfile.mkdtemp(prefix="aurinko-dovecot-"))
        os.chmod(workdir, 0o755)
        made = self_signed(workdir)
        cert, key = made.cert_path, made.key_path
        mail = workdir / "mail"
        passwd = workdir / "passwd"
        lines = []
        for login, password in users.items():
            home = mail / login
            home.mkdir(parents=True, exist_ok=True)
            os.chown(home, MAIL_UID, MAIL_UID)
            # nodelay: no per-IP penalty after failures (tests fail logins on purpose).
            lines.append(
                f"{login}:{{PLAIN}}{password}:{MAIL_UID}:{MAIL_UID}::{home}::"
                f"{'nodelay=yes nopenalty=yes' if failure_delay == '0' else ''}"
            )
        passwd.write_text("\n".join(lines) + "\n")
        imaps_port, imap_port = free_port(), free_port()
        log_path = workdir / "dovecot.log"
        conf = workdir / "dovecot.conf"
        conf.write_text(f"""
base_dir = {workdir}/run
state_dir = {workdir}/state
log_path = {log_path}
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_failure_delay = {failure_delay}
{"login_trusted_networks = 127.0.0.0/8" if failure_delay == "0" else ""}
first_valid_uid = 100
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {passwd}
}}
userdb {{
  driver = passwd-file
  args = {passwd}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # No per-IP penalty after failed logins (tests fail logins on purpose, all from 127.0.0.1).
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
}}
""")
        process = subprocess.Popen(
            [binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        server = cls(process, imaps_port, imap_port, cert, log_path, workdir)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {server.log()}")
            try:
                with socket.create_connection(("127.0.0.1", imaps_port), timeout=1):
                    return server
            except OSError:
                time.sleep(0.1)
        server.stop()
        raise RuntimeError(f"dovecot did not start: {server.log()}")

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)
