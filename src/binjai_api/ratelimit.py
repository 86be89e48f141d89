"""Rate limits: keys, per-endpoint limits and the headers of a 429.

The specific limits live in Redis when REDIS_URL is set, so they hold across instances; the
default limit is counted per process (`BinjaiLimiter`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from werkzeug.exceptions import HTTPException


def client_address() -> str:
    """The caller's address (X-Forwarded-For is trusted only through ProxyFix's configured hops)."""
    return request.remote_addr or "unknown"


def _json_field(name: str) -> str | None:
    """A string field of the JSON body, or None. Never raises: Flask-Limiter takes an exception
    in a key function for a storage failure and silently falls back to per-instance memory."""
    try:
        body = request.get_json(silent=True)
    except HTTPException:  # e.g. 413: the view answers it; the limit uses the address
        return None
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def login_account() -> str:
    """The account being tried, so that spreading a guess attack over addresses does not help:
    one counter per account however its name is written (`0812…`, `+62812…`, `0812-…`, its NIK,
    its email in any case), resolved by the auth service."""
    username = _json_field("username")
    if not username or not username.strip():
        return f"addr:{client_address()}"
    from binjai_api.auth import service as auth_service  # the auth domain knows the accounts

    try:
        return auth_service.login_limit_key(username)
    except Exception:  # see _json_field: a key function must never raise
        return "login:" + username.strip().lower()[:200]


def registration_identity() -> str:
    """The NIK being registered: one person cannot be registered over and over from many
    addresses."""
    nik = _json_field("nik")
    if not nik or not nik.strip():
        return f"addr:{client_address()}"
    return "nik:" + nik.strip()[:32]


def client_id_key() -> str:
    """The API client asking for a token (OAuth 2 client credentials)."""
    try:
        client_id = request.form.get("client_id")
    except HTTPException:
        client_id = None
    if not client_id and request.authorization:
        client_id = request.authorization.username
    return f"client:{(client_id or client_address())[:200]}"


def limit_by(
    setting: str,
    key_func: Callable[[], str],
    *,
    deduct_when: Callable[[Response], bool] | None = None,
) -> Callable[[Any], Any]:
    """Limit an endpoint to the rate in `setting` (read per request) per `key_func` value;
    with `deduct_when`, only the answers it accepts count against the limit."""
    from binjai_api.extensions import limiter

    return limiter.limit(
        lambda: current_app.config[setting],
        key_func=key_func,
        scope=lambda endpoint: f"{setting}:{endpoint}",
        deduct_when=deduct_when,
    )


def is_conflict(response: Response) -> bool:
    """A 409: an answer that says something already exists (account enumeration counts these)."""
    return response.status_code == 409


def breached_limit_headers() -> dict[str, str]:
    """`Retry-After` and the X-RateLimit-* headers of the limit a 429 breached (CONVENTIONS:
    rate-limited responses carry the limit headers)."""
    from binjai_api.extensions import limiter

    current = limiter.current_limit
    if current is None:
        return {"Retry-After": "60"}
    return {
        "Retry-After": str(max(1, math.ceil(current.reset_at - time.time()))),
        "X-RateLimit-Limit": str(current.limit.amount),
        "X-RateLimit-Remaining": str(max(0, current.remaining)),
        "X-RateLimit-Reset": str(int(current.reset_at)),
    }


# --- the default limit, counted per process ---------------------------------------------------

# Key of a view function: Flask-Limiter's `exempt` marks it, and so does this module's default
# limit (the probes are polled every few seconds by supervisors and load balancers).
_EXEMPT_ATTRIBUTE = "binjai_rate_limit_exempt"


class ProcessMemoryStorage(MemoryStorage):
    """The specific limits' storage without Redis (the embedded default): limits' own memory
    storage, with its expired counters swept lazily, at most once a second, by the request that
    finds them due. limits' MemoryStorage starts a timer thread (10 ms) on every hit when none is
    running, which cost a request that hits a limit (complaint POST, login) ~8% of its CPU.
    Counts are exact within the process; an expired counter is dropped by `get` before it is read
    either way, so the sweep only bounds memory."""

    STORAGE_SCHEME = ["process-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._next_sweep = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.time()
        if now >= self._next_sweep:
            self._next_sweep = now + 1.0
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


class _LocalWindows:
    """Fixed windows counted in this process's memory: one dict, no thread, no round trip."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._window_start = 0
        self._lock = threading.Lock()

    def hit(self, limit: RateLimitItem, key: str) -> tuple[bool, float, int]:
        """Count one request against `limit` for `key`: (allowed, window reset time, remaining)."""
        seconds = limit.get_expiry()
        now = time.time()
        start = int(now // seconds * seconds)
        with self._lock:
            if start != self._window_start:  # a new window: every older count is spent
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= start}
                self._window_start = start
            count = self._counts.get((key, start), 0) + 1
            self._counts[(key, start)] = count
        return count <= limit.amount, start + seconds, limit.amount - count


