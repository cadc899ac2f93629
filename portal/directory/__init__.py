"""The directory of system leaders and alliances, leaders' profiles and release."""

from __future__ import annotations

from flask import Flask

from .. import demo, navigation
from ..panels import home_panels


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from ..domain.policy import LEADER_ROLES
    from ..domain.policy.profiles import has_own_profile
    from . import demo_data, panels, routes

    app.register_blueprint(routes.bp)
    navigation.add("directory.leaders", "System leaders", order=30, prefix="directory.leader")
    navigation.add("directory.my_profile", "My profile", roles=LEADER_ROLES, order=31,
                   prefix="directory.my_profile", when=has_own_profile)
    navigation.add("directory.release", "Release", roles=("home_school",), order=32,
                   prefix="directory.release")
    navigation.add("directory.alliances", "Alliances", order=35, prefix="directory.alliances")
    home_panels.add("release", "directory/_release_panel.html", panels.release_panel, order=40)
    demo.add_step(demo_data.days_per_term, order=20)
