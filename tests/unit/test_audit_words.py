"""The audit trail and the plan history read as sentences (issue 15, item 10): names, £,
"23 Nov 2026" and status words, never ``auth.login``, "User 1", ``amount_pence: 60000``,
"not_started" or "Between visits False"."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import event, select

from portal.domain import audit, audit_words, finance
from portal.extensions import db
from portal.models import AuditEvent, Invoice
from tests import factories

CODE = re.compile(r"\b[a-z]+[._][a-z_]+\b")  # auth.login, not_started, amount_pence
ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _whole_journey(w):
    d = factories.priced_deployment(w.a, status="completed")
    admin = w.user("a", "admin")
    for inv in db.session.scalars(select(Invoice).where(Invoice.deployment_id == d.id)):
        finance.mark_sent(inv, admin)
        finance.record_payment(inv, inv.total_pence // 2, admin, received_on=date.today())
    db.session.flush()
    return d


def _plain(text: str) -> None:
    assert not CODE.search(text), text
    assert not ISO.search(text), text
    for word in ("pence", "None", "True", "False", "User ", "_id"):
        assert word not in text, text


def test_every_event_of_a_whole_journey_reads_as_a_sentence(world):
    _whole_journey(world)
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert len(events) > 20
    names = audit.names_for(events)
    for e in events:
        said = audit_words.describe(e, names)
        assert said.text.endswith(".") and said.text[0].isupper(), said.text
        _plain(said.text)
        for line in said.details:
            _plain(line)


def test_a_signature_names_the_signer_the_deployment_and_the_capacity(world):
    d = _whole_journey(world)
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "agreement.signed")).all()
    names = audit.names_for(events)
    said = [audit_words.describe(e, names) for e in events]
    leader = next(s for s in said if s.text.startswith(world.a.leader.name))
    assert leader.text == f"{world.a.leader.name} signed the agreement for {d.reference}."
    assert "Signed as: System leader" in leader.details
    assert "Version: 1" in leader.details


def test_money_reads_in_pounds_and_states_in_words(world):
    d = _whole_journey(world)
    raised = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "invoice.raised")).first()
    said = audit_words.describe(raised, audit.names_for([raised]))
    assert re.search(r"Total: £[\d,]+\.\d\d$", next(x for x in said.details if "Total" in x))
    moved = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "deployment.active")).one()
    said = audit_words.describe(moved, audit.names_for([moved]))
    assert said.text.endswith(f"moved deployment {d.reference} to “active”.")


def test_a_proposal_answer_names_the_party_and_its_school(world):
    _whole_journey(world)
    e = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "deployment.receiving_accepted")).one()
    said = audit_words.describe(e, audit.names_for([e]))
    assert "agreed to deployment" in said.text and "the receiving school" in said.text


def test_an_event_by_nobody_and_a_person_since_removed_read_plainly(world):
    e = AuditEvent(action="deployment.active", object_type="Deployment", object_id=999,
                   detail={"from": "agreement", "to": "active", "leader_id": 424242})
    said = audit_words.describe(e, audit_words.Names())
    assert said.text == "The portal moved the deployment to “active”."
    assert "System leader: someone no longer in the portal" in said.details


def test_an_admin_edit_shows_what_changed(world):
    e = AuditEvent(action="user.update", actor_id=None, object_type="User", object_id=1,
                   detail={"before": {"designation": "sle", "name": "A"},
                           "after": {"designation": "nle", "name": "A"}})
    said = audit_words.describe(e)
    assert said.details == ("Designation: Specialist Leader of Education → "
                            "National Leader of Education",) or \
        any(line.startswith("Designation: ") and "→" in line for line in said.details)
    assert not any(line.startswith("Name") for line in said.details)


def test_naming_a_page_of_events_costs_the_same_for_one_journey_as_for_two(world):
    _whole_journey(world)
    one = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    d = factories.priced_deployment(world.b, status="completed")
    assert d.alliance_id != one[-1].alliance_id
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert len(events) > len(one)
    def queries(batch) -> int:
        seen: list[str] = []
        engine = db.engine

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            audit.names_for(batch)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    assert queries(events) == queries(one) <= 10


@pytest.mark.parametrize(("entity", "before", "after", "what"), [
    ("action", None, {"description": "Model talk", "status": "not_started"}, "Added an action"),
    ("outcome", {"text": "X"}, None, "Removed an outcome"),
    ("action", {"position": 1}, {"position": 2}, "Moved an action"),
    ("text", {"next_steps": "a"}, {"next_steps": "b"}, "Changed the next steps and notes"),
    ("action", {"status": "not_started", "between_visits": False, "due_date": "2026-11-23"},
     {"status": "on_track", "between_visits": True, "due_date": "2026-11-23"},
     "Changed an action"),
])
def test_a_plan_revision_reads_as_words(entity, before, after, what):
    said = audit_words.describe_revision(entity, before, after, {7: "Better reasoning"})
    assert said.what == what
    for label, value in said.before + said.after:
        _plain(f"{label}: {value}")
    if entity == "action" and before and "status" in before:
        assert ("Status", "Not started") in said.before
        assert ("Between visits", "No") in said.before and ("Between visits", "Yes") in said.after
        assert all(label != "Due" for label, _ in said.after)  # unchanged: not repeated


def test_a_revision_names_the_outcome_and_dates_read_british():
    said = audit_words.describe_revision(
        "action", None, {"outcome_id": 7, "due_date": "2026-11-23", "owner": "Ms Khan"},
        {7: "Better reasoning"})
    assert ("Outcome", "Better reasoning") in said.after
    assert ("Due", "23 Nov 2026") in said.after
