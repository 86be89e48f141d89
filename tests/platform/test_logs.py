"""Logs are structured, carry the request id, and never personal data."""

from __future__ import annotations

import io
import json
import logging

from flask import Flask
from flask.testing import FlaskClient

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
