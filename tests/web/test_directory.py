"""Meet the system leaders: directory filters, profiles, own profile and availability, the
home school's release approval, alliances; every route by every role."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    LeaderProfile,
    LocalAuthority,
    Specialism,
    Unavailability,
    User,
)
from tests import factories
from tests.factories import directory as fd

ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board"]


@pytest.fixture
def dir_world(world):
    """Side a gets a second leader: an LLE for maths, secondary, TS3, in Sefton, away soon."""
    maths = Specialism(code="maths", name="Mathematics")
    send = Specialism(code="send", name="SEND")
    db.session.add_all([maths, send])
    sefton = LocalAuthority(name="Sefton", code="343")
    db.session.add(sefton)
    db.session.flush()
    high = factories.school(world.a.alliance, "Alpha High", phase="secondary", la=sefton)
    world.lle = factories.leader(world.a.alliance, high, designation="lle", name="Lara Maths",
                                 specialisms=[maths], phases="secondary", standards=("TS3",))
    world.a.leader.profile.specialisms = [send]
    db.session.add(Unavailability(profile_id=world.lle.profile.id,
                                  start=date.today() + timedelta(days=10),
                                  end=date.today() + timedelta(days=20)))
    world.maths, world.sefton = maths, sefton
    db.session.commit()
    return world


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_its_own_alliances_directory(dir_world, client_for, role):
    c = client_for(dir_world.user("a", role))
    body = c.get("/directory/").data.decode()
    assert "Alpha Leader" in body and "Lara Maths" in body and "Beta Leader" not in body
    assert c.get(f"/directory/leaders/{dir_world.a.leader.profile.id}").status_code == 200
    assert c.get(f"/directory/leaders/{dir_world.b.leader.profile.id}").status_code == 404
    assert c.get("/directory/alliances").status_code == 200


def test_strangers_are_sent_to_sign_in(dir_world, anon):
    for url in ["/directory/", f"/directory/leaders/{dir_world.a.leader.profile.id}",
                "/directory/alliances", "/directory/me", "/directory/release"]:
        assert anon.get(url).status_code == 302, url
    for url in ["/directory/me", "/directory/me/unavailable",
                f"/directory/release/{dir_world.a.leader.profile.id}"]:
        assert anon.post(url, {}).status_code == 302, url


@pytest.mark.parametrize(("query", "lara", "alpha"), [
    ("q=lara", True, False),
    ("q=LEADER", False, True),
    ("phase=secondary", True, False),
    ("phase=primary", False, True),
    ("standard=TS3", True, False),
    ("standard=TS1", False, True),
    ("designation=lle", True, False),
    ("designation=sle", False, True),
    ("designation=nonsense", True, True),
    ("la=LA", True, False),
    ("specialism=MATHS", True, False),
])
def test_directory_filters(dir_world, client_for, query, lara, alpha):
    query = query.replace("LA", str(dir_world.sefton.id)).replace("MATHS", str(dir_world.maths.id))
    body = client_for(dir_world.user("a", "headteacher")).get(f"/directory/?{query}").data.decode()
    assert ("Lara Maths" in body) is lara
    assert ("Alpha Leader" in body) is alpha


def test_availability_filter_excludes_leaders_away_or_not_accepting(dir_world, client_for):
    c = client_for(dir_world.user("a", "admin"))
    start = date.today() + timedelta(days=15)
    body = c.get(f"/directory/?available_from={start}&available_to={start}").data.decode()
    assert "Lara Maths" not in body and "Alpha Leader" in body
    later = date.today() + timedelta(days=30)
    body = c.get(f"/directory/?available_from={later}").data.decode()
    assert "Lara Maths" in body
    dir_world.a.leader.profile.accepting = False
    db.session.commit()
    body = c.get(f"/directory/?available_from={later}&available_to={later}").data.decode()
    assert "Alpha Leader" not in body


def test_live_filter_returns_the_results_block_and_a_shareable_url(dir_world, client_for):
    c = client_for(dir_world.user("a", "headteacher"))
    r = c.htmx_get("/directory/?designation=lle")
    body = r.data.decode()
    assert r.status_code == 200 and "<html" not in body and "Lara Maths" in body
    assert "1 system leader found" in body
    full = c.get("/directory/?designation=lle").data.decode()
    assert '<option value="lle" selected>' in full  # the URL restores the filter


def test_directory_paginates(dir_world, client_for, app):
    for i in range(app.config["PAGE_SIZE"] + 2):
        factories.leader(dir_world.a.alliance, dir_world.a.home, name=f"Zed Extra {i:02d}")
    db.session.commit()
    c = client_for(dir_world.user("a", "admin"))
    first = c.get("/directory/").data.decode()
    assert "Next page" in first and "Zed Extra 24" not in first
    assert "Zed Extra 25" in c.get("/directory/?page=2").data.decode()


def test_overseers_see_load_and_past_deployments_others_do_not(dir_world, client_for):
    a = dir_world.a
    # the receiving school rates the leader's support 4/4 when it signs off
    past = factories.advance(factories.deployment(a.request, a.leader, half_days=6),
                             "completed", support_quality=4)
    unrated = factories.advance(factories.deployment(a.request, a.leader), "ended_early")
    db.session.commit()
    url = f"/directory/leaders/{a.leader.profile.id}"
    for role in ("admin", "director"):
        body = fd.as_user(client_for, a.users[role]).get(url).data.decode()
        assert "Current load" in body and "Past deployments" in body
        assert past.reference in body and "quality 4/4" in body
        assert unrated.reference in body and "None" in body
    for role in ("headteacher", "sle", "home_school", "board"):
        body = fd.as_user(client_for, a.users[role]).get(url).data.decode()
        assert "Current load" not in body and past.reference not in body


def test_profile_without_past_deployments_says_none(dir_world, client_for):
    body = client_for(dir_world.user("a", "admin")).get(
        f"/directory/leaders/{dir_world.lle.profile.id}").data.decode()
    assert "Past deployments" in body and "None." in body


# ----------------------------------------------------------------------- own profile


@pytest.mark.parametrize("role", [r for r in ROLES if r not in ("sle", "director")])
def test_only_system_leaders_edit_a_profile(dir_world, client_for, role):
    c = client_for(dir_world.user("a", role))
    assert c.get("/directory/me").status_code == 403
    assert c.post("/directory/me", {"bio": "x"}).status_code == 403
    assert c.post("/directory/me/unavailable", {}).status_code == 403


def _profile_data(profile, **over):
    data = {"bio": "I lead maths.", "phases": ["primary", "secondary"], "standards": ["TS2"],
            "specialisms": [], "autumn_days": "3", "spring_days": "4", "summer_days": "2",
            "accepting": "y", "version": str(profile.version)}
    data.update(over)
    return data


def test_leader_edits_own_profile_and_days_per_term(dir_world, client_for):
    leader = dir_world.user("a", "sle")
    c = client_for(leader)
    profile = leader.profile
    r = c.post("/directory/me", _profile_data(profile, specialisms=[str(dir_world.maths.id)]))
    assert r.status_code == 303
    db.session.expire_all()
    p = db.session.get(LeaderProfile, profile.id)
    assert p.capacity_days == 9 and (p.autumn_days, p.spring_days, p.summer_days) == (3, 4, 2)
    assert p.phase_list == ["primary", "secondary"] and p.standards == ["TS2"]
    assert [s.code for s in p.specialisms] == ["maths"] and p.bio == "I lead maths."
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "profile.update"))


def test_bad_profile_input_saves_nothing(dir_world, client_for):
    leader = dir_world.user("a", "sle")
    c = client_for(leader)
    r = c.post("/directory/me", _profile_data(leader.profile, autumn_days="-1",
                                              phases=["nursery"]))
    assert r.status_code == 422 and "from 0 to 65" in r.data.decode()
    db.session.expire_all()
    assert db.session.get(LeaderProfile, leader.profile.id).capacity_days == 10


def test_a_stale_profile_form_is_refused(dir_world, client_for):
    leader = dir_world.user("a", "sle")
    c = client_for(leader)
    old = str(leader.profile.version)
    assert c.post("/directory/me", _profile_data(leader.profile)).status_code == 303
    r = c.post("/directory/me", _profile_data(leader.profile, version=old, bio="Overwrite"))
    assert r.status_code == 409 and "Someone else changed" in r.data.decode()
    db.session.expire_all()
    assert db.session.get(LeaderProfile, leader.profile.id).bio == "I lead maths."


def test_leader_adds_and_removes_dates_unavailable(dir_world, client_for):
    leader = dir_world.user("a", "sle")
    c = client_for(leader)
    start, end = date.today() + timedelta(days=5), date.today() + timedelta(days=6)
    bad = c.post("/directory/me/unavailable", {"start": end.isoformat(), "end": start.isoformat()})
    assert bad.status_code == 422 and "on or after the first day" in bad.data.decode()
    assert c.post("/directory/me/unavailable", {"start": start.isoformat(), "end": end.isoformat(),
                                                "note": "Ofsted"}).status_code == 303
    u = db.session.scalar(select(Unavailability).where(
        Unavailability.profile_id == leader.profile.id))
    assert u.note == "Ofsted"
    other = dir_world.lle.profile.unavailable[0]
    assert c.post(f"/directory/me/unavailable/{other.id}/delete").status_code == 404
    assert c.post(f"/directory/me/unavailable/{u.id}/delete").status_code == 303
    assert db.session.scalar(select(func.count(Unavailability.id)).where(
        Unavailability.profile_id == leader.profile.id)) == 0
    assert db.session.get(Unavailability, other.id) is not None


# ------------------------------------------------------------------- release approval


@pytest.mark.parametrize("role", [r for r in ROLES if r != "home_school"])
def test_only_home_school_leaders_approve_release(dir_world, client_for, role):
    c = client_for(dir_world.user("a", role))
    assert c.get("/directory/release").status_code == 403
    assert c.post(f"/directory/release/{dir_world.a.leader.profile.id}",
                  {"p1-days": "5"}).status_code == 403


def test_home_school_sees_and_approves_own_staff_release(dir_world, client_for):
    a = dir_world.a
    c = client_for(a.users["home_school"])
    body = c.get("/directory/release").data.decode()
    assert "Alpha Leader" in body and "Lara Maths" not in body and "Beta Leader" not in body
    p = a.leader.profile
    prefix = f"p{p.id}"
    bad = c.post(f"/directory/release/{p.id}", {f"{prefix}-days": "-3",
                                                f"{prefix}-version": str(p.version)})
    assert bad.status_code == 422
    ok = c.post(f"/directory/release/{p.id}", {f"{prefix}-days": "8",
                                               f"{prefix}-version": str(p.version)})
    assert ok.status_code == 303
    db.session.expire_all()
    p = db.session.get(LeaderProfile, p.id)
    assert p.release_approved_days == 8 and p.release_approved_by_id == a.users["home_school"].id
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "profile.release_approve"))
    assert ev.detail["after"] == 8
    # a stale form (someone approved in between) changes nothing
    stale = c.post(f"/directory/release/{p.id}", {f"{prefix}-days": "2",
                                                  f"{prefix}-version": "1"})
    assert stale.status_code == 409 and "changed by someone else" in stale.data.decode()
    db.session.expire_all()
    assert db.session.get(LeaderProfile, p.id).release_approved_days == 8


def test_home_school_cannot_approve_other_schools_leaders(dir_world, client_for):
    c = client_for(dir_world.user("a", "home_school"))
    for p in (dir_world.lle.profile, dir_world.b.leader.profile):
        r = c.post(f"/directory/release/{p.id}", {f"p{p.id}-days": "9",
                                                  f"p{p.id}-version": str(p.version)})
        assert r.status_code == 404
    db.session.expire_all()
    assert db.session.get(LeaderProfile, dir_world.lle.profile.id).release_approved_days is None


def test_alliances_page_shows_contact_details(dir_world, client_for):
    body = client_for(dir_world.user("a", "board")).get("/directory/alliances").data.decode()
    assert "Alpha Teaching School Alliance" in body and "Beta Teaching School Alliance" in body
    assert "mailto:office@alpha.example.org" in body


# ---------------------------------------------------------------------------- your data


@pytest.mark.parametrize("role", ROLES)
def test_everyone_can_download_their_data(dir_world, client_for, role):
    user = dir_world.user("a", role)
    c = client_for(user)
    assert c.get("/account/data").status_code == 200
    r = c.get("/account/data.json")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    data = json.loads(r.data)
    assert data["account"]["email"] == user.email
    assert "password_hash" not in data["account"] and "session_version" not in data["account"]
    assert (data["leader_profile"] is not None) is (role == "sle")
    refs = [d["reference"] for d in data["deployments_as_leader"]]
    assert refs == ([dir_world.a.deployment.reference] if role == "sle" else [])
    csv_body = c.get("/account/data.csv").data.decode()
    assert csv_body.startswith("section,record,field,value") and user.email in csv_body
    assert "scrypt" not in csv_body and "scrypt" not in r.data.decode()


def test_your_data_holds_only_your_records(dir_world, client_for):
    from portal.domain import audit

    me, other = dir_world.user("a", "headteacher"), dir_world.user("a", "director")
    audit.record(me, "request.note", dir_world.a.request, detail={"n": "mine"})
    audit.record(other, "request.note", dir_world.a.request, detail={"n": "theirs"})
    db.session.commit()
    data = json.loads(client_for(me).get("/account/data.json").data)
    notes = [e["detail"].get("n") for e in data["audit_events"]]
    assert "mine" in notes and "theirs" not in notes


def test_csv_cells_cannot_run_as_formulas(dir_world, client_for):
    me = dir_world.user("a", "headteacher")
    db.session.get(User, me.id).job_title = "=HYPERLINK(\"http://x\")"
    db.session.commit()
    body = fd.as_user(client_for, me).get("/account/data.csv").data.decode()
    assert "'=HYPERLINK" in body


def test_strangers_cannot_download_data(db, anon):
    for url in ["/account/data", "/account/data.json", "/account/data.csv"]:
        assert anon.get(url).status_code == 302


def test_release_cannot_exceed_the_days_offered(dir_world, client_for):
    p = dir_world.a.leader.profile  # offers 10 days
    c = client_for(dir_world.user("a", "home_school"))
    r = c.post(f"/directory/release/{p.id}", {f"p{p.id}-days": "11",
                                              f"p{p.id}-version": str(p.version)})
    assert r.status_code == 422 and "approve 10 or fewer" in r.data.decode()
    db.session.expire_all()
    assert db.session.get(LeaderProfile, p.id).release_approved_days is None


def test_home_school_home_page_lists_release_to_approve(dir_world, client_for):
    c = client_for(dir_world.user("a", "home_school"))
    body = c.get("/").data.decode()
    assert 'id="panel-release-title"' in body and "Alpha Leader: 10 days offered" in body
    p = dir_world.a.leader.profile
    c.post(f"/directory/release/{p.id}", {f"p{p.id}-days": "10",
                                          f"p{p.id}-version": str(p.version)})
    body = c.get("/").data.decode()
    # the yearly release is approved, but the proposal still waits for the release to be agreed
    assert "Alpha Leader: 10 days offered" not in body and "Nothing to approve" not in body
    assert f'/deployments/{dir_world.a.deployment.id}#panel-responses">Release Alpha Leader' in body
    g_other = fd.as_user(client_for, dir_world.user("a", "headteacher")).get("/").data.decode()
    assert 'id="panel-release-title"' not in g_other


def _count_queries(app, fn) -> int:
    from sqlalchemy import event

    from portal.extensions import db as _db

    counter = {"n": 0}

    def inc(*_a, **_k):
        counter["n"] += 1

    _db.session.commit()  # same starting state each time: nothing cached in the session
    engine = _db.engine
    event.listen(engine, "before_cursor_execute", inc)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", inc)
    return counter["n"]


def test_directory_queries_do_not_grow_with_the_data(dir_world, client_for, app):
    c = client_for(dir_world.user("a", "admin"))
    few = _count_queries(app, lambda: c.get("/directory/"))
    for i in range(15):
        factories.leader(dir_world.a.alliance, dir_world.a.home, name=f"More {i}",
                         specialisms=[dir_world.maths])
    db.session.commit()
    many = _count_queries(app, lambda: c.get("/directory/"))
    assert many == few
    users_few = _count_queries(app, lambda: c.get("/admin/users"))
    for _i in range(5):
        factories.user(dir_world.a.alliance, "headteacher", dir_world.a.home)
    db.session.commit()
    assert _count_queries(app, lambda: c.get("/admin/users")) == users_few


def test_yearly_days_are_suggested_across_the_terms(dir_world, client_for):
    body = client_for(dir_world.user("a", "sle")).get("/directory/me").data.decode()
    # 10 days a year, no term split yet: 4, 3, 3 suggested
    assert re.search(r'id="autumn_days"[^>]*value="4"', body)
    assert re.search(r'id="summer_days"[^>]*value="3"', body)


def test_only_the_current_nav_item_is_marked(dir_world, client_for):
    body = client_for(dir_world.user("a", "sle")).get("/directory/me").data.decode()
    assert body.count('aria-current="page"') == 1


def test_deactivated_or_former_leaders_leave_the_directory(dir_world, client_for):
    dir_world.lle.active = False
    dir_world.a.leader.role = "headteacher"
    db.session.commit()
    body = client_for(dir_world.user("a", "director")).get("/directory/").data.decode()
    assert "Lara Maths" not in body and "Alpha Leader" not in body
    assert "0 system leaders found" in body


# ------------------------------------ the Teaching School headteacher with a leader profile


def _teaching_school_head(side, designation="nle"):
    """The side's director, given a leader profile at the Teaching School by the co-ordinator."""
    director = side.users["director"]
    director.school_id = side.home.id
    db.session.add(LeaderProfile(user_id=director.id, alliance_id=side.alliance.id,
                                 home_school_id=side.home.id, designation=designation,
                                 phases="primary", capacity_days=6, autumn_days=2,
                                 spring_days=2, summer_days=2))
    db.session.commit()
    return director


