"""Another app instance, in its own process, for tests of state shared between instances.

Reads a JSON list of requests on stdin, sends them in order through a fresh app and prints the
JSON list of their status codes. A separate process shares nothing with the test's process but
what a real second instance would: the database and Redis.

Usage: python -m tests.second_instance DATABASE_URL REDIS_URL < requests.json
each request: {"method": "GET", "path": "/api/v1/me", "json": {...}, "headers": {...},
               "remote_addr": "10.0.0.1"}
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import make_test_app

ROOT = Path(__file__).resolve().parents[1]


def run(database_url: str, redis_url: str, requests: list[dict[str, Any]]) -> list[int]:
    """Send `requests` through a second instance and return their status codes."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.second_instance", database_url, redis_url],
        input=json.dumps(requests),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [int(status) for status in json.loads(result.stdout.splitlines()[-1])]


def main() -> None:
    database_url, redis_url = sys.argv[1:3]
    app = make_test_app(database_url, REDIS_URL=redis_url or None)
    client = app.test_client()
    statuses = []
    for spec in json.load(sys.stdin):
        response = client.open(
            spec["path"],
            method=spec.get("method", "GET"),
            json=spec.get("json"),
            headers=spec.get("headers", {}),
            environ_base={"REMOTE_ADDR": spec.get("remote_addr", "127.0.0.1")},
        )
        statuses.append(response.status_code)
    print(json.dumps(statuses))


if __name__ == "__main__":
    main()
