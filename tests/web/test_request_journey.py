"""Journey steps 1-3 through the test client: write, submit, triage, match, propose, confirm."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.domain import brokering
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Deployment,
    DeploymentResponse,
    Notification,
    OutboxEmail,
    SupportRequest,
)
from portal.models.requests import REQUEST_STATUSES
from tests import factories
from tests.factories import requests as fr


@pytest.fixture
def maths(world):
    s = fr.specialism()
    db.session.commit()
    return s


def _post_new(client, world, maths, **over):
    data = fr.form_data([world.a.receiving.id], maths.id, **over)
    return client.post("/requests/new", data=data)


def _latest():
    return db.session.scalar(select(SupportRequest).order_by(SupportRequest.id.desc()).limit(1))


def test_form_shows_every_standard_with_its_full_title(world, client_for, maths):
    body = client_for(world.user("a", "headteacher")).get("/requests/new").data.decode()
    assert "TS1: Set high expectations which inspire, motivate and challenge pupils" in body
    assert "Part Two: Personal and professional conduct" in body
    assert "Mathematics" in body and "Alpha Receiving Primary" in body
    assert "Beta Receiving Primary" not in body  # schools of another alliance are not offered
    for label in ("SLE deployment", "NLE/LLE commission", "Good-practice visit",
                  "One-off consultation", "EIP-led", "LA-commissioned", "Board-targeted",
                  "Direct to a Teaching School headteacher"):
        assert label in body


def test_headteacher_saves_a_draft(world, client_for, maths):
    before = db.session.scalar(select(func.count(SupportRequest.id)))
    r = _post_new(client_for(world.user("a", "headteacher")), world, maths, save="1")
    assert r.status_code == 303
    req = _latest()
    assert db.session.scalar(select(func.count(SupportRequest.id))) == before + 1
    assert req.status == "draft" and req.half_days_wanted == 8
    assert req.standards == ["TS2", "TS6"] and req.reference.startswith("R-")
    assert [rs.school_id for rs in req.schools] == [world.a.receiving.id]
    assert req.submitted_at is None


def test_submitting_notifies_the_coordinator(world, client_for, maths):
    r = _post_new(client_for(world.user("a", "headteacher")), world, maths, submit_now="1")
    assert r.status_code == 303
    req = _latest()
    assert req.status == "submitted" and req.submitted_at is not None
    admin = world.user("a", "admin")
    assert db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == admin.id, Notification.message.contains(req.reference))) == 1
    mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == admin.email))
    assert mail is not None and req.reference in mail.subject
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "supportrequest.submitted", AuditEvent.object_id == req.id))


BAD = [
    ({"title": ""}, "title", "Enter a short title."),
    ({"standards": []}, "standards", "Choose at least one of the Teachers"),
    ({"specialism_id": "0"}, "specialism_id", "Choose a subject or specialism."),
    ({"staff_involved": ""}, "staff_involved", "Enter the staff involved."),
    ({"start_date": "not a date"}, "start_date", "Enter the date as day, month and year"),
    ({"start_date": "11/31/2027"}, "start_date", "Enter the day before the month"),
    ({"end_date": "2020-01-01"}, "end_date", "must be on or after its start"),
    ({"days_wanted": "0"}, "days_wanted", "Enter between 0.5 and 200 days."),
    ({"days_wanted": "1.3"}, "days_wanted", "Enter whole or half days"),
    ({"kind": "lunch"}, "kind", "Not a valid choice"),
    ({"route": None}, "route", "Choose the route."),
    ({"school_ids": []}, "school_ids", "Choose at least one receiving school."),
]


@pytest.mark.parametrize(("over", "field", "message"), BAD)
def test_bad_input_is_shown_beside_its_field_and_nothing_is_saved(world, client_for, maths,
                                                                   over, field, message):
    before = db.session.scalar(select(func.count(SupportRequest.id)))
    r = _post_new(client_for(world.user("a", "headteacher")), world, maths, submit_now="1",
                  **over)
    assert r.status_code == 422
    body = r.data.decode()
    start = body.index(f'id="{field}-field"')
    assert message in body[start:start + 3000]
    assert f'id="{field}-error"' in body
    assert db.session.scalar(select(func.count(SupportRequest.id))) == before


def test_another_alliances_school_is_refused(world, client_for, maths):
    c = client_for(world.user("a", "headteacher"))
    data = fr.form_data([world.b.receiving.id], maths.id)
    r = c.post("/requests/new", data=data)
    assert r.status_code == 422


def test_edit_draft_and_submit_from_the_page(world, client_for, maths):
    c = client_for(world.user("a", "headteacher"))
    draft = world.a.draft
    assert c.get(f"/requests/{draft.id}/edit").status_code == 200
    data = fr.form_data([world.a.receiving.id, world.a.other.id], maths.id,
                        title="Changed title", save="1", version=str(draft.version))
    assert c.post(f"/requests/{draft.id}/edit", data=data).status_code == 303
    db.session.expire_all()
    assert draft.title == "Changed title" and len(draft.schools) == 2
    assert c.post(f"/requests/{draft.id}/submit").status_code == 303
    db.session.expire_all()
    assert draft.status == "submitted"
    # once submitted it can no longer be edited
    assert c.post(f"/requests/{draft.id}/edit", data=data).status_code == 409


def test_stale_edit_is_refused(world, client_for, maths):
    c = client_for(world.user("a", "headteacher"))
    data = fr.form_data([world.a.receiving.id], maths.id, save="1",
                                        version="99")
    assert c.post(f"/requests/{world.a.draft.id}/edit", data=data).status_code == 409


def test_withdraw(world, client_for):
    c = client_for(world.user("a", "headteacher"))
    assert c.post(f"/requests/{world.a.request.id}/withdraw").status_code == 303
    db.session.expire_all()
    assert world.a.request.status == "withdrawn"
    assert c.post(f"/requests/{world.a.request.id}/withdraw").status_code == 409


def test_triage_more_info_needs_a_reason_and_tells_the_requester(world, client_for):
    c = client_for(world.user("a", "admin"))
    url = f"/requests/{world.a.request.id}/triage"
    r = c.post(url, data={"action": "more_info", "reason": ""})
    assert r.status_code == 422 and "Say what you need" in r.data.decode()
    db.session.expire_all()
    assert world.a.request.status == "submitted"
    assert c.post(url, data={"action": "more_info", "reason": "Which year groups?"}
                  ).status_code == 303
    db.session.expire_all()
    assert world.a.request.status == "more_info"
    assert world.a.request.triage_note == "Which year groups?"
    head = world.user("a", "headteacher")
    assert db.session.scalar(select(Notification).where(
        Notification.user_id == head.id, Notification.message.contains("Which year groups?")))
    body = client_for(head).get(f"/requests/{world.a.request.id}").data.decode()
    assert "Which year groups?" in body


def test_triage_decline_and_accept(world, client_for):
    c = client_for(world.user("a", "admin"))
    assert c.post(f"/requests/{world.a.request.id}/triage",
                  data={"action": "declined", "reason": "Out of scope"}).status_code == 303
    db.session.expire_all()
    assert world.a.request.status == "declined"
    r2 = factories.support_request(world.a.alliance, world.user("a", "headteacher"),
                                   [world.a.receiving])
    db.session.commit()
    assert c.post(f"/requests/{r2.id}/triage", data={"action": "matching"}).status_code == 303
    db.session.expire_all()
    assert r2.status == "matching"


def _matching_request(world):
    req = factories.support_request(world.a.alliance, world.user("a", "headteacher"),
                                    [world.a.receiving], status="matching")
    db.session.commit()
    return req


def test_match_page_ranks_with_reasons_and_excludes_receiving_school_staff(world, client_for):
    req = _matching_request(world)
    # a leader working at the receiving school must never be proposed
    inside = factories.leader(world.a.alliance, world.a.receiving, name="Inside Leader")
    other = factories.leader(world.a.alliance, world.a.other, name="Zed Other", standards=())
    best = factories.leader(world.a.alliance, world.a.other, name="Best Fit", standards=("TS2",))
    db.session.commit()
    c = client_for(world.user("a", "admin"))
    body = c.get(f"/requests/{req.id}/match").data.decode()
    ranked = body[body.index("Ranked system leaders"):body.index("Cannot be proposed")]
    assert "Alpha Leader" in ranked and "Zed Other" in ranked
    assert ranked.index("Best Fit") < ranked.index("Zed Other")  # covers TS2 asked for
    assert "Inside Leader" not in ranked
    assert "Works at a receiving school" in body[body.index("Cannot be proposed"):]
    assert "Covers" in ranked and "free for the" in ranked
    assert "Beta Leader" not in body
    # htmx filter: only the results block, filtered
    r = c.htmx_get(f"/requests/{req.id}/match?q=zed")
    part = r.data.decode()
    assert "<html" not in part and "Zed Other" in part and "Alpha Leader" not in part
    # proposing an excluded leader is refused and changes nothing
    r = c.post(f"/requests/{req.id}/propose", data={"leader_id": inside.id})
    assert r.status_code == 422
    db.session.expire_all()
    assert req.status == "matching"
    assert best.id and other.id


def test_match_page_query_count_does_not_grow_with_the_directory(world, client_for):
    req = _matching_request(world)
    c = client_for(world.user("a", "admin"))
    url = f"/requests/{req.id}/match"
    factories.leader(world.a.alliance, world.a.other, name="First extra")
    db.session.commit()
    first = _queries(c, url)
    for i in range(6):
        factories.leader(world.a.alliance, world.a.other, name=f"Extra {i}",
                         specialisms=[fr.specialism()])
    db.session.commit()
    assert _queries(c, url) == first


def _queries(c, url) -> int:
    from sqlalchemy import event

    seen = []

    def listen(*_a, **_k):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        assert c.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    return len(seen)


def test_full_confirm_and_release(world, client_for):
    req = _matching_request(world)
    leader = world.a.leader
    admin = client_for(world.user("a", "admin"))
    r = admin.post(f"/requests/{req.id}/propose", data={"leader_id": leader.id})
    assert r.status_code == 303
    db.session.expire_all()
    assert req.status == "matched" and req.matched_at is not None
    d = db.session.scalar(select(Deployment).where(Deployment.request_id == req.id))
    assert d.status == "proposed" and d.leader_id == leader.id
    assert d.half_days_agreed == req.half_days_wanted
    # every party has been told
    for role in ("headteacher", "home_school", "sle"):
        u = world.user("a", role)
        assert db.session.scalar(select(Notification).where(
            Notification.user_id == u.id, Notification.url == f"/deployments/{d.id}"))
    # a second proposal for the same request is refused
    assert admin.post(f"/requests/{req.id}/propose",
                      data={"leader_id": leader.id}).status_code == 409

    url = f"/deployments/{d.id}/respond"
    head = client_for(world.user("a", "headteacher"))
    page = head.get(f"/deployments/{d.id}").data.decode()
    assert "Confirm the system leader" in page and 'id="panel-responses-title"' in page
    assert head.post(url, data={"decision": "accepted"}).status_code == 303
    assert head.post(url, data={"decision": "accepted"}).status_code == 409  # double click
    assert client_for(world.user("a", "home_school")).post(
        url, data={"decision": "accepted"}).status_code == 303
    db.session.expire_all()
    assert d.status == "proposed"
    assert client_for(leader).post(url, data={"decision": "accepted"}).status_code == 303
    db.session.expire_all()
    assert d.status == "agreement" and d.confirmed_at is not None
    assert db.session.scalar(select(func.count(DeploymentResponse.id)).where(
        DeploymentResponse.deployment_id == d.id)) == 3
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "deployment.agreement", AuditEvent.object_id == d.id))


@pytest.mark.parametrize("role", ["headteacher", "home_school", "sle"])
def test_any_decline_sends_the_request_back_to_matching(world, client_for, role):
    req = _matching_request(world)
    client_for(world.user("a", "admin")).post(f"/requests/{req.id}/propose",
                                              data={"leader_id": world.a.leader.id})
    d = db.session.scalar(select(Deployment).where(Deployment.request_id == req.id))
    c = client_for(world.user("a", role))
    r = c.post(f"/deployments/{d.id}/respond", data={"decision": "declined", "reason": ""})
    assert r.status_code == 422 and "Give a reason for declining." in r.data.decode()
    r = c.post(f"/deployments/{d.id}/respond",
               data={"decision": "declined", "reason": "Clashes with our Ofsted window"})
    assert r.status_code == 303
    db.session.expire_all()
    assert d.status == "declined" and req.status == "matching"
    admin = world.user("a", "admin")
    assert db.session.scalar(select(Notification).where(
        Notification.user_id == admin.id, Notification.message.contains("Ofsted window")))
    body = client_for(admin).get(f"/requests/{req.id}").data.decode()
    assert "Clashes with our Ofsted window" in body
    # the request can be matched again
    assert client_for(admin).get(f"/requests/{req.id}/match").status_code == 200


def test_only_a_party_can_answer(world, client_for):
    d = world.a.deployment
    for role in ("other_head",):
        r = client_for(world.user("a", role)).post(f"/deployments/{d.id}/respond",
                                                   data={"decision": "accepted"})
        assert r.status_code == 404  # cannot even see it
    db.session.expire_all()
    assert d.responses == []


def test_outbox_lists_and_reads_alliance_mail_only(world, client_for, maths):
    _post_new(client_for(world.user("a", "headteacher")), world, maths, submit_now="1")
    admin_a = world.user("a", "admin")
    mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == admin_a.email))
    c = client_for(admin_a)
    body = c.get("/coordinator/outbox").data.decode()
    assert mail.subject in body
    one = c.get(f"/coordinator/outbox/{mail.id}").data.decode()
    assert "Dear" in one and mail.to in one
    assert client_for(world.user("b", "admin")).get(
        f"/coordinator/outbox/{mail.id}").status_code == 404
    assert mail.subject not in client_for(world.user("b", "admin")).get(
        "/coordinator/outbox").data.decode()


def test_inbox_oldest_first_with_overdue_flag(world, client_for):
    old = factories.support_request(world.a.alliance, world.user("a", "headteacher"),
                                    [world.a.receiving], hours_ago=60, title="Old one")
    db.session.commit()
    body = client_for(world.user("a", "admin")).get("/coordinator/inbox").data.decode()
    assert body.index(old.reference) < body.index(world.a.request.reference)
    assert "Overdue by" in body and "flag-overdue" in body
    assert world.b.request.reference not in body


def test_more_information_then_resend(world, client_for, maths):
    req = world.a.request
    client_for(world.user("a", "admin")).post(
        f"/requests/{req.id}/triage", data={"action": "more_info", "reason": "Which years?"})
    c = client_for(world.user("a", "headteacher"))
    page = c.get(f"/requests/{req.id}/edit").data.decode()
    assert "Which years?" in page and "Send the extra information" in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    data = fr.form_data([world.a.receiving.id], maths.id,
                        staff_involved="Years 4 and 5", submit_now="1", version=version)
    assert c.post(f"/requests/{req.id}/edit", data=data).status_code == 303
    db.session.expire_all()
    assert req.status == "submitted" and req.staff_involved == "Years 4 and 5"


def test_board_member_files_a_targeted_request_and_sees_own_draft(world, client_for, maths):
    from portal.models import Board

    board = Board(alliance_id=world.a.alliance.id, name="Primary Board", phase="primary")
    db.session.add(board)
    db.session.flush()
    member = factories.user(world.a.alliance, "board", board=board)
    db.session.commit()
    c = client_for(member)
    data = fr.form_data([world.a.receiving.id, world.a.other.id], maths.id,
                                        route="board", save="1")
    r = c.post("/requests/new", data=data)
    assert r.status_code == 303
    req = _latest()
    assert req.board_id == board.id and req.route == "board" and len(req.schools) == 2
    assert c.get(r.headers["Location"]).status_code == 200
    # another board member of the alliance does not see the draft
    other = factories.user(world.a.alliance, "board")
    db.session.commit()
    assert client_for(other).get(f"/requests/{req.id}").status_code == 404


def test_admin_home_desk_counts_waiting_and_overdue(world, client_for):
    factories.support_request(world.a.alliance, world.user("a", "headteacher"),
                              [world.a.receiving], hours_ago=50)
    db.session.commit()
    body = client_for(world.user("a", "admin")).get("/").data.decode()
    assert 'id="panel-desk-title"' in body
    assert "2 requests waiting for a match" in body and "1 past the 48-hour target" in body
    assert 'id="panel-desk-title"' not in client_for(world.user("a", "headteacher")).get(
        "/").data.decode()


def _home_counts(body: str) -> tuple[int, int]:
    """The inbox heading's count and the sum of the desk panel's "N ... waiting for" counts."""
    heading = re.search(r'id="inbox-h">[^<]*<span class="count">\((\d+)\)</span>', body)
    desk = body[body.index('id="panel-desk-title"'):]
    desk = desk[:desk.index("</p>")]
    waiting = [int(n) for n in re.findall(r"(\d+) (?:requests? )?waiting for", desk)]
    assert heading and waiting, body
    return int(heading.group(1)), sum(waiting)


@pytest.mark.parametrize("status", list(REQUEST_STATUSES))
def test_home_inbox_and_desk_count_the_same_requests_in_every_status(world, client_for, status):
    """Issue 14: one definition of "in the inbox" for the list and the desk panel's counts."""
    extra = factories.support_request(world.a.alliance, world.user("a", "headteacher"),
                                      [world.a.receiving])
    extra.status = status
    db.session.commit()
    admin = world.user("a", "admin")
    expected = db.session.scalar(select(func.count()).select_from(SupportRequest)
                                 .where(brokering.in_inbox(admin)))
    listed, desk = _home_counts(client_for(admin).get("/").data.decode())
    assert listed == desk == expected
    assert expected == 1 + (status in brokering.INBOX_STATUSES)  # the world's own request too


