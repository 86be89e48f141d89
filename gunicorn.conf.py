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
threads = _int(os.environ.get("GUNICORN_THREADS"), 1)
# A worker silent for this long is killed and replaced; keep the proxy's read timeout above it.
timeout = _int(os.environ.get("GUNICORN_TIMEOUT"), 30)
# On SIGTERM (or SIGHUP, for the old workers) requests in flight get this long to finish.
graceful_timeout = _int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT"), 20)
keepalive = 5
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
