"""Complaints, aspirations and information requests (pengaduan / aspirasi)."""

from __future__ import annotations

from binjai_api.config import API_V1_STR
from binjai_api.openapi import Blueprint

blp = Blueprint(
    "complaints",
    __name__,
    url_prefix=API_V1_STR,
    description="Complaints, aspirations and information requests (SP4N-LAPOR! types).",
)
