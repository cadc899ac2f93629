"""School Support Portal: school-to-school support brokering for teaching-school networks."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from .extensions import csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(config_module.load(Path(app.instance_path), config))
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
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from . import formatting, security, transactions, validators

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
    from . import navigation

    navigation.init_app(app)

    from . import models  # noqa: F401  (register every table with the metadata)
    from .agreements.routes import bp as agreements_bp
    from .auth.routes import bp as auth_bp
    from .coordinator.routes import bp as coordinator_bp
    from .dashboard.routes import bp as dashboard_bp
    from .deployments import respond as _respond  # noqa: F401  (routes on deployments bp)
    from .deployments.routes import bp as deployments_bp
    from .finance.routes import bp as finance_bp
    from .notifications.routes import bp as notifications_bp
    from .plans.routes import bp as plans_bp
    from .requests.routes import bp as requests_bp

    for blueprint in (auth_bp, dashboard_bp, requests_bp, deployments_bp, notifications_bp,
                      coordinator_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(agreements_bp)
    app.register_blueprint(plans_bp)
    from .evaluations.routes import bp as evaluations_bp
    from .reports.routes import bp as reports_bp
    from .reports.targeted import bp as targeted_bp

    for blueprint in (evaluations_bp, reports_bp, targeted_bp):
        app.register_blueprint(blueprint)
    from .account.routes import bp as account_bp  # issue 8: directory, admin, your data
    from .admin.routes import bp as admin_bp
    from .directory.routes import bp as directory_bp

    for blueprint in (directory_bp, admin_bp, account_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(finance_bp)

    _register_errors(app)
    _register_context(app)

    from .cli import init_app as init_cli

    init_cli(app)
    return app


def _register_errors(app: Flask) -> None:
    from .domain.access import NotVisible

    def page(code: int, title: str, message: str):
        return render_template("error.html", code=code, title=title, message=message), code

    @app.errorhandler(NotVisible)
    @app.errorhandler(404)
    def not_found(_e):
        return page(404, "Page not found",
                    "If you typed the web address, check it is correct. If you followed a link, "
                    "the page may belong to another school or alliance.")

    @app.errorhandler(403)
    def forbidden(_e):
        return page(403, "You cannot do that",
                    "Your role does not give you access to this page.")

    @app.errorhandler(CSRFError)
    def csrf_error(_e):
        answer = _keep_expired_form()
        if answer is not None:
            return answer
        return page(400, "Your form expired",
                    "The form was missing its security token or it had expired. Go back, "
                    "reload the page and try again. Nothing was saved.")

    @app.errorhandler(400)
    def bad_request(e):
        return page(400, "Something sent could not be read",
                    getattr(e, "description", "") or "Go back, check what you entered and try "
                    "again. Nothing was saved.")

    @app.errorhandler(429)
    def too_many(_e):
        return page(429, "Too many attempts",
                    "You have tried too many times. Wait a minute and try again.")

    @app.errorhandler(500)
    def server_error(_e):
        db.session.rollback()
        return page(500, "Sorry, something went wrong",
                    "Nothing was saved. Try again; if it keeps happening, tell the co-ordinator.")


def _keep_expired_form():
    """A form whose security token no longer matches (the session ended or changed while it
    was being filled in) is kept for its sender, who is sent back to it, through the sign-in
    when needed; nothing is saved from it (portal/drafts.py)."""
    from flask import current_app, flash, redirect, request, url_for
    from flask_login import current_user

    from . import drafts, security
    from .htmx import hx_redirect, is_htmx

    if request.method != "POST":
        return None
    security.slide_session()  # an idle session is signed out first, as for any request
    signed_in = current_user.is_authenticated
    kept = drafts.keep(current_user.id if signed_in else security.signed_out_user(),
                       signed_out=not signed_in)
    if kept is None:
        return None
    if signed_in:
        target = kept.page
    else:
        flash(drafts.SIGN_IN_AGAIN, "info")
        target = url_for("auth.login", next=kept.page)
    if is_htmx():
        response = hx_redirect(current_app.response_class(status=200), target)
    else:
        response = redirect(target, code=303)
    return drafts.attach(response, kept)


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
