"""gunicorn settings, all overridable from the environment (see README: production)."""

import os

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# Behind a reverse proxy, only its address may set X-Forwarded-*; the app applies
# TRUSTED_PROXY_COUNT hops through ProxyFix.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # the app writes its own structured access log without personal data
errorlog = "-"
# No control socket: several gunicorns (web instances, benchmarks) may run side by side.
control_socket_disable = True
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
