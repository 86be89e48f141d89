"""gunicorn settings, all overridable from the environment (see README: Running in production).

Run: gunicorn --config gunicorn.conf.py 'binjai_api:create_app()'
"""

import os


def _int(raw: str | None, default: int) -> int:
    """A whole number from the environment; unset or empty gives the default."""
    return int(raw) if raw and raw.strip() else default


# Listen on loopback unless told otherwise. Only the reverse proxy may reach this address:
# X-Forwarded-For reaches the app from whoever connects, and the app trusts it (ProxyFix).
bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT') or '8000'}"
workers = _int(os.environ.get("WEB_CONCURRENCY"), 2)
# Threaded workers (gunicorn's gthread: more than one thread) with keep-alive, chosen for the
# burst after a city-wide broadcast (issue 17, bench/broadcast_burst.py):
# - a sync worker closes every connection after its response and then waits for the client to
#   close its side (gunicorn's close_graceful), so each request paid a TCP connect, a close
#   handshake and that wait, during which the worker served nobody; the app's HTTP client and
#   the proxy (deploy/nginx.conf.example, upstream keepalive) keep connections open instead;
# - a request on PostgreSQL + Redis spends part of its time waiting for round trips (3 to 6
#   statements, a Redis call): a second thread of the same worker runs meanwhile;
# - 2 threads, not 4: the threads of a worker share one interpreter lock, and a thread back from
#   a round trip queues for it behind the others, each wait a context switch; on the 2 cores of
#   issue 17 the burst cost 1.2-1.45 ms of server CPU per request with 2 threads, 1.6-1.95 ms
#   with 4 and 1.5-1.65 with 1 (idle through every round trip); 4 interleaved runs each. A
#   worker serves 2 requests at once: run more workers (WEB_CONCURRENCY, a process per core or
#   two) rather than more threads. Keep DB_POOL_SIZE at least this (README: Scaling out).
# GUNICORN_THREADS=1 gives the old sync workers (one request at a time per process, no
# keep-alive). A stuck request no longer gets its worker killed after `timeout` (the worker's
# main loop keeps the heartbeat): PostgreSQL's statement_timeout and the proxy's read timeout
# bound it instead.
threads = _int(os.environ.get("GUNICORN_THREADS"), 2)
# A worker silent for this long is killed and replaced; keep the proxy's read timeout above it.
timeout = _int(os.environ.get("GUNICORN_TIMEOUT"), 30)
# On SIGTERM (or SIGHUP, for the old workers) requests in flight get this long to finish.
graceful_timeout = _int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT"), 20)
# An idle kept-alive connection is closed after this long. Above the proxy's own idle timeout for
# its upstream connections (nginx's keepalive_timeout, 60 s by default), so the proxy always
# closes first and never sends a request on a connection gunicorn is closing at that moment.
keepalive = _int(os.environ.get("GUNICORN_KEEPALIVE"), 75)
# Each worker listens on a socket of its own on the same address (SO_REUSEPORT), and the kernel
# spreads new connections over them. With one shared socket, whichever worker was awake accepted
# them: 32 clients connecting at once all landed on one worker while the other idled, and a
# kept-alive connection stays with the worker that accepted it. The price: a second gunicorn
# started by the same user on the same address shares it instead of failing, and connections
# waiting in a stopping worker's queue are reset (the proxy retries them, README: Behind a
# reverse proxy).
reuse_port = True
# Replace each worker after about this many requests (0: never), spread by the jitter so that
# the workers do not all restart at once. Off by default.
max_requests = _int(os.environ.get("GUNICORN_MAX_REQUESTS"), 0)
max_requests_jitter = _int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER"), max_requests // 10)
# The workers' heartbeat files: on a memory file system when there is one, so that a slow or
# full disk cannot make the arbiter kill healthy workers.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"
# Behind a reverse proxy, only its address may set X-Forwarded-Proto for gunicorn; the app
# applies TRUSTED_PROXY_COUNT hops of X-Forwarded-For/Proto/Host/Port through ProxyFix.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Each worker loads the app itself: no database connection or Redis client is shared across
# a fork, and SIGHUP loads new code.
preload_app = False
accesslog = None  # the app writes its own structured access log without personal data
errorlog = "-"
# No control socket: several gunicorns (web instances, benchmarks) may run side by side.
control_socket_disable = True
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Request line and header limits (gunicorn's defaults, stated): longer lines or more or larger
# headers are refused by gunicorn itself, with the problem+json answer at the end of this file.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# Prometheus metrics (binjai_api/metrics.py): every worker writes its values to files in
# PROMETHEUS_MULTIPROC_DIR and /metrics adds them up. Set it (and run the outbox worker with
# the same directory) to have the outbox's pushes and escalations counted too, and empty it
# before the services start; unset, each start uses a fresh directory of its own.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="binjai-metrics-")


def child_exit(server, worker):  # gunicorn's hook signature
    """Forget the live gauges (pool use) of a worker that exited; its counters stay counted."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# --- gunicorn's own refusals, as problem+json ----------------------------------------------------
# gunicorn answers some requests before the app sees them: a request line over
# `limit_request_line` (414), too many or too large headers (431), an unreadable request line,
# method or header (400). Its own answer is an HTML page; this one is problem+json like every
# other error of the API (CONVENTIONS: errors), in Indonesian, the default language (the
# request's headers, Accept-Language among them, could not be read). Defined here rather than in
# the package: the master never imports the app, so SIGHUP still loads new code.
import json as _json  # noqa: E402
import uuid as _uuid  # noqa: E402

from gunicorn import util as _gunicorn_util  # noqa: E402

_SERVER_PROBLEMS = {  # status: (code, title, detail)
    400: ("bad_request", "Permintaan tidak terbaca", "Permintaan tidak dapat dibaca."),
    403: ("forbidden", "Tidak diizinkan", "Permintaan ini ditolak."),
    414: (
        "uri_too_long",
        "Alamat terlalu panjang",
        f"Baris permintaan (metode, alamat dan kueri) melebihi {limit_request_line} byte.",
    ),
    417: ("expectation_failed", "Permintaan tidak terbaca", "Header Expect tidak didukung."),
    431: (
        "headers_too_large",
        "Header terlalu besar",
        f"Paling banyak {limit_request_fields} header, masing-masing paling panjang "
        f"{limit_request_field_size} byte.",
    ),
    501: ("not_implemented", "Tidak didukung", "Transfer-Encoding ini tidak didukung."),
}
_SERVER_INTERNAL = (
    "internal_error",
    "Kesalahan internal",
    "Terjadi kesalahan di sisi kami. Kesalahan ini sudah dicatat.",
)


def _write_problem(sock, status_int, reason, mesg):
    """gunicorn's `util.write_error`, answering problem+json; its message (which may repeat what
    the client sent) is in gunicorn's log, not echoed."""
    code, title, detail = _SERVER_PROBLEMS.get(status_int, _SERVER_INTERNAL)
    body = _json.dumps(
        {
            "type": f"urn:binjai:problem:{code}",
            "title": title,
            "status": status_int,
            "detail": detail,
            "instance": None,  # the request's path could not be read
            "code": code,
            "request_id": _uuid.uuid4().hex,
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        "Content-Type: application/problem+json\r\nContent-Language: id\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    _gunicorn_util.write_nonblock(sock, head.encode("latin-1") + body)


_gunicorn_util.write_error = _write_problem


# --- a response's head and body in one send ------------------------------------------------------
# gunicorn writes a response's head (status line and headers) and then its body, one `sendall`
# each: two system calls, and two TCP segments, for every answer, though a Flask answer is one
# body chunk of known length. For that case (and only that one: streamed, chunked, bodiless and
# HTTP/2 answers go the usual way) the head is kept while gunicorn writes it and sent with the
# body, the same bytes in one call (issue 17: ~6% of a kept-alive hello-world's server CPU).
from gunicorn.http import wsgi as _gunicorn_wsgi  # noqa: E402

# Larger bodies are not copied behind their head: two sends cost nothing next to sending them.
_ONE_SEND_MAX_BODY = 64 * 1024
# gunicorn's own write, also when SIGHUP reads this file again over the patched class.
_write_separately = getattr(
    _gunicorn_wsgi.Response.write, "writes_separately", _gunicorn_wsgi.Response.write
)


class _HeadKeeper:
    """Stands in for the client's socket while gunicorn writes a response's head: keeps what is
    sent with `sendall` (gunicorn's `util.write`), hands anything else to the socket."""

    def __init__(self, sock):
        self._sock = sock
        self.head = []

    def sendall(self, data):
        self.head.append(data)

    def __getattr__(self, name):
        return getattr(self._sock, name)


def _write_head_with_body(self, data):
    """gunicorn's `Response.write`, sending the head with a first chunk that is the whole body."""
    if (
        type(self) is not _gunicorn_wsgi.Response
        or self.headers_sent
        or self.chunked
        or getattr(self, "_omits_body", True)
        or not isinstance(data, bytes)
        or self.response_length != len(data)
        or len(data) > _ONE_SEND_MAX_BODY
        or self.sent
    ):
        return _write_separately(self, data)
    sock = self.sock
    keeper = self.sock = _HeadKeeper(sock)
    try:
        self.send_headers()
    finally:
        self.sock = sock
    sock.sendall(b"".join(keeper.head) + data)
    self.sent = len(data)


_write_head_with_body.writes_separately = _write_separately
_gunicorn_wsgi.Response.write = _write_head_with_body
