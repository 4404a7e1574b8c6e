"""``--serve``: a real HTTP server on 127.0.0.1 (ephemeral port) serving only the output folder."""

from __future__ import annotations

import http.client
import json
import logging
import os
import threading
import time
from pathlib import Path

import pytest

from gapscan.scanner.output import write_atomic
from gapscan.scanner.serve import ReportServer, parse_address

SECRET = "secret outside the output folder"


@pytest.fixture
def out(tmp_path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "report.html").write_text("<!doctype html><title>report</title><p>v1</p>", encoding="utf-8")
    (folder / "report.json").write_text('{"schema": "gapscan.report/1"}', encoding="utf-8")
    (folder / "assets").mkdir()
    (folder / "assets" / "notes.txt").write_text("inside", encoding="utf-8")
    (folder / ".report.html.abc.tmp").write_text("half a report", encoding="utf-8")
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "secret.txt").write_text(SECRET, encoding="utf-8")
    os.symlink(tmp_path / "secret.txt", folder / "leak.txt")
    os.symlink(tmp_path / "private", folder / "linked")
    os.symlink(folder / "report.json", folder / "alias.json")  # a link that stays inside is fine
    return folder


@pytest.fixture
def server(out):
    baseline = set(threading.enumerate())
    health = {"status": "watching", "last_scan": "2026-11-25T10:00:00+00:00", "documents": 3, "queue": 0}
    server = ReportServer(parse_address("0"), out, lambda: dict(health), refresh=15)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    server.health_state = health
    yield server
    server.shutdown()
    thread.join()
    server.server_close()
    assert set(threading.enumerate()) <= baseline


def request(server: ReportServer, method: str, path: str,
            host_header: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """Send ``path`` exactly as written (http.client does not normalise or re-encode it)."""
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.putrequest(method, path, skip_host=host_header is not None, skip_accept_encoding=True)
        if host_header is not None:
            connection.putheader("Host", host_header)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_binds_loopback_by_default():
    assert parse_address("8080") == ("127.0.0.1", 8080)
    assert parse_address("0.0.0.0:8080") == ("0.0.0.0", 8080)
    assert parse_address("[::1]:9000") == ("::1", 9000)
    for bad in ("", "http", "host:", ":80", "::1:80", "[::1]", "70000"):
        with pytest.raises(ValueError):
            parse_address(bad)


def test_serves_the_report_with_a_refresh(server, out):
    status, headers, body = request(server, "GET", "/report.html")
    assert status == 200 and body == (out / "report.html").read_bytes()
    assert headers["Refresh"] == "15" and headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-store" and headers["X-Content-Type-Options"] == "nosniff"
    assert request(server, "GET", "/")[2] == body
    status, headers, body = request(server, "GET", "/report.json")
    assert status == 200 and json.loads(body) == {"schema": "gapscan.report/1"} and "Refresh" not in headers
    assert request(server, "GET", "/assets/notes.txt")[2] == b"inside"
    assert request(server, "GET", "/alias.json")[0] == 200
    assert server.server_address[0] == "127.0.0.1"


def test_head_sends_headers_only(server, out):
    status, headers, body = request(server, "HEAD", "/report.html")
    assert status == 200 and body == b""
    assert int(headers["Content-Length"]) == (out / "report.html").stat().st_size


def test_health_is_json(server):
    status, headers, body = request(server, "GET", "/health")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"status": "watching", "last_scan": "2026-11-25T10:00:00+00:00", "documents": 3,
                                "queue": 0}
    server.health_state["status"] = "waiting_for_root"
    status, _, body = request(server, "GET", "/health")
    assert status == 503 and json.loads(body)["status"] == "waiting_for_root"


@pytest.mark.parametrize("path", [
    "/../secret.txt",
    "/assets/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/assets%2f..%2f..%2fsecret.txt",
    "/.%2e/secret.txt",
    "/..%5csecret.txt",
    "/assets/..\\..\\secret.txt",
    "/report.html%00",
    "/leak.txt",
    "/linked/secret.txt",
    "/linked/../secret.txt",
])
def test_refuses_paths_outside_the_output_folder(server, path):
    status, _, body = request(server, "GET", path)
    assert status == 403, (path, status, body)
    assert SECRET.encode() not in body


@pytest.mark.parametrize("path", ["/%252e%252e/secret.txt", "//secret.txt", "/nothing.html", "/assets",
                                  "/.report.html.abc.tmp", "/%ff%fe"])
