"""The Redis the tests share state through: CI sets REDIS_TEST_URL and requires it; elsewhere the
local Redis on 127.0.0.1:6379 is used when it is running."""

from __future__ import annotations

import os

import pytest
import redis

LOCAL_URL = "redis://127.0.0.1:6379/15"
# A port nothing listens on: a real connection refusal, for the Redis-down paths.
UNREACHABLE_URL = "redis://127.0.0.1:1/0"


def redis_test_url() -> str:
    url = os.environ.get("REDIS_TEST_URL")
    if url:
        return url
    try:
        redis.Redis.from_url(LOCAL_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379 and REDIS_TEST_URL unset (CI sets it)")
    return LOCAL_URL
