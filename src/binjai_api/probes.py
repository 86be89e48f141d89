"""Liveness and readiness probes for the process manager and the load balancer."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Flask, jsonify
from flask.typing import ResponseReturnValue

from binjai_api.access import public
from binjai_api.extensions import db, limiter

blp = Blueprint("probes", __name__)


@blp.get("/healthz")
@limiter.exempt  # probed every few seconds by the supervisor and the load balancer
@public
def healthz() -> ResponseReturnValue:
    """The process is up."""
    return jsonify(status="ok")


@blp.get("/readyz")
@limiter.exempt
@public
def readyz() -> ResponseReturnValue:
    """The database answers; a load balancer stops sending traffic here when it does not."""
    db.session.execute(sa.text("SELECT 1"))
    return jsonify(status="ready", database="ok")


def init_app(app: Flask) -> None:
    app.register_blueprint(blp)
