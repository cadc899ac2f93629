"""Pages made of panels that each area of the portal contributes to.

The deployment page, the request page and the home page show sections owned by different parts
of the portal (confirmation, agreement, action plan, evaluation, money). Rather than one view that
knows about all of them, each feature registers its panels in its ``init_app``::

    deployment_panels.add("agreement", "agreements/_panel.html", agreement_panel, order=30)

    def agreement_panel(ctx: PanelContext[Deployment]) -> dict | None:
        if ctx.obj.status not in (...):
            return None               # not shown
        return {"agreement": ...}      # the template sees this as ``panel``

A panel receives a :class:`PanelContext`: the object, the user, and the forms the view is
re-showing (a form that failed validation, keyed by name) — never ``request.environ``. A home
panel that lists deployments says which (``lists=``: a function of the context giving named
:class:`~portal.deployment_lists.DeploymentList` specs, or None to hide the panel) and finds
them in ``ctx.lists``: the page reads every panel's lists and its own in one query. The view
calls ``deployment_panels.build(deployment, current_user, forms={"respond_form": form})`` and the
template includes each one in order. Panels use ``access`` and ``policy`` rules; returning None
hides the panel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class PanelContext(Generic[T]):
    """What a panel is built from: the page's object (None on the home page), the user, and
    any forms the view is showing again with their errors."""

    obj: T
    user: Any
    forms: Mapping[str, Any] = field(default_factory=dict)
    lists: Mapping[str, Any] = field(default_factory=dict)  # the panel's deployment lists

    def form(self, name: str) -> Any | None:
        return self.forms.get(name)


PanelFn = Callable[[PanelContext[Any]], "dict[str, Any] | None"]
ListsFn = Callable[[PanelContext[Any]], "Mapping[str, Any] | None"]


@dataclass(frozen=True)
class Built:
    name: str
    template: str
    ctx: dict[str, Any]


@dataclass
class Panels:
    name: str
    _items: list[tuple[int, str, str, PanelFn]] = field(default_factory=list)
    _lists: dict[str, ListsFn] = field(default_factory=dict)

    def add(self, name: str, template: str, fn: PanelFn, *, order: int = 50,
            lists: ListsFn | None = None) -> None:
        """Register (or replace, by name) a panel; called from a feature's ``init_app``.
        ``lists``: the deployment lists the panel shows (see the module)."""
        self._items[:] = [i for i in self._items if i[1] != name]
        self._items.append((order, name, template, fn))
        self._items.sort(key=lambda i: (i[0], i[1]))
        self._lists.pop(name, None)
        if lists is not None:
            self._lists[name] = lists

    def wanted(self, obj: Any, user: Any) -> dict[str, Any]:
        """Every panel's deployment lists, named ``"<panel>.<list>"``, to fetch with the page's
        own; a panel whose ``lists`` gives None is not shown and wants nothing."""
        ctx = PanelContext(obj, user)
        out: dict[str, Any] = {}
        for name, fn in self._lists.items():
            for key, spec in (fn(ctx) or {}).items():
                out[f"{name}.{key}"] = spec
        return out

    def names(self) -> list[str]:
        return [i[1] for i in self._items]

    def build(self, obj: Any, user: Any, forms: Mapping[str, Any] | None = None, *,
              lists: Mapping[str, Any] | None = None) -> list[Built]:
        """The panels shown, in order. ``lists``: what :meth:`wanted` asked for, fetched by the
        page with its own (fetched here, in one query, when not given)."""
        if lists is None and self._lists:
            from .deployment_lists import fetch

            lists = fetch(user, self.wanted(obj, user))
        lists = lists or {}
        out = []
        for _order, name, template, fn in self._items:
            if name in self._lists:
                prefix = f"{name}."
                mine = {k[len(prefix):]: v for k, v in lists.items() if k.startswith(prefix)}
                if not mine:  # the panel wanted no list: not shown (and no query)
                    continue
                built = fn(PanelContext(obj, user, forms or {}, mine))
            else:
                built = fn(PanelContext(obj, user, forms or {}))
            if built is not None:
                out.append(Built(name, template, built))
        return out


deployment_panels = Panels("deployment")
request_panels = Panels("request")
home_panels = Panels("home")
