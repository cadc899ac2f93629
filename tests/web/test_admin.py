"""Administration: every route by every role, alliance scoping, invitations, deactivation,
schools and the GIAS import, Boards, EIPs, specialisms, the template and the audit viewer."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import invites
from portal.extensions import db
from portal.models import (
    EIP,
    Alliance,
    AuditEvent,
    Board,
    InviteToken,
    LeaderProfile,
    LocalAuthority,
    OutboxEmail,
    School,
    SchoolNetwork,
    Specialism,
    User,
    utcnow,
)
from tests import factories
from tests.factories import directory as fd

ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board"]


@pytest.fixture
def admin_world(world):
    for side in (world.a, world.b):
        side.board = factories.board(side.alliance, f"{side.alliance.short_name} Board")
        side.eip = factories.eip(side.alliance, f"{side.alliance.short_name} EIP")
    db.session.commit()
    return world


def _get_urls(w, side="a"):
    s = getattr(w, side)
    return [
        "/admin/", "/admin/users", "/admin/users/invite",
        f"/admin/users/{s.users['headteacher'].id}",
        "/admin/schools", "/admin/schools/new", f"/admin/schools/{s.home.id}",
        "/admin/schools/import", "/admin/boards", "/admin/boards/new",
        f"/admin/boards/{s.board.id}",
        "/admin/eips", "/admin/eips/new", f"/admin/eips/{s.eip.id}", "/admin/specialisms",
        "/admin/agreement-template",
    ]


def _post_urls(w, side="a"):
    s = getattr(w, side)
    uid = s.users["headteacher"].id
    return [
        "/admin/users/invite", f"/admin/users/{uid}", f"/admin/users/{uid}/deactivate",
        f"/admin/users/{uid}/reactivate", f"/admin/users/{uid}/reinvite",
        f"/admin/users/{uid}/sessions", "/admin/schools/new", f"/admin/schools/{s.home.id}",
        "/admin/schools/import", "/admin/boards/new", f"/admin/boards/{s.board.id}",
        "/admin/eips/new", f"/admin/eips/{s.eip.id}", "/admin/specialisms",
        "/admin/agreement-template",
    ]


@pytest.mark.parametrize("role", ROLES)
def test_admin_pages_are_for_the_admin_only(admin_world, client_for, role):
    c = client_for(admin_world.user("a", role))
    for url in _get_urls(admin_world):
        assert c.get(url).status_code == (200 if role == "admin" else 403), url


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_admin_posts_are_refused_to_other_roles_and_change_nothing(admin_world, client_for, role):
    c = client_for(admin_world.user("a", role))
    before = db.session.scalar(select(func.count(AuditEvent.id)))
    for url in _post_urls(admin_world):
        assert c.post(url, {"name": "Hacked", "role": "admin"}).status_code == 403, url
    assert db.session.scalar(select(func.count(AuditEvent.id))) == before
    head = db.session.get(User, admin_world.user("a", "headteacher").id)
    assert head.active and head.role == "headteacher"


def test_strangers_are_sent_to_sign_in(admin_world, anon):
    for url in _get_urls(admin_world) + ["/admin/audit"]:
        r = anon.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url
    for url in _post_urls(admin_world):
        assert anon.post(url, {"name": "x"}).status_code == 302, url


def test_another_alliances_objects_answer_404(admin_world, client_for):
    c = client_for(admin_world.user("a", "admin"))
    b = admin_world.b
    for url in [f"/admin/users/{b.users['headteacher'].id}", f"/admin/schools/{b.home.id}",
                f"/admin/boards/{b.board.id}", f"/admin/eips/{b.eip.id}"]:
        assert c.get(url).status_code == 404, url
    for url in _post_urls(admin_world, "b"):
        if re.search(r"/\d+", url):
            assert c.post(url, {"name": "Hacked", "role": "admin"}).status_code == 404, url
    assert db.session.get(User, b.users["headteacher"].id).active
    assert db.session.get(Board, b.board.id).name == "Beta Board"


def test_lists_show_only_own_alliance(admin_world, client_for):
    c = client_for(admin_world.user("a", "admin"))
    users = c.get("/admin/users").data.decode()
    assert "Alpha Head" in users and "Beta Head" not in users
    schools = c.get("/admin/schools").data.decode()
    assert "Alpha Home Primary" in schools and "Beta Home Primary" not in schools
    assert "Beta Board" not in c.get("/admin/boards").data.decode()
    assert "Beta EIP" not in c.get("/admin/eips").data.decode()


def test_user_search_filters_by_name_and_role_over_htmx(admin_world, client_for):
    c = client_for(admin_world.user("a", "admin"))
    r = c.htmx_get("/admin/users?q=home+head&role=home_school")
    body = r.data.decode()
    assert r.status_code == 200 and "<html" not in body
    assert "Alpha Home Head" in body and "Alpha Head<" not in body


# ------------------------------------------------------------------------------- invitations


def _invite(c, w, **over):
    data = {"email": "new.teacher@alpha.example.org", "name": "New Teacher",
            "role": "headteacher", "school_id": str(w.a.other.id), "board_id": "",
            "designation": "sle", "job_title": "Head"}
    data.update(over)
    return c.post("/admin/users/invite", data)


def test_invite_creates_user_and_sends_single_use_link(admin_world, client_for, anon, smtp):
    c = client_for(admin_world.user("a", "admin"))
    r = _invite(c, admin_world)
    assert r.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "new.teacher@alpha.example.org"))
    assert user.alliance_id == admin_world.a.alliance.id and user.password_hash == ""
    link = smtp.link(user.email)  # in the email sent, and nowhere else
    token = link.rsplit("/", 1)[1]
    stored = db.session.scalar(select(InviteToken).where(InviteToken.user_id == user.id))
    assert stored.token_hash != token and stored.token_hash == invites.token_hash(token)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.invite"))
    # the person sets a password once
    assert anon.get(link).status_code == 200
    bad = anon.post(link, {"password": "short", "confirm": "short"})
    assert bad.status_code == 422 and "at least 12" in bad.data.decode()
    pw = "a long enough password"
    ok = anon.post(link, {"password": pw, "confirm": pw})
    assert ok.status_code == 303 and ok.headers["Location"].endswith("/login")
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("a long enough password")
    # ...and only once
    pw2 = "another long password"
    again = anon.post(link, {"password": pw2, "confirm": pw2})
    assert again.status_code == 410
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("a long enough password")
    assert anon.get(link).status_code == 410


def test_expired_and_unknown_links_are_refused(admin_world, client_for, anon):
    user = admin_world.user("a", "headteacher")
    token = invites.issue(user, None, now=utcnow() - timedelta(days=4))
    db.session.commit()
    assert anon.get(f"/account/set-password/{token}").status_code == 410
    assert anon.post(f"/account/set-password/{token}",
                     {"password": "x" * 14, "confirm": "x" * 14}).status_code == 410
    assert anon.get("/account/set-password/not-a-token").status_code == 410


def test_a_new_invitation_voids_the_old_link(admin_world, client_for, anon, smtp):
    c = client_for(admin_world.user("a", "admin"))
    _invite(c, admin_world)
    user = db.session.scalar(select(User).where(User.email == "new.teacher@alpha.example.org"))
    first = smtp.link(user.email)
    assert c.post(f"/admin/users/{user.id}/reinvite").status_code == 303
    mails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.to == user.email)
                               .order_by(OutboxEmail.id)).all()
    assert len(mails) == 2
    assert anon.get(first).status_code == 410
    assert anon.get(smtp.link(user.email)).status_code == 200


def test_invite_rejects_duplicates_unknown_roles_and_foreign_schools(admin_world, client_for):
    c = client_for(admin_world.user("a", "admin"))
    n = db.session.scalar(select(func.count(User.id)))
    dup = _invite(c, admin_world, email=admin_world.user("a", "headteacher").email.upper())
    assert dup.status_code == 422 and "already has an account" in dup.data.decode()
    assert _invite(c, admin_world, email="x1@a.org", role="superuser").status_code == 422
    assert _invite(c, admin_world, email="x2@a.org",
                   school_id=str(admin_world.b.home.id)).status_code == 422
    assert _invite(c, admin_world, email="x3@a.org", role="board").status_code == 422
    assert _invite(c, admin_world, email="x4@a.org", role="board",
                   school_id="", board_id=str(admin_world.b.board.id)).status_code == 422
    assert db.session.scalar(select(func.count(User.id))) == n
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 0


def test_inviting_a_system_leader_creates_their_profile(admin_world, client_for):
    c = client_for(admin_world.user("a", "admin"))
    assert _invite(c, admin_world, email="lle@alpha.example.org", role="sle",
                   designation="lle", school_id=str(admin_world.a.home.id)).status_code == 303
    user = db.session.scalar(select(User).where(User.email == "lle@alpha.example.org"))
    profile = db.session.scalar(select(LeaderProfile).where(LeaderProfile.user_id == user.id))
    assert profile.designation == "lle" and profile.home_school_id == admin_world.a.home.id


# ------------------------------------------------------------------ editing and deactivation


def test_role_and_school_changes_are_audited(admin_world, client_for):
    c = client_for(admin_world.user("a", "admin"))
    head = admin_world.user("a", "headteacher")
    r = c.post(f"/admin/users/{head.id}", {
        "name": head.name, "job_title": "", "role": "home_school",
        "school_id": str(admin_world.a.home.id), "board_id": ""})
    assert r.status_code == 303
    db.session.expire_all()
    head = db.session.get(User, head.id)
    assert head.role == "home_school" and head.school_id == admin_world.a.home.id
    assert head.session_version == 2  # new rights: old sessions end
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert ev.detail["before"]["role"] == "headteacher"
    assert ev.detail["after"]["role"] == "home_school"
    assert ev.detail["after"]["school_id"] == admin_world.a.home.id


def test_admin_cannot_change_own_role_or_deactivate_self(admin_world, client_for):
    me = admin_world.user("a", "admin")
    c = client_for(me)
    r = c.post(f"/admin/users/{me.id}", {"name": me.name, "role": "director",
                                        "school_id": "", "board_id": ""})
    assert r.status_code == 422 and "cannot change your own role" in r.data.decode()
    assert c.post(f"/admin/users/{me.id}/deactivate").status_code == 403
    db.session.expire_all()
    me = db.session.get(User, me.id)
    assert me.role == "admin" and me.active


def test_deactivated_users_sessions_stop_at_once(admin_world, client_for):
    head = admin_world.user("a", "headteacher")
    head_client = client_for(head)
    assert head_client.get("/requests/").status_code == 200
    admin = fd.as_user(client_for, admin_world.user("a", "admin"))
    assert admin.post(f"/admin/users/{head.id}/deactivate").status_code == 303
    db.session.expire_all()
    assert db.session.get(User, head.id).active is False
    from flask import g

    g.pop("_login_user", None)
    r = head_client.get("/requests/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.deactivate"))
    # reactivation lets them sign in again (with a new session)
    g.pop("_login_user", None)
    assert admin.post(f"/admin/users/{head.id}/reactivate").status_code == 303
    db.session.expire_all()
    assert db.session.get(User, head.id).active


def test_sign_out_everywhere_ends_sessions(admin_world, client_for):
    head = admin_world.user("a", "headteacher")
    head_client = client_for(head)
    admin = fd.as_user(client_for, admin_world.user("a", "admin"))
    assert admin.post(f"/admin/users/{head.id}/sessions").status_code == 303
    from flask import g

    g.pop("_login_user", None)
    assert head_client.get("/requests/").status_code == 302


# ------------------------------------------------------------------------------- schools


def test_admin_adds_and_edits_a_school(admin_world, client_for):
    c = client_for(admin_world.user("a", "admin"))
    la = LocalAuthority(name="Sefton", code="343")
    db.session.add(la)
    db.session.commit()
    r = c.post("/admin/schools/new", {"urn": "123456", "name": "Seaside Primary",
                                      "phase": "primary", "postcode": "pr8 1aa",
                                      "local_authority_id": str(la.id),
                                      "eip_id": str(admin_world.a.eip.id)})
    assert r.status_code == 303
    s = db.session.scalar(select(School).where(School.urn == "123456"))
    assert s.alliance_id == admin_world.a.alliance.id and s.postcode == "PR8 1AA"
    clash = c.post("/admin/schools/new", {"urn": "123456", "name": "Copy", "phase": "primary"})
    assert clash.status_code == 422 and "already in the portal" in clash.data.decode()
    bad = c.post(f"/admin/schools/{s.id}", {"urn": "12", "name": "", "phase": "primary"})
    assert bad.status_code == 422
    foreign_eip = c.post(f"/admin/schools/{s.id}", {"urn": "123456", "name": "X", "phase":
                                                    "primary", "eip_id": str(admin_world.b.eip.id)})
    assert foreign_eip.status_code == 422
    ok = c.post(f"/admin/schools/{s.id}", {"urn": "123456", "name": "Seaside Academy",
                                           "phase": "primary", "version": "1"})
    assert ok.status_code == 303
    db.session.expire_all()
    assert db.session.get(School, s.id).name == "Seaside Academy"
    assert db.session.scalar(select(func.count(AuditEvent.id))
                             .where(AuditEvent.action.like("school.%"))) == 2


def test_the_schools_street_address_is_edited_and_a_bad_postcode_saves_nothing(admin_world,
                                                                              client_for):
    """Issue 21: the address an invoice is sent to; the postcode must be a UK one."""
    c = client_for(admin_world.user("a", "admin"))
    s = admin_world.a.home
    page = c.get(f"/admin/schools/{s.id}").get_data(as_text=True)
    assert "Address line 1" in page and "Town or city" in page
    form = {"urn": s.urn, "name": s.name, "phase": s.phase, "version": str(s.version),
            "address_line1": "4 Orchard Way", "address_line2": "Netherton",
            "address_line3": "", "town": "Bootle"}
    bad = c.post(f"/admin/schools/{s.id}", {**form, "postcode": "L20 3A"})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert 'id="postcode-error"' in body and "Enter a UK postcode, for example BN7 1UE." in body
    db.session.expire_all()
    assert db.session.get(School, s.id).address_line1 == ""  # nothing saved
    ok = c.post(f"/admin/schools/{s.id}", {**form, "postcode": "l20 3ab"})
    assert ok.status_code == 303
    db.session.expire_all()
    saved = db.session.get(School, s.id)
    assert saved.address_lines == ["4 Orchard Way", "Netherton", "Bootle", "L20 3AB"]
    long_line = c.post(f"/admin/schools/{s.id}", {**form, "version": str(saved.version),
                                                  "address_line1": "x" * 101,
                                                  "postcode": "L20 3AB"})
    assert long_line.status_code == 422


def _upload(c, text: str, name="extract.csv"):
    return c.post("/admin/schools/import",
                  {"file": (io.BytesIO(text.encode("utf-8")), name)},
                  content_type="multipart/form-data")


def test_gias_import_imports_a_good_file_in_one_go(admin_world, client_for):
    c = client_for(admin_world.user("a", "admin"))
    existing = admin_world.a.other
    text = (fd.GIAS_HEADER + fd.gias_row("200001", "Bootle Primary")
            + fd.gias_row("200002", "Crosby High", phase="Secondary")
            + fd.gias_row(existing.urn, "Renamed Other Primary", la="Liverpool", la_code="341"))
    r = _upload(c, text)
    assert r.status_code == 303, r.data.decode()
    schools = {s.urn: s for s in db.session.scalars(
        select(School).where(School.urn.in_(["200001", "200002", existing.urn]))).all()}
    assert schools["200002"].phase == "secondary"
    assert schools["200001"].local_authority.name == "Sefton"
    assert schools[existing.urn].name == "Renamed Other Primary"
    assert all(s.alliance_id == admin_world.a.alliance.id for s in schools.values())
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "school.import"))
    assert ev.detail["created"] == 2 and ev.detail["updated"] == 1


def test_gias_import_never_half_imports_a_bad_file(admin_world, client_for):
    c = client_for(admin_world.user("a", "admin"))
    n = db.session.scalar(select(func.count(School.id)))
    text = (fd.GIAS_HEADER + fd.gias_row("200001", "Good Primary")
            + fd.gias_row("20X", "Bad URN Primary")
            + fd.gias_row("200003", "Odd Phase", phase="Kindergarten")
            + fd.gias_row(admin_world.b.home.urn, "Renamed School"))
    r = _upload(c, text)
    body = r.data.decode()
    assert r.status_code == 422
    assert "2 rows rejected" in body and "URN must be 5 to 8 digits" in body
    assert "Kindergarten" in body
    assert db.session.scalar(select(func.count(School.id))) == n
    # the other network's school, which would have joined this one, is untouched too
    assert db.session.get(School, admin_world.b.home.id).name == "Beta Home Primary"
    assert db.session.get(SchoolNetwork, (admin_world.b.home.id,
                                          admin_world.a.alliance.id)) is None
    missing = _upload(c, "URN,Name\n1,2\n")
    assert missing.status_code == 422 and "missing the column" in missing.data.decode()
    assert _upload(c, "").status_code == 422


def test_gias_import_over_htmx_returns_the_report_block(admin_world, client_for):
    c = client_for(admin_world.user("a", "admin"))
    r = c.post("/admin/schools/import",
               {"file": (io.BytesIO((fd.GIAS_HEADER + fd.gias_row("1", "X")).encode()), "a.csv")},
               content_type="multipart/form-data", htmx=True)
    assert r.status_code == 422 and "<html" not in r.data.decode()
    assert "1 row rejected" in r.data.decode()


# -------------------------------------------------------------------------- Boards, EIPs


def test_board_budget_is_entered_in_pounds_and_kept_in_pence(admin_world, client_for):
    c = client_for(admin_world.user("a", "admin"))
    r = c.post("/admin/boards/new", {"name": "Secondary Board", "phase": "secondary",
                                     "budget": "£12,000.50"})
    assert r.status_code == 303
    b = db.session.scalar(select(Board).where(Board.name == "Secondary Board"))
    assert b.budget_pence == 1_200_050 and isinstance(b.budget_pence, int)
    assert "£12,000.50" in c.get("/admin/boards").data.decode()
    assert 'value="12000.50"' in c.get(f"/admin/boards/{b.id}").data.decode()
    for bad in ("-1", "12.345", "lots", ""):
        r = c.post(f"/admin/boards/{b.id}", {"name": "Secondary Board", "phase": "secondary",
                                             "budget": bad})
        assert r.status_code == 422, bad
    db.session.expire_all()
    assert db.session.get(Board, b.id).budget_pence == 1_200_050
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "board.create"))
    assert ev.detail["after"]["budget_pence"] == 1_200_050


def test_eips_are_created_and_renamed(admin_world, client_for):
    c = client_for(admin_world.user("a", "admin"))
    assert c.post("/admin/eips/new", {"name": "North EIP"}).status_code == 303
    e = db.session.scalar(select(EIP).where(EIP.name == "North EIP"))
    assert e.alliance_id == admin_world.a.alliance.id
    assert c.post(f"/admin/eips/{e.id}", {"name": ""}).status_code == 422
    assert c.post(f"/admin/eips/{e.id}", {"name": "North Sefton EIP",
                                          "version": "1"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(EIP, e.id).name == "North Sefton EIP"


def test_specialisms_are_added_once(admin_world, client_for):
    c = client_for(admin_world.user("a", "admin"))
    assert c.post("/admin/specialisms", {"name": "Oracy"}).status_code == 303
    assert c.post("/admin/specialisms", {"name": "oracy"}).status_code == 422
    assert c.post("/admin/specialisms", {"name": ""}).status_code == 422
    assert db.session.scalar(select(func.count(Specialism.id))) == 1


def test_agreement_template_is_saved_for_own_alliance_only(admin_world, client_for):
    c = client_for(admin_world.user("a", "admin"))
    seen = re.search(r'name="seen_hash"[^>]*value="([0-9a-f]{64})"',
                     c.get("/admin/agreement-template").data.decode()).group(1)
    r = c.post("/admin/agreement-template", {"agreement_terms": "1. Be kind.\n2. Be on time.",
                                             "seen_hash": seen})
    assert r.status_code == 303
    assert db.session.get(Alliance, admin_world.a.alliance.id).agreement_terms.startswith("1. Be")
    assert db.session.get(Alliance, admin_world.b.alliance.id).agreement_terms == ""
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "alliance.agreement_terms")).alliance_id == admin_world.a.alliance.id


def test_rate_cards_link_only_when_the_page_exists(admin_world, client_for, app):
    """The link named an endpoint that never existed (``finance.rate_cards``), so the admin
    page never linked to the rates; it now links to ``finance.rates``."""
    body = client_for(admin_world.user("a", "admin")).get("/admin/").data.decode()
    assert "finance.rates" in app.view_functions
    assert 'href="/finance/rates"' in body


# ---------------------------------------------------------------------------- audit viewer


@pytest.mark.parametrize("role", ROLES)
def test_audit_viewer_is_for_admin_and_director(admin_world, client_for, role):
    r = client_for(admin_world.user("a", role)).get("/admin/audit")
    assert r.status_code == (200 if role in ("admin", "director") else 403)


def test_audit_viewer_is_alliance_scoped_and_filters(admin_world, client_for):
    from portal.domain import audit

    a, b = admin_world.a, admin_world.b
    audit.record(a.users["admin"], "deployment.note", a.deployment, detail={"n": "alpha-dep"})
    audit.record(a.users["headteacher"], "request.note", a.request, detail={"n": "alpha-req"})
    audit.record(b.users["admin"], "deployment.note", b.deployment, detail={"n": "beta-dep"})
    db.session.commit()
    c = client_for(a.users["director"])
    body = c.get("/admin/audit").data.decode()
    assert "alpha-dep" in body and "alpha-req" in body and "beta-dep" not in body
    by_dep = c.get(f"/admin/audit?deployment={a.deployment.reference}").data.decode()
    # the request the deployment came from is about it too (issue 15, item 10)
    assert "alpha-dep" in by_dep and "alpha-req" in by_dep and "beta-dep" not in by_dep
    other = c.get(f"/admin/audit?deployment={b.deployment.reference}").data.decode()
    assert "beta-dep" not in other and "No audit records match" in other
    by_user = c.htmx_get(f"/admin/audit?user={a.users['headteacher'].id}").data.decode()
    assert "alpha-req" in by_user and "alpha-dep" not in by_user and "<html" not in by_user
    today = utcnow().date()
    assert "alpha-dep" in c.get(f"/admin/audit?date_from={today}&date_to={today}").data.decode()
    past = today - timedelta(days=3)
    assert "alpha-dep" not in c.get(f"/admin/audit?date_to={past}").data.decode()


def test_audit_viewer_finds_a_person_by_name(admin_world, client_for):
    from portal.domain import audit

    a = admin_world.a
    audit.record(a.users["headteacher"], "request.note", a.request, detail={"n": "by-head"})
    audit.record(a.users["director"], "request.note", a.request, detail={"n": "by-director"})
    db.session.commit()
    body = client_for(a.users["admin"]).get("/admin/audit?who=alpha+head").data.decode()
    assert "by-head" in body and "by-director" not in body


def test_admin_changes_a_leaders_designation_and_home_school(admin_world, client_for):
    a = admin_world.a
    leader = a.leader
    leader.profile.release_approved_days = 5
    db.session.commit()
    c = client_for(a.users["admin"])
    page = c.get(f"/admin/users/{leader.id}").data.decode()
    assert '<option selected value="sle">' in page or '<option value="sle" selected>' in page
    r = c.post(f"/admin/users/{leader.id}", {"name": leader.name, "role": "sle",
                                            "school_id": str(a.other.id), "board_id": "",
                                            "designation": "nle"})
    assert r.status_code == 303
    db.session.expire_all()
    p = db.session.scalar(select(LeaderProfile).where(LeaderProfile.user_id == leader.id))
    assert p.designation == "nle" and p.home_school_id == a.other.id
    assert p.release_approved_days is None  # the new home school approves afresh
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert ev.detail["before"]["designation"] == "sle"
    assert ev.detail["after"]["designation"] == "nle"


def test_audit_date_filter_uses_london_days(admin_world, client_for):
    from datetime import UTC, datetime

    from portal.domain import audit

    ev = audit.record(admin_world.a.users["admin"], "request.note", admin_world.a.request,
                      detail={"n": "late-evening"})
    ev.at = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # 00:30 on 1 July in London (BST)
    db.session.commit()
    c = client_for(admin_world.a.users["director"])
    assert "late-evening" in c.get("/admin/audit?date_from=2026-07-01&date_to=2026-07-01").data \
        .decode()
    assert "late-evening" not in c.get("/admin/audit?date_to=2026-06-30").data.decode()


@pytest.mark.parametrize("budget", ["NaN", "Infinity", "1E30", "-sNaN"])
def test_a_board_budget_that_is_not_an_amount_is_refused_beside_the_field(db, world, client_for,
                                                                          budget):
    from sqlalchemy import func, select

    from portal.models import Board

    r = client_for(world.user("a", "admin")).post(
        "/admin/boards/new", data={"name": "Odd Board", "phase": "primary", "budget": budget})
    assert r.status_code == 422
    assert "Enter an amount in pounds" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Board)) == 0


# ------------------------------------------------------------------ the pages answer the policy

ACCOUNT_BUTTONS = {"deactivate": "/deactivate", "reactivate": "/reactivate",
                   "reinvite": "/reinvite", "end_sessions": "/sessions"}


def _buttons(body: str, target: User) -> set[str]:
    return {name for name, tail in ACCOUNT_BUTTONS.items()
            if f'action="/admin/users/{target.id}{tail}"' in body}


@pytest.mark.parametrize("state", ["active", "invited", "deactivated", "own"])
def test_the_account_page_offers_each_button_iff_the_policy_allows(admin_world, client_for,
                                                                    state):
    from portal.domain.policy import admin as policy

    admin = admin_world.user("a", "admin")
    target = {"own": admin}.get(state) or admin_world.user("a", "headteacher")
    if state == "invited":
        target.password_hash = ""
    elif state == "deactivated":
        target.active = False
    db.session.commit()
    can = policy.actions(target, admin)
    body = client_for(admin).get(f"/admin/users/{target.id}").data.decode()
    allowed = {n for n, d in can.items() if d.allowed} & set(ACCOUNT_BUTTONS)
    assert _buttons(body, target) == allowed
    assert allowed or state == "own"
    if state == "own":
        assert can["deactivate"].reason in body  # why there are no buttons
    if state == "active":
        assert "already set a password" in body  # why there is no new invitation


def test_the_account_routes_answer_the_policy_403_then_409(admin_world, client_for):
    admin = admin_world.user("a", "admin")
    head = admin_world.user("a", "headteacher")
    c = fd.as_user(client_for, admin)
    own = c.post(f"/admin/users/{admin.id}/deactivate")
    assert own.status_code == 403 and "This is your own account" in own.data.decode()
    again = c.post(f"/admin/users/{head.id}/reinvite")
    assert again.status_code == 409 and "already set a password" in again.data.decode()
    assert c.post(f"/admin/users/{head.id}/reactivate").status_code == 409
    assert c.post(f"/admin/users/{head.id}/deactivate").status_code == 303
    twice = c.post(f"/admin/users/{head.id}/deactivate")
    assert twice.status_code == 409 and "already deactivated" in twice.data.decode()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "user.deactivate")) == 1


# ------------------------------------------------------------------ no lost edits

EDITS = {
    "school": lambda s, name: (f"/admin/schools/{s.home.id}", School, s.home.id,
                               {"urn": s.home.urn, "name": name, "phase": "primary"}),
    "board": lambda s, name: (f"/admin/boards/{s.board.id}", Board, s.board.id,
                              {"name": name, "phase": "primary", "budget": "100"}),
    "eip": lambda s, name: (f"/admin/eips/{s.eip.id}", EIP, s.eip.id, {"name": name}),
}


def _version_on(page: str) -> str:
    return re.search(r'name="version" type="hidden" value="(\d+)"|'
                     r'name="version" value="(\d+)"', page).group(0).rsplit('"', 2)[-2]


@pytest.mark.parametrize("kind", EDITS)
def test_two_admins_editing_from_the_same_page_give_one_409_not_a_lost_edit(
        admin_world, client_for, kind):
    s = admin_world.a
    second = factories.user(s.alliance, "admin", name="Second Coordinator")
    db.session.commit()
    url, model, oid, _data = EDITS[kind](s, "")
    first_c, second_c = client_for(s.users["admin"]), client_for(second)
    seen = _version_on(first_c.get(url).data.decode())
    assert _version_on(second_c.get(url).data.decode()) == seen
    *_rest, mine = EDITS[kind](s, "First Name")
    assert first_c.post(url, {**mine, "version": seen}).status_code == 303
    *_rest, theirs = EDITS[kind](s, "Second Name")
    late = second_c.post(url, {**theirs, "version": seen})
    assert late.status_code == 409 and "nothing of yours was saved" in late.data.decode()
    unsaid = second_c.post(url, theirs)  # a form that does not say which version it edits
    assert unsaid.status_code == 409 and "did not say which version" in unsaid.data.decode()
    db.session.expire_all()
    assert db.session.get(model, oid).name == "First Name"


@pytest.mark.parametrize("kind", EDITS)
def test_two_saves_at_the_same_moment_save_one(admin_world, client_for, kind):
    """Threads released together (overlapping for real on PostgreSQL): one 303, one 409."""
    from tests.web.test_request_concurrency import _fresh, _race

    s = admin_world.a
    second = factories.user(s.alliance, "admin", name="Second Coordinator")
    db.session.commit()
    url, model, oid, _data = EDITS[kind](s, "")
    version = str(db.session.get(model, oid).version)
    first_c, second_c = client_for(s.users["admin"]), client_for(second)
    *_r, a = EDITS[kind](s, "Name A")
    *_r, b = EDITS[kind](s, "Name B")
    codes = _race(lambda: first_c.post(url, {**a, "version": version}),
                  lambda: second_c.post(url, {**b, "version": version}))
    assert sorted(codes) == [303, 409], codes
    _fresh()
    saved = db.session.get(model, oid)
    assert saved.name in ("Name A", "Name B") and saved.version == int(version) + 1
def test_the_audit_filter_for_a_deployment_shows_everything_about_it(world, client_for):
    """Issue 15, item 10: signatures, visits, plan edits and invoices are about the deployment
    too (before, only events on the Deployment row itself were shown)."""
    from tests import factories

    d = factories.priced_deployment(world.a, status="completed")
    other = factories.priced_deployment(world.b, status="completed")
    db.session.commit()
    body = client_for(world.a.users["director"]).get(
        f"/admin/audit?deployment={d.reference}").data.decode()
    assert f"signed the agreement for {d.reference}" in body
    assert f"logged a visit for {d.reference}" in body
    assert f"for {d.reference}" in body and "raised invoice" in body
    assert f"submitted the evaluation for {d.reference}" in body
    assert other.reference not in body
    for code in ("agreement.signed", "visit.logged", "amount_pence", "total_pence", "<code>"):
        assert code not in body


# ----------------------------------------- the Teaching School headteacher's leader profile


def _director_post(c, director, **over):
    data = {"name": director.name, "job_title": "", "role": "director", "board_id": "",
            "designation": "sle"}
    data.update(over)
    return c.post(f"/admin/users/{director.id}", data)


def _profile_of(user_id):
    db.session.expire_all()
    return db.session.scalar(select(LeaderProfile).where(LeaderProfile.user_id == user_id))


def test_the_coordinator_gives_the_teaching_school_head_a_leader_profile(admin_world,
                                                                        client_for):
    """Sefton B: the director leads commissions with a profile, charged as an NLE or LLE."""
    a = admin_world.a
    director = a.users["director"]
    c = client_for(a.users["admin"])
    page = c.get(f"/admin/users/{director.id}").data.decode()
    assert "Teaching School headteacher, charged as a National Leader of Education" in page
    assert "Teaching School headteacher, charged as a Local Leader of Education" in page
    r = _director_post(c, director, school_id=str(a.home.id), leader_profile="nle")
    assert r.status_code == 303
    p = _profile_of(director.id)
    assert p.designation == "nle" and p.home_school_id == a.home.id
    assert p.alliance_id == a.alliance.id
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert ev.detail["before"]["designation"] is None
    assert ev.detail["after"]["designation"] == "nle"
    page = c.get(f"/admin/users/{director.id}").data.decode()
    assert re.search(r'<option (selected value="nle"|value="nle" selected)>Teaching School',
                     page)
    # the rate changes, and the change is audited too
    assert _director_post(c, director, school_id=str(a.home.id),
                          leader_profile="lle").status_code == 303
    assert _profile_of(director.id).designation == "lle"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.update")
                                .order_by(AuditEvent.id)).all()
    assert events[-1].detail["before"]["designation"] == "nle"
    assert events[-1].detail["after"]["designation"] == "lle"


@pytest.mark.parametrize(("over", "field", "message"), [
    ({"leader_profile": "sle"}, "leader_profile", "Choose how this Teaching School headteacher"),
    ({"leader_profile": "non_sle"}, "leader_profile", "Choose how this Teaching School"),
    ({"leader_profile": "nle", "school_id": ""}, "school_id", "Choose the Teaching School"),
])
def test_a_bad_leader_profile_is_refused_beside_its_field_and_saves_nothing(
        admin_world, client_for, over, field, message):
    a = admin_world.a
    director = a.users["director"]
    c = client_for(a.users["admin"])
    data = {"school_id": str(a.home.id), **over}
    r = _director_post(c, director, **data)
    assert r.status_code == 422
    body = r.data.decode()
    assert message in body
    beside = body.split(f'id="{field}-error"', 1)[1][:400]  # the error drawn by the field
    assert message in beside
    assert _profile_of(director.id) is None
    assert db.session.scalar(select(func.count(AuditEvent.id))
                             .where(AuditEvent.action == "user.update")) == 0


def test_a_leader_profile_once_given_is_not_taken_away_here(admin_world, client_for):
    a = admin_world.a
    director = a.users["director"]
    c = client_for(a.users["admin"])
    assert _director_post(c, director, school_id=str(a.home.id),
                          leader_profile="lle").status_code == 303
    r = _director_post(c, director, school_id=str(a.home.id), leader_profile="")
    assert r.status_code == 422 and "already has a leader profile" in r.data.decode()
    assert _profile_of(director.id).designation == "lle"


def test_only_the_director_gets_a_leader_profile_this_way(admin_world, client_for):
    """The field means nothing for another role (a headteacher is never a Teaching School
    headteacher here); a system leader's designation is the designation field's."""
    a = admin_world.a
    head = a.users["headteacher"]
    c = client_for(a.users["admin"])
    r = c.post(f"/admin/users/{head.id}", {"name": head.name, "role": "headteacher",
                                          "school_id": str(head.school_id), "board_id": "",
                                          "designation": "sle", "leader_profile": "nle"})
    assert r.status_code == 303 and _profile_of(head.id) is None


def test_inviting_a_teaching_school_head_with_a_leader_profile(admin_world, client_for):
    c = client_for(admin_world.user("a", "admin"))
    assert _invite(c, admin_world, email="tsh@alpha.example.org", role="director",
                   school_id=str(admin_world.a.home.id),
                   leader_profile="nle").status_code == 303
    user = db.session.scalar(select(User).where(User.email == "tsh@alpha.example.org"))
    assert _profile_of(user.id).designation == "nle"


def test_another_alliances_director_cannot_be_given_a_profile(admin_world, client_for):
    b = admin_world.b
    c = client_for(admin_world.user("a", "admin"))
    director = b.users["director"]
    assert c.get(f"/admin/users/{director.id}").status_code == 404
    assert _director_post(c, director, school_id=str(b.home.id),
                          leader_profile="nle").status_code == 404
    assert _profile_of(director.id) is None
