"""Committing test data the way a request does."""

from __future__ import annotations

from portal.domain import notify
from portal.extensions import db


def commit() -> None:
    """Commit, then send the e-mails the commit released, as every request does after it
    commits (``notify.init_app``). Otherwise the next request in the test would send them."""
    db.session.commit()
    notify.flush_committed()
