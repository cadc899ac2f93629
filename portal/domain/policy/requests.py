"""Who may submit, edit, withdraw, triage and match a support request, and when. (Steps 1-2.)

Follows the convention of ``portal/domain/policy/__init__.py`` (worked example:
``evaluations.py``):

* :func:`actions` answers every request action for a user and a request, from
  :data:`portal.domain.workflow.REQUEST_TRANSITIONS` (which states may move where, by which role)
  plus the one rule the machine does not know: a headteacher or Board member acts only on a
  request they wrote;
* :func:`waiting` is the Python form of the co-ordinator's inbox, and each of its entries has its
  SQL twin right below (``waiting_triage`` ...). :func:`portal.domain.brokering.in_inbox` is
  ``visible & (waiting_triage | waiting_on_school | waiting_match)``.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false

from ...models import SupportRequest, User
from .. import workflow
from . import Decision, allow, forbid, not_now

# who files requests: a headteacher for their school, a Board member for the Board, an EIP or
# LA officer for a group of schools (each writer acts only on their own)
WRITERS = ("headteacher", "board", "officer")
OVERSEERS = ("admin", "director")
EDITABLE = ("draft", "more_info")
ACTIONS = ("edit", "submit", "resubmit", "withdraw", "accept", "ask_more_info", "decline",
           "match", "propose")


def _own(req: SupportRequest, user: User) -> bool:
    return req.requested_by_id == user.id


def _writer_not_own(req: SupportRequest, user: User) -> Decision | None:
    """A writer (headteacher, Board member, officer) acts only on their own request (403)."""
    if user.role in WRITERS and not _own(req, user):
        return forbid("Only the person who wrote this request can do that.")
    return None


def _move(req: SupportRequest, user: User, target: str, who: str, when: str) -> Decision:
    """The state machine's answer for moving ``req`` to ``target``: the role first, then the
    state."""
    allowed_roles = frozenset().union(*(t.roles for t in workflow.REQUEST_TRANSITIONS
                                        if t.target == target))
    if user.role not in allowed_roles:
        return forbid(who)
    if workflow.find(req, target) is None:
        return not_now(when)
    return allow()


# ------------------------------------------------------------------------------ predicates


def create(user: User) -> Decision:
    """File a new request: a headteacher for their school, a Board member for the Board, an
    officer for schools of their EIP or local authority."""
    if user.role not in WRITERS:
        return forbid("Only a headteacher, a Board member or an EIP or local authority "
                      "officer files a request.")
    if user.role == "officer" and user.officer_route is None:
        return forbid("You do not represent an EIP or a local authority yet: ask the "
                      "co-ordinator to add you to one.")
    return allow()


def edit(req: SupportRequest, user: User) -> Decision:
    """The writer changes a draft, or adds the information the co-ordinator asked for."""
    if user.role not in WRITERS or not _own(req, user):
        return forbid("Only the person who wrote this request can change it.")
    if req.status not in EDITABLE:
        return not_now(f"Request {req.reference} is {req.status_label.lower()} and can no "
                       "longer be changed.")
    return allow()


def submit(req: SupportRequest, user: User) -> Decision:
    """The writer submits their draft."""
    if user.role not in WRITERS or not _own(req, user):
        return forbid("Only the person who wrote this request can submit it.")
    if req.status != "draft":
        return not_now("Only a draft request can be submitted.")
    return allow()


def resubmit(req: SupportRequest, user: User) -> Decision:
    """The writer sends the extra information the co-ordinator asked for."""
    if user.role not in WRITERS or not _own(req, user):
        return forbid("Only the person who wrote this request can send the extra information.")
    if req.status != "more_info":
        return not_now("The co-ordinator has not asked for more information.")
    return allow()


def withdraw(req: SupportRequest, user: User) -> Decision:
    """The writer, or the co-ordinator or director, withdraws a request not yet matched."""
    if user.role not in (*WRITERS, *OVERSEERS):
        return forbid("Only the writer or the co-ordinator withdraws a request.")
    if (refused := _writer_not_own(req, user)) is not None:
        return refused
    return _move(req, user, "withdrawn", "Only the writer or the co-ordinator withdraws a "
                 "request.", "A request can be withdrawn only until a system leader is proposed.")


def _overseer(user: User, what: str) -> Decision | None:
    if user.role not in OVERSEERS:
        return forbid(f"Only the co-ordinator or director {what}.")
    return None


def accept(req: SupportRequest, user: User) -> Decision:
    """Triage: accept a submitted request for matching."""
    if (refused := _overseer(user, "accepts a request for matching")) is not None:
        return refused
    if req.status != "submitted":
        return not_now("Only a submitted request can be accepted for matching.")
    return allow()


def ask_more_info(req: SupportRequest, user: User) -> Decision:
    """Triage: ask the writer for more information about a submitted request."""
    if (refused := _overseer(user, "asks for more information")) is not None:
        return refused
    if req.status != "submitted":
        return not_now("More information can be asked for only on a submitted request.")
    return allow()


def decline(req: SupportRequest, user: User) -> Decision:
    """Triage: decline a request submitted, waiting for information, or being matched."""
    if (refused := _overseer(user, "declines a request")) is not None:
        return refused
    if workflow.find(req, "declined") is None:
        return not_now("Only a request not yet matched can be declined.")
    return allow()


def triage(req: SupportRequest, user: User) -> Decision:
    """Any triage decision is open (the triage form): accept, ask, or decline from triage."""
    if (refused := _overseer(user, "triages a request")) is not None:
        return refused
    if req.status not in ("submitted", "more_info"):
        return not_now("Only a submitted request, or one waiting for more information, is "
                       "triaged.")
    return allow()


def match(req: SupportRequest, user: User) -> Decision:
    """Open the ranking of system leaders (read-only while a proposal is out)."""
    if (refused := _overseer(user, "matches a request")) is not None:
        return refused
    if req.status not in ("matching", "matched"):
        return not_now(f"Request {req.reference} is {req.status_label.lower()}: accept it for "
                       "matching first.")
    return allow()


def propose(req: SupportRequest, user: User) -> Decision:
    """Propose a system leader for a request being matched."""
    if (refused := _overseer(user, "proposes a system leader")) is not None:
        return refused
    if req.status != "matching":
        return not_now(f"A system leader has already been proposed for {req.reference}, or it "
                       "is not being matched.")
    return allow()


def target(user: User) -> Decision:
    """A Board member targets a school for Board-funded support (a new request, filed at once).

    Not an action on an existing request, so not in :func:`actions`: the Board's "New request"
    page and :func:`portal.domain.boards.target` both ask it."""
    if user.role != "board":
        return forbid("Only a Board member targets a school for Board-funded support.")
    if not user.board_id:
        return forbid("You are not on a Board yet: ask the co-ordinator to add you to one.")
    return allow()


_PREDICATES = {"edit": edit, "submit": submit, "resubmit": resubmit, "withdraw": withdraw,
               "accept": accept, "ask_more_info": ask_more_info, "decline": decline,
               "triage": triage, "match": match, "propose": propose}

# the triage form's choice -> the action it asks for
TRIAGE_ACTIONS = {"matching": "accept", "more_info": "ask_more_info", "declined": "decline"}


def actions(req: SupportRequest, user: User) -> dict[str, Decision]:
    """Every request action for this user on this request."""
    return {name: predicate(req, user) for name, predicate in _PREDICATES.items()}


# ------------------------------------------------------------------- what the page says

# the request's own status, and the sentence "What happens next" says about it
_NEXT_STEP = {
    "draft": "This request is a draft: only you can see it until you submit it.",
    "submitted": "The co-ordinator will triage it and propose a system leader (target: 48 "
                 "hours).",
    "more_info": "The co-ordinator needs more information before matching.",
    "matching": "The co-ordinator is finding a system leader.",
    "matched": "A system leader has been proposed; see the deployment below.",
}
# how the co-ordinator's triage note is headed, in the states that show it
_NOTE_HEADING = {"more_info": "More information asked for", "declined": "Declined",
                 "matching": "Back to matching"}
# where the 48-hour match clock runs (the inbox: waiting for triage, the school or a match)
CLOCK_STATUSES = ("submitted", "more_info", "matching")


def next_step(req: SupportRequest) -> str:
    """The "What happens next" sentence for the request in its current state."""
    return _NEXT_STEP.get(req.status, f"{req.status_label}.")


def triage_note_heading(req: SupportRequest) -> str | None:
    """The heading of the co-ordinator's note, or None where the note is not shown."""
    return _NOTE_HEADING.get(req.status) if req.triage_note else None


