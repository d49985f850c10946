"""A real HTTP webhook receiver on loopback: records every request; its answer is scripted
(status code, redirect, or a slow answer that outlasts the sender's timeout)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    port: int = 0
    # Answers for the next requests, in order ("200", "500", "redirect", "slow"); then "200".
    script: list[str] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    slow_seconds: float = 2.0
    _server: ThreadingHTTPServer | None = None
    _release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                action = receiver.script.pop(0) if receiver.script else "200"
                if action == "slow":
                    receiver._release.wait(receiver.slow_seconds)
                    action = "200"
                if action == "redirect":
                    self.send_response(307)
                    self.send_header("Location", f"http://127.0.0.1:{receiver.port}/other")
                else:
                    self.send_response(int(action))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            time.sleep(0)
        self._release = threading.Event()
