"""Who may change an alliance's reminder settings and payment terms. (Issue 17.)

The policy convention of ``portal/domain/policy/__init__.py``: the alliance's director or
co-ordinator edits them; everyone else is refused (403). There is no "waiting for me" list.
"""

from __future__ import annotations

from ...models import User
from . import Decision, allow, forbid

OVERSEERS = ("admin", "director")
ACTIONS = ("edit",)


def edit(alliance_id: int, user: User) -> Decision:
    if user.role not in OVERSEERS or user.alliance_id != alliance_id:
        return forbid("Only the alliance's director or co-ordinator changes its reminder "
                      "settings.")
    return allow()


def actions(alliance_id: int, user: User) -> dict[str, Decision]:
    return {"edit": edit(alliance_id, user)}
