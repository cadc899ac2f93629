"""School Support Portal: school-to-school support brokering for teaching-school networks."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from .extensions import csrf, db, limiter, login_manager, migrate
from .unit_of_work import PortalFlask

ROOT = Path(__file__).resolve().parent.parent

# Every feature package, each with one ``init_app(app)`` that registers its blueprint(s),
# navigation entries, panels and demo step. Nothing is registered by importing a route module.
FEATURES = (
    "auth", "dashboard", "requests", "deployments", "notifications", "coordinator",
    "agreements", "plans", "evaluations", "reports", "directory", "admin", "account", "finance",
    "boards",
    "commissions",
    "reminders",
    "health",
)


def create_app(config: dict | None = None) -> Flask:
    app = PortalFlask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(config_module.load(Path(app.instance_path), config))
    from .uploads import PortalRequest

    app.request_class = PortalRequest
    from . import logs

    if app.config["LOG_FORMAT"] == "json":
        logs.configure("json")  # one JSON object per line, with the request id
    else:
        logging.basicConfig(level=logging.INFO)
    from .logredact import install as redact_links_in_logs

    redact_links_in_logs()
    if app.config["PORTAL_ENV"] == "production" and config_module.uses_memory_limits(app.config):
        logging.getLogger("portal").warning(
            "RATELIMIT_ALLOW_MEMORY is set: sign-in limits are counted in memory by each worker "
            "on its own (RATELIMIT_STORAGE_URI=memory://). Run a single worker, or point "
            "RATELIMIT_STORAGE_URI at Redis."
        )
    if app.config["PORTAL_ENV"] == "production" and not app.config["RATELIMIT_ENABLED"]:
        logging.getLogger("portal").warning(
            "RATELIMIT_ENABLED is off: nothing limits password guessing. It is meant for tests.")

    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from . import error_pages, formatting, security, transactions, validators

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    transactions.init_app(app)
    security.init_app(app)
    formatting.init_app(app)
    validators.init_app(app)  # the <id:...> converter, before any blueprint adds a route
    from . import drafts, idempotency

    drafts.init_app(app)
    idempotency.init_app(app)
    from .domain import notify

    notify.init_app(app)
    logs.init_app(app)
    from . import worker

    worker.init_app(app)  # email is delivered by the job worker, after each commit
    from . import navigation

    navigation.init_app(app)

    from . import domain, models  # noqa: F401  (every table; every workflow hook)

    for name in FEATURES:
        importlib.import_module(f".{name}", __name__).init_app(app)

    error_pages.init_app(app)
    _register_context(app)

    from .cli import init_app as init_cli

    init_cli(app)
    return app


def _register_context(app: Flask) -> None:
    from flask_login import current_user

    from .domain.sla import urgency
    from .models import DEPLOYMENT_STATUSES, DESIGNATIONS, PHASES, ROLES, STANDARDS

    app.add_template_filter(urgency, "urgency")

    @app.context_processor
    def globals_for_templates():
        return {
            "ROLES": ROLES,
            "PHASES": PHASES,
            "STANDARDS": STANDARDS,
            "DESIGNATIONS": DESIGNATIONS,
            "DEPLOYMENT_STATUSES": DEPLOYMENT_STATUSES,
            "htmx_cdn": app.config.get("HTMX_CDN"),
            "htmx_sri": HTMX_SRI,
            "current_user": current_user,
        }


# SHA-384 of static/vendor/htmx.min.js (htmx 2.0.8), the same file the CDN serves.
HTMX_SRI = "sha384-/TgkGk7p307TH7EXJDuUlgG3Ce1UVolAOFopFekQkkXihi5u/6OCvVKyz1W+idaz"
