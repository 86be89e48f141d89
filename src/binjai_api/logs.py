"""Structured logs (JSON in production) that carry the request id and no personal data."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

from flask import Flask, Response, g, has_request_context, request

from binjai_api.privacy import scrub_personal_data

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_ENVIRON_KEY = "HTTP_X_REQUEST_ID"
_MAX_REQUEST_ID_LENGTH = 128
_REQUEST_ID_ALPHABET = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")

access_log = logging.getLogger("binjai_api.access")


class RequestContextFilter(logging.Filter):
    """Adds the request id to every record and masks personal data in the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id") if has_request_context() else None
        message = record.getMessage()
        scrubbed = scrub_personal_data(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


class _SecondCachingFormatter(logging.Formatter):
    """`formatTime` worked out once per second (strftime on every line costs more than the rest
    of a text line's formatting); the milliseconds, when asked for, are added to each line."""

    _kept: tuple[int, str | None, str] = (-1, None, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        kept_second, kept_format, text = self._kept
        if second != kept_second or datefmt != kept_format:
            text = time.strftime(datefmt or self.default_time_format, self.converter(second))
            self._kept = (second, datefmt, text)  # one tuple: threads see the old or the new
        if datefmt or not self.default_msec_format:
            return text
        return self.default_msec_format % (text, record.msecs)


class JsonFormatter(_SecondCachingFormatter):
    _EXTRA_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "principal")
    # json.dumps(entry, ensure_ascii=False) would build this encoder again for every line.
    _encode = json.JSONEncoder(ensure_ascii=False).encode

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + "Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self._EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = scrub_personal_data(self.formatException(record.exc_info))
        return self._encode(entry)


class TextFormatter(_SecondCachingFormatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def formatException(self, ei: Any) -> str:
        return scrub_personal_data(super().formatException(ei))


JsonFormatter.converter = time.gmtime


def configure_logging(log_format: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger("binjai_api")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def _valid_request_id(value: str | None) -> bool:
    return (
        bool(value)
        and len(value or "") <= _MAX_REQUEST_ID_LENGTH
        and set(value or "") <= _REQUEST_ID_ALPHABET
    )


_REQUEST_IDS_PER_READ = 256
# Ids drawn ahead, taken with list.pop (one step under the interpreter lock, so threads never
# take the same one); a forked child must not hand out its parent's.
_spare_request_ids: list[str] = []
os.register_at_fork(after_in_child=_spare_request_ids.clear)


def new_request_id() -> str:
    """32 random hex digits, as uuid4().hex gives, from os.urandom read for 256 ids at a time:
    one read per request was a system call that let go of the interpreter lock, for which a
    threaded worker's other threads are queuing."""
    try:
        return _spare_request_ids.pop()
    except IndexError:
        digits = os.urandom(16 * _REQUEST_IDS_PER_READ).hex()
        _spare_request_ids.extend(digits[at : at + 32] for at in range(32, len(digits), 32))
        return digits[:32]


def _start_request() -> None:
    # From the WSGI environ: `request.headers.get` raises and catches a KeyError for a header that
    # is absent, as this one is from most clients.
    incoming = request.environ.get(_REQUEST_ID_ENVIRON_KEY)
    g.request_id = incoming if _valid_request_id(incoming) else new_request_id()
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    headers = response.headers
    headers[REQUEST_ID_HEADER] = g.get("request_id") or ""
    # Set without looking first (an absent header costs werkzeug a raised KeyError): "nosniff" is
    # its only value, so one a view or security_headers.py already set stays as it was.
    headers["X-Content-Type-Options"] = "nosniff"
    if access_log.isEnabledFor(logging.INFO):
        started = g.get("request_started")
        duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
        method, path, status = request.method, request.path, response.status_code
        # The record is made directly: `access_log.info` would also walk the stack to find its
        # caller (always this line), the costliest part of logging a request.
        record = access_log.makeRecord(
            access_log.name,
            logging.INFO,
            __file__,
            0,
            "%s %s %s",
            (method, path, status),
            None,
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
                "principal": g.get("principal_id"),
            },
        )
        access_log.handle(record)
    return response


def init_app(app: Flask) -> None:
    configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    app.before_request(_start_request)
    app.after_request(_finish_request)
