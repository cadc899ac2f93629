"""A creation form sent twice (a double click, a resend, ten at once) makes one thing, and a
deployment has one request for extra days awaiting approval, however many arrive at once."""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from portal.domain import finance, workflow
from portal.extensions import db
from portal.idempotency import REPLAYED
from portal.models import (
    EIP,
    Action,
    AuditEvent,
    Board,
    Deployment,
    Evaluation,
    IdempotencyKey,
    Invoice,
    Outcome,
    Payment,
    RateCard,
    School,
    Specialism,
    SupportRequest,
    Unavailability,
    User,
    Variation,
    Visit,
)
from tests.conftest import PortalClient
from tests.factories import evaluations as fc
from tests.factories import finance as ff
from tests.factories import requests as fr

KEY = re.compile(r'name="idempotency_key" value="([A-Za-z0-9_-]+)"')


@pytest.fixture
def w(db):
    """Both deployments active with a plan of two outcomes (completion's world)."""
    return fc.evaluations_world()


def count(model, *where) -> int:
    db.session.commit()  # end the test's read transaction: see what requests committed
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def key_on(page: str, action: str) -> str:
    """The one-time key of the form on ``page`` that is sent to ``action``."""
    at = page.find(f'action="{action}"')
    match = KEY.search(page, at if at >= 0 else 0)
    assert match, f"no one-time key in the form sent to {action}"
    return match.group(1)


@dataclass
class Case:
    user: User
    page: str  # where the form is drawn
    action: str  # where it is sent
    data: dict[str, Any]
    made: Any  # () -> how many things exist that the form makes
    multipart: bool = False


def _request(w):
    spec = fr.specialism()
    db.session.commit()
    return Case(w.user("a", "headteacher"), "/requests/new", "/requests/new",
                fr.form_data([w.a.receiving.id], spec.id),
                lambda: count(SupportRequest, SupportRequest.title == "Reasoning in Year 5"))


def _targeted(w):
    fc.board_for(w.a)
    db.session.commit()
    spec = fr.specialism("phonics", "Phonics")
    db.session.commit()
    start = date.today() + timedelta(days=14)
    data = {"school_id": str(w.a.other.id), "title": "Early reading", "standards": ["TS3"],
            "phase": "primary", "specialism_id": str(spec.id),
            "priorities": "KS1 phonics outcomes low",
            "desired_outcomes": "Phonics screening rises", "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=60)).isoformat(), "days": "3",
            "concession": "0"}
    return Case(w.user("a", "board"), "/board/requests/new", "/board/requests/new", data,
                lambda: count(SupportRequest, SupportRequest.title == "Early reading"))


def _plan_id(w) -> int:
    from portal.models import ActionPlan

    return db.session.scalar(select(ActionPlan.id).where(
        ActionPlan.deployment_id == w.a.deployment.id))


def _action(w):
    plan = _plan_id(w)
    return Case(w.a.leader, f"/deployments/{w.a.deployment.id}/plan", f"/plans/{plan}/actions",
                {"new-action-description": "Model worked examples daily",
                 "new-action-status": "not_started"},
                lambda: count(Action, Action.description == "Model worked examples daily"))


def _outcome(w):
    plan = _plan_id(w)
    return Case(w.a.leader, f"/deployments/{w.a.deployment.id}/plan", f"/plans/{plan}/outcomes",
                {"new-outcome-text": "Pupils use precise vocabulary"},
                lambda: count(Outcome, Outcome.text == "Pupils use precise vocabulary"))


def _visit(w):
    d = w.a.deployment.id
    url = f"/deployments/{d}/visits/new"
    return Case(w.a.leader, url, url, {"visit_date": date.today().isoformat(), "half_days": "1",
                                       "notes": "Observed a lesson"},
                # the world's own visits were on past days: count the one sent today
                lambda: count(Visit, Visit.deployment_id == d, Visit.visit_date == date.today()))


def _variation(w):
    d = w.a.deployment.id
    url = f"/deployments/{d}/variations/new"
    return Case(w.a.leader, url, url, {"half_days": "2", "reason": "Two more coaching days"},
                lambda: count(Variation, Variation.deployment_id == d))


