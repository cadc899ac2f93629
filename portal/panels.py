"""Pages made of panels that each area of the portal contributes to.

The deployment page, the request page and the home page show sections owned by different parts
of the portal (confirmation, agreement, action plan, evaluation, money). Rather than one view that
knows about all of them, each area registers a panel in its own module::

    @deployment_panels.panel("agreement", "agreements/_panel.html", order=30)
    def agreement_panel(deployment, user):
        if deployment.status not in (...):
            return None          # not shown
        return {"agreement": ...}  # the template sees this as ``panel``

The view calls ``deployment_panels.build(deployment, current_user)`` and the template includes
each one in order. Panels must use ``access`` rules themselves: returning None hides the panel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Built:
    name: str
    template: str
    ctx: dict


@dataclass
class Panels:
    name: str
    _items: list[tuple[int, str, str, Callable]] = field(default_factory=list)

    def panel(self, name: str, template: str, *, order: int = 50):
        def register(fn: Callable) -> Callable:
            self._items[:] = [i for i in self._items if i[1] != name]
            self._items.append((order, name, template, fn))
            self._items.sort(key=lambda i: (i[0], i[1]))
            return fn

        return register

    def build(self, obj, user) -> list[Built]:
        out = []
        for _order, name, template, fn in self._items:
            ctx = fn(obj, user)
            if ctx is not None:
                out.append(Built(name, template, ctx))
        return out


deployment_panels = Panels("deployment")
request_panels = Panels("request")
home_panels = Panels("home")
