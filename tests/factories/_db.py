"""Committing test data the way a request does."""

from __future__ import annotations

from portal.extensions import db


def commit() -> None:
    """Commit, as a request does: the emails the commit released go to the job worker, which
    in tests runs in immediate mode and so delivers them here, before the next request."""
    db.session.commit()
