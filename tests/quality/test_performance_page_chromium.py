"""The public performance page as a browser renders it: headless Chromium, offline, no script.

Slow (Chromium starts twice), so it runs once, in the SQLite pass. With
PERFORMANCE_SCREENSHOT_DIR set, the screenshot is written there (docs/screenshots/ holds the one
the README shows: `PERFORMANCE_SCREENSHOT_DIR=docs/screenshots`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.quality.conftest import Person, closed_report, make_person

pytestmark = pytest.mark.single_pass

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--no-proxy-server",
    # Every host fails to resolve: the page must render with no network at all.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=5000",
)


def _chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_page_renders_offline_in_chromium_in_indonesian(
    app: Flask,
    client: FlaskClient,
    runner: Any,
    tmp_path: Path,
    categories: dict[str, str],
    operator: Person,
    pupr_officer: Person,
) -> None:
    assert CHROMIUM.exists(), "headless Chromium is needed (apt-get install chromium)"
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    resident = make_person(app, client)  # after the demo resident, whose phone it could take
    for code in ("road_damage", "road_damage", "drainage"):
        closed_report(client, resident, operator, pupr_officer, categories[code])
    html = client.get(
        "/api/v1/public/performance", headers={"Accept": "text/html", "Accept-Language": "id"}
    ).get_data(as_text=True)
    page = tmp_path / "performance.html"
    page.write_text(html, encoding="utf-8")

    net_log = tmp_path / "net.json"
    dump = _chromium(page, tmp_path / "p1", "--dump-dom", f"--log-net-log={net_log}")
    assert dump.returncode == 0, dump.stderr[-500:]
    dom = dump.stdout
    assert '<html lang="id">' in dom
    for marker in ("Kinerja pelayanan publik", "Laporan masuk", "Indeks Kepuasan Masyarakat"):
        assert marker in dom
    assert re.search(r"grade grade-[ABCD]", dom)  # an IKM with its grade is shown
    assert "<script" not in dom.lower()
    events = json.loads(net_log.read_text("utf-8"))["events"] if net_log.exists() else []
    # Requests the page made carry it (a file page: "null") as their initiator; Chromium's own
    # (updates, time, accounts) are "not an origin".
    fetched = {
        params["url"]
        for params in ((event.get("params") or {}) for event in events)
        if "method" in params
        and "url" in params
        and params.get("initiator") not in (None, "", "not an origin")
    }
    assert {url for url in fetched if url.startswith(("http:", "https:"))} == set()

    target = Path(os.environ.get("PERFORMANCE_SCREENSHOT_DIR") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    screenshot = target / "performance-id.png"
    screenshot.unlink(missing_ok=True)
    shot = _chromium(
        page, tmp_path / "p2", f"--screenshot={screenshot.resolve()}", "--window-size=1100,1500"
    )
    assert shot.returncode == 0 and screenshot.stat().st_size > 10_000, shot.stderr[-500:]
