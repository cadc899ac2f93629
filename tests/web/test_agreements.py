"""Agreement pages: who may see, sign, decline, edit and void; fresh login; conflicts; the
printable and public verification pages; double clicks and concurrent signing."""

from __future__ import annotations

import re
import threading
import time

import pytest
from flask import g
from sqlalchemy import func, select

from portal.domain import agreements as service
from portal.domain import signing
from portal.extensions import db as _db
from portal.models import Agreement, Alliance, AuditEvent, Deployment, Signature
from tests import factories
from tests.conftest import PortalClient, csrf_token
from tests.factories import agreements as fa

ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board"]
SIGNERS = ["sle", "home_school", "director", "headteacher"]


class Fresh:
    """A client whose every request re-reads the signed-in user.

    The test body's app context is shared with the requests, so Flask-Login's cached
    ``g._login_user`` would otherwise carry one user into another client's request."""

    def __init__(self, inner: PortalClient):
        self.inner = inner

    def __getattr__(self, name):
        fn = getattr(self.inner, name)

        def call(*args, **kwargs):
            g.pop("_login_user", None)
            return fn(*args, **kwargs)

        return call


@pytest.fixture
def w(db):
    return fa.ready_world()


@pytest.fixture
def c(client_for):
    return lambda user=None: Fresh(client_for(user))


def url(w, side="a", tail=""):
    return f"/deployments/{getattr(w, side).deployment.id}/agreement{tail}"


def current(w, side="a") -> Agreement:
    _db.session.expire_all()
    return service.current(getattr(w, side).deployment.id)


def sign_data(ag: Agreement, name: str) -> dict:
    return {"version": ag.version, "content_hash": ag.content_hash, "typed_name": name}


def n_signatures() -> int:
    return _db.session.scalar(select(func.count()).select_from(Signature))


# ------------------------------------------------------------------------------- seeing


SEES = {"headteacher": 200, "sle": 200, "home_school": 200, "director": 200, "admin": 200,
        "board": 404, "other_head": 404}


def _text(html: str) -> str:
    """The page's text: the fingerprint is printed in groups that never break (one element
    each), so it is found in the text, not the markup."""
    return re.sub(r"<[^>]+>", "", html)


@pytest.mark.parametrize(("role", "status"), SEES.items())
@pytest.mark.parametrize("tail", ["", "/print"])
def test_agreement_pages_are_scoped(w, c, role, status, tail):
    r = c(w.user("a", role)).get(url(w, tail=tail))
    assert r.status_code == status
    if status == 200:
        body = r.data.decode()
        assert signing.fingerprint(current(w).content_hash) in _text(body)
        assert "Terms and conditions" in body and "1. Be kind." in body


@pytest.mark.parametrize("role", [*ROLES, "other_head"])
@pytest.mark.parametrize("tail", ["", "/print", "/edit"])
def test_another_alliances_agreement_is_404(w, c, role, tail):
    r = c(w.user("a", role)).get(url(w, "b", tail))
    # the edit page is for overseers only: a wrong role is refused before any lookup
    wrong_role = tail == "/edit" and role not in ("admin", "director")
    assert r.status_code == (403 if wrong_role else 404)


@pytest.mark.parametrize("tail", ["", "/print", "/edit"])
def test_strangers_are_sent_to_sign_in(w, c, tail):
    r = c().get(url(w, tail=tail))
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_a_deployment_without_an_agreement_has_no_agreement_page(db, c):
    from tests import factories

    world = factories.world()  # deployments still "proposed"
    r = c(world.user("a", "admin")).get(f"/deployments/{world.a.deployment.id}/agreement")
    assert r.status_code == 404


def test_the_deployment_page_shows_the_agreement_panel(w, c):
    body = c(w.user("a", "sle")).get(f"/deployments/{w.a.deployment.id}").data.decode()
    assert 'id="panel-agreement-title"' in body and "0 of 4 signatures" in body
    assert "Read and sign the agreement" in body
    body = c(w.user("a", "admin")).get(f"/deployments/{w.a.deployment.id}").data.decode()
    assert "Open the agreement" in body and "Awaited: System leader (Alpha Leader)" in body


