"""Every setting the code reads is listed in .env.example and described in the README."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _settings_read_by_code() -> set[str]:
    names: set[str] = set()
    for path in [ROOT / "gunicorn.conf.py", *(ROOT / "src" / "binjai_api").rglob("*.py")]:
        text = path.read_text("utf-8")
        names |= set(re.findall(r"""os\.environ\.get\(\s*["']([A-Z0-9_]+)["']""", text))
        names |= set(re.findall(r"""_env_int\(\s*["']([A-Z0-9_]+)["']""", text))
    return names


def test_every_setting_is_in_env_example_and_readme() -> None:
    example = (ROOT / ".env.example").read_text("utf-8")
    listed = set(re.findall(r"^([A-Z0-9_]+)=", example, flags=re.MULTILINE))
    readme = (ROOT / "README.md").read_text("utf-8")
    read = _settings_read_by_code()
    assert read, "no settings found: the pattern is stale"
    assert read - listed == set(), "settings missing from .env.example"
    assert {name for name in read if f"`{name}`" not in readme} == set(), "missing in README"
