"""Issue 15 item 1: a Board's targeted request reaches "Find a system leader" and "Propose"
without a 500, from the Board's own form and in the demo data."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import Deployment, SupportRequest, User
from tests import factories
from tests.factories import evaluations as fc
from tests.factories import requests as fr


def _board_request_without_a_time_frame(w) -> SupportRequest:
    """What the Board's old form filed: no time frame, no subject."""
    board = fc.board_for(w.a)
    r = factories.support_request(w.a.alliance, w.user("a", "board"), [w.a.other],
                                  status="matching", board=board)
    r.route, r.start_date, r.end_date, r.specialism_id = "board", None, None, None
    db.session.commit()
    return r


def test_a_request_without_a_time_frame_is_refused_with_a_reason_not_a_500(world, client_for):
    r = _board_request_without_a_time_frame(world)
    admin = client_for(world.user("a", "admin"))
    found = admin.get(f"/requests/{r.id}/match")
    assert found.status_code == 409
    assert "has no time frame" in found.data.decode()
    proposed = admin.post(f"/requests/{r.id}/propose", {"leader_id": str(world.a.leader.id)})
    assert proposed.status_code == 409
    assert db.session.scalar(select(Deployment).where(Deployment.request_id == r.id)) is None


def test_the_boards_own_request_is_matched_and_proposed(world, client_for):
    """Board member files from the form; the co-ordinator accepts, finds and proposes."""
    fc.board_for(world.a)
    spec = fr.specialism("phonics", "Phonics")
    leader_profile = world.a.leader.profile
    leader_profile.specialisms = [spec]
    db.session.commit()
    board = client_for(world.user("a", "board"))
    start = date.today() + timedelta(days=14)
    sent = board.post("/board/requests/new", {
        "school_id": str(world.a.other.id), "title": "Early reading", "standards": ["TS1"],
        "phase": "primary", "specialism_id": str(spec.id), "priorities": "Phonics outcomes",
        "desired_outcomes": "Screening rises", "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=60)).isoformat(), "days": "3", "concession": ""})
    assert sent.status_code == 303, sent.data.decode()[:2000]
    req = db.session.scalar(select(SupportRequest).where(SupportRequest.title == "Early reading"))
    assert req.half_days_wanted == 6 and req.start_date == start
    admin = client_for(world.user("a", "admin"))
    assert admin.post(f"/requests/{req.id}/triage", {"action": "matching"}).status_code == 303
    page = admin.get(f"/requests/{req.id}/match")
    assert page.status_code == 200
    assert world.a.leader.name in page.data.decode()
    proposed = admin.post(f"/requests/{req.id}/propose", {"leader_id": str(world.a.leader.id)})
    assert proposed.status_code == 303
    d = db.session.scalar(select(Deployment).where(Deployment.request_id == req.id))
    assert d.targeted and d.status == "proposed"


def test_every_demo_request_opens_find_a_system_leader_without_a_500(app, db, client_for):
    app.test_cli_runner().invoke(args=["demo"])
    checked = 0
    for admin in db.session.scalars(select(User).where(User.role == "admin")).all():
        c = client_for(admin)
        for req in db.session.scalars(select(SupportRequest).where(
                SupportRequest.alliance_id == admin.alliance_id,
                SupportRequest.status.in_(("matching", "matched")))).all():
            r = c.get(f"/requests/{req.id}/match")
            assert r.status_code == 200, (req.reference, req.route, r.status_code)
            checked += 1
    assert checked >= 5
