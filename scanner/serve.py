"""``gapscan watch --serve``: the output folder over HTTP, read-only, and a ``/health`` endpoint.

Only files inside the output folder are served: a path with a ``..`` segment (written plainly or
percent-encoded), a backslash or a NUL byte is refused with 403, and so is any file whose real
path (after following symlinks) lies outside the folder. Dot-files, such as the temporary files
of an atomic write, are never served. Only GET and HEAD are answered; any other method gets 405.
``report.html`` (also served at ``/``) carries a ``Refresh`` header so an open browser tab follows
the updates; the report template itself is not changed.

Under load: the listen backlog is 1024 (the standard library's 5 left most of a burst of 500
clients unanswered), a file is streamed in 64 KB chunks (40 readers of a 150 MB report cost
kilobytes each, not 150 MB each), and a client that goes away mid-answer is one log line, not a
traceback. ``/health`` answers 503 when the service reports any problem.

The server binds 127.0.0.1 unless it is given another host. Bound to a loopback address, it answers
only requests addressed to a loopback name (``Host: localhost:8080``, ``127.0.0.1``, ``[::1]``): a web
page elsewhere that points its own domain name at 127.0.0.1 (DNS rebinding) gets 403 and never the
report.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import mimetypes
import os
import socket
import socketserver
import stat
import sys
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

log = logging.getLogger("gapscan.serve")

DEFAULT_HOST = "127.0.0.1"
REPORT_PAGE = "report.html"
ALLOWED_METHODS = ("GET", "HEAD")
WORKING = ("watching", "updating", "catching_up")  # statuses that are healthy without problems
_CHUNK = 64 * 1024
# Errors that only say the client is gone (it closed the tab, timed out, reset the connection).
_CLIENT_GONE = (ConnectionError, TimeoutError, socket.timeout)

Health = Callable[[], dict]


def parse_address(text: str, default_host: str = DEFAULT_HOST) -> tuple[str, int]:
    """``PORT``, ``HOST:PORT`` or ``[IPV6]:PORT`` -> (host, port). Raises ValueError."""
    text = text.strip()
    host, port_text = default_host, text
    if text.startswith("["):
        close = text.find("]")
        if close < 0 or not text[close + 1:].startswith(":"):
            raise ValueError(f"{text!r}: write an IPv6 address as [ADDRESS]:PORT")
        host, port_text = text[1:close], text[close + 2:]
    elif ":" in text:
        host, _, port_text = text.rpartition(":")
        if ":" in host:
            raise ValueError(f"{text!r}: write an IPv6 address as [ADDRESS]:PORT")
    if not host:
        raise ValueError(f"{text!r}: the host is empty")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"{text!r}: the port must be a number from 0 to 65535")
    return host, int(port_text)


class Refused(Exception):
    def __init__(self, status: HTTPStatus, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


class ReportServer(ThreadingHTTPServer):
    """Serves ``out_dir`` and ``/health``; call ``serve_forever`` in a thread, then ``shutdown``
    and ``server_close`` (which waits for the requests in progress)."""

    # Request threads are waited for by server_close, up to a deadline; a client that never reads
    # must not keep the process from ending.
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024  # the kernel caps it at net.core.somaxconn
    request_timeout = 10.0  # seconds a client may stay silent

    def __init__(self, address: tuple[str, int], out_dir: Path, health: Health, *, refresh: int = 30):
        host = address[0]
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.out_dir = Path(out_dir)
        self.health = health
        self.refresh = refresh
        self.loopback_only = _is_loopback(host)
        self._requests: set[threading.Thread] = set()
        self._requests_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request_thread(self, request, client_address) -> None:
        with self._requests_lock:
            self._requests.add(threading.current_thread())
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._requests_lock:
                self._requests.discard(threading.current_thread())

    def server_close(self, deadline: float | None = None) -> None:
        """Close the socket and wait for the requests in progress, until ``deadline`` (monotonic
        time; None: however long they take)."""
        super().server_close()
        with self._requests_lock:
            running = list(self._requests)
        for thread in running:
            thread.join(None if deadline is None else max(deadline - time.monotonic(), 0))

    def handle_error(self, request, client_address) -> None:
        """One line per failed request: a client that went away is routine, anything else is logged
        with its error (the traceback only at debug level)."""
        error = sys.exc_info()[1]
        who = client_address[0] if client_address else "?"
        if isinstance(error, _CLIENT_GONE):
            log.info("client %s went away: %s", who, type(error).__name__)
        else:
            log.warning("request from %s failed: %s: %s", who, type(error).__name__, error,
                        exc_info=log.isEnabledFor(logging.DEBUG))

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up in DNS, which can hang on an isolated box.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), port

    @property
    def url(self) -> str:
        """Where the server answers, an IPv6 address in brackets."""
        return f"http://{f'[{self.server_name}]' if ':' in self.server_name else self.server_name}:{self.server_port}"


class _Handler(BaseHTTPRequestHandler):
    server: ReportServer
    server_version = "gapscan"
    sys_version = ""
    protocol_version = "HTTP/1.0"

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.request_timeout)  # the server's, which a test may shorten

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.command not in ALLOWED_METHODS:
            self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"method not allowed\n", "text/plain; charset=utf-8",
                       {"Allow": ", ".join(ALLOWED_METHODS)})
            return False
        return True

    def do_GET(self) -> None:
        self._respond()

    def do_HEAD(self) -> None:
        self._respond()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        log.debug("%s %s", self.address_string(), format % args)

    # ---------------------------------------------------------------------------------------------

    def _respond(self) -> None:
        try:
            self._check_host()
            target = urlsplit(self.path).path
            if target in ("/health", "/health/"):
                self._health()
                return
            self._file(self._resolve(target), refresh=target in ("/", f"/{REPORT_PAGE}"))
        except Refused as refused:
            self._send(refused.status, f"{refused}\n".encode(), "text/plain; charset=utf-8", refused.headers)

    def _check_host(self) -> None:
        host = self.headers.get("Host")
        if not self.server.loopback_only or host is None:
            return
        name = host[1:host.find("]")] if host.startswith("[") else host.rpartition(":")[0] or host
        if not _is_loopback(name):
            raise Refused(HTTPStatus.FORBIDDEN, "forbidden: this server answers only to localhost")

    def _health(self) -> None:
        try:
            status = self.server.health()
        except Exception:  # noqa: BLE001 - report it, don't drop the connection
            log.exception("health failed")
            status = {"status": "error"}
        healthy = status.get("status") in WORKING and not status.get("problems")
        code = HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE
        body = (json.dumps(status, indent=2, sort_keys=True) + "\n").encode()
        self._send(code, body, "application/json")

    def _resolve(self, target: str) -> Path:
        """The real path of the requested file, which must lie inside the output folder."""
        if not target.startswith("/"):
            raise Refused(HTTPStatus.BAD_REQUEST, "bad request")
        try:
            decoded = unquote(target, errors="strict")
        except UnicodeDecodeError:
            raise Refused(HTTPStatus.BAD_REQUEST, "bad request") from None
        if "\x00" in decoded or "\\" in decoded:
            raise Refused(HTTPStatus.FORBIDDEN, "forbidden")
        parts = [p for p in decoded.split("/") if p]
        if ".." in parts:
            raise Refused(HTTPStatus.FORBIDDEN, "forbidden")
        if any(p.startswith(".") for p in parts):
            raise Refused(HTTPStatus.NOT_FOUND, "not found")
        if not parts:
            parts = [REPORT_PAGE]
        base = os.path.realpath(self.server.out_dir)
        real = os.path.realpath(os.path.join(base, *parts))
        if os.path.commonpath([base, real]) != base:
            raise Refused(HTTPStatus.FORBIDDEN, "forbidden")
        if not os.path.isfile(real):
            if parts == [REPORT_PAGE]:
                raise Refused(HTTPStatus.SERVICE_UNAVAILABLE, "the report is not ready yet",
                              {"Retry-After": "5", "Refresh": "5"})
            raise Refused(HTTPStatus.NOT_FOUND, "not found")
        return Path(real)

    def _file(self, path: Path, refresh: bool) -> None:
        try:
            # The real path has no symlink left; O_NOFOLLOW refuses one swapped in since, and
            # O_NONBLOCK a FIFO. One open file, streamed: a report renamed over it meanwhile
            # cannot tear the body.
            flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
            descriptor = os.open(path, flags)
        except OSError:
            raise Refused(HTTPStatus.NOT_FOUND, "not found") from None
        with os.fdopen(descriptor, "rb") as handle:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                raise Refused(HTTPStatus.NOT_FOUND, "not found")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if content_type.startswith("text/") or content_type in ("application/json", "application/javascript"):
                content_type += "; charset=utf-8"
            headers = {"Refresh": str(self.server.refresh)} if refresh and self.server.refresh else {}
            self._headers(HTTPStatus.OK, info.st_size, content_type, headers)
            if self.command == "HEAD":
                return
            left = info.st_size
            while left > 0 and (chunk := handle.read(min(_CHUNK, left))):
                self.wfile.write(chunk)
                left -= len(chunk)

    def _send(self, status: HTTPStatus, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self._headers(status, len(body), content_type, headers)
        if self.command != "HEAD":
            self.wfile.write(body)

    def _headers(self, status: HTTPStatus, length: int, content_type: str, headers: dict[str, str] | None) -> None:
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
