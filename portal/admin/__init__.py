"""Administration: users, schools, Boards, EIPs, specialisms, the audit trail."""

from __future__ import annotations

from flask import Flask

from .. import navigation


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from .routes import bp

    app.register_blueprint(bp)
    navigation.add("admin.index", "Admin", roles=("admin",), order=80, prefix="admin.")
    navigation.add("admin.audit", "Audit trail", roles=("director",), order=81,
                   prefix="admin.audit")
