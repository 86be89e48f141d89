"""Shared steps of the BCC desk tests (templates, questions, assisted intake, assignments)."""

from __future__ import annotations

from typing import Any

from werkzeug.test import TestResponse

from tests.platform.test_errors import assert_problem

USUAL_CODES = {403: "forbidden", 404: "not_found", 409: "conflict", 422: "validation_error"}


def problem(response: TestResponse, status: int, code: str | None = None) -> dict[str, Any]:
    """A problem+json answer with its usual code unless another is named."""
    return assert_problem(response, status, code or USUAL_CODES[status])