def _payment(w):
    d = ff.priced_deployment(w.b, model="east_sussex", designation="sle", half_days=12)
    workflow.transition(d, "completed", w.user("b", "director"))
    workflow.commit_or_conflict()
    inv = db.session.scalars(select(Invoice).where(Invoice.deployment_id == d.id)
                             .order_by(Invoice.id)).first()
    finance.mark_sent(inv, w.user("b", "admin"))
    db.session.commit()
    inv_id = inv.id
    return Case(w.user("b", "admin"), f"/finance/invoices/{inv_id}",
                f"/finance/invoices/{inv_id}/payments",
                {"amount": "100.00", "received_on": date.today().isoformat(),
                 "reference": "BACS 7"},
                lambda: count(Payment, Payment.invoice_id == inv_id))


def _rate_card(w):
    data = {"effective_from": date.today().isoformat(), "nle_day": "500", "lle_day": "475",
            "slt_day": "400", "sle_day": "350", "non_sle_day": "300", "brokerage_percent": "10",
            "board_grant_day": "0", "board_school_day": "0", "gpv_half_day": "100",
            "gpv_free_per_year": "1", "consult_hour": "70", "consult_free_hours": "1"}
    alliance = w.a.alliance.id
    return Case(w.user("a", "admin"), "/finance/rates/new", "/finance/rates/new", data,
                lambda: count(RateCard, RateCard.alliance_id == alliance))


def _invite(w):
    data = {"email": "new.teacher@alpha.example.org", "name": "New Teacher",
            "role": "headteacher", "school_id": str(w.a.other.id), "board_id": "",
            "designation": "sle", "job_title": "Head"}
    return Case(w.user("a", "admin"), "/admin/users/invite", "/admin/users/invite", data,
                lambda: count(AuditEvent, AuditEvent.action == "user.invite"))


def _school(w):
    return Case(w.user("a", "admin"), "/admin/schools/new", "/admin/schools/new",
                {"urn": "123456", "name": "Seaside Academy", "phase": "primary"},
                lambda: count(School, School.urn == "123456"))


def _board(w):
    return Case(w.user("a", "admin"), "/admin/boards/new", "/admin/boards/new",
                {"name": "Coastal Board", "phase": "primary", "budget": "1000"},
                lambda: count(Board, Board.name == "Coastal Board"))


def _eip(w):
    return Case(w.user("a", "admin"), "/admin/eips/new", "/admin/eips/new",
                {"name": "North EIP"}, lambda: count(EIP, EIP.name == "North EIP"))


def _specialism(w):
    return Case(w.user("a", "admin"), "/admin/specialisms", "/admin/specialisms",
                {"name": "Oracy"}, lambda: count(Specialism, Specialism.name == "Oracy"))


def _import(w):
    csv = ("URN,EstablishmentName,PhaseOfEducation (name),LA (name),LA (code),Postcode\n"
           "654321,Dune Primary,Primary,Sefton,343,L20 1AA\n")
    return Case(w.user("a", "admin"), "/admin/schools/import", "/admin/schools/import",
                {"file": lambda: (io.BytesIO(csv.encode()), "extract.csv")},
                lambda: count(AuditEvent, AuditEvent.action == "school.import"),
                multipart=True)


def _unavailable(w):
    return Case(w.a.leader, "/directory/me", "/directory/me/unavailable",
                {"start": "2027-02-01", "end": "2027-02-05", "note": "Conference"},
                lambda: count(Unavailability, Unavailability.note == "Conference"))


def _propose(w):
    req = w.a.draft
    req.status = "matching"
    db.session.commit()
    req_id = req.id
    return Case(w.user("a", "admin"), f"/requests/{req_id}/match",
                f"/requests/{req_id}/propose", {"leader_id": str(w.a.leader.id)},
                lambda: count(Deployment, Deployment.request_id == req_id))


def _qa_note(w):
    url = f"/deployments/{w.a.deployment.id}/evaluations/qa"
    return Case(w.user("a", "director"), url, url,
                {"version": str(w.a.deployment.version), "is_working": "Yes, it is working"},
                lambda: count(Evaluation, Evaluation.kind == "qa_mid"))