def test_signing_panel_only_for_signatories(w, c):
    for role in SIGNERS:
        body = c(w.user("a", role)).get(url(w)).data.decode()
        assert 'id="consent-statement"' in body and ">Sign</button>" in body
        assert f"I, {w.user('a', role).name}, signing as" in body
    for role in ("admin",):
        body = c(w.user("a", role)).get(url(w)).data.decode()
        assert 'id="consent-statement"' not in body and "Edit the terms" in body
    body = c(w.user("a", "sle")).get(url(w)).data.decode()
    assert "Edit the terms" not in body


def test_the_signing_box_follows_the_terms_it_signs(w, c):
    """Issue 18, item 7: the sign form sat above the terms; a signatory reads, then signs."""
    body = c(w.user("a", "director")).get(url(w)).data.decode()
    assert body.index('id="doc-terms"') < body.index('id="signing"') \
        < body.index('id="consent-statement"')
    assert body.index('href="#signing"') < body.index('id="doc-parties"')


# ------------------------------------------------------------------------------- signing


@pytest.mark.parametrize("role", SIGNERS)
def test_each_signatory_can_sign_without_javascript(w, c, role):
    user = w.user("a", role)
    ag = current(w)
    client = c(user)
    r = client.post(url(w, tail="/sign"), sign_data(ag, user.name))
    assert r.status_code == 303 and r.headers["Location"].endswith(url(w))
    sig = _db.session.scalar(select(Signature))
    assert sig.user_id == user.id and sig.decision == "signed"
    assert sig.content_hash == ag.content_hash and sig.ip == "127.0.0.1"
    assert sig.user_agent.startswith("Werkzeug")
    body = client.get(url(w)).data.decode()
    assert "Your signature is recorded." in body and "You signed version 1" in body


def test_htmx_signing_swaps_the_agreement_body(w, c):
    user = w.user("a", "director")
    r = c(user).post(url(w, tail="/sign"), sign_data(current(w), user.name), htmx=True)
    assert r.status_code == 200
    body = r.data.decode()
    assert "<html" not in body and 'id="agreement-body"' in body
    assert "Your signature is recorded." in body and "You signed version 1" in body
    assert body.count("Awaited") == 3 and "Signed</span>" in body


def test_all_four_signing_makes_the_deployment_active(w, c):
    for role in SIGNERS:
        user = w.user("a", role)
        assert c(user).post(url(w, tail="/sign"), sign_data(current(w), user.name),
                            htmx=True).status_code == 200
    ag = current(w)
    assert ag.status == "signed"
    assert _db.session.get(Deployment, w.a.deployment.id).status == "active"
    printed = c(w.user("a", "board")).get(url(w, tail="/print"))
    assert printed.status_code == 404  # the board did not target this one
    printed = c(w.user("a", "admin")).get(url(w, tail="/print")).data.decode()
    assert printed.count('class="evidence-record"') == 4
    assert "127.0.0.1" in printed and signing.fingerprint(ag.content_hash) in _text(printed)
    assert f"/agreements/verify/{ag.verify_token}" in printed
    assert "Not a signed agreement" not in printed
    assert _db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "deployment.active")) == 1


@pytest.mark.parametrize("role", ["admin", "board"])
def test_wrong_role_cannot_sign_or_decline(w, c, role):
    ag = current(w)
    user = w.user("a", role)
    assert c(user).post(url(w, tail="/sign"), sign_data(ag, user.name)).status_code == 403
    assert c(user).post(url(w, tail="/decline"), {"version": 1, "content_hash": ag.content_hash,
                                                  "reason": "no"}).status_code == 403
    assert n_signatures() == 0


def test_a_headteacher_of_another_school_gets_404(w, c):
    user = w.user("a", "other_head")
    assert c(user).post(url(w, tail="/sign"), sign_data(current(w), user.name)).status_code \
        == 404
    assert n_signatures() == 0


@pytest.mark.parametrize("role", SIGNERS)
def test_signatories_of_another_alliance_get_404(w, c, role):
    user = w.user("b", role)
    assert c(user).post(url(w, tail="/sign"), sign_data(current(w), user.name)).status_code \
        == 404
    assert n_signatures() == 0


def test_a_leader_who_is_not_the_deployed_one_gets_403(w, c, db):
    from tests import factories

    other = factories.leader(w.a.alliance, w.a.other, name="Commissioning Leader")
    w.a.deployment.commissioning_leader_id = other.id  # sees the deployment, may not sign
    db.session.commit()
    assert c(other).get(url(w)).status_code == 200
    assert c(other).post(url(w, tail="/sign"), sign_data(current(w), other.name)).status_code \
        == 403


