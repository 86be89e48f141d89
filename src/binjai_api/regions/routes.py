"""Kota Binjai's kecamatan and kelurahan (Kemendagri codes)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from binjai_api import access
from binjai_api.config import API_V1_STR
from binjai_api.openapi import Blueprint
from binjai_api.regions import service
from binjai_api.regions.schemas import KecamatanSchema

blp = Blueprint(
    "regions",
    __name__,
    url_prefix=f"{API_V1_STR}/regions",
    description="Kecamatan and kelurahan of Kota Binjai (Kemendagri codes).",
)


@blp.route("")
class RegionsView(MethodView):
    @access.public
    @blp.etag
    @blp.response(200, KecamatanSchema(many=True))
    def get(self) -> Any:
        """List the kecamatan of Kota Binjai with their kelurahan"""
        return service.list_kecamatan()
