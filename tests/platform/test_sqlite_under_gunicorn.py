"""The app served as `make run` serves it: gunicorn with the repository's gunicorn.conf.py
(2 workers), the outbox worker beside it, one SQLite file (bench/sqlite_writes.py starts it).

- 24 complaint submissions and 12 refreshes of different sessions, all at once: every one
  succeeds (before: 21 of 24 submissions answered 503, `database is locked`);
- what gunicorn refuses itself (an over-long request line, too many or too large headers, an
  unreadable request line) is problem+json, not gunicorn's HTML page;
- hostile input through the real server answers 4xx problem+json;
- connections are kept alive and spread over both workers (threads, keep-alive, reuse_port).

Slow (a real server, about 10 s): SQLite pass only. Nothing here measures time; the write
throughput is printed by bench/sqlite_writes.py.
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from sqlite_writes import SqliteServer, all_at_once, call

pytestmark = pytest.mark.single_pass


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteServer]:
    running = SqliteServer(tmp_path_factory.mktemp("make-run"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


def raw(server: SqliteServer, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            headers = _headers(head)
            if body and len(body) >= int(headers.get("content-length", "-1")) >= 0:
                break
    head, _, body = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, _headers(head), body


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


def assert_problem(status: int, headers: dict[str, str], body: bytes, expected: int) -> dict:
    assert status == expected, body[:300]
    assert headers["content-type"] == "application/problem+json", (headers, body[:300])
    problem = json.loads(body)
    assert problem["status"] == expected and problem["code"] and problem["detail"]
    return dict(problem)


def test_24_submissions_and_12_refreshes_at_once_all_succeed(server: SqliteServer) -> None:
    logins = [server.register(40_000 + i) for i in range(4)]
    residents = [server.log_in(login) for login in logins[:3]]
    sessions = [server.log_in(logins[i % 4]) for i in range(12)]
    jobs = [
        *((lambda i=i: server.submit_complaint(residents[i % 3], i)) for i in range(24)),
        *((lambda s=s: server.refresh(s)) for s in sessions),
    ]
    replies = all_at_once(jobs)  # type: ignore[arg-type]
    statuses = [reply.status for reply in replies]
    assert statuses == [201] * 24 + [200] * 12, Counter(statuses)
    numbers = {reply.json()["tracking_number"] for reply in replies[:24]}
    assert len(numbers) == 24
    assert "database is locked" not in server.log_tail(200)


def test_an_over_long_request_line_is_a_414_problem(server: SqliteServer) -> None:
    path = "/api/v1/public/complaints?q=" + "a" * 5000
    status, headers, body = raw(server, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    problem = assert_problem(status, headers, body, 414)
    assert problem["code"] == "uri_too_long"


@pytest.mark.parametrize(
    "extra",
    [
        "".join(f"X-Many-{i}: {i}\r\n" for i in range(150)),
        "X-Huge: " + "b" * 10_000 + "\r\n",
    ],
    ids=["150-headers", "10-KB-header"],
)
def test_too_many_or_too_large_headers_are_a_431_problem(server: SqliteServer, extra: str) -> None:
    request = f"GET /api/v1/agencies HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode()
    problem = assert_problem(*raw(server, request), 431)
    assert problem["code"] == "headers_too_large"


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /api/v1/agencies HTTP/9.9\r\nHost: x\r\n\r\n",
        b"G\x00T / HTTP/1.1\r\n\r\n",
    ],
    ids=["no-request-line", "http-9.9", "nul-in-method"],
)
def test_an_unreadable_request_is_a_400_problem(server: SqliteServer, request_bytes: bytes) -> None:
    status, headers, body = raw(server, request_bytes)
    assert 400 <= status < 500
    assert_problem(status, headers, body, status)


def test_hostile_input_through_the_real_server_is_a_4xx_problem(server: SqliteServer) -> None:
    huge_page = call(server.port, "GET", "/api/v1/public/complaints?page=" + "9" * 30)
    assert huge_page.status == 422
    deep = raw(
        server,
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2000\r\n\r\n" + b"[" * 1000 + b"]" * 1000,
    )
    assert assert_problem(*deep, 400)["code"] == "json_too_deep"
    # Raw bytes that are no UTF-8 in the path: gunicorn refuses them (400), the app would not
    # find them (404); either way JSON.
    status, headers, body = raw(server, b"GET /api/v1/\xff\xfe%ff/x HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status in (400, 404)
    assert_problem(status, headers, body, status)
    body = b'{"username": "a\\udcff", "password": "x"}'
    surrogate = raw(
        server,
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body,
    )
    assert assert_problem(*surrogate, 422)["code"] == "validation_error"


def _established_per_worker(master_pid: int, port: int) -> dict[int, int]:
    """How many established connections to `port` each worker of the gunicorn `master_pid`
    holds (its sockets' inodes, found in /proc/net/tcp)."""
    workers = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    established: set[str] = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
            established.add(fields[9])  # the socket's inode
    held: dict[int, int] = {}
    for worker in map(int, workers):
        inodes = set()
        for fd in Path(f"/proc/{worker}/fd").iterdir():
            target = str(fd.readlink()) if fd.is_symlink() else ""
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
        held[worker] = len(inodes & established)
    return held


def test_connections_are_kept_alive_and_spread_over_both_workers(server: SqliteServer) -> None:
    """gunicorn.conf.py's threaded workers keep a connection open after its answer, and each
    worker accepts on its own socket (reuse_port): 16 clients connecting at once do not all land
    on the one worker that happened to be awake."""
    clients = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=30) for _ in range(16)]
    try:
        for client in clients:
            client.connect()
        for client in clients:
            sock = client.sock
            for _ in range(2):
                client.request("GET", "/healthz")
                response = client.getresponse()
                response.read()
                assert response.status == 200
                assert not response.will_close, response.headers
            assert client.sock is sock  # the same connection served both requests
        held = _established_per_worker(server.processes[-1].pid, server.port)
        assert len(held) == 2 and sum(held.values()) == 16, held
        assert min(held.values()) >= 1, held
    finally:
        for client in clients:
            client.close()
