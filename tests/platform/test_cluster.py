"""`make cluster` (bench/cluster.py) starts the production layout on this machine and stops it
cleanly: two web instances on their own ports, two outbox workers and a fake FCM, on the local
PostgreSQL and Redis, configured only by environment variables."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import cluster as cluster_module
from tests.redis_server import redis_test_url

pytestmark = pytest.mark.postgres_only


def _get_json(port: int, path: str) -> tuple[int, dict[str, object]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.status, json.load(response)


def _eventually_logged(process: cluster_module.Process, text: str, timeout_s: float = 30) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text in process.log_path.read_text(errors="replace"):
            return True
        time.sleep(0.2)
    return False


def test_the_cluster_serves_on_two_ports_and_every_process_stops_cleanly(
    tmp_path: Path,
) -> None:
    redis_test_url()  # the suite's Redis must answer (started by .ci/run)
    cluster = cluster_module.Cluster(tmp_path, database_name="binjai_cluster_test")
    try:
        cluster.start()
        ports = {web.port for web in cluster.webs}
        assert len(ports) == 2
        for web in cluster.webs:
            assert web.port is not None
            assert _get_json(web.port, "/readyz") == (200, {"status": "ready", "database": "ok"})
        assert all(worker.running for worker in cluster.workers)
        for worker in cluster.workers:  # each sends through the SDK to the fake FCM
            assert _eventually_logged(worker, "Outbox worker started: Firebase project")
    finally:
        cluster.stop()
    processes = [*cluster.webs, *cluster.workers, cluster.fcm]
    for process in processes:
        assert process is not None and process.popen is not None
        # SIGTERM and a clean exit: gunicorn waits for its workers, the outbox worker finishes
        # its batch, the fake FCM closes its server.
        assert process.popen.returncode == 0, (process.name, process.log_tail())
        with pytest.raises(ProcessLookupError):
            os.killpg(process.popen.pid, 0)  # nothing of its process group is left
