"""A webhook receiver on 127.0.0.1 for the clocks' tests and benchmark: records what it is sent.

``Receiver(answer)`` serves HTTP/1.1 (keep-alive) in a thread; ``answer(path, headers, body)``
returns ``(status, extra_headers)`` or sleeps to time out. Every request is kept in ``.got`` as
``Got(path, headers, body, at)``. Only loopback is ever bound (tests send no traffic elsewhere).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Got:
    path: str
    headers: dict[str, str]
    body: str
    at: float

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


Answer = Callable[[str, dict[str, str], str], "tuple[int, dict[str, str]]"]


def ok(path: str, headers: dict[str, str], body: str) -> tuple[int, dict[str, str]]:
    return 200, {}


class Receiver:
    def __init__(self, answer: Answer = ok) -> None:
        self.answer = answer
        self.got: list[Got] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                if len(raw) < length:  # the sender died mid-request (a killed server): nothing was delivered
                    self.close_connection = True
                    return
                body = raw.decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.got.append(Got(self.path, headers, body, time.time()))
                try:
                    status, extra = receiver.answer(self.path, headers, body)
                except Exception:  # noqa: BLE001
                    status, extra = 500, {}
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.request_queue_size = 256  # a burst of connections is not refused
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> set[str]:
        with self._lock:
            return {g.id for g in self.got}
