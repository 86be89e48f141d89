"""CSV downloads: negotiation, spreadsheet-safe cells and the RFC 4180 body."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime
from enum import StrEnum

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException

from binjai_api.csv_export import csv_cell, csv_doc, send_csv, wants_csv


class Colour(StrEnum):
    RED = "red"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/csv", True),
        ("text/csv, application/json;q=0.5", True),
        ("application/json", False),
        ("application/json, text/csv;q=0.5", False),
        ("*/*", False),
        (None, False),
    ],
)
def test_csv_is_chosen_only_when_the_client_prefers_it(
    app: Flask, accept: str | None, expected: bool
) -> None:
    headers = {"Accept": accept} if accept else {}
    with app.test_request_context("/", headers=headers):
        assert wants_csv() is expected


def test_cells_are_safe_for_spreadsheets() -> None:
    assert csv_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert csv_cell("+62 812") == "'+62 812"
    assert csv_cell("-1") == "'-1"
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell(-1) == "-1"  # a number is a number, not a formula
    assert csv_cell(None) == ""
    assert csv_cell(True) == "true"
    assert csv_cell(Colour.RED) == "red"
    assert csv_cell(datetime(2026, 12, 1, 3, 4, 5, tzinfo=UTC)) == "2026-12-01T03:04:05Z"
    assert csv_cell(date(2026, 12, 1)) == "2026-12-01"
    some_id = uuid.uuid4()
    assert csv_cell(some_id) == str(some_id)


def test_send_csv_answers_the_whole_download(app: Flask) -> None:
    rows = [("Jalan rusak, berlubang", 3), ('Lampu "PJU" mati', 1)] * 5000
    with app.test_request_context("/"):
        with pytest.raises(HTTPException) as raised:
            send_csv(["judul", "jumlah"], iter(rows), "laporan.csv")
        response = raised.value.get_response()
        body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="laporan.csv"'
    assert body.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(body[1:])))
    assert parsed[0] == ["judul", "jumlah"]
    assert parsed[1:] == [[title, str(count)] for title, count in rows]


def test_the_documented_example_is_the_rendered_csv() -> None:
    doc = csv_doc(["code", "count"], ["=cmd", 2])
    content = doc["responses"][200]["content"]["text/csv"]
    assert content["schema"] == {"type": "string"}
    assert content["example"] == "code,count\r\n'=cmd,2\r\n"