def test_desk_says_how_many_wait_on_the_school(world, client_for):
    asked = factories.support_request(world.a.alliance, world.user("a", "headteacher"),
                                      [world.a.receiving])
    asked.status = "more_info"
    db.session.commit()
    body = client_for(world.user("a", "admin")).get("/").data.decode()
    assert "1 request waiting for a match, 1 waiting for more information from the school" in body


# ---------------------------------------------------- consultations in hours (issue 15, 5)


def test_a_consultation_is_asked_for_in_hours(world, client_for, maths):
    c = client_for(world.user("a", "headteacher"))
    r = _post_new(c, world, maths, kind="consultation", days_wanted=None, hours_wanted="3")
    assert r.status_code == 303
    req = _latest()
    assert req.hours_wanted == 3 and req.half_days_wanted == 1  # about 3 hours a half day
    body = c.get(f"/requests/{req.id}").data.decode()
    assert "Hours wanted" in body and "3 hours" in body


@pytest.mark.parametrize(("over", "field", "message"), [
    ({"kind": "consultation", "days_wanted": "2", "hours_wanted": None}, "hours_wanted",
     "Enter the hours of consultation wanted"),
    ({"kind": "consultation", "hours_wanted": "41"}, "hours_wanted", "Enter 1 to 40 hours."),
    ({"kind": "consultation", "hours_wanted": "0"}, "hours_wanted", "Enter 1 to 40 hours."),
    ({"kind": "consultation", "hours_wanted": "2.5"}, "hours_wanted", ""),
    ({"kind": "sle_deployment", "days_wanted": None, "hours_wanted": "3"}, "days_wanted",
     "Enter the number of days wanted"),
])
def test_the_time_asked_for_fits_the_kind_of_support(world, client_for, maths, over, field,
                                                      message):
    before = db.session.scalar(select(func.count()).select_from(SupportRequest))
    r = _post_new(client_for(world.user("a", "headteacher")), world, maths, **over)
    body = r.data.decode()
    assert r.status_code == 422 and f'id="{field}-error"' in body and message in body
    assert db.session.scalar(select(func.count()).select_from(SupportRequest)) == before


