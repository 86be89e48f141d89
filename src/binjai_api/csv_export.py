"""CSV downloads of lists and overviews (`Accept: text/csv`), for the BCC's monthly reports.

A list view asks `wants_csv()` and, if so, calls `send_csv()` with its whole filtered query's
rows: a download is the full report, not one page of it. `send_csv` ends the request with the
CSV response (it raises), so that paginated views, which may not return a `Response`
themselves, can offer CSV too. `csv_doc()` documents the alternative representation.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any, NoReturn

from flask import Response, abort, request, stream_with_context

CSV_MEDIA_TYPE = "text/csv"
JSON_MEDIA_TYPE = "application/json"
# Spreadsheet programs run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def wants_csv() -> bool:
    """Whether the client prefers CSV over JSON (`Accept: text/csv`)."""
    best = request.accept_mimetypes.best_match([JSON_MEDIA_TYPE, CSV_MEDIA_TYPE])
    return best == CSV_MEDIA_TYPE and request.accept_mimetypes[CSV_MEDIA_TYPE] > 0


def csv_cell(value: Any) -> str:
    """One value as spreadsheet-safe text: RFC 3339 times, enum values, no formulas."""
    if value is None:
        return ""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


def _lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    """A streamed CSV download (UTF-8 with a byte-order mark, which spreadsheets need to read
    Indonesian names right)."""

    def body() -> Iterator[str]:
        yield "\ufeff"
        yield from _lines(header, rows)

    response = Response(
        stream_with_context(body()), mimetype=CSV_MEDIA_TYPE, content_type="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Vary"] = "Accept"
    return response


def send_csv(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> NoReturn:
    """Answer the request with this CSV download, from anywhere in a view."""
    abort(csv_response(header, rows, filename))


def csv_doc(columns: Sequence[str], example_row: Sequence[Any]) -> dict[str, Any]:
    """The `text/csv` alternative of a view's 200 response, for `blp.doc(**csv_doc(...))`."""
    example = "".join(_lines(columns, [example_row]))
    return {
        "responses": {
            200: {
                "content": {
                    CSV_MEDIA_TYPE: {
                        "schema": {"type": "string"},
                        "example": example,
                    }
                }
            }
        }
    }
