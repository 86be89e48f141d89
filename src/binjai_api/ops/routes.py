"""The command center's API: overview, overdue items, the wall map and escalations."""

from __future__ import annotations

from binjai_api.config import API_V1_STR
from binjai_api.openapi import Blueprint

blp = Blueprint(
    "ops",
    __name__,
    url_prefix=f"{API_V1_STR}/ops",
    description="Binjai Command Center (BCC): operations overview, overdue items across agencies, "
    "the complaints heat map and escalations. Operators and admins see every agency; officers "
    "see their own.",
)

# --- overview, overdue, heatmap ------------------------------------------------------------------

# --- escalations ---------------------------------------------------------------------------------