def test_anonymous_posts_are_sent_to_sign_in(w, c):
    r = c().post(url(w, tail="/sign"), sign_data(current(w), "x"))
    assert r.status_code == 302 and n_signatures() == 0


def test_csrf_is_required(w, c):
    user = w.user("a", "sle")
    r = c(user).post(url(w, tail="/sign"), sign_data(current(w), user.name), csrf=False)
    # nothing signed; the signer is sent back to the page to check and sign again
    assert r.status_code == 303 and n_signatures() == 0
    assert "portal_draft=" in r.headers.get("Set-Cookie", "")


def test_a_wrong_typed_name_is_refused_beside_the_field(w, c):
    r = c(w.user("a", "sle")).post(url(w, tail="/sign"), sign_data(current(w), "A. Leader"))
    assert r.status_code == 422
    body = r.data.decode()
    assert 'id="typed_name-error"' in body and "Type your full name exactly" in body
    assert n_signatures() == 0
    r = c(w.user("a", "sle")).post(url(w, tail="/sign"), sign_data(current(w), ""), htmx=True)
    assert r.status_code == 422 and "<html" not in r.data.decode()


def test_a_signature_for_another_version_is_409_with_the_new_version(w, c):
    ag = current(w)
    shown = sign_data(ag, "Alpha Leader")
    # the co-ordinator edits the draft after the leader opened it
    edit = edit_data(ag, terms="Revised terms.")
    assert c(w.user("a", "admin")).post(url(w, tail="/edit"), edit).status_code == 303
    r = c(w.user("a", "sle")).post(url(w, tail="/sign"), shown, htmx=True)
    assert r.status_code == 409
    body = r.data.decode()
    new = current(w)
    assert "The agreement changed after you opened it" in body
    assert signing.fingerprint(new.content_hash) in _text(body) and "Revised terms." in body
    assert f'value="{new.content_hash}"' in body
    assert n_signatures() == 0
    # posting an invented version number is refused the same way
    bad = dict(sign_data(new, "Alpha Leader"), version=7)
    assert c(w.user("a", "sle")).post(url(w, tail="/sign"), bad).status_code == 409


def test_a_double_click_makes_one_signature(w, c):
    user = w.user("a", "home_school")
    data = sign_data(current(w), user.name)
    client = c(user)
    first = client.post(url(w, tail="/sign"), data, htmx=True)
    second = client.post(url(w, tail="/sign"), data, htmx=True)
    assert first.status_code == 200 and second.status_code == 409
    assert "already signed" in second.data.decode()
    assert n_signatures() == 1


def _post_at_once(app, jobs):
    """Send every (user, url, data) at the same moment from its own thread and client."""
    prepared = []
    for user, target, data in jobs:
        client = PortalClient(app, user)
        prepared.append((client, target, dict(data, csrf_token=csrf_token(client.http, app))))
    _db.session.rollback()  # end the test's own read transaction: SQLite readers block writers
    barrier = threading.Barrier(len(prepared))
    results = [None] * len(prepared)

    def run(i, client, target, data):
        barrier.wait()
        results[i] = client.http.post(target, data=data, headers={"HX-Request": "true"})

    threads = [threading.Thread(target=run, args=(i, *job)) for i, job in enumerate(prepared)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return [r.status_code for r in results]


def test_two_tabs_signing_at_the_same_moment_make_one_signature(app, w):
    user = w.user("a", "director")
    data = sign_data(current(w), user.name)
    codes = _post_at_once(app, [(user, url(w, tail="/sign"), data)] * 4)
    assert sorted(codes) == [200, 409, 409, 409]
    assert n_signatures() == 1


def test_the_last_two_signing_at_once_both_count_and_activate_once(app, w, c):
    for role in ("sle", "home_school"):
        user = w.user("a", role)
        c(user).post(url(w, tail="/sign"), sign_data(current(w), user.name))
    ag = current(w)
    codes = _post_at_once(app, [
        (w.user("a", role), url(w, tail="/sign"), sign_data(ag, w.user("a", role).name))
        for role in ("director", "headteacher")])
    assert codes == [200, 200]
    assert n_signatures() == 4 and current(w).status == "signed"
    assert _db.session.get(Deployment, w.a.deployment.id).status == "active"
    assert _db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "agreement.completed")) == 1