def _leader_evaluation(w):
    from portal.domain import evaluations as ev

    url = f"/deployments/{w.a.deployment.id}/evaluations/evaluation"
    d = w.a.deployment
    data = {"version": str(d.version), "summary": "Clear gains", "changes_for_teachers": "Plan",
            "changes_for_pupils": "Explain", "recommendations": "Moderate",
            "exit_arrangements": "Lead coaches"}
    for o in ev.outcomes_for(d):
        data[f"rating_{o.id}"] = "3"
        data[f"evidence_{o.id}"] = "Books"
    return Case(w.a.leader, url, url, data,
                lambda: count(Evaluation, Evaluation.kind == "leader"))


def _end_early(w):
    url = f"/deployments/{w.a.deployment.id}/evaluations/end-early"
    return Case(w.user("a", "admin"), url, url,
                {"version": str(w.a.deployment.version), "reason": "Leader moved school",
                 "last_day_delivered": date.today().isoformat(), "half_days_delivered": "4"},
                lambda: count(AuditEvent, AuditEvent.action == "deployment.ended_early"))


CASES = {
    "new request": _request, "targeted request": _targeted, "add action": _action,
    "add outcome": _outcome, "log visit": _visit, "ask for extra days": _variation,
    "payment": _payment, "rate card": _rate_card, "invite": _invite, "school": _school,
    "Board": _board, "EIP": _eip, "specialism": _specialism, "GIAS import": _import,
    "dates unavailable": _unavailable, "proposal": _propose, "QA note": _qa_note,
    "leader's evaluation": _leader_evaluation, "early end (credit notes)": _end_early,
}


def _send(client, case: Case, key: str, **kw):
    data = {k: (v() if callable(v) else v) for k, v in case.data.items()}
    data["idempotency_key"] = key
    if case.multipart:
        kw["content_type"] = "multipart/form-data"
    return client.post(case.action, data, **kw)


@pytest.mark.parametrize("name", CASES)
def test_a_creation_form_sent_twice_makes_one_thing(w, client_for, name):
    case = CASES[name](w)
    c = client_for(case.user)
    page = c.get(case.page)
    assert page.status_code == 200
    key = key_on(page.data.decode(), case.action)
    first = _send(c, case, key)
    assert first.status_code == 303, first.data.decode()[:3000]
    assert case.made() == 1
    again = _send(c, case, key)  # the same form, sent again
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert case.made() == 1
    assert REPLAYED in c.get(again.headers["Location"]).data.decode()


@pytest.mark.parametrize("name", ["new request", "add action", "school"])
def test_a_new_key_makes_a_second_thing(w, client_for, name):
    """The key stops a repeat of one form, not a second form filled in on purpose."""
    case = CASES[name](w)
    c = client_for(case.user)
    for i in range(2):
        key = key_on(c.get(case.page).data.decode(), case.action)
        data = dict(case.data)
        if name == "school":
            data["urn"] = f"12345{i}"
        assert c.post(case.action, {**data, "idempotency_key": key}).status_code == 303
    made = (count(School, School.name == "Seaside Academy") if name == "school"
            else case.made())
    assert made == 2


def test_a_replayed_row_over_htmx_sends_the_page_to_the_row_already_added(w, client_for):
    case = _action(w)
    c = client_for(case.user)
    key = key_on(c.get(case.page).data.decode(), case.action)
    first = _send(c, case, key, htmx=True)
    assert first.status_code == 200 and "Model worked examples daily" in first.data.decode()
    added = db.session.scalar(select(Action.id).where(
        Action.description == "Model worked examples daily"))
    fresh_key = KEY.search(first.data.decode()).group(1)
    assert fresh_key != key  # the add form drawn again is a new form
    again = _send(c, case, key, htmx=True)
    assert again.status_code == 200
    assert again.headers["HX-Redirect"].endswith(f"/plan#action-{added}")
    assert case.made() == 1


def test_a_form_without_its_key_is_shown_again_with_its_answers_and_a_new_key(w, client_for):
    case = _request(w)
    c = client_for(case.user)
    r = c.post(case.action, case.data, once=False)
    assert r.status_code == 422
    body = r.data.decode()
    assert "This page was out of date. Check your answers and send the form again." in body
    assert "Two Year 5 class teachers" in body  # what was typed is still there
    assert case.made() == 0
    assert c.post(case.action, {**case.data, "idempotency_key": KEY.search(body).group(1)}) \
        .status_code == 303
    assert case.made() == 1


