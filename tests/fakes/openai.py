"""A fake OpenAI-compatible chat completions server on 127.0.0.1, driven through real litellm calls.

`answers` is a list consumed in order (then the default repeats): each item is a JSON-able estimate,
a raw string to return as the message content, or one of the behaviours "503", "401", "hang".
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT = {"points": 3, "hours": 4.5, "confidence": 0.7, "rationale": "a focused change to one module"}


class FakeOpenAI:
    def __init__(self, latency: float = 0.0, key: str = "sk-fake-test-key-0001") -> None:
        self.latency = latency
        self.key = key
        self.answers: list[Any] = []
        self.default: Any = DEFAULT
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.hang_s = 30.0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _next(self) -> Any:
        with self.lock:
            return self.answers.pop(0) if self.answers else self.default

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # small header and body writes: no 40 ms delayed-ACK stalls

            def log_message(self, *args: object) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake.lock:
                    fake.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                if fake.latency:
                    time.sleep(fake.latency)
                if self.headers.get("Authorization") != f"Bearer {fake.key}":
                    return self._json(
                        401,
                        {
                            "error": {
                                "message": "Incorrect API key provided",
                                "type": "invalid_request_error",
                                "code": "invalid_api_key",
                            }
                        },
                    )
                answer = fake._next()
                if answer == "503":
                    return self._json(503, {"error": {"message": "The server is overloaded", "type": "server_error"}})
                if answer == "401":
                    return self._json(
                        401,
                        {
                            "error": {
                                "message": "Incorrect API key provided",
                                "type": "invalid_request_error",
                                "code": "invalid_api_key",
                            }
                        },
                    )
                if answer == "hang":
                    time.sleep(fake.hang_s)
                    return None
                content = answer if isinstance(answer, str) else json.dumps(answer)
                prompt = sum(len(m.get("content") or "") for m in body.get("messages", [])) // 4
                return self._json(
                    200,
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "created": 1_795_000_000,
                        "model": body.get("model", "gpt-4o-mini"),
                        "system_fingerprint": "fp_fake",
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content, "refusal": None},
                                "logprobs": None,
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {
                            "prompt_tokens": prompt,
                            "completion_tokens": 25,
                            "total_tokens": prompt + 25,
                        },
                    },
                )

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                raw = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:
                    pass

        return Handler
