"""Two people at once, or a double click, produce exactly one action (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Deployment, DeploymentResponse, SupportRequest
from tests import factories


def _race(*calls):
    """Run the calls in threads released together; return their status codes in order."""
    barrier = threading.Barrier(len(calls))
    codes: list[int | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i, fn):
        try:
            barrier.wait(timeout=10)
            codes[i] = fn().status_code
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return codes


def _fresh():
    db.session.commit()  # end our read transaction: see what the threads committed


def _count(model, *where):
    _fresh()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_two_coordinators_proposing_at_once_make_one_proposal(world, client_for):
    req = factories.support_request(world.a.alliance, world.user("a", "headteacher"),
                                    [world.a.receiving], status="matching")
    second = factories.leader(world.a.alliance, world.a.other, name="Second Leader")
    director = world.user("a", "director")
    db.session.commit()
    admin_c = client_for(world.user("a", "admin"))
    director_c = client_for(director)
    url = f"/requests/{req.id}/propose"
    first_id, second_id = world.a.leader.id, second.id
    codes = _race(lambda: admin_c.post(url, data={"leader_id": first_id}),
                  lambda: director_c.post(url, data={"leader_id": second_id}))
    assert sorted(codes) == [303, 409]
    assert _count(Deployment, Deployment.request_id == req.id) == 1
    assert db.session.get(SupportRequest, req.id).status == "matched"
    assert _count(AuditEvent, AuditEvent.action == "deployment.proposed") == 1


def test_a_double_click_on_confirm_records_one_answer(world, client_for):
    d = world.a.deployment
    c = client_for(world.user("a", "headteacher"))
    url = f"/deployments/{d.id}/respond"
    codes = _race(lambda: c.post(url, data={"decision": "accepted"}),
                  lambda: c.post(url, data={"decision": "accepted"}))
    assert sorted(codes) == [303, 409]
    assert _count(DeploymentResponse, DeploymentResponse.deployment_id == d.id) == 1
    assert _count(AuditEvent, AuditEvent.action == "deployment.receiving_accepted") == 1


def test_the_last_two_parties_at_once_move_it_to_agreement_exactly_once(world, client_for):
    from portal.domain import brokering

    d = world.a.deployment
    brokering.respond(d, world.user("a", "headteacher"), "accepted")
    db.session.commit()
    home = client_for(world.user("a", "home_school"))
    leader = client_for(world.a.leader)
    url = f"/deployments/{d.id}/respond"
    codes = _race(lambda: home.post(url, data={"decision": "accepted"}),
                  lambda: leader.post(url, data={"decision": "accepted"}))
    assert codes == [303, 303]
    _fresh()
    assert db.session.get(Deployment, d.id).status == "agreement"
    assert _count(DeploymentResponse, DeploymentResponse.deployment_id == d.id) == 3
    assert _count(AuditEvent, AuditEvent.action == "deployment.agreement") == 1


def test_confirm_and_decline_at_once_never_leave_both(world, client_for):
    d = world.a.deployment
    world.a.request.status = "matched"
    db.session.commit()
    head = client_for(world.user("a", "headteacher"))
    home = client_for(world.user("a", "home_school"))
    url = f"/deployments/{d.id}/respond"
    codes = _race(lambda: head.post(url, data={"decision": "accepted"}),
                  lambda: home.post(url, data={"decision": "declined", "reason": "No cover"}))
    assert 303 in codes
    _fresh()
    dep = db.session.get(Deployment, d.id)
    assert dep.status == "declined"
    assert db.session.get(SupportRequest, dep.request_id).status == "matching"
    # whichever came first, no acceptance survives on a declined proposal unless it came first
    answers = _count(DeploymentResponse, DeploymentResponse.deployment_id == d.id)
    assert answers == (2 if codes == [303, 303] else 1)
