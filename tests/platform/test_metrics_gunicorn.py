"""Metrics under gunicorn with 2 workers (prometheus_client's multiprocess mode): a scrape adds
up every worker's counts, also those of workers that have exited, and forgets an exited
worker's live gauges (gunicorn.conf.py's child_exit hook)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HEALTHZ = {"method": "GET", "route": "/healthz", "status": "200"}

pytestmark = pytest.mark.single_pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def _workers(master: int) -> set[int]:
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            children.add(int(stat.parent.name))
    return children


def _wait_for(condition: object, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _healthz_count(port: int) -> float:
    status, text = _get(port, "/metrics")
    assert status == 200, text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "binjai_http_requests_total" and sample.labels == HEALTHZ:
                return sample.value
    return 0.0


def test_two_workers_counts_add_up_and_an_exited_workers_gauges_are_forgotten(
    tmp_path: Path,
) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("GUNICORN_CMD_ARGS", "FLASK_APP")},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'metrics.db'}",
        "BINJAI_ENV": "development",
        "REDIS_URL": "",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "WEB_CONCURRENCY": "2",
    }
    subprocess.run(
        [str(BIN / "flask"), "--app", "binjai_api", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "binjai_api:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for(
            lambda: len(_workers(server.pid)) == 2 and _get(port, "/readyz")[0] == 200,
            "2 workers answering",
        )
        first = _workers(server.pid)
        for _ in range(20):
            assert _get(port, "/healthz")[0] == 200
        assert _healthz_count(port) == 20

        for pid in first:  # both workers exit; the arbiter starts two new ones
            os.kill(pid, signal.SIGTERM)
        _wait_for(
            lambda: len(_workers(server.pid) - first) == 2 and _get(port, "/readyz")[0] == 200,
            "2 new workers",
        )
        for _ in range(10):
            assert _get(port, "/healthz")[0] == 200

        # The exited workers' counts are still there, added to the new workers' ones.
        assert _healthz_count(port) == 30
        files = {path.name for path in metrics_dir.iterdir()}
        assert any(f"counter_{pid}.db" in files for pid in first)  # what they counted stays
        for pid in first:
            assert f"gauge_livesum_{pid}.db" not in files  # their pool gauges are forgotten
        for pid in _workers(server.pid):
            assert f"gauge_livesum_{pid}.db" in files  # the new workers' are there
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
