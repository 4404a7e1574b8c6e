"""``gapscan watch --serve``: the output folder over HTTP, read-only, and a ``/health`` endpoint.

Only files inside the output folder are served: a path with a ``..`` segment (written plainly or
percent-encoded), a backslash or a NUL byte is refused with 403, and so is any file whose real
path (after following symlinks) lies outside the folder. Dot-files, such as the temporary files
of an atomic write, are never served. Only GET and HEAD are answered; any other method gets 405.
``report.html`` (also served at ``/``) carries a ``Refresh`` header so an open browser tab follows
the updates; the report template itself is not changed.

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
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

log = logging.getLogger("gapscan.serve")

DEFAULT_HOST = "127.0.0.1"
REPORT_PAGE = "report.html"
ALLOWED_METHODS = ("GET", "HEAD")

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

    daemon_threads = False
    block_on_close = True
    request_timeout = 10.0  # seconds a client may stay silent

    def __init__(self, address: tuple[str, int], out_dir: Path, health: Health, *, refresh: int = 30):
        host = address[0]
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.out_dir = Path(out_dir)
        self.health = health
        self.refresh = refresh
        self.loopback_only = _is_loopback(host)
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up in DNS, which can hang on an isolated box.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), port


class _Handler(BaseHTTPRequestHandler):
    server: ReportServer
    server_version = "gapscan"
    sys_version = ""
    protocol_version = "HTTP/1.0"

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        self.timeout = self.server.request_timeout
        super().setup()

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
        code = HTTPStatus.OK if status.get("status") in ("watching", "updating", "catching_up") else \
            HTTPStatus.SERVICE_UNAVAILABLE
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
            # The real path has no symlink left; O_NOFOLLOW refuses one swapped in since. One open
            # file: a report renamed over it meanwhile cannot tear the body.
            descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(descriptor, "rb") as handle:
                body = handle.read()
        except OSError:
            raise Refused(HTTPStatus.NOT_FOUND, "not found") from None
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/json", "application/javascript"):
            content_type += "; charset=utf-8"
        headers = {"Refresh": str(self.server.refresh)} if refresh and self.server.refresh else {}
        self._send(HTTPStatus.OK, body, content_type, headers)

    def _send(self, status: HTTPStatus, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