def test_a_director_without_a_profile_has_none_to_edit(dir_world, client_for):
    c = client_for(dir_world.user("a", "director"))
    assert c.get("/directory/me").status_code == 404
    assert c.post("/directory/me", {"bio": "x"}).status_code == 404
    assert c.post("/directory/me/unavailable", {}).status_code == 404
    assert 'href="/directory/me"' not in c.get("/directory/").data.decode()


def test_the_teaching_school_head_edits_their_own_profile(dir_world, client_for):
    director = _teaching_school_head(dir_world.a)
    c = client_for(director)
    page = c.get("/directory/me")
    body = page.data.decode()
    assert page.status_code == 200 and 'href="/directory/me"' in body  # "My profile" shown
    assert "lead NLE/LLE commissions only" in body
    assert "charged as a National Leader of Education" in body
    r = c.post("/directory/me", _profile_data(director.profile, bio="I lead a Teaching School."))
    assert r.status_code == 303
    db.session.expire_all()
    p = db.session.get(LeaderProfile, director.profile.id)
    assert p.bio == "I lead a Teaching School." and p.capacity_days == 9
    assert p.designation == "nle"  # the rate is the co-ordinator's, not theirs
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "profile.update"))
    start = date.today() + timedelta(days=5)
    assert c.post("/directory/me/unavailable", {"start": start.isoformat(),
                                                "end": start.isoformat()}).status_code == 303
    bad = c.post("/directory/me", _profile_data(p, autumn_days="99"))
    assert bad.status_code == 422 and "from 0 to 65" in bad.data.decode()


