"""Feedback Loop: surveys, closed-loop follow-up and churn risk."""

from __future__ import annotations

from typing import Any


def create_app(config: Any = None):
    """Build the Flask app; `config` is a Config instance or a mapping of overrides."""
    from flask import Flask

    from feedback import extensions
    from feedback.config import INSTANCE_DIR, Config, ConfigError

    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    if config is None or isinstance(config, dict):
        app.config.from_object(Config())
        app.config.update(config or {})
    else:
        app.config.from_object(config)

    if not app.config.get("SECRET_KEY"):
        if app.debug or app.testing:
            app.config["SECRET_KEY"] = "dev-only-secret-key"
        else:
            raise ConfigError(
                "FEEDBACK_SECRET_KEY is not set. Set it to a long random value, e.g. `export "
                "FEEDBACK_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')`"
            )

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)

    extensions.db.init_app(app)
    extensions.migrate.init_app(
        app, extensions.db, directory=str(_project_dir() / "migrations"), render_as_batch=True
    )
    extensions.login_manager.init_app(app)
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    extensions.compress.init_app(app)

    _import_models()
    _register_blueprints(app)

    from feedback.api import init_api

    init_api(app)

    from feedback.web import init_web

    init_web(app)

    from feedback.responses.lane import install_answer_lane

    install_answer_lane(app)

    from dashboards import init_dashboard

    init_dashboard(app)

    from feedback.cli import register_commands

    register_commands(app)
    return app


def _project_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent


def _import_models() -> None:
    """Every table must be known to SQLAlchemy (and Alembic) once the app exists."""
    import feedback.api.models  # noqa: F401
    import feedback.auth.models  # noqa: F401
    import feedback.cases.models  # noqa: F401
    import feedback.customers.models  # noqa: F401
    import feedback.demo.models  # noqa: F401
    import feedback.integrations.models  # noqa: F401
    import feedback.outbox  # noqa: F401
    import feedback.reporting.models  # noqa: F401
    import feedback.responses.models  # noqa: F401
    import feedback.risk.models  # noqa: F401
    import feedback.surveys.models  # noqa: F401
    import feedback.webhooks.models  # noqa: F401


def _register_blueprints(app) -> None:
    from feedback.admin import bp as admin_bp
    from feedback.auth import bp as auth_bp
    from feedback.cases import bp as cases_bp
    from feedback.cases import public_bp as case_public_bp
    from feedback.customers import bp as customers_bp
    from feedback.delivery.routes import bp as webhooks_bp
    from feedback.followups import bp as followups_bp
    from feedback.health import bp as health_bp
    from feedback.integrations.routes import bp as integrations_bp
    from feedback.responses.routes import bp as public_bp
    from feedback.risk.routes import bp as risk_bp
    from feedback.surveys.routes import bp as surveys_bp
    from feedback.webhooks import bp as outgoing_webhooks_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(integrations_bp)
    app.register_blueprint(outgoing_webhooks_bp)
    app.register_blueprint(surveys_bp)
    app.register_blueprint(customers_bp)
    app.register_blueprint(risk_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(case_public_bp)
    app.register_blueprint(followups_bp)