def test_hours_on_a_deployment_are_ignored(world, client_for, maths):
    c = client_for(world.user("a", "headteacher"))
    assert _post_new(c, world, maths, hours_wanted="5").status_code == 303
    req = _latest()
    assert req.hours_wanted is None and req.half_days_wanted == 8


def test_the_command_refuses_a_consultation_without_hours(world):
    from portal.domain import brokering, errors

    with pytest.raises(errors.Invalid) as exc:
        brokering.create_request(world.user("a", "headteacher"), kind="consultation",
                                 hours_wanted=None, school_ids=[world.a.receiving.id],
                                 title="x")
    assert exc.value.field == "hours_wanted"


def test_the_headteacher_sees_the_price_of_the_proposed_leader_before_confirming(world,
                                                                               client_for):
    """Issue 15, item 9: in Sefton the rate depends on who is proposed; the headteacher saw no
    price until the agreement. Sefton LLE, 4 days: £1,800 + 10% brokerage = £1,980.00."""
    from portal.models import Deployment
    from tests.factories import finance as ff

    world.a.alliance.charging_model = "sefton"
    ff.rate_card(world.a.alliance, "sefton")
    d = world.a.deployment
    d.designation, d.half_days_agreed = "lle", 8
    db.session.commit()
    body = client_for(world.user("a", "headteacher")).get(f"/deployments/{d.id}").data.decode()
    assert "your school would pay <strong>£1,980.00</strong>" in body
    assert "Local Leader of Education" in body
    db.session.expire_all()
    assert db.session.get(Deployment, d.id).rate_card_id is None  # a preview fixes nothing
    for role in ("home_school", "sle"):
        other = client_for(world.user("a", role)).get(f"/deployments/{d.id}").data.decode()
        assert "your school would pay" not in other


def test_the_date_fields_and_their_hint_agree_for_a_uk_user(world, client_for, maths):
    """Issue 18, item 7: the hint said "like 26/03/2027" beside a browser date box that could
    show another order; now a text box reads the date day first, and says so."""
    c = client_for(world.user("a", "headteacher"))
    body = c.get("/requests/new").data.decode()
    start = body.index('id="start_date-field"')
    field = body[start:body.index("</div>", start)]
    assert "For example, 26/03/2027." in field and 'type="text"' in field
    assert 'aria-describedby="start_date-hint"' in field
    r = _post_new(c, world, maths, submit_now="1", start_date="26/03/27")
    assert r.status_code == 422 and "Enter the year in full" in r.data.decode()
