"""The REST API under /api/v1, described by an OpenAPI 3.1 document at /api/openapi.json
with a reference page at /api/docs.

flask-smorest over APIFlask: it is an extension on our own Flask app (APIFlask replaces the
app class and answers every error of the staff pages as JSON), it documents the marshmallow
schemas we validate with, and it lets each resource be a blueprint like every other surface.
Its app-wide JSON error handler is switched off (see extensions.FeedbackApi); each API
blueprint answers with RFC 9457 problems instead (errors.py).
"""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser

from feedback.api.auth import authenticate_request, rate_limit, rate_limit_key
from feedback.api.errors import register_error_handlers
from feedback.extensions import api, csrf, limiter

API_PREFIX = "/api/v1"
# Swagger UI's files come from the swagger-ui-py package (Swagger UI 5, which reads OpenAPI
# 3.1), served by the app itself: the reference page needs no CDN.
DOCS_ASSETS = "/api/docs/assets"

DESCRIPTION = """Feedback Loop's REST API: customers, contacts and transactions in (bulk
upserts with the CSV imports' checks), surveys, waves, responses, cases, churn scores and the
NPS report out.

Authenticate with an integration token: `Authorization: Bearer fl_…` (created by an admin on
the Tokens page or with `feedback tokens create NAME --scopes read,write`). `read` lets a
token look, `write` change, `admin` manage. Calls are rate-limited per token (429 with
`Retry-After`). Errors are RFC 9457 problem details. Lists are ordered by a stable key and
paged with `cursor`. Writes accept an `Idempotency-Key` header: a retry with the same key
returns the first result and changes nothing."""


def init_api(app) -> None:
    app.config.setdefault("API_TITLE", "Feedback Loop API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("OPENAPI_SWAGGER_UI_PATH", "docs")
    app.config.setdefault("OPENAPI_SWAGGER_UI_URL", f"{DOCS_ASSETS}/")
    from feedback.api.schemas import Problem

    api.ERROR_SCHEMA = Problem
    api.init_app(
        app,
        spec_kwargs={
            "info": {"description": DESCRIPTION},
            "servers": [{"url": "/"}],
            "security": [{"bearerAuth": []}],
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "fl_… token"}
    )
    app.register_blueprint(_docs_assets_blueprint())
    from feedback.api import batches, cases, customers, reports, responses, surveys

    for module in (customers, batches, surveys, responses, cases, reports):
        for blueprint in module.blueprints():
            _register(blueprint)
    # flask-smorest names each tag after its blueprint ("api_customers"); the reference
    # page reads better with the resource's own name.
    for tag in api.spec._tags:
        tag["name"] = TAGS.get(tag["name"], tag["name"])


TAGS: dict[str, str] = {}  # blueprint name -> the tag its operations are listed under


class ApiBlueprint(Blueprint):
    """A resource's blueprint; its operations are tagged with the resource's name.

    Unknown query parameters and body fields are refused (422), not ignored: a misspelt
    `updated_since` must not quietly turn a nightly sync into a full one."""

    ARGUMENTS_PARSER = FlaskParser(unknown=ma.RAISE)

    def route(self, rule, *, parameters=None, tags=None, **options):
        return super().route(rule, parameters=parameters, tags=tags or [TAGS[self.name]],
                             **options)  # fmt: skip


def _docs_assets_blueprint():
    from importlib.resources import files

    from flask import Blueprint as FlaskBlueprint

    folder = str(files("swagger_ui") / "static")
    return FlaskBlueprint(
        "api_docs_assets", __name__, static_folder=folder, static_url_path=DOCS_ASSETS
    )


def make_blueprint(name: str, path: str, description: str) -> ApiBlueprint:
    TAGS[f"api_{name}"] = name.replace("_", " ").capitalize()
    return ApiBlueprint(
        f"api_{name}", __name__, url_prefix=f"{API_PREFIX}{path}", description=description
    )


def _register(blueprint: Blueprint) -> None:
    blueprint.before_request(authenticate_request)
    register_error_handlers(blueprint)
    csrf.exempt(blueprint)
    limiter.shared_limit(rate_limit, scope="api", key_func=rate_limit_key)(blueprint)
    api.register_blueprint(blueprint)
