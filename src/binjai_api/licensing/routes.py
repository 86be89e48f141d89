"""Licensing (perizinan): permit types, applications, payments and public verification."""

from __future__ import annotations

from binjai_api.config import API_V1_STR
from binjai_api.openapi import Blueprint

blp = Blueprint(
    "licensing",
    __name__,
    url_prefix=API_V1_STR,
    description="Local permits (perizinan): apply, correct, pay, and verify issued permits.",
)