class BinjaiLimiter(Limiter):
    """Flask-Limiter for the specific limits (login, registration, tokens, submissions ...):
    exact and shared by every instance through Redis. The default limit on every other request
    (DEFAULT_RATE_LIMIT, a flood guard per address) is counted in each process's memory instead:
    no Redis round trip on every request, at the price that an address may reach the default
    limit once per worker process before it is refused."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._local = _LocalWindows()
        self.hooks_guarded = False

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        app.before_request(self._check_default_limit)
        self.hooks_guarded = _guard_request_hooks(app, self)

    def exempt(self, obj: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Exempt a view from every limit, the default one included."""
        if callable(obj):
            setattr(obj, _EXEMPT_ATTRIBUTE, True)
        return super().exempt(obj, *args, **kwargs)

    def reset(self) -> None:
        super().reset()
        self._local = _LocalWindows()

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        """Flask-Limiter's check. Before each request (`in_middleware`) it looks only for
        application, default, blueprint and meta limits, and the in-memory fallback's, none of
        which this API declares (its limits decorate views, checked when the view is called):
        skip that search, which cost about as much as the default limit itself, while there is
        nothing for it to find."""
        if in_middleware and not self._limits_checked_before_views():
            return
        super()._check_request_limit(callable_name, in_middleware)

    def _limits_checked_before_views(self) -> bool:
        manager = self.limit_manager
        return bool(
            manager.application_limits
            or manager.default_limits
            or manager._blueprint_limits
            or self._meta_limits
            or self._in_memory_fallback
        )

    def _check_default_limit(self) -> None:
        endpoint = request.endpoint
        if endpoint is None or not self.enabled:
            return
        view = current_app.view_functions.get(endpoint)
        if view is None or getattr(view, _EXEMPT_ATTRIBUTE, False) or endpoint.endswith("static"):
            return
        limit = _parsed_limit(str(current_app.config["DEFAULT_RATE_LIMIT"]))
        allowed, reset_at, remaining = self._local.hit(limit, client_address())
        if allowed:
            return
        from binjai_api.errors import STATUS_DETAILS, Problem

        raise Problem(
            429,
            "rate_limited",
            STATUS_DETAILS[429],
            headers={
                "Retry-After": str(max(1, math.ceil(reset_at - time.time()))),
                "X-RateLimit-Limit": str(limit.amount),
                "X-RateLimit-Remaining": str(max(0, remaining)),
                "X-RateLimit-Reset": str(int(reset_at)),
            },
        )


@lru_cache(maxsize=16)
def _parsed_limit(text: str) -> RateLimitItem:
    return parse(text)


# Flask-Limiter keeps a request's limiter state on the request context under this name, made the
# first time a limit is looked at (`Limiter.context`).
_LIMITER_CONTEXT_ATTRIBUTE = "_limiter_request_context"


def _guard_request_hooks(app: Flask, limiter: Limiter) -> bool:
    """Run Flask-Limiter's after-request hook (conditional deductions, headers) and teardown (its
    state's reset) only for a request that looked at a limit: one that did not has no limiter
    state on its request context, and both hooks would only create that state to find it empty.
    Most requests check no limit of the library's (the default limit is counted by this class),
    and the two hooks were ~1.8% of a booking status request's instructions.

    The hooks are the library's private names: when they are not found as expected (another
    Flask-Limiter), nothing is changed and the hooks run as they always did. Answers whether the
    hooks are guarded (tests/platform check that they are with the pinned version)."""
    try:
        from flask_limiter._compat import request_context

        inject_headers = Limiter._Limiter__inject_headers  # type: ignore[attr-defined]
        release_context = Limiter._Limiter__release_context  # type: ignore[attr-defined]
        context_getter = getattr(vars(Limiter).get("context"), "fget", None)
    except (ImportError, AttributeError):
        return False
    if context_getter is None:
        return False
    if _LIMITER_CONTEXT_ATTRIBUTE not in context_getter.__code__.co_consts:
        return False
    after_funcs = app.after_request_funcs.get(None, [])
    teardown_funcs = app.teardown_request_funcs.get(None, [])
    after_at = next(
        (
            i
            for i, f in enumerate(after_funcs)
            if isinstance(f, partial) and f.func is inject_headers and f.args == (limiter,)
        ),
        None,
    )
    teardown_at = next(
        (
            i
            for i, f in enumerate(teardown_funcs)
            if getattr(f, "__func__", None) is release_context
            and getattr(f, "__self__", None) is limiter
        ),
        None,
    )
    if after_at is None or teardown_at is None:
        return False
    after_hook: Any = after_funcs[after_at]
    teardown_hook: Any = teardown_funcs[teardown_at]

    def limiter_after_request(response: Response) -> Response:
        if hasattr(request_context(), _LIMITER_CONTEXT_ATTRIBUTE):
            return after_hook(response)
        return response

    def limiter_teardown_request(error: BaseException | None = None) -> None:
        if hasattr(request_context(), _LIMITER_CONTEXT_ATTRIBUTE):
            teardown_hook(error)

    after_funcs[after_at] = limiter_after_request
    teardown_funcs[teardown_at] = limiter_teardown_request
    return True