# ------------------------------------------------------------------------------- fresh login


def _age_login(client, minutes: int):
    with client.inner.http.session_transaction() as sess:
        sess["auth_at"] = int(time.time()) - minutes * 60


def test_signing_after_15_minutes_asks_for_the_password_again(w, c):
    user = w.user("a", "sle")
    client = c(user)
    _age_login(client, 16)
    data = sign_data(current(w), user.name)
    r = client.post(url(w, tail="/sign"), data)
    assert r.status_code == 303 and "/confirm-password?next=" in r.headers["Location"]
    r = client.post(url(w, tail="/sign"), data, htmx=True)
    assert "/confirm-password" in r.headers["HX-Redirect"]
    assert n_signatures() == 0
    page = client.get(r.headers["HX-Redirect"])
    assert page.status_code == 200 and "Confirm your password" in page.data.decode()
    wrong = client.post("/confirm-password", {"password": "nope", "next": url(w)})
    assert wrong.status_code == 422 and "not right" in wrong.data.decode()
    ok = client.post("/confirm-password", {"password": factories.PASSWORD, "next": url(w)})
    assert ok.status_code == 303 and ok.headers["Location"].endswith(url(w))
    assert n_signatures() == 1  # the signature sent completes once the password is given


def test_signing_within_15_minutes_needs_no_password(w, c):
    user = w.user("a", "sle")
    client = c(user)
    _age_login(client, 14)
    assert client.post(url(w, tail="/sign"), sign_data(current(w), user.name)).status_code \
        == 303


def test_confirm_password_never_redirects_off_site(w, c):
    client = c(w.user("a", "admin"))
    r = client.post("/confirm-password", {"password": factories.PASSWORD,
                                          "next": "https://evil.example/"})
    assert r.status_code == 303 and r.headers["Location"] == "/"


@pytest.mark.parametrize("role", ROLES)
def test_every_role_may_confirm_their_password(w, c, role):
    assert c(w.user("a", role)).get("/confirm-password").status_code == 200


def test_confirm_password_needs_sign_in(db, c):
    assert c().get("/confirm-password").status_code == 302


# ------------------------------------------------------------------------------- declining


def test_declining_records_the_reason_and_tells_the_coordinator(w, c):
    ag = current(w)
    head = w.user("a", "headteacher")
    empty = c(head).post(url(w, tail="/decline"), {"version": 1,
                                                   "content_hash": ag.content_hash,
                                                   "reason": ""})
    assert empty.status_code == 422 and 'id="reason-error"' in empty.data.decode()
    r = c(head).post(url(w, tail="/decline"), {"version": 1, "content_hash": ag.content_hash,
                                               "reason": "The dates clash with SATs"},
                     htmx=True)
    assert r.status_code == 200 and "Declined" in r.data.decode()
    sig = _db.session.scalar(select(Signature))
    assert sig.decision == "declined" and sig.reason == "The dates clash with SATs"
    body = c(w.user("a", "admin")).get("/notifications/").data.decode()
    assert "The dates clash with SATs" in body


# ------------------------------------------------------------------------------- editing


def edit_data(ag: Agreement, **overrides) -> dict:
    content = ag.content
    data = {"content_hash": ag.content_hash,
            "desired_outcomes": content["desired_outcomes"] or "Better reasoning",
            "measures_of_success": content["measures_of_success"],
            "start_date": content["start_date"] or "", "end_date": content["end_date"] or "",
            "schedule": content["schedule"], "exit_arrangements": content["exit_arrangements"],
            "terms": content["terms"]}
    data.update(overrides)
    return data


@pytest.mark.parametrize(("role", "status"), [
    ("admin", 200), ("director", 200), ("headteacher", 403), ("sle", 403),
    ("home_school", 403), ("board", 403)])
def test_only_admin_and_director_may_edit(w, c, role, status):
    client = c(w.user("a", role))
    assert client.get(url(w, tail="/edit")).status_code == status
    r = client.post(url(w, tail="/edit"), edit_data(current(w), terms="Mine."))
    assert r.status_code == (303 if status == 200 else 403)


