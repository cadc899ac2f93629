"""The main navigation: each blueprint adds its own entries, shown to the roles allowed.

Keeping the list here (rather than in ``base.html``) means a new area of the portal adds one call
in its feature's ``init_app``, e.g. ``navigation.add("finance.index", "Money", roles=("admin",),
order=60)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, request


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    roles: frozenset[str] | None  # None: every signed-in user
    order: int
    prefix: str  # endpoints starting with this mark the item as the current page
    # how many things wait for the user there ("Home (3)"), and what that number means
    count: Callable[[Any], int] | None = None
    count_label: tuple[str, str] = ("", "")  # singular, plural: "thing needs your action"
    # shown only when this says so for the user (beyond their role), e.g. "has a profile"
    when: Callable[[Any], bool] | None = None
    # counts above this are shown as "99+" ("more than 99 things ..."): ``count`` may stop there
    cap: int | None = None

    def counted(self, user: Any) -> tuple[str, str]:
        """The number shown beside the label ("" for none), and the words a screen reader says
        for it."""
        if self.count is None:
            return "", ""
        n = self.count(user)
        if not n:
            return "", ""
        if self.cap is not None and n > self.cap:
            return f"{self.cap}+", f"more than {self.cap} {self.count_label[1]}"
        return f"{n:,}", f"{n:,} {self.count_label[0] if n == 1 else self.count_label[1]}"


_ITEMS: dict[str, NavItem] = {}


def add(endpoint: str, label: str, *, roles=None, order: int = 50, prefix: str | None = None,
        count: Callable[[Any], int] | None = None,
        count_label: tuple[str, str] = ("", ""),
        when: Callable[[Any], bool] | None = None, cap: int | None = None) -> None:
    """Add an entry; ``count(user)`` (one cheap query) puts a number beside it, read out as
    ``count_label`` ("thing needs your action", "things need your action"), and above ``cap``
    shown as "99+"; ``when(user)`` shows it only to those of the ``roles`` it is true for."""
    _ITEMS[endpoint] = NavItem(endpoint, label, frozenset(roles) if roles else None, order,
                               prefix or endpoint.split(".", 1)[0] + ".", count, count_label,
                               when, cap)


def items_for(user) -> list[tuple[NavItem, bool]]:
    """The entries this user may see, each with whether it is the current page."""
    endpoint = request.endpoint or ""
    mine = [i for i in sorted(_ITEMS.values(), key=lambda i: (i.order, i.label))
            if (i.roles is None or user.role in i.roles) and (i.when is None or i.when(user))]
    # the entry for this very page is the current one; only when none is does a prefix decide
    # (so "New request" alone is current on its page, not "Requests" as well)
    if any(i.endpoint == endpoint for i in mine):
        return [(i, i.endpoint == endpoint) for i in mine]
    return [(i, i.prefix != i.endpoint and endpoint.startswith(i.prefix)) for i in mine]


class _Lazy:
    """The navigation, worked out when a template first walks it: an htmx partial renders no
    header, so it never pays for an entry's ``when`` (which may read the database)."""

    def __init__(self, make: Callable[[], list]) -> None:
        self._make = make
        self._items: list | None = None

    def __iter__(self):
        if self._items is None:
            self._items = self._make()
        return iter(self._items)


def init_app(app: Flask) -> None:
    @app.context_processor
    def _nav():
        from flask_login import current_user

        if not current_user.is_authenticated:
            return {"nav_items": []}
        user = current_user._get_current_object()
        return {"nav_items": _Lazy(lambda: [(i, c) for i, c in items_for(user)
                                            if i.endpoint in app.view_functions])}