def asks_for_more_info(req: SupportRequest) -> bool:
    """The co-ordinator asked the writer a question (shown above the form they answer in)."""
    return req.status == "more_info" and bool(req.triage_note)


def shows_match_clock(req: SupportRequest) -> bool:
    """The 48-hour match clock is shown while the request waits in the co-ordinator's inbox."""
    return req.submitted_at is not None and req.status in CLOCK_STATUSES


# ------------------------------------------------------------------- waiting for me (Python)


def waiting(req: SupportRequest, user: User) -> dict[str, bool]:
    """The "waiting for me" entries this request makes for this user (Python form): the
    co-ordinator's inbox (``triage``, ``on_school``, ``match``) and the writer's "send the
    information asked for" (``resubmit``)."""
    can = actions(req, user)
    return {
        "triage": can["accept"].allowed,
        "on_school": can["triage"].allowed and req.status == "more_info",
        "match": can["propose"].allowed,
        "resubmit": can["resubmit"].allowed,
    }


# ---------------------------------------------------------------------- the SQL twins


def waiting_triage(user: User) -> ColumnElement[bool]:
    """SQL twin of "triage": :func:`accept` allowed (submitted, waiting on the co-ordinator)."""
    if user.role not in OVERSEERS:
        return false()
    return SupportRequest.status == "submitted"


def waiting_on_school(user: User) -> ColumnElement[bool]:
    """SQL twin of "on_school": more information asked for; the clock is the school's."""
    if user.role not in OVERSEERS:
        return false()
    return SupportRequest.status == "more_info"


def waiting_match(user: User) -> ColumnElement[bool]:
    """SQL twin of "match": :func:`propose` allowed."""
    if user.role not in OVERSEERS:
        return false()
    return SupportRequest.status == "matching"


def waiting_resubmit(user: User) -> ColumnElement[bool]:
    """SQL twin of :func:`resubmit` allowed: the writer's own request, more information asked."""
    if user.role not in WRITERS:
        return false()
    return (SupportRequest.requested_by_id == user.id) & (SupportRequest.status == "more_info")


WAITING_SQL = {"triage": waiting_triage, "on_school": waiting_on_school,
               "match": waiting_match, "resubmit": waiting_resubmit}
