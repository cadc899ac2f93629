"""A form filled in while the session ran out comes back filled in after signing in, in a real
browser: a plain form (a new request) and an htmx one (adding a plan action). No CSP
violations, and nothing is sent until the person sends it again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Action, SupportRequest
from tests import factories
from tests.factories import plans as factories_delivery
from tests.factories import requests as factories_requests

pytestmark = pytest.mark.browser




def _sign_in_again(page, email):
    expect(page.get_by_text("You were signed out, so your form was not sent.")).to_be_visible()
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_request_typed_while_the_session_ran_out_comes_back(page, sign_in, world, clock):
    factories_requests.specialism()
    db.session.commit()
    head = world.user("a", "headteacher")
    sign_in(page, head.email)
    page.goto("/requests/new")
    page.get_by_label("Short title").fill("Typed over a long lunch")
    page.get_by_label(re.compile(r"^TS6: Make accurate")).check()
    page.get_by_label("Priorities").fill("Reasoning in maths,\nacross Years 4 and 5")
    page.get_by_label("Subject or specialism").select_option(label="Mathematics")
    clock.offset = 13 * 3600  # more than the 12 hours a quiet session lasts
    page.get_by_role("button", name="Save as draft").click()
    _sign_in_again(page, head.email)
    expect(page).to_have_url(re.compile(r"/requests/new$"))
    expect(page.get_by_text("You were signed out. Check your answers and send the form "
                            "again.")).to_be_visible()
    expect(page.get_by_label("Short title")).to_have_value("Typed over a long lunch")
    expect(page.get_by_label("Priorities")).to_have_value(
        "Reasoning in maths,\nacross Years 4 and 5")
    expect(page.get_by_label(re.compile(r"^TS6: Make accurate"))).to_be_checked()
    expect(page.get_by_label(re.compile(r"^TS2: Promote good progress"))).not_to_be_checked()
    expect(page.get_by_label("Subject or specialism")).to_have_value(
        str(factories_requests.specialism().id))
    expect(page.locator(".restored-answers")).to_be_hidden()  # the no-JS copy is not needed
    db.session.commit()
    assert db.session.scalar(select(func.count(SupportRequest.id)).where(
        SupportRequest.title == "Typed over a long lunch")) == 0  # not sent for them
    assert page.csp_violations == []


def test_a_plan_action_typed_while_the_session_ran_out_comes_back(page, sign_in, world, clock):
    factories_delivery.plans_world(world)
    leader = world.a.leader
    sign_in(page, leader.email)
    page.goto(f"/deployments/{world.a.deployment.id}/plan")
    add = page.locator("#add-action")
    add.get_by_label("What will be done").fill("Coach the new teacher weekly")
    add.get_by_label("Who").fill("Maths lead")
    clock.offset = 13 * 3600
    add.get_by_role("button", name="Add action").click()  # htmx: HX-Redirect to sign in
    _sign_in_again(page, leader.email)
    expect(page).to_have_url(re.compile(rf"/deployments/{world.a.deployment.id}/plan$"))
    add = page.locator("#add-action")
    expect(add.get_by_label("What will be done")).to_have_value("Coach the new teacher weekly")
    expect(add.get_by_label("Who")).to_have_value("Maths lead")
    db.session.commit()
    assert db.session.scalar(select(func.count(Action.id)).where(
        Action.description == "Coach the new teacher weekly")) == 0
    add.get_by_role("button", name="Add action").click()  # sent again, by them
    expect(page.locator("#actions-body")).to_contain_text("Coach the new teacher weekly")
    db.session.commit()
    assert db.session.scalar(select(func.count(Action.id)).where(
        Action.description == "Coach the new teacher weekly")) == 1
    assert page.csp_violations == []
