"""Fake webhook receivers on 127.0.0.1 in the style of Make.com, Slack, Discord and a generic endpoint.

`script[path]` is a list of replies used in order, then the style's normal answer: a tuple
(status, body, headers) or "hang".
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NORMAL = {
    "make": (200, "Accepted", {}),
    "slack": (200, "ok", {}),
    "discord": (204, "", {}),
    "hook": (200, '{"received": true}', {"Content-Type": "application/json"}),
}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class FakeReceivers:
    def __init__(self) -> None:
        self.script: dict[str, list[Any]] = {}
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.hang_s = 5.0
        self.latency = 0.0  # seconds before each answer, so senders really overlap
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, style: str, secret: str = "T0ACME/B0TEAM/s3cr3tT0k3n") -> str:
        """A URL whose path carries a secret, as real webhook URLs do."""
        return f"{self.base}/{style}/{secret}"

    def __enter__(self) -> FakeReceivers:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def of(self, style: str) -> list[Received]:
        return [r for r in self.received if r.path.split("/")[1] == style]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                style = self.path.split("/")[1]
                with fake.lock:
                    fake.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    queue = fake.script.get(style) or []
                    reply = queue.pop(0) if queue else NORMAL.get(style, (404, "no such hook", {}))
                if fake.latency:
                    time.sleep(fake.latency)
                if reply == "hang":
                    time.sleep(fake.hang_s)
                    return
                status, text, headers = reply
                raw = text.encode()
                try:
                    self.send_response(status)
                    for k, v in {"Content-Type": "text/plain", **headers}.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:
                    pass

        return Handler
