"""A small OpenAI-compatible HTTP server on 127.0.0.1 that fails on purpose, for tests.

It answers ``POST /v1/chat/completions`` by echoing the last user message, unless a plan says
otherwise. Plans are keyed by that message, so concurrent requests each follow their own script:

    server.plan("a", Fault.status(429, retry_after="0.2"), Fault.ok())

Every request is recorded (``server.requests``) so a test can prove retries happened and that no
result was lost or duplicated. ``reply`` scripts the text of healthy answers (by request payload
and 1-based request number) and ``delay`` slows every answer, so the same server also stands in
for a scripted or a slow model.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from attunement.backends.llama_server import free_port

__all__ = ["Fault", "FaultServer", "free_port"]

FaultKind = Literal["ok", "status", "malformed", "hang", "drop"]


@dataclass(frozen=True)
class Fault:
    """What the server does with one request."""

    kind: FaultKind
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @classmethod
    def ok(cls) -> Fault:
        return cls("ok")

    @classmethod
    def status_code(cls, status: int, *, retry_after: str | None = None) -> Fault:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return cls("status", status=status, headers=headers)

    @classmethod
    def malformed(cls) -> Fault:
        return cls("malformed")

    @classmethod
    def hang(cls, seconds: float) -> Fault:
        return cls("hang", seconds=seconds)

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without answering."""
        return cls("drop")


def _reply(prompt: str, text: str, model: str) -> dict[str, Any]:
    """A chat completion; usage counts words (prompt, reply) so tests can check it."""
    n_in, n_out = len(prompt.split()), len(text.split())
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": n_in,
            "completion_tokens": n_out,
            "total_tokens": n_in + n_out,
        },
    }


ReplyFn = Callable[[dict[str, Any], int], str]


class FaultServer:
    """Start with ``with FaultServer() as server:``; ``server.base_url`` ends in ``/v1``.

    Args:
        reply: text of a healthy answer from (request payload, request number); default echo.
        delay: seconds every request waits before it is answered (cut short at shutdown).
    """

    def __init__(self, *, reply: ReplyFn | None = None, delay: float = 0.0) -> None:
        self._reply_text = reply
        self._delay = delay
        self._plans: dict[str, list[Fault]] = defaultdict(list)
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.requests: list[dict[str, Any]] = []
        self.answered: list[str] = []  # contents that got a 200 reply
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def plan(self, content: str, *faults: Fault) -> None:
        """What to do with the next requests whose last user message is ``content``."""
        with self._lock:
            self._plans[content].extend(faults)

    @property
    def payloads(self) -> list[dict[str, Any]]:
        """The JSON body of every request, in arrival order."""
        with self._lock:
            return [r["payload"] for r in self.requests]

    def count(self, content: str) -> int:
        """How many requests carried ``content`` as their last user message."""
        with self._lock:
            return sum(1 for r in self.requests if r["content"] == content)

    def _next(self, content: str) -> Fault:
        with self._lock:
            plan = self._plans.get(content)
            return plan.pop(0) if plan else Fault.ok()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length) or b"{}")
                users = [m for m in payload.get("messages", []) if m.get("role") == "user"]
                content = users[-1]["content"] if users else ""
                with server._lock:
                    number = len(server.requests) + 1
                    server.requests.append(
                        {
                            "content": content,
                            "path": self.path,
                            "authorization": self.headers.get("Authorization", ""),
                            "payload": payload,
                            "time": time.monotonic(),
                        }
                    )
                if server._delay:
                    server._release.wait(server._delay)
                fault = server._next(content)
                if fault.kind == "hang":
                    server._release.wait(fault.seconds)
                    fault = Fault.ok()
                if fault.kind == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault.kind == "malformed":
                    self._send(200, b'{"id": "x", "choices": [{"message": {"content": ', {})
                    return
                if fault.kind == "status":
                    err = {"error": {"message": f"injected {fault.status}", "type": "fault"}}
                    with contextlib.suppress(OSError):
                        self._send(fault.status, json.dumps(err).encode(), fault.headers)
                    return
                text = (
                    server._reply_text(payload, number)
                    if server._reply_text is not None
                    else f"echo: {content}"
                )
                body = _reply(content, text, payload.get("model", "fault"))
                try:
                    self._send(200, json.dumps(body).encode(), {})
                except OSError:  # the client gave up (timeout) before the answer came
                    return
                with server._lock:
                    server.answered.append(content)

        return Handler

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
