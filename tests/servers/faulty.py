"""A small HTTP proxy that passes requests to a real server and breaks the ones asked.

Used in front of Radicale to see what the CalDAV connector does when a server
drops a connection mid-answer, answers with garbage, or stalls. Each request is
forwarded whole on its own connection (``Connection: close``), and its answer
is returned whole, unless a fault is set for its method:

- ``"cut"``: the status line, the headers and half of the body, then the
  connection is closed (a server or a network dropping mid-REPORT);
- ``"garbage"``: 207 with a body that is not XML (a broken proxy page);
- ``"stall"``: no answer at all, until the proxy stops (a server stuck
  expanding a rule it cannot handle).
"""

from __future__ import annotations

import contextlib
import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

GARBAGE = b"<html><body>502 Bad Gateway <b>upstream</b></body>"  # not XML: unclosed tags


class FaultyProxy:
    """A proxy on a free loopback port; `faults` maps an HTTP method to a fault."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.faults: dict[str, str] = {}
        self.seen: list[str] = []
        self._release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy.seen.append(self.command)
                fault = proxy.faults.get(self.command)
                if fault == "stall":
                    proxy._release.wait(60)
                    self.close_connection = True
                    return
                if fault == "garbage":
                    self._send(207, {"Content-Type": "text/xml; charset=utf-8"}, GARBAGE)
                    return
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname or "127.0.0.1", proxy.upstream.port, timeout=30
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                upstream.request(self.command, self.path, body, headers)
                answer = upstream.getresponse()
                data = answer.read()
                passed = {
                    k: v
                    for k, v in answer.getheaders()
                    if k.lower() not in ("connection", "transfer-encoding", "content-length")
                }
                upstream.close()
                if fault == "cut":
                    self.send_response(answer.status)
                    for key, value in passed.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self._send(answer.status, passed, data)

            def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                self.close_connection = True

            do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = _forward
            do_OPTIONS = do_MKCALENDAR = do_PROPPATCH = do_HEAD = do_POST = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def faulty_proxy(upstream: str) -> Iterator[FaultyProxy]:
    proxy = FaultyProxy(upstream)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
