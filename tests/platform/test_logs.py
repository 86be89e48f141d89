"""Logs are structured, carry the request id, and never personal data."""

from __future__ import annotations

import io
import json
import logging
import os
import random
import threading
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api import privacy
from binjai_api.logs import JsonFormatter, TextFormatter, new_request_id
from tests import factories


def test_access_log_is_json_with_the_request_id(
    client: FlaskClient, log_lines: io.StringIO
) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    entries = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    access = [e for e in entries if e["logger"] == "binjai_api.access"]
    assert access and access[-1]["request_id"] == "trace-42"
    assert access[-1]["status"] == response.status_code
    assert access[-1]["path"] == "/healthz"


def test_no_personal_data_reaches_the_logs(
    app: Flask, client: FlaskClient, log_lines: io.StringIO
) -> None:
    body = factories.registration()
    client.post("/api/v1/auth/register", json=body)
    client.post("/api/v1/auth/register", json=body)  # a 409 is logged too
    client.post("/api/v1/auth/login", json={"username": body["nik"], "password": "salah-99x"})
    logging.getLogger("binjai_api.test").warning(
        "lookup for %s / %s failed", body["nik"], body["phone"]
    )
    text = log_lines.getvalue()
    assert text, "nothing was logged"
    for secret in (
        body["nik"],
        body["phone"],
        "+62" + body["phone"][1:],
        body["email"],
        body["password"],
    ):
        assert secret not in text
    assert "************" + body["nik"][-4:] in text  # masked where a message carried it


def _scrubbed_by_every_pattern(text: str) -> str:
    """What scrub_personal_data gave before it first looked for digits or an @."""
    text = privacy._NIK_PATTERN.sub(lambda m: privacy.mask_tail(m.group(0)) or "", text)
    text = privacy._PHONE_PATTERN.sub(lambda m: privacy.mask_tail(m.group(0)) or "", text)
    return privacy._EMAIL_PATTERN.sub(lambda m: privacy.mask_email(m.group(0)) or "", text)


def test_scrubbing_skips_only_text_that_cannot_hold_personal_data() -> None:
    """A line is left as it is only when none of the patterns could match it: random lines of
    digits, plus signs, @, dots and letters (the shortest phone numbers, NIKs and addresses
    among them) come out exactly as every substitution would leave them."""
    rng = random.Random(17)
    alphabet = "0123456789" * 4 + "+@.-_ /ab"
    crafted = [
        "GET /api/v1/complaints/0b8c3c9e-1d2f-4a5b-8c7d-6e5f4a3b2c1d 200",
        "081234567",  # 08 and seven digits: the shortest phone number
        "08123456",  # one short
        "+62812345678",
        "3275012345678901",
        "a@b.co",
        "warga@binjai",  # no dot in the domain: not an address
        "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦",  # other scripts' digits are digits to the patterns too
    ]
    lines = crafted + [
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40))) for _ in range(5000)
    ]
    for line in lines:
        assert privacy.scrub_personal_data(line) == _scrubbed_by_every_pattern(line), line
    assert privacy.scrub_personal_data("081234567") == "*****4567"


@pytest.mark.parametrize(
    ("formatter", "stdlib_converter", "datefmt"),
    [
        (JsonFormatter(), time.gmtime, "%Y-%m-%dT%H:%M:%S"),
        (TextFormatter(), time.localtime, None),
    ],
)
def test_log_times_are_written_as_the_standard_formatter_writes_them(
    formatter: logging.Formatter, stdlib_converter: Any, datefmt: str | None
) -> None:
    """The time, worked out once per second, is the standard library's for every line: across
    second boundaries, back in time, and with its milliseconds in text lines."""
    stdlib = logging.Formatter()
    stdlib.converter = stdlib_converter
    start = 1_780_000_000.0
    for created in (start, start + 0.25, start + 0.999, start + 1.0, start + 61.5, start, 0.5):
        record = logging.makeLogRecord({"created": created, "msecs": (created % 1) * 1000})
        assert formatter.formatTime(record, datefmt) == stdlib.formatTime(record, datefmt)


def test_request_ids_are_random_hex_never_repeated_across_threads_or_a_fork() -> None:
    """Generated request ids are 32 hex digits (as uuid4().hex), none given twice by the threads
    of a worker, and a forked worker does not hand out the ids its parent had in store."""
    per_thread: list[list[str]] = [[] for _ in range(4)]

    def draw(into: list[str]) -> None:
        into.extend(new_request_id() for _ in range(1000))

    threads = [threading.Thread(target=draw, args=(ids,)) for ids in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drawn = [request_id for ids in per_thread for request_id in ids]
    assert len(set(drawn)) == len(drawn) == 4000
    assert all(len(i) == 32 and set(i) <= set("0123456789abcdef") for i in drawn)

    new_request_id()  # the parent now has ids in store
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        os.write(write_end, "".join(new_request_id() for _ in range(3)).encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)
    childs = os.read(read_end, 96).decode()
    os.close(read_end)
    parents = {new_request_id() for _ in range(255)}
    assert len(childs) == 96
    assert not {childs[i : i + 32] for i in range(0, 96, 32)} & parents


def test_each_answer_without_a_request_id_gets_its_own(client: FlaskClient) -> None:
    ids = [client.get("/healthz").headers["X-Request-ID"] for _ in range(5)]
    assert len(set(ids)) == 5 and all(len(i) == 32 for i in ids)
    given = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert given.headers["X-Request-ID"] == "trace-42"
