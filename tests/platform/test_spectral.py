"""The committed spec passes Spectral's OpenAPI ruleset (`spectral:oas`) without a warning.

Spectral is the npm package pinned in tools/spectral (package-lock.json); `make spectral`
installs it with `npm ci`, and so does this test when it is missing.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.single_pass

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "spectral"
SPECTRAL = TOOL / "node_modules" / ".bin" / "spectral"


def _spectral() -> Path:
    if not SPECTRAL.exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=TOOL,
            check=True,
            capture_output=True,
            timeout=600,
        )
    return SPECTRAL


def _lint(spec: Path, *options: str) -> subprocess.CompletedProcess[str]:
    ruleset = str(TOOL / ".spectral.yaml")
    return subprocess.run(
        [
            str(_spectral()),
            "lint",
            "--quiet",
            "--ruleset",
            ruleset,
            "--format",
            "json",
            *options,
            str(spec),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_spectral_oas_ruleset_finds_nothing() -> None:
    run = _lint(ROOT / "openapi" / "openapi.json", "--fail-severity", "hint")
    findings = json.loads(run.stdout or "[]")
    assert findings == [], "\n".join(
        f"{f['code']} at {'.'.join(map(str, f['path']))}: {f['message']}" for f in findings
    )
    assert run.returncode == 0, run.stderr


def test_spectral_would_see_a_missing_operation_id(tmp_path: Path) -> None:
    """The lint is real: the same spec without one operationId gets a warning."""
    spec = json.loads((ROOT / "openapi" / "openapi.json").read_text("utf-8"))
    del spec["paths"]["/api/v1/me"]["get"]["operationId"]
    broken = tmp_path / "openapi.json"
    broken.write_text(json.dumps(spec), "utf-8")
    codes = [finding["code"] for finding in json.loads(_lint(broken).stdout)]
    assert codes.count("operation-operationId") == 1
