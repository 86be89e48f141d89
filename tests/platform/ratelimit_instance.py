"""One app instance in its own process: sends login attempts and prints their status codes.

Used by test_rate_limits to show that limits are shared through Redis between instances.
Usage: python -m tests.platform.ratelimit_instance DATABASE_URL REDIS_URL ADDRESS PHONE COUNT
"""

from __future__ import annotations

import sys

from tests.conftest import make_test_app


def main() -> None:
    database_url, redis_url, address, phone, count = sys.argv[1:6]
    app = make_test_app(database_url, REDIS_URL=redis_url)
    client = app.test_client()
    statuses = [
        client.post(
            "/api/v1/auth/login",
            json={"username": phone, "password": "Salah-Sekali-99"},
            environ_base={"REMOTE_ADDR": address},
        ).status_code
        for _ in range(int(count))
    ]
    print(" ".join(str(status) for status in statuses))


if __name__ == "__main__":
    main()
