"""Health: the facility directory and the online queue (antrean online)."""

from __future__ import annotations

from binjai_api.config import API_V1_STR
from binjai_api.openapi import Blueprint

blp = Blueprint(
    "health",
    __name__,
    url_prefix=API_V1_STR,
    description="Health facilities (puskesmas, hospitals, clinics) and online queue numbers.",
)
