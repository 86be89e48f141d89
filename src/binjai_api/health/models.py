"""Tables of the health domain."""

from __future__ import annotations
