"""Keyset-free, count-capped pagination shared by list pages."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Select, func, select

from .extensions import db
from .validators import DB_INT_MAX, int_arg


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def page_number() -> int:
    """``?page=``: 1 when absent; a 400 for anything but a page number an OFFSET can hold."""
    return int_arg("page", "page number", maximum=DB_INT_MAX // 1000, default=1) or 1


def rows_through_page() -> int:
    """How many rows of a list, newest first, reach the end of the page asked for: what a
    limited index walk (``access.first_visible_*``) reads before the page's OFFSET."""
    return page_number() * current_app.config["PAGE_SIZE"]


def paginate(stmt: Select, count_stmt: Select | None = None) -> Page:
    """One count query and one page query, whatever the size of the table."""
    per_page = current_app.config["PAGE_SIZE"]
    page = page_number()
    if count_stmt is None:
        count_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = db.session.scalar(count_stmt) or 0
    items = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return Page(items=list(items), page=page, per_page=per_page, total=total)