def test_editing_a_draft_keeps_version_1(w, c):
    r = c(w.user("a", "director")).post(url(w, tail="/edit"),
                                        edit_data(current(w), schedule="Tuesdays in March"))
    assert r.status_code == 303
    ag = current(w)
    assert ag.version == 1 and ag.content["schedule"] == "Tuesdays in March"
    assert "Tuesdays in March" in c(w.user("a", "sle")).get(url(w)).data.decode()


def test_bad_edits_are_refused_beside_the_field(w, c):
    before = current(w).content_hash
    r = c(w.user("a", "admin")).post(url(w, tail="/edit"), edit_data(
        current(w), start_date="2027-03-01", end_date="2027-01-01", terms=""))
    assert r.status_code == 422
    body = r.data.decode()
    assert 'id="end_date-error"' in body and 'id="terms-error"' in body
    assert current(w).content_hash == before


def test_two_editors_at_once_never_lose_an_edit(w, c):
    ag = current(w)
    first = edit_data(ag, terms="First editor's terms.")
    second = edit_data(ag, terms="Second editor's terms.")
    assert c(w.user("a", "admin")).post(url(w, tail="/edit"), first).status_code == 303
    r = c(w.user("a", "director")).post(url(w, tail="/edit"), second)
    assert r.status_code == 409 and "Someone else changed" in r.data.decode()
    assert current(w).content["terms"] == "First editor's terms."


def test_changing_terms_after_a_signature_voids_and_asks_again(w, c):
    leader = w.user("a", "sle")
    c(leader).post(url(w, tail="/sign"), sign_data(current(w), leader.name))
    r = c(w.user("a", "admin")).post(url(w, tail="/edit"),
                                     edit_data(current(w), terms="Changed after signing."))
    assert r.status_code == 303
    ag = current(w)
    assert ag.version == 2 and ag.status == "draft"
    old = _db.session.scalar(select(Signature))
    assert old.voided_at is not None
    body = c(leader).get(url(w)).data.decode()
    assert "Version 2" in body and ">Sign</button>" in body and "Earlier versions" in body
    assert "changed: every signature was voided" in c(leader).get(
        "/notifications/").data.decode()
    history = c(leader).get(url(w, tail="/print?version=1")).data.decode()
    assert "(voided" in history and "Superseded" in history
    assert c(leader).get(url(w, tail="/print?version=9")).status_code == 404


# ------------------------------------------------------------------------------- voiding


@pytest.mark.parametrize("role", ["headteacher", "sle", "home_school", "board"])
def test_only_admin_and_director_may_void(w, c, role):
    r = c(w.user("a", role)).post(url(w, tail="/void"), {"reason": "x"})
    assert r.status_code == 403 and current(w).status == "draft"


def test_voiding_needs_a_reason_and_cancels_the_deployment(w, c):
    admin = c(w.user("a", "admin"))
    r = admin.post(url(w, tail="/void"), {"reason": ""})
    assert r.status_code == 422 and 'id="void-reason-error"' in r.data.decode()
    assert current(w).status == "draft"
    r = admin.post(url(w, tail="/void"), {"reason": "Leader on long-term leave"})
    assert r.status_code == 303
    assert current(w).status == "void"
    assert _db.session.get(Deployment, w.a.deployment.id).status == "cancelled"
    body = admin.get(url(w)).data.decode()
    assert "Leader on long-term leave" in body and ">Sign</button>" not in body
    assert admin.post(url(w, tail="/void"), {"reason": "again"}).status_code == 409
    assert admin.get(url(w, tail="/edit")).status_code == 409


def test_void_of_another_alliance_is_404(w, c):
    assert c(w.user("a", "admin")).post(url(w, "b", "/void"), {"reason": "x"}).status_code \
        == 404
    assert current(w, "b").status == "draft"


# ------------------------------------------------------------------------------- verification


def _sign_all(w, c):
    for role in SIGNERS:
        user = w.user("a", role)
        c(user).post(url(w, tail="/sign"), sign_data(current(w), user.name))
    return current(w)