def test_the_directory_lists_the_teaching_school_head_for_commissions_only(dir_world,
                                                                           client_for):
    director = _teaching_school_head(dir_world.a)
    c = client_for(dir_world.user("a", "headteacher"))
    body = c.get("/directory/").data.decode()
    assert director.name in body
    row = body.split(director.name, 1)[1].split("</tr>", 1)[0]
    assert "available to lead NLE/LLE commissions only" in row
    lara = body.split("Lara Maths", 1)[1].split("</tr>", 1)[0]
    assert "commissions only" not in lara  # an LLE is deployed as well as commissioning
    card = c.get(f"/directory/leaders/{director.profile.id}").data.decode()
    assert "Leading NLE/LLE commissions only" in card and "Accepting commissions" in card
    assert director.name in c.get("/directory/?designation=nle").data.decode()


def test_another_alliances_director_meets_404(dir_world, client_for):
    director = _teaching_school_head(dir_world.a)
    other = _teaching_school_head(dir_world.b, "lle")
    c = client_for(other)
    assert c.get(f"/directory/leaders/{director.profile.id}").status_code == 404
    assert director.name not in c.get("/directory/").data.decode()
    mine = c.get("/directory/me").data.decode()  # their own, never side a's
    assert other.name in mine and director.name not in mine
    u = Unavailability(profile_id=director.profile.id, start=date.today(), end=date.today())
    db.session.add(u)
    db.session.commit()
    assert c.post(f"/directory/me/unavailable/{u.id}/delete").status_code == 404
    assert db.session.get(Unavailability, u.id) is not None
