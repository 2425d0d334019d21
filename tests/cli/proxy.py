"""Proxies on the loopback between the ``intake`` program and the real server.

``Proxy`` (TCP) breaks things the way networks and hostile servers do: cut a connection
after N bytes, stall it (so the program can be interrupted mid-transfer), or rewrite
bytes the server sends. ``Tamper`` (HTTP) plays a compromised server: it forwards to the
real one and lets a test rewrite chosen answers (JSON, status, headers) or answer in
its place, and logs what the client sent. Both only ever connect to the test's own
server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import httpx

Direction = Literal["up", "down"]


class Proxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.lock = threading.Lock()
        self.limit: dict[Direction, int | None] = {"up": None, "down": None}
        self.counted: dict[Direction, int] = {"up": 0, "down": 0}
        self.mode: Literal["cut", "hold"] = "cut"
        self.tripped = threading.Event()
        self.released = threading.Event()
        self.rewrite: tuple[bytes, bytes] | None = None
        self.requests: list[bytes] = []
        self.sockets: list[socket.socket] = []
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def arm(self, direction: Direction, after: int, mode: Literal["cut", "hold"] = "cut") -> None:
        """Once ``after`` more bytes went ``direction``, cut (or stall) that connection."""
        with self.lock:
            self.limit[direction] = after
            self.counted[direction] = 0
            self.mode = mode
            self.tripped.clear()
            self.released.clear()

    def release(self) -> None:
        """End a stall: the stalled connection is closed, traffic flows again."""
        self.released.set()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, "up"), daemon=True).start()
            threading.Thread(
                target=self._pump, args=(upstream, client, "down"), daemon=True
            ).start()

    def _pump(self, source: socket.socket, sink: socket.socket, direction: Direction) -> None:
        try:
            while data := source.recv(65536):
                if direction == "up" and data[:8].split(b" ")[0].isupper():
                    with self.lock:
                        self.requests.append(data[:2048])
                if direction == "down" and self.rewrite is not None:
                    old, new = self.rewrite
                    data = data.replace(old, new)
                cut = False
                with self.lock:
                    limit = self.limit[direction]
                    if limit is not None and not self.tripped.is_set():
                        room = limit - self.counted[direction]
                        if len(data) >= room:
                            data, cut = data[: max(room, 0)], True
                            self.tripped.set()
                            self.limit[direction] = None
                        self.counted[direction] += len(data)
                if data:
                    sink.sendall(data)
                if cut:
                    if self.mode == "hold":
                        self.released.wait(timeout=120)
                    break
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                end.close()

    def close(self) -> None:
        self.released.set()
        self.listener.close()
        with self.lock:
            for end in self.sockets:
                with contextlib.suppress(OSError):
                    end.close()

    def saw_header(self, header: bytes) -> bool:
        with self.lock:
            return any(header.lower() in request.lower() for request in self.requests)


@contextmanager
def proxy_to(base_url: str) -> Iterator[Proxy]:
    proxy = Proxy(int(base_url.rsplit(":", 1)[1]))
    try:
        yield proxy
    finally:
        proxy.close()


# -- an HTTP-level malicious server --------------------------------------------------


@dataclass
class Exchange:
    """One request through ``Tamper`` and the answer it will give (editable by rules)."""

    method: str
    path: str
    body: bytes
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""

    def json(self) -> Any:
        return json.loads(self.content)

    def set_json(self, data: Any) -> None:
        self.content = json.dumps(data).encode()
        self.headers["content-type"] = "application/json"


Rule = Callable[[Exchange], bool | None]
"""Edits an exchange; returns True once it has done what it was for (then it is dropped)."""

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class Tamper:
    """An HTTP proxy on the loopback that plays a compromised server: it forwards every
    request to the real one, and lets a test rewrite what comes back for chosen paths —
    add a holder, a key the server "confirmed", an epoch, change a date or a Location —
    or answer in the server's place (``before`` rules run before forwarding). Every
    request is logged (method, path, body) so a test can check what the client sent."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.after: list[tuple[str, re.Pattern[str], Rule]] = []
        self.before: list[tuple[str, re.Pattern[str], Rule]] = []
        self.log: list[Exchange] = []
        self.lock = threading.Lock()
        self.client = httpx.Client(base_url=self.upstream, timeout=60, follow_redirects=False)
        tamper = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _any(self) -> None:
                tamper._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _any  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def on(self, method: str, pattern: str, rule: Rule, *, before: bool = False) -> None:
        """Run ``rule`` on exchanges whose method and path (with query) match."""
        with self.lock:
            (self.before if before else self.after).append((method, re.compile(pattern), rule))

    def json_rule(self, method: str, pattern: str, edit: Callable[[Any], Any]) -> None:
        """Rewrite the JSON answer to matching requests with ``edit`` (every time)."""

        def rule(exchange: Exchange) -> None:
            if 200 <= exchange.status < 300 and exchange.content:
                exchange.set_json(edit(exchange.json()))

        self.on(method, pattern, rule)

    def sent(self, method: str, pattern: str) -> list[Exchange]:
        with self.lock:
            return [e for e in self.log if e.method == method and re.search(pattern, e.path)]

    def _rules(self, rules: list[tuple[str, re.Pattern[str], Rule]], exchange: Exchange) -> None:
        with self.lock:
            matching = [
                entry
                for entry in rules
                if entry[0] == exchange.method and entry[1].search(exchange.path)
            ]
        for entry in matching:
            if entry[2](exchange):
                with self.lock:
                    rules.remove(entry)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        exchange = Exchange(handler.command, handler.path, body)
        with self.lock:
            self.log.append(exchange)
        self._rules(self.before, exchange)
        if not exchange.status:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP | {"host"}}
            answer = self.client.request(
                exchange.method, exchange.path, content=body, headers=headers
            )
            exchange.status = answer.status_code
            exchange.headers = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
            exchange.content = answer.content
            self._rules(self.after, exchange)
        handler.send_response(exchange.status)
        for key, value in exchange.headers.items():
            handler.send_header(key, value)
        if exchange.status not in (204, 304) and not 100 <= exchange.status < 200:
            handler.send_header("content-length", str(len(exchange.content)))
        handler.end_headers()
        if exchange.method != "HEAD" and exchange.status not in (204, 304):
            handler.wfile.write(exchange.content)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.client.close()


@contextmanager
def tamper(base_url: str) -> Iterator[Tamper]:
    made = Tamper(base_url)
    try:
        yield made
    finally:
        made.close()