def test_public_verification_page(w, c):
    ag = _sign_all(w, c)
    page = f"/agreements/verify/{ag.verify_token}"
    r = c().get(page)
    assert r.status_code == 200 and "signed by every party" in r.data.decode()
    assert r.headers["X-Robots-Tag"] == "noindex"
    yes = c().get(page, query_string={"fingerprint": signing.fingerprint(ag.content_hash)})
    assert "Yes: this fingerprint matches" in yes.data.decode()
    no = c().get(page, query_string={"fingerprint": "AB" * 32})
    assert "No: this fingerprint does not match" in no.data.decode()
    junk = c().get(page, query_string={"fingerprint": "hello"})
    assert "64 hexadecimal" in junk.data.decode()
    assert c().get("/agreements/verify/not-a-real-token").status_code == 404


def test_verification_of_an_unsigned_agreement_says_so(w, c):
    ag = current(w)
    r = c().get(f"/agreements/verify/{ag.verify_token}",
                query_string={"fingerprint": signing.fingerprint(ag.content_hash)})
    assert "not fully signed" in r.data.decode() and "Yes:" not in r.data.decode()


def test_verify_audit_passes_after_signing(app, w, c):
    _sign_all(w, c)
    out = app.test_cli_runner().invoke(args=["verify-audit"])
    assert out.exit_code == 0, out.output


# ------------------------------------------------------------------------------- terms template


@pytest.mark.parametrize(("role", "status"), [
    ("admin", 200), ("director", 200), ("headteacher", 403), ("sle", 403),
    ("home_school", 403), ("board", 403)])
def test_terms_template_access(w, c, role, status):
    assert c(w.user("a", role)).get("/agreements/terms").status_code == status


def test_terms_template_needs_sign_in(db, c):
    assert c().get("/agreements/terms").status_code == 302


def test_editing_the_terms_template(w, c):
    admin = c(w.user("a", "admin"))
    page = admin.get("/agreements/terms").data.decode()
    assert "1. Be kind." in page
    import hashlib

    seen = hashlib.sha256(b"1. Be kind.\n2. Keep data safe.").hexdigest()
    assert admin.post("/agreements/terms", {"terms": "", "seen_hash": seen}).status_code == 422
    r = admin.post("/agreements/terms", {"terms": "New alliance terms.", "seen_hash": seen})
    assert r.status_code == 303
    _db.session.expire_all()
    assert _db.session.get(Alliance, w.a.alliance.id).agreement_terms == "New alliance terms."
    assert _db.session.get(Alliance, w.b.alliance.id).agreement_terms != "New alliance terms."
    # drafted agreements keep their terms
    assert current(w).content["terms"] == "1. Be kind.\n2. Keep data safe."
    # someone saving from the old page loses nothing silently
    stale = c(w.user("a", "director")).post("/agreements/terms",
                                            {"terms": "Director's", "seen_hash": seen})
    assert stale.status_code == 409 and "New alliance terms." in stale.data.decode()
    assert _db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "alliance.terms_changed")) == 1


def test_terms_navigation_only_for_overseers(w, c):
    assert "Agreement terms" in c(w.user("a", "admin")).get("/").data.decode()
    assert "Agreement terms" not in c(w.user("a", "headteacher")).get("/").data.decode()


# ------------------------------------------------------------------------------- demo data


