"""Sessions last from the last activity, and what someone typed survives a sign-in: a form sent
after the session ended (or with a stale security token) is kept for its sender alone and put
back in the same form once they have signed in, never sent for them."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Action, FormDraft, SupportRequest
from tests import factories
from tests.factories import plans as fd
from tests.factories import requests as fr

HOUR = 3600
TITLE = "Reasoning in Year 5"
TYPED = "Two Year 5 class teachers"  # one of the answers form_data types




@pytest.fixture
def spec(world):
    s = fr.specialism()
    db.session.commit()
    return s


def form(world, spec, **over):
    return fr.form_data([world.a.receiving.id], spec.id, **over)


def requests_made() -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(SupportRequest).where(
        SupportRequest.title == TITLE))


def sign_in(c, user):
    """Sign in through the form, as a person does; returns the response."""
    return c.post("/login", {"email": user.email, "password": factories.PASSWORD, "next":
                             c.next_page or ""})


def kept_on(body: str) -> dict | None:
    m = re.search(r'<script type="application/json" id="restored-form">(.*?)</script>', body,
                  re.S)
    return json.loads(m.group(1)) if m else None


def values(kept: dict, name: str) -> list[str]:
    return [v for n, v in kept["fields"] if n == name]


def next_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["next"][0]


@pytest.fixture
def head(world, client_for):
    c = client_for(world.user("a", "headteacher"))
    c.next_page = None
    return c


# ------------------------------------------------------------------- the idle timeout slides


def test_a_session_in_use_lasts_past_the_idle_limit_from_sign_in(world, head, clock):
    assert head.get("/").status_code == 200
    clock.offset = 11 * HOUR
    assert head.get("/requests/").status_code == 200  # activity
    clock.offset = 22 * HOUR  # 22 hours after signing in, 11 after the last activity
    assert head.get("/").status_code == 200


def test_a_session_idle_for_longer_than_the_limit_is_signed_out(world, head, clock):
    assert head.get("/").status_code == 200
    clock.offset = 12 * HOUR + 120
    r = head.get("/requests/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    page = head.get(r.headers["Location"]).data.decode()
    assert "You were signed out because the portal was not used for a while." in page
    clock.offset += 60
    assert head.get("/").status_code == 302  # and it stays signed out


def test_a_page_polling_in_the_background_is_not_activity(world, head, clock, client_for):
    plan, *_ = fd.plans_world(world)
    c = client_for(world.user("a", "headteacher"))
    assert c.get(f"/deployments/{world.a.deployment.id}/plan").status_code == 200
    for hours in (4, 8, 12):
        clock.offset = hours * HOUR
        assert c.get(f"/plans/{plan.id}/poll?since={plan.revision}").status_code == 204
    clock.offset = 12 * HOUR + 120
    assert c.get("/").status_code == 302


def test_the_idle_limit_is_configurable(app, world, head, clock, monkeypatch):
    from datetime import timedelta

    monkeypatch.setitem(app.config, "SESSION_IDLE", timedelta(hours=1))
    assert head.get("/").status_code == 200
    clock.offset = HOUR + 120
    assert head.get("/").status_code == 302


# ------------------------------------------------------------ a form sent after the session


def test_a_form_sent_after_the_session_ended_survives_the_sign_in(world, spec, head, clock):
    assert head.get("/requests/new").status_code == 200
    clock.offset = 13 * HOUR  # the headteacher took a long time over the form
    r = head.post("/requests/new", form(world, spec, submit_now="1"),
                  headers={"Referer": "http://localhost/requests/new"})
    assert r.status_code == 302 and next_of(r.headers["Location"]) == "/requests/new"
    assert "portal_draft=" in r.headers.get("Set-Cookie", "")
    assert requests_made() == 0
    login = head.get(r.headers["Location"]).data.decode()
    assert "You were signed out, so your form was not sent." in login
    head.next_page = "/requests/new"
    signed_in = sign_in(head, world.user("a", "headteacher"))
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"].endswith("/requests/new")
    page = head.get("/requests/new").data.decode()
    assert "You were signed out. Check your answers and send the form again." in page
    kept = kept_on(page)
    assert kept["action"] == "/requests/new"
    assert values(kept, "staff_involved") == [TYPED]
    assert values(kept, "standards") == ["TS2", "TS6"]  # every value of a repeated field
    assert values(kept, "csrf_token") == []  # never the old security token
    assert requests_made() == 0  # nothing was sent on their behalf
    assert kept_on(head.get("/requests/new").data.decode()) is None  # shown once
    # sending it again (a fresh token, the kept one-time key) makes the request
    assert head.post("/requests/new", {k: v for k, v in kept["fields"]} | {
        "standards": values(kept, "standards"), "school_ids": values(kept, "school_ids"),
        "idempotency_key": values(kept, "idempotency_key")[0]}).status_code == 303
    assert requests_made() == 1


def test_an_htmx_form_sent_after_the_session_ended_comes_back_on_its_page(world, client_for,
                                                                         clock):
    plan, *_ = fd.plans_world(world)
    leader = world.a.leader
    c = client_for(leader)
    page = f"/deployments/{world.a.deployment.id}/plan"
    assert c.get(page).status_code == 200
    clock.offset = 13 * HOUR
    r = c.post(f"/plans/{plan.id}/actions",
               {"new-action-description": "Model worked examples daily",
                "new-action-status": "not_started"},
               htmx=True, headers={"HX-Current-URL": f"http://localhost{page}"})
    assert r.status_code == 401
    assert next_of(r.headers["HX-Redirect"]) == page
    db.session.rollback()
    assert db.session.scalar(select(Action.id).where(
        Action.description == "Model worked examples daily")) is None
    c.next_page = page
    assert sign_in(c, leader).headers["Location"].endswith(page)
    kept = kept_on(c.get(page).data.decode())
    assert kept["action"] == f"/plans/{plan.id}/actions"
    assert values(kept, "new-action-description") == ["Model worked examples daily"]


def test_a_form_sent_after_signing_out_in_another_tab_is_kept(world, spec, head):
    assert head.get("/requests/new").status_code == 200
    assert head.post("/logout").status_code == 302  # the other tab
    r = head.post("/requests/new", form(world, spec))
    assert r.status_code == 302 and "portal_draft=" in r.headers.get("Set-Cookie", "")
    head.next_page = "/requests/new"
    sign_in(head, world.user("a", "headteacher"))
    assert values(kept_on(head.get("/requests/new").data.decode()), "staff_involved") == [TYPED]


def test_a_form_sent_after_every_session_was_ended_is_kept(world, spec, head):
    """A password change elsewhere (or an administrator) ended every session of theirs."""
    user = world.user("a", "headteacher")
    user.session_version += 1
    db.session.commit()
    r = head.post("/requests/new", form(world, spec))
    assert r.status_code == 302 and "portal_draft=" in r.headers.get("Set-Cookie", "")
    assert db.session.scalar(select(FormDraft.user_id)) == user.id


def test_someone_else_signing_in_in_that_browser_never_sees_it(world, spec, head, clock):
    clock.offset = 13 * HOUR
    r = head.post("/requests/new", form(world, spec))
    assert "portal_draft=" in r.headers.get("Set-Cookie", "")
    head.next_page = "/requests/new"
    other = world.user("a", "other_head")  # another headteacher at the same computer
    assert sign_in(head, other).status_code == 302
    page = head.get("/requests/new").data.decode()
    assert kept_on(page) is None and TYPED not in page
    db.session.rollback()
    assert db.session.scalar(select(func.count(FormDraft.id))) == 0  # deleted, not just hidden
    assert requests_made() == 0


def test_nothing_is_kept_when_the_browser_does_not_say_whose_it_was(world, spec, anon):
    r = anon.post("/requests/new", form(world, spec))
    assert r.status_code == 302 and "portal_draft=" not in r.headers.get("Set-Cookie", "")
    db.session.rollback()
    assert db.session.scalar(select(func.count(FormDraft.id))) == 0


def test_passwords_tokens_and_files_are_never_kept(world, spec, head, clock):
    import io

    clock.offset = 13 * HOUR
    head.post("/requests/new", form(world, spec, password="hunter2", new_password="x",
                                    token="abc") | {"upload": (io.BytesIO(b"x"), "a.csv")},
              content_type="multipart/form-data")
    db.session.rollback()
    names = {n for n, _ in db.session.scalar(select(FormDraft.fields))}
    assert "staff_involved" in names
    assert not names & {"password", "new_password", "token", "csrf_token", "upload"}


def test_a_form_too_large_to_keep_is_not_kept(world, spec, head, clock):
    clock.offset = 13 * HOUR
    r = head.post("/requests/new", form(world, spec, priorities="x" * 20_001))
    assert r.status_code == 302 and "portal_draft=" not in r.headers.get("Set-Cookie", "")


def test_a_form_sent_from_another_site_is_not_kept(world, spec, head, clock):
    clock.offset = 13 * HOUR
    r = head.post("/requests/new", form(world, spec), headers={"Origin": "https://evil.example",
                                                                "Sec-Fetch-Site": "cross-site"})
    assert "portal_draft=" not in r.headers.get("Set-Cookie", "")


def test_a_kept_form_is_forgotten_after_two_hours(world, spec, head, clock):
    from datetime import timedelta

    clock.offset = 13 * HOUR
    head.post("/requests/new", form(world, spec))
    draft = db.session.scalar(select(FormDraft))
    draft.created_at -= timedelta(hours=2, minutes=1)
    db.session.commit()
    head.next_page = "/requests/new"
    sign_in(head, world.user("a", "headteacher"))
    assert kept_on(head.get("/requests/new").data.decode()) is None


# ----------------------------------------------------------------- a stale security token


def test_a_form_with_an_expired_token_comes_back_filled_in(world, spec, head):
    r = head.post("/requests/new", form(world, spec, csrf_token="stale"),
                  headers={"Referer": "http://localhost/requests/new"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/requests/new")
    assert requests_made() == 0
    page = head.get("/requests/new").data.decode()
    assert "The form had expired, so it was not sent. Check your answers" in page
    assert values(kept_on(page), "staff_involved") == [TYPED]


def test_an_expired_token_on_htmx_is_sent_back_with_hx_redirect(world, client_for):
    plan, *_ = fd.plans_world(world)
    c = client_for(world.a.leader)
    page = f"/deployments/{world.a.deployment.id}/plan"
    r = c.post(f"/plans/{plan.id}/actions", {"new-action-description": "Model it",
                                              "csrf_token": "stale"},
               htmx=True, headers={"HX-Current-URL": f"http://localhost{page}"})
    assert r.status_code == 200 and r.headers["HX-Redirect"] == page
    assert values(kept_on(c.get(page).data.decode()), "new-action-description") == ["Model it"]


def test_a_button_with_nothing_typed_still_just_says_the_form_expired(world, head):
    r = head.post("/logout", csrf=False)
    assert r.status_code == 400 and "Your form expired" in r.data.decode()
