"""Who may send an outbox email again, and when (issue 17).

Follows the policy convention (``portal/domain/policy/__init__.py``). Reading the outbox is
visibility (``access.outbox_visible_to``: the co-ordinator and the director of the email's
alliance); sending one again is the co-ordinator's, and only once it has failed: a sent email
went, and a pending one will be tried again by itself.
"""

from __future__ import annotations

from ...formatting import uk_datetime
from ...models import OutboxEmail, User
from . import Decision, allow, forbid, not_now

ACTIONS = ("resend",)


def resend(mail: OutboxEmail, user: User) -> Decision:
    if user.role != "admin" or user.alliance_id != mail.alliance_id:
        return forbid("Only the alliance's co-ordinator can send an email again.")
    if mail.status == "sent":
        return not_now(f"This email was sent on {uk_datetime(mail.sent_at)}.")
    if mail.status == "pending":
        when = (f" It will be tried again at {uk_datetime(mail.next_attempt_at)}."
                if mail.next_attempt_at else "")
        return not_now("This email is still queued and will be sent by itself." + when)
    return allow()


def actions(mail: OutboxEmail, user: User) -> dict[str, Decision]:
    return {"resend": resend(mail, user)}
