"""Firing requests at the same instant, for the PostgreSQL concurrency tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from werkzeug.test import TestResponse


def run_together(app: Flask, count: int, request: Callable[[Any], TestResponse]) -> list[Any]:
    """Send `count` requests at the same instant, each from its own client and connection."""
    barrier = threading.Barrier(count)
    responses: list[Any] = []

    def worker() -> None:
        client = app.test_client()
        barrier.wait()
        responses.append(request(client))

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(responses) == count
    return responses
