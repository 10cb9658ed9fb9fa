"""Liveness/readiness probe for load balancers and `make demo`."""

from flask import Blueprint, jsonify
from sqlalchemy import text

from feedback.extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not ready"
        db.session.rollback()
        return jsonify(status="error", database="unavailable", detail=type(exc).__name__), 503
    return jsonify(status="ok", database="ok", dialect=db.engine.dialect.name)
