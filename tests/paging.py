"""Checking a limited index walk page by page against the rule it stands for (issue 20)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select

from portal.extensions import db


def assert_every_page(expected: Sequence[int], walk: Callable[[int], object], column,
                      order: Sequence[object], per_pages: Sequence[int] = (1, 5, 100),
                      who: object = None) -> None:
    """Every page of every size, read as a list reads it (``walk(shown)`` is the clause for the
    first ``shown`` rows; the query orders by ``order`` and takes the page), is the matching
    slice of ``expected``, the rule's ids in that order."""
    for per_page in per_pages:
        for page in range(1, len(expected) // per_page + 2):
            shown = page * per_page
            got = db.session.scalars(
                select(column).where(walk(shown)).order_by(*order)
                .limit(per_page).offset((page - 1) * per_page)).all()
            assert got == list(expected[(page - 1) * per_page:shown]), (who, per_page, page)
