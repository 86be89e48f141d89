"""Tables of the licensing domain."""

from __future__ import annotations
