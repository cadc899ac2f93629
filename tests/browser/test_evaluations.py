"""The whole completion path in Chromium: the leader evaluates, the co-ordinator forwards, the
headteacher signs off, the director signs off QA and the deployment is completed. No CSP
violations anywhere on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models import Deployment

from ..factories import evaluations as fc

pytestmark = pytest.mark.browser


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Email address")).to_be_visible()


def test_completion_path_in_the_browser(page, sign_in):
    w = fc.evaluations_world()
    d_id = w.a.deployment.id
    emails = {role: w.user("a", role).email for role in
              ("sle", "admin", "headteacher", "director")}
    db.session.remove()

    # the system leader writes the final evaluation
    sign_in(page, emails["sle"])
    page.goto(f"/deployments/{d_id}")
    page.get_by_role("link", name="Write the final evaluation").click()
    page.get_by_role("button", name="Submit the final evaluation").click()  # empty: refused
    expect(page.locator(".error-summary")).to_contain_text("Choose the impact on outcome 1.")
    for n in (1, 2):
        page.get_by_label(f"Impact on outcome {n}").select_option("3")
        page.get_by_label(f"Evidence for outcome {n}").fill(f"Lesson visits show outcome {n}")
    page.get_by_label("Overall impact of the deployment").fill("Reasoning is now routine")
    page.get_by_label("What changed for the teacher or teachers").fill("Planning in sequences")
    page.get_by_label("What changed for the pupils").fill("Pupils explain their methods")
    page.get_by_label("Recommendations").fill("Moderate termly")
    page.get_by_label("Exit arrangements").fill("The maths lead takes over coaching")
    page.get_by_role("button", name="Submit the final evaluation").click()
    expect(page.locator(".flash")).to_contain_text("sent to the co-ordinator")
    expect(page.locator("#panel-evaluations")).to_contain_text("Reasoning is now routine")
    sign_out(page)

    # the co-ordinator reviews and forwards it
    sign_in(page, emails["admin"])
    page.goto(f"/deployments/{d_id}")
    expect(page.locator("#panel-evaluations")).to_contain_text("Pupils explain their methods")
    page.get_by_role("button", name="Forward to the receiving school(s)").click()
    expect(page.locator(".flash")).to_contain_text("forwarded")
    sign_out(page)

    # the receiving headteacher adds the school's evaluation and signs off
    sign_in(page, emails["headteacher"])
    page.goto(f"/deployments/{d_id}")
    page.get_by_role("link", name="Add your school's evaluation and sign off").click()
    expect(page.get_by_role("heading", name="The system leader's evaluation")).to_be_visible()
    for n in (1, 2):
        page.get_by_label(f"Impact on outcome {n}").select_option("4")
    page.get_by_label("Quality of the system leader's support").select_option("4")
    page.get_by_label("Value for money").select_option("3")
    page.get_by_label("Would you use this system leader again?").select_option("yes")
    page.get_by_label("Your school's comments").fill("Transformational for the team")
    page.get_by_role("button", name="Sign off our evaluation").click()
    expect(page.locator(".flash")).to_contain_text("signed off")
    sign_out(page)

    # the director signs off quality assurance: the deployment is complete
    sign_in(page, emails["director"])
    page.goto(f"/deployments/{d_id}")
    page.get_by_role("link", name="Final quality-assurance sign-off").click()
    page.get_by_label("Quality-assurance notes").fill("Impact secure; exit plan sound")
    page.get_by_role("button", name="Sign off and complete").click()
    expect(page.locator(".flash")).to_contain_text("complete")
    expect(page.locator(".badge-status-completed")).to_have_text("Completed")
    expect(page.locator("#panel-evaluations")).to_contain_text("Impact secure; exit plan sound")

    # the impact report shows it, chart and all
    page.get_by_role("link", name="Reports").click()
    expect(page.locator(".chart .chart-bar").first).to_be_attached()
    # on a busy machine htmx (the local fallback) can arrive after the page: a change before
    # then is not sent, so wait for it as a person waits for the page to finish loading
    for _ in range(100):
        if page.evaluate("() => !!window.htmx"):
            break
        page.wait_for_timeout(100)
    page.get_by_label("Phase", exact=True).select_option("primary")  # htmx swaps the report
    expect(page).to_have_url(re.compile(r"phase=primary"), timeout=15_000)
    expect(page.locator("#report")).to_contain_text(w.a.deployment.reference)

    assert page.csp_violations == []
    db.session.expire_all()
    assert db.session.get(Deployment, d_id).status == "completed"


def test_early_end_and_a_board_targeted_request_in_the_browser(page, sign_in):
    from datetime import date, timedelta

    from portal.models import SupportRequest

    from ..factories import requests as fr

    w = fc.evaluations_world()
    fc.board_for(w.a)
    fr.specialism("phonics", "Phonics")
    db.session.commit()
    d_id = w.a.deployment.id
    admin, board = w.user("a", "admin").email, w.user("a", "board").email
    other_school = w.a.other.name
    db.session.remove()

    sign_in(page, admin)
    page.goto(f"/deployments/{d_id}")
    page.get_by_role("link", name="End early").click()
    page.get_by_label("Why can the system leader not complete?").fill("Long-term illness")
    page.get_by_label("Last day delivered").fill((date.today() - timedelta(days=2)).isoformat())
    page.get_by_label("Half days delivered in all").fill("4")
    page.get_by_role("button", name="End the deployment early").click()
    expect(page.locator(".badge-status-ended_early")).to_be_visible()
    expect(page.locator("#panel-evaluations")).to_contain_text("Long-term illness")
    sign_out(page)

    sign_in(page, board)
    page.get_by_role("link", name="New request").click()
    page.get_by_label(re.compile(f"^{other_school}")).check()
    page.get_by_label("Focus of the support").fill("Early reading")
    page.get_by_label(re.compile(r"^TS3: ")).check()
    page.get_by_label(re.compile(r"^TS4: ")).check()
    page.get_by_label("Subject or specialism").select_option(label="Phonics")
    page.get_by_label("Why the Board is targeting this school").fill("Phonics outcomes low")
    page.get_by_label("Desired outcomes").fill("Screening check results rise")
    start = date.today() + timedelta(days=14)
    page.get_by_label("Time frame from").fill(start.isoformat())
    page.get_by_label("Time frame to").fill((start + timedelta(days=60)).isoformat())
    page.get_by_label("Days of support").fill("3")
    page.get_by_label("Further concession per day (£)").fill("25")
    page.get_by_role("button", name="Send to the co-ordinator").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Early reading")

    assert page.csp_violations == []
    db.session.expire_all()
    assert db.session.get(Deployment, d_id).status == "ended_early"
    req = db.session.scalar(db.select(SupportRequest).where(
        SupportRequest.title == "Early reading"))
    assert req.route == "board" and req.concession_day_pence == 2500