def test_a_refused_form_sent_again_with_its_key_is_saved(w, client_for):
    """A claim whose request saved nothing is not kept: correcting the form and sending it
    again (with the same key, as the form drawn again carries) saves it."""
    case = _variation(w)
    c = client_for(case.user)
    key = key_on(c.get(case.page).data.decode(), case.action)
    bad = c.post(case.action, {**case.data, "reason": "", "idempotency_key": key})
    assert bad.status_code == 422 and f'value="{key}"' in bad.data.decode()
    assert count(IdempotencyKey) == 0
    assert _send(c, case, key).status_code == 303
    assert case.made() == 1


def test_a_key_is_one_user_s(w, client_for):
    """Two people can never collide on a key: it is kept per user."""
    case = _variation(w)
    key = key_on(client_for(case.user).get(case.page).data.decode(), case.action)
    assert _send(client_for(case.user), case, key).status_code == 303
    v = db.session.scalar(select(Variation))
    v.status = "declined"
    db.session.commit()
    assert _send(client_for(w.user("a", "admin")), case, key).status_code == 303
    assert case.made() == 2


def test_a_key_from_another_form_is_refused(w, client_for):
    case = _variation(w)
    c = client_for(case.user)
    key = key_on(c.get(case.page).data.decode(), case.action)
    assert _send(c, case, key).status_code == 303
    other = _visit(w)
    r = _send(c, other, key)
    assert r.status_code == 409 and other.made() == 0


# ------------------------------------------------------------------- really at the same time


def _race(app, user, n: int, post) -> list[int]:
    """``n`` browsers of ``user`` each send ``post(client)`` at the same moment."""
    clients = [PortalClient(app, user) for _ in range(n)]
    db.session.remove()  # let the threads have the database
    barrier = threading.Barrier(n)
    codes: list[int | None] = [None] * n
    errors: list[BaseException] = []

    def run(i):
        try:
            barrier.wait(timeout=10)
            codes[i] = post(clients[i]).status_code
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return codes


@pytest.mark.parametrize("name", ["new request", "add action", "ask for extra days",
                                  "payment"])
def test_ten_at_once_with_one_key_make_one(app, w, client_for, name):
    case = CASES[name](w)
    key = key_on(client_for(case.user).get(case.page).data.decode(), case.action)
    codes = _race(app, case.user, 10, lambda c: _send(c, case, key))
    assert codes == [303] * 10
    assert case.made() == 1
    assert count(IdempotencyKey) == 1


def test_ten_requests_for_extra_days_at_once_leave_one_pending(app, w, client_for):
    case = _variation(w)
    d = w.a.deployment.id
    codes = _race(app, case.user, 10, lambda c: c.post(case.action, case.data))  # ten forms
    assert sorted(codes) == [303] + [409] * 9
    assert count(Variation, Variation.deployment_id == d, Variation.status == "pending") == 1
    assert count(AuditEvent, AuditEvent.action == "variation.requested") == 1


def test_a_second_pending_variation_is_refused_by_the_database(w):
    """Even past the check in the code (two at once), the database keeps one pending."""
    from sqlalchemy.exc import IntegrityError

    def variation():
        return Variation(deployment_id=w.a.deployment.id, half_days=2, reason="x",
                         requested_by_id=w.a.leader.id, status="pending", decline_reason="")

    db.session.add(variation())
    db.session.commit()
    db.session.add(variation())
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    old = db.session.scalar(select(Variation))
    old.status = "approved"  # decided ones do not count
    db.session.add(variation())
    db.session.commit()
    assert count(Variation) == 2


def test_a_second_request_for_extra_days_is_a_clear_409(w, client_for):
    case = _variation(w)
    c = client_for(case.user)
    assert c.post(case.action, case.data).status_code == 303
    r = c.post(case.action, case.data)  # another form, not a repeat
    assert r.status_code == 409
    assert "already awaiting approval" in r.data.decode()
    assert case.made() == 1