def test_other_odd_paths_serve_nothing(server, path):
    status, _, body = request(server, "GET", path)
    assert status in (400, 403, 404), (path, status)
    assert SECRET.encode() not in body and b"half a report" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"])
def test_only_get_and_head(server, out, method):
    status, headers, _ = request(server, method, "/report.html")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    assert (out / "report.html").exists()


def test_not_ready_yet_is_503_with_a_refresh(tmp_path):
    server = ReportServer(("127.0.0.1", 0), tmp_path / "not-yet", lambda: {"status": "starting"})
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        status, headers, _ = request(server, "GET", "/")
        assert status == 503 and headers["Refresh"] and headers["Retry-After"]
        assert request(server, "GET", "/health")[0] == 503  # not watching yet
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_a_reader_never_sees_half_a_report(server, out):
    original = (out / "report.html").read_bytes()
    versions = [f"<!doctype html><p>version {n}</p>" + "x" * 200_000 for n in range(2)]
    stop = threading.Event()

    def rewrite():
        n = 0
        while not stop.is_set():
            write_atomic(out / "report.html", versions[n % 2])
            n += 1

    writer = threading.Thread(target=rewrite)
    writer.start()
    try:
        bodies = {request(server, "GET", "/report.html")[2] for _ in range(60)}
    finally:
        stop.set()
        writer.join()
    assert bodies <= {v.encode() for v in versions} | {original}
    assert len(bodies - {original}) >= 1


@pytest.mark.parametrize("host", ["localhost:{port}", "LOCALHOST", "127.0.0.1:{port}", "127.0.0.2", "[::1]:{port}"])
def test_answers_requests_addressed_to_loopback_names(server, host):
    status, _, body = request(server, "GET", "/report.json", host.format(port=server.server_address[1]))
    assert status == 200 and b"gapscan.report/1" in body


@pytest.mark.parametrize("host", ["attacker.example:{port}", "attacker.example", "192.168.1.5:{port}",
                                  "localhost.attacker.example"])
def test_refuses_other_host_names_so_dns_rebinding_cannot_read_the_report(server, host):
    for path in ("/report.html", "/report.json", "/health"):
        status, _, body = request(server, "GET", path, host.format(port=server.server_address[1]))
        assert status == 403 and b"gapscan.report" not in body and b"watching" not in body


# --- under load ---------------------------------------------------------------------------------


def test_a_flood_of_500_clients_is_answered(server):
    """Five hundred clients connect at once (the standard library's backlog of 5 left most of them
    unanswered): every one gets the report."""
    host, port = server.server_address[:2]
    start = threading.Barrier(500)
    statuses: list[int] = []

    def client() -> None:
        start.wait()
        connection = http.client.HTTPConnection(host, port, timeout=60)
        try:
            connection.request("GET", "/report.json")
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
        except OSError as error:
            statuses.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(500)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(200) == 500, {s for s in statuses if s != 200}


def test_a_large_report_is_streamed_whole(server, out):
    body = os.urandom(6 * 1024 * 1024)
    (out / "big.json").write_bytes(body)
    status, headers, received = request(server, "GET", "/big.json")
    assert status == 200 and int(headers["Content-Length"]) == len(body) and received == body


def test_a_client_that_goes_away_is_one_log_line(server, out, caplog, capfd):
    import socket
    import struct

    (out / "big.html").write_bytes(b"<p>" + b"x" * (8 * 1024 * 1024))
    caplog.set_level(logging.INFO, logger="gapscan.serve")
    for _ in range(3):
        connection = socket.create_connection(server.server_address[:2], timeout=5)
        connection.sendall(b"GET /big.html HTTP/1.0\r\nHost: localhost\r\n\r\n")
        connection.recv(1024)
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset
        connection.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len([r for r in caplog.records if "went away" in r.getMessage()]) < 3:
        time.sleep(0.05)
    gone = [r.getMessage() for r in caplog.records if "went away" in r.getMessage()]
    assert len(gone) == 3 and all("\n" not in line for line in gone), gone
    assert not any(r.exc_info for r in caplog.records)
    assert "Traceback" not in capfd.readouterr().err


def test_health_with_a_problem_is_503(server):
    server.health_state["problems"] = ["update failed: /srv/out: cannot write the reports: No space left on device"]
    status, _, body = request(server, "GET", "/health")
    assert status == 503 and "No space left on device" in json.loads(body)["problems"][0]
