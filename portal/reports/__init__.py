"""Impact reports for the director and the Boards, and Board-targeted requests."""

from __future__ import annotations

from flask import Flask

from .. import navigation


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from . import routes, targeted

    app.register_blueprint(routes.bp)
    app.register_blueprint(targeted.bp)
    navigation.add("reports.index", "Reports", roles=routes.READERS, order=60)
    navigation.add("targeted.new", "New request", roles=("board",), order=11,
                   prefix="targeted.")
