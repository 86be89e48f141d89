"""Short-lived results of the command center's heavy reads (overview, wall map).

The BCC's screens refresh every 30 seconds, several of them with the same parameters: computing a
year of statistics once per OPS_CACHE_SECONDS and per (endpoint, parameters, scope) is enough.
With REDIS_URL the results are shared by every instance; if Redis fails the result is computed
afresh (never an error), and without Redis each process keeps its own.

When a result expires while several screens ask for it, one request computes it and the others
wait for that result (a lock key in Redis across instances, a lock per key within a process)
instead of all running the same year of statistics at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import redis
from flask import current_app

from binjai_api import metrics

logger = logging.getLogger(__name__)

KEY_PREFIX = "binjai:ops:"
_LOCAL_MAX = 256  # distinct parameter sets one process keeps
_local: OrderedDict[str, tuple[float, Any]] = OrderedDict()
_local_lock = threading.Lock()
_computing: dict[str, threading.Lock] = {}  # per key, while one thread computes it
# How long others wait for the request computing a result: past the statement timeout, the
# computing request has failed or died, and they compute it themselves.
COMPUTE_WAIT_SECONDS = 20.0
_POLL_SECONDS = 0.05
_clients: dict[str, redis.Redis] = {}


def _redis(url: str) -> redis.Redis:
    client = _clients.get(url)
    if client is None:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        _clients[url] = client
    return client


def cache_key(endpoint: str, params: dict[str, Any]) -> str:
    """One key per endpoint and canonical parameters (the caller puts its scope in them)."""
    canonical = json.dumps(params, sort_keys=True, default=str)
    return f"{KEY_PREFIX}{endpoint}:{hashlib.sha256(canonical.encode()).hexdigest()}"


def cached_json(key: str, compute: Callable[[], Any]) -> Any:
    """`compute()`'s JSON-serialisable result, reused for OPS_CACHE_SECONDS (0: never); each
    lookup counted as a hit or a miss in the metrics."""
    computed = False

    def counted() -> Any:
        nonlocal computed
        computed = True
        return compute()

    try:
        return _cached_json(key, counted)
    finally:
        metrics.count_cache_lookup("ops", hit=not computed)


def _cached_json(key: str, compute: Callable[[], Any]) -> Any:
    seconds = int(current_app.config["OPS_CACHE_SECONDS"])
    if seconds <= 0:
        return compute()
    url = current_app.config.get("REDIS_URL")
    if url:
        return _through_redis(_redis(url), key, seconds, compute)
    return _in_process(key, seconds, compute)


def _through_redis(client: redis.Redis, key: str, seconds: int, compute: Callable[[], Any]) -> Any:
    try:
        stored = client.get(key)
    except redis.RedisError:
        logger.warning("ops cache: Redis unreachable, computing afresh")
        return compute()
    if stored is not None:
        return json.loads(stored)
    lock_key = f"{key}:computing"
    try:
        computing_here = bool(client.set(lock_key, "1", nx=True, ex=int(COMPUTE_WAIT_SECONDS)))
    except redis.RedisError:
        computing_here = True
    if not computing_here:
        waited = _wait_in_redis(client, key)
        if waited is not None:
            return waited
    value = compute()
    try:
        client.set(key, json.dumps(value), ex=seconds)
        if computing_here:
            client.delete(lock_key)
    except redis.RedisError:
        logger.warning("ops cache: Redis unreachable, result not shared")
    return value


def _wait_in_redis(client: redis.Redis, key: str) -> Any:
    """The result another request (of any instance) is computing, once it lands; None if it does
    not land in time or Redis fails meanwhile."""
    deadline = time.monotonic() + COMPUTE_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        try:
            stored = client.get(key)
        except redis.RedisError:
            return None
        if stored is not None:
            return json.loads(stored)
    return None


def _fresh_local(key: str) -> tuple[bool, Any]:
    with _local_lock:
        hit = _local.get(key)
        if hit is not None and hit[0] > time.monotonic():
            _local.move_to_end(key)
            return True, hit[1]
    return False, None


def _in_process(key: str, seconds: int, compute: Callable[[], Any]) -> Any:
    found, value = _fresh_local(key)
    if found:
        return value
    with _local_lock:
        computing = _computing.setdefault(key, threading.Lock())
    # One thread computes; the others wait here, then find its result.
    with computing:
        found, value = _fresh_local(key)
        if found:
            return value
        value = compute()
        with _local_lock:
            _local[key] = (time.monotonic() + seconds, value)
            _local.move_to_end(key)
            while len(_local) > _LOCAL_MAX:
                _local.popitem(last=False)
            _computing.pop(key, None)
    return value
