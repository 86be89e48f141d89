"""gunicorn.conf.py sends a response's head and body in one call when the body is one chunk of
known length (a Flask answer), the very bytes gunicorn sends in two; every other answer (HEAD,
304, chunked, streamed in several chunks) is written exactly as gunicorn writes it."""

from __future__ import annotations

import os
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gunicorn import util
from gunicorn.config import Config
from gunicorn.http import wsgi


def read_config() -> dict[str, Any]:
    """gunicorn.conf.py's names, as the master reads it; the environment left as it was (the
    file sets PROMETHEUS_MULTIPROC_DIR when unset, which would put this process's metrics in
    multiprocess mode)."""
    saved = dict(os.environ)
    try:
        return runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)


CONF = read_config()
PATCHED: Callable[..., Any] = CONF["_write_head_with_body"]
GUNICORNS: Callable[..., Any] = CONF["_write_separately"]
JSON = [("Content-Type", "application/json"), ("Content-Length", "11")]


class RecordingSocket:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.sent.append(bytes(data))


class ParsedRequest:
    """What gunicorn's Response reads of the request it answers."""

    headers: list[tuple[str, str]] = []

    def __init__(self, method: str, version: tuple[int, int] = (1, 1)) -> None:
        self.method, self.version = method, version

    def should_close(self) -> bool:
        return False


def answer(
    write: Callable[..., Any],
    method: str,
    status: str,
    headers: list[tuple[str, str]],
    chunks: list[bytes],
) -> list[bytes]:
    """The sends of one answer, written chunk by chunk with `write`."""
    sock = RecordingSocket()
    response = wsgi.Response(ParsedRequest(method), sock, Config())
    response.start_response(status, headers)
    for chunk in chunks:
        write(response, chunk)
    response.close()
    return sock.sent


@pytest.fixture(autouse=True)
def _one_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(util, "http_date", lambda *_: "Sat, 05 Dec 2026 02:00:00 GMT")


def test_the_config_patches_gunicorns_responses() -> None:
    assert wsgi.Response.write is PATCHED
    assert GUNICORNS.__qualname__ == "Response.write"  # gunicorn's own, never a patch of it


def test_a_whole_body_goes_with_its_head_in_one_send() -> None:
    body = b'{"ok":true}'
    one = answer(PATCHED, "GET", "200 OK", JSON, [body])
    two = answer(GUNICORNS, "GET", "200 OK", JSON, [body])
    assert len(one) == 1 and len(two) == 2
    assert one == [b"".join(two)]
    assert one[0].endswith(b"\r\n\r\n" + body)


@pytest.mark.parametrize(
    ("method", "status", "headers", "chunks"),
    [
        ("HEAD", "200 OK", JSON, [b'{"ok":true}']),  # no body sent
        ("GET", "304 Not Modified", [("ETag", 'W/"1"')], [b""]),
        ("GET", "200 OK", [("Content-Type", "text/csv")], [b"a,b\r\n", b"1,2\r\n"]),  # chunked
        ("GET", "200 OK", [("Content-Length", "10")], [b"01234", b"56789"]),  # streamed
        ("GET", "200 OK", [("Content-Length", "0")], []),
        ("GET", "200 OK", [("Content-Length", str(70_000))], [b"x" * 70_000]),  # not copied
    ],
)
def test_other_answers_are_written_as_gunicorn_writes_them(
    method: str, status: str, headers: list[tuple[str, str]], chunks: list[bytes]
) -> None:
    assert answer(PATCHED, method, status, headers, chunks) == answer(
        GUNICORNS, method, status, headers, chunks
    )


def test_reading_the_config_again_keeps_one_patch() -> None:
    """SIGHUP makes the master read gunicorn.conf.py again: its fallback is still gunicorn's."""
    again = read_config()
    assert again["_write_separately"] is GUNICORNS
    body = b'{"ok":true}'
    assert len(answer(wsgi.Response.write, "GET", "200 OK", JSON, [body])) == 1