def test_demo_active_deployments_have_fully_signed_agreements(app, db, c):
    from portal.models import User

    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    agreements = _db.session.scalars(select(Agreement)).all()
    status = {a.id: _db.session.get(Deployment, a.deployment_id).status for a in agreements}
    signed = [a for a in agreements if status[a.id] != "agreement" and a.signed_at is not None]
    # an amendment out for signature (the demo commission's, after a colleague was added)
    # follows a version of the same deployment that every party signed, which stays in force
    amending = [a for a in agreements if status[a.id] != "agreement" and a.signed_at is None]
    # CAPITAL TSA's commission led by its Teaching School headteacher: drafted, nobody signed
    led_by_director = {d.id for d in _db.session.scalars(select(Deployment).join(
        User, User.id == Deployment.leader_id).where(User.role == "director"))}
    assert [a.status for a in agreements if a.deployment_id in led_by_director] == ["draft"]
    out_for_signing = [a for a in agreements if status[a.id] == "agreement"
                       and a.deployment_id not in led_by_director]
    assert signed and all(a.status in ("signed", "superseded") for a in signed)
    assert all(a.status in ("draft", "signing") for a in amending)
    assert all(any(s.deployment_id == a.deployment_id and s.version < a.version for s in signed)
               for a in amending)
    assert all(a.status == "signed" for a in signed
               if not any(b.deployment_id == a.deployment_id and b.version > a.version
                          for b in agreements))
    for ag in agreements:
        assert ag.content_hash == signing.content_hash(ag.content)
    for ag in signed:
        assert len([s for s in ag.signatures if s.decision == "signed"]) == 4
    # one agreement per alliance is out for signature, signed by its system leader only
    assert len(out_for_signing) == _db.session.scalar(select(func.count()).select_from(Alliance))
    for ag in out_for_signing:
        assert ag.status == "signing"
        leader_id = _db.session.get(Deployment, ag.deployment_id).leader_id
        assert [s.user_id for s in ag.signatures] == [leader_id]
    assert service.verify_signatures() == []
    admin = _db.session.scalar(select(User).where(User.email == "admin@estsn.example.org"))
    ag = _db.session.scalar(select(Agreement).join(Deployment).where(
        Deployment.alliance_id == admin.alliance_id, Agreement.status == "signed"))
    page = c(admin).get(f"/deployments/{ag.deployment_id}/agreement")
    assert page.status_code == 200 and "Signed by every party" in page.data.decode()
    assert "Yes:" in c().get(f"/agreements/verify/{ag.verify_token}", query_string={
        "fingerprint": signing.fingerprint(ag.content_hash)}).data.decode()


# ------------------------------------------------------------------------------- home page


@pytest.mark.parametrize("role", SIGNERS)
def test_home_lists_agreements_waiting_for_my_signature(w, c, role):
    user = w.user("a", role)
    body = c(user).get("/").data.decode()
    assert "Agreements waiting for your signature" in body
    assert w.a.deployment.reference in body and w.b.deployment.reference not in body
    c(user).post(url(w, tail="/sign"), sign_data(current(w), user.name))
    assert "Agreements waiting for your signature" not in c(user).get("/").data.decode()


@pytest.mark.parametrize("role", ["headteacher", "director", "home_school", "sle"])
def test_home_lists_the_twenty_oldest_waiting_agreements(w, c, role):
    """Issue 20: the panel walks the user's deployments oldest first and stops at the
    twentieth whose agreement waits for them (it used to read and sort every one)."""
    from datetime import timedelta

    from tests import factories

    head = w.user("a", "headteacher")
    made = []
    for i in range(22):
        d = factories.deployment(factories.support_request(
            w.a.alliance, head, [w.a.receiving], title=f"Waiting {i}"), w.a.leader)
        factories.advance(d, "agreement")
        made.append(d)
    signed = made[0]  # one the user has signed already is not listed
    for i, d in enumerate([w.a.deployment, *made]):
        d.proposed_at = w.a.deployment.proposed_at + timedelta(hours=i)
    factories.commit()
    user = w.user("a", role)
    c(user).post(f"/deployments/{signed.id}/agreement/sign",
                 sign_data(service.current(signed.id), user.name))
    body = c(user).get("/").data.decode()
    panel = body.split("Agreements waiting for your signature", 1)[1].split("</ul>", 1)[0]
    listed = re.findall(r"(D-[A-Z]+-\d+):", panel)
    expected = [d.reference for d in [w.a.deployment, *made] if d is not signed][:20]
    assert listed == expected


@pytest.mark.parametrize("role", ["admin", "board", "other_head"])
def test_home_lists_nothing_to_sign_for_others(w, c, role):
    assert "Agreements waiting for your signature" not in c(w.user("a", role)).get(
        "/").data.decode()


def test_a_good_practice_visit_agreement_shows_its_all_in_price(db, client_for):
    from tests import factories

    w = factories.world()
    factories.rate_card(w.a.alliance)
    w.a.request.kind = "good_practice_visit"
    factories.advance(w.a.deployment, "agreement")
    db.session.commit()
    page = client_for(w.user("a", "director")).get(f"/deployments/{w.a.deployment.id}/agreement")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "A good-practice visit, priced all-in" in body
    assert "£100.00 a half day after 1 free a year" in body


def test_an_agreement_nobody_has_signed_yet_reads_ready_to_sign_not_draft(w, c):
    """Issue 15, item 10: an agreement open for signature said "Draft"."""
    body = c(w.a.users["headteacher"]).get(url(w)).data.decode()
    assert "Ready to sign" in body and "Draft" not in body
