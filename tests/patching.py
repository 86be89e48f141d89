"""Replacing a name a split service package looks up (its clock, mostly) in every module that
holds it, so a monkeypatch reaches the functions that read it and not only the package's face."""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import pytest


def patch_service(
    monkeypatch: pytest.MonkeyPatch, package: ModuleType, name: str, value: Any
) -> None:
    """Set `name` to `value` in the package and each of its loaded modules that binds it."""
    prefix = package.__name__ + "."
    modules = [package] + [
        module
        for module_name, module in sorted(sys.modules.items())
        if module_name.startswith(prefix)
    ]
    holders = [module for module in modules if name in vars(module)]
    assert holders, f"no module of {package.__name__} binds {name}"
    for module in holders:
        monkeypatch.setattr(module, name, value)
