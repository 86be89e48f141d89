"""The application class: Flask, remembering which of its functions are plain `def`s."""

from __future__ import annotations

import pytest
from flask import Flask

from binjai_api import BinjaiFlask


def test_plain_functions_are_run_as_they_are_and_coroutines_never_are(app: Flask) -> None:
    assert isinstance(app, BinjaiFlask)

    def plain() -> str:
        return "plain"

    async def coroutine() -> str:
        return "coroutine"

    class View:
        def get(self) -> str:
            return "bound"

    for _ in range(2):  # asked, then remembered
        assert app.ensure_sync(plain) is plain
        method = View().get
        assert app.ensure_sync(method) is method
        # Remembered or not, a coroutine function is handed to Flask's async support (which
        # needs the asgiref package, not installed here), never run as a plain function.
        with pytest.raises(RuntimeError, match="async"):
            app.ensure_sync(coroutine)
