"""Who may manage the alliance's accounts, schools, Boards, EIPs, specialisms, agreement
template and audit trail, and when. (Administration.)

Follows the convention of ``portal/domain/policy/__init__.py`` (worked example:
``evaluations.py``). :func:`actions` answers for

* a :class:`User` (the account being managed): ``edit``, ``change_role``, ``deactivate``,
  ``reactivate``, ``reinvite``, ``end_sessions``. An admin never changes their own role nor
  locks themselves out (403); the rest depend on the account's state (409);
* a :class:`School`, :class:`Board` or :class:`EIP`: ``edit``. A school is changed only by
  its home network (:func:`manages_school`): a network it is a member of too sees it, lists
  it, files and invoices for it, but neither edits it nor invites its staff;
* nothing (``None``): ``invite``, ``add_school``, ``import_schools``, ``add_board``,
  ``add_eip``, ``add_specialism``, ``edit_agreement_template``, ``edit_sign_in`` (how people
  sign in: school accounts, two-factor) and ``view_audit``.

*Which* objects an admin manages (their own alliance's) is ``portal/domain/access.py``
(``users_managed_by``, ``schools_managed_by`` (:func:`may_manage_school`) ...): another
alliance's object is not visible at all (404). Nothing here
makes a "waiting for me" list, so there are no SQL twins.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false

from ...models import EIP, Board, School, User
from . import Decision, allow, forbid, not_now

ADMIN = "admin"
OVERSEERS = ("admin", "director")
AUDITORS = ("admin", "director")
USER_ACTIONS = ("edit", "change_role", "deactivate", "reactivate", "reinvite", "end_sessions")
OBJECT_ACTIONS = ("edit",)
GENERAL_ACTIONS = ("invite", "add_school", "import_schools", "add_board", "add_eip",
                   "add_specialism", "edit_agreement_template", "edit_sign_in", "view_audit")

NOT_ADMIN = "Only the School Support Co-ordinator manages accounts and the alliance's settings."
NOT_HOME = ("This school's details and accounts are kept by its home network; ask its "
            "co-ordinator to change them.")
OWN_ACCOUNT = "This is your own account: you cannot deactivate it or change your role."


def _admin(user: User) -> Decision | None:
    """The refusal for anyone but the admin, else None. (A refusal is falsy, so never write
    ``_only_admin(user)``.)"""
    return None if user.role == ADMIN else forbid(NOT_ADMIN)


def _only_admin(user: User) -> Decision:
    return allow() if user.role == ADMIN else forbid(NOT_ADMIN)


# ---------------------------------------------------------------------- a managed account


def edit(target: User, user: User) -> Decision:
    return _only_admin(user)


def change_role(target: User, user: User) -> Decision:
    if (refused := _admin(user)) is not None:
        return refused
    if target.id == user.id:
        return forbid("You cannot change your own role. Ask another co-ordinator.")
    return allow()


def deactivate(target: User, user: User) -> Decision:
    if (refused := _admin(user)) is not None:
        return refused
    if target.id == user.id:
        return forbid(OWN_ACCOUNT)
    if not target.active:
        return not_now(f"{target.name} is already deactivated.")
    return allow()


def reactivate(target: User, user: User) -> Decision:
    if (refused := _admin(user)) is not None:
        return refused
    if target.id == user.id:
        return forbid(OWN_ACCOUNT)
    if target.active:
        return not_now(f"{target.name} can already sign in.")
    return allow()


def reinvite(target: User, user: User) -> Decision:
    from ..invites import may_reinvite

    if (refused := _admin(user)) is not None:
        return refused
    if target.id == user.id:
        return forbid(OWN_ACCOUNT)
    refusal = may_reinvite(target)
    return not_now(refusal) if refusal else allow()


def end_sessions(target: User, user: User) -> Decision:
    if (refused := _admin(user)) is not None:
        return refused
    if target.id == user.id:
        return forbid("This is your own account: use Sign out instead.")
    if not target.active:
        return not_now(f"{target.name} was signed out everywhere when deactivated.")
    return allow()


_USER = {"edit": edit, "change_role": change_role, "deactivate": deactivate,
         "reactivate": reactivate, "reinvite": reinvite, "end_sessions": end_sessions}


# ------------------------------------------------------------------------------- a school


def manages_school(school: School, user: User) -> bool:
    """The school's record and its accounts are its HOME network's (``school.alliance_id``):
    only that network's co-ordinator and director run them. A network the school is only a
    member of (``SchoolNetwork``) sees, lists, files for and invoices it, and nothing more.
    SQL form: :func:`may_manage_school`."""
    return user.role in OVERSEERS and school.alliance_id is not None \
        and school.alliance_id == user.alliance_id


def may_manage_school(user: User) -> ColumnElement[bool]:
    """SQL form of :func:`manages_school`, over ``School`` (``access.schools_managed_by``:
    the schools an admin edits and invites staff to)."""
    if user.role not in OVERSEERS or user.alliance_id is None:
        return false()
    return School.alliance_id == user.alliance_id


def edit_school(school: School, user: User) -> Decision:
    if (refused := _admin(user)) is not None:
        return refused
    return allow() if manages_school(school, user) else forbid(NOT_HOME)


# ------------------------------------------------------------------------- alliance-wide


def general(user: User) -> dict[str, Decision]:
    admin = _only_admin(user)
    audit = allow() if user.role in AUDITORS else forbid(
        "Only the co-ordinator and the director read the audit trail.")
    return {**dict.fromkeys(GENERAL_ACTIONS, admin), "view_audit": audit}


def actions(obj: User | School | Board | EIP | None, user: User) -> dict[str, Decision]:
    """Every administration action for this user on a managed account, school, Board or EIP,
    or (``None``) on the alliance's settings as a whole."""
    if isinstance(obj, User):
        return {name: predicate(obj, user) for name, predicate in _USER.items()}
    if isinstance(obj, School):
        return {"edit": edit_school(obj, user)}
    if isinstance(obj, Board | EIP):
        return {"edit": _only_admin(user)}
    return general(user)
