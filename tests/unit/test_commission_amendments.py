"""Extra days for someone deployed under a commission re-price the commission: its agreement
(which names and prices everyone on it) gets a new version every party signs again, and the
extra days cannot be used or billed until it is signed by all (issue 16, point 2)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.domain import agreements, finance, plans, signing
from portal.domain.policy import plans as plan_policy
from portal.extensions import db
from portal.models import Deployment, Invoice
from tests.factories import advance, commit
from tests.factories import commissions as fc
from tests.factories.agreements import sign_all


@pytest.fixture()
def cw(db):
    """The worked example: an LLE commission of 4 LLE days (£1,800) and 6 SLE days (£2,100),
    £390 brokerage, £4,290 in all; both signed and working."""
    w = fc.commission_world()
    person = fc.deploy(w)
    sign_all(w.commission)
    advance(person, "active", delivered=4)
    commit()
    w.person = person  # type: ignore[attr-defined]
    return w


def _extra_days(cw, half_days: int = 4) -> None:
    person = cw.person
    v = plans.request_variation(person, person.leader, half_days, "Two more days of coaching")
    plans.approve_variation(v, cw.w.user("a", "headteacher"))
    plans.approve_variation(v, cw.w.user("a", "director"))
    commit()


def _charges(d: Deployment) -> tuple[int, int, int]:
    c = agreements.current(d.id).content["charges"]
    return c["commission_cost"], c["brokerage_fee"], c["school_pays"]


def _people(d: Deployment) -> dict[str, int]:
    return {p["name"]: p["half_days"]
            for p in agreements.current(d.id).content["commission"]["people"]}


def test_extra_days_make_a_new_commission_version(cw):
    signed = agreements.current(cw.commission.id)
    assert signed.status == "signed" and _charges(cw.commission) == (390_000, 39_000, 429_000)
    _extra_days(cw)
    new = agreements.current(cw.commission.id)
    assert new.version == signed.version + 1 and new.status == "draft"
    assert new.content_hash != signed.content_hash
    assert signing.fingerprint(new.content_hash) != signing.fingerprint(signed.content_hash)
    # 2 extra SLE days: £700 more, and £70 more brokerage on the whole
    assert _charges(cw.commission) == (460_000, 46_000, 506_000)
    assert _people(cw.commission) == {cw.commissioner.name: 8, cw.colleague.name: 16}
    # the signed version stays in force, readable and verifiable
    assert signed.status == "superseded" and signed.signed_at is not None
    assert agreements.verify_fingerprint(signed, signing.fingerprint(signed.content_hash)).matches
    assert agreements.last_signed(cw.commission.id).id == signed.id
    # and the colleague's own agreement is amended as before
    own = agreements.current(cw.person.id)
    assert own.version == 2 and own.content["half_days"] == 16
    assert own.content["charges"]["commission_cost"] == 280_000


def test_the_extra_days_wait_for_the_commissions_signatures(cw):
    person = cw.person
    _extra_days(cw)
    versions = len(agreements.history(cw.commission.id))
    sign_all(person)  # their own amendment: their agreed days rise...
    assert person.half_days_agreed == 16
    # ...but the commission's new version is not signed yet: the extra is held back
    assert finance.commission_hold(person) == 4
    assert plans.half_days_left(person) == 8  # 12 signed for by all, 4 delivered
    assert plan_policy.commission_hold_message(person) == (
        "The 2 extra days can be used once everyone has signed the commission's new "
        "agreement.")
    # no new commission version for the same days: the approval already put them in it
    assert agreements.current(cw.commission.id).status == "draft"
    assert len(agreements.history(cw.commission.id)) == versions
    decision = plan_policy.within_signed_days(person, 2, 0)
    assert not decision.allowed and "commission's new agreement" in decision.reason
    sign_all(cw.commission)
    assert finance.commission_hold(person) == 0
    assert plans.half_days_left(person) == 12
    assert plan_policy.commission_hold_message(person) is None


def test_the_commission_signing_first_still_waits_for_their_own(cw):
    person = cw.person
    _extra_days(cw)
    sign_all(cw.commission)
    versions = len(agreements.history(cw.commission.id))
    assert person.half_days_agreed == 12 and plans.half_days_left(person) == 8
    sign_all(person)
    assert len(agreements.history(cw.commission.id)) == versions  # nothing more to sign
    assert plans.half_days_left(person) == 12


def test_a_visit_into_the_held_days_is_refused(cw):
    person = cw.person
    _extra_days(cw)
    sign_all(person)
    advance(person, "active", delivered=12)
    with pytest.raises(plans.DaysExceeded, match="commission's new agreement"):
        advance(person, "active", delivered=14)


def _school_invoice(cw) -> Invoice:
    return next(i for i in db.session.scalars(
        select(Invoice).where(Invoice.deployment_id == cw.commission.id)) if i.payer == "school")


def test_extra_days_not_signed_for_by_all_are_not_billed(cw):
    person = cw.person
    _extra_days(cw)
    sign_all(person)
    # the commission as agreed (its page): only what every party has signed for
    assert finance.commission_quote(cw.commission).school_pays == 429_000
    advance(person, "completed", delivered=12)
    advance(cw.commission, "completed", delivered=8)
    commit()
    assert _school_invoice(cw).total_pence == 429_000
    assert finance.commission_quote(cw.commission).school_pays == 429_000


def test_extra_days_signed_for_by_all_are_billed_to_the_penny(cw):
    person = cw.person
    _extra_days(cw)
    sign_all(person)
    sign_all(cw.commission)
    assert finance.commission_quote(cw.commission).school_pays == 506_000
    advance(person, "completed", delivered=16)
    advance(cw.commission, "completed", delivered=8)
    commit()
    inv = _school_invoice(cw)
    assert [line.amount_pence for line in inv.lines] == [180_000, 280_000, 46_000]
    assert inv.total_pence == 506_000  # £4,290 + £700 + £70


def test_extra_days_for_the_commissioner_name_them_in_the_commission(cw):
    d = cw.commission
    v = plans.request_variation(d, cw.commissioner, 2, "One more day of QA")
    plans.approve_variation(v, cw.w.user("a", "headteacher"))
    plans.approve_variation(v, cw.w.user("a", "director"))
    commit()
    assert _people(d)[cw.commissioner.name] == 10
    assert _charges(d) == (435_000, 43_500, 478_500)  # + £450 and £45


HELD = "The 2 extra days can be used once everyone has signed the commission&#39;s new agreement."


def test_the_pages_say_the_extra_days_wait(cw, client_for):
    person = cw.person
    _extra_days(cw)
    sign_all(person)
    colleague = client_for(cw.colleague)
    plan = colleague.get(f"/deployments/{person.id}/plan").get_data(as_text=True)
    assert HELD in plan
    page = colleague.get(f"/deployments/{person.id}").get_data(as_text=True)
    assert HELD in page
    html = client_for(cw.commissioner).get(f"/commissions/{cw.commission.id}").get_data(
        as_text=True)
    assert ("The 2 extra days for Alpha Colleague can be used once everyone has signed the "
            "commission&#39;s new agreement.") in html
    sign_all(cw.commission)
    assert HELD not in colleague.get(f"/deployments/{person.id}/plan").get_data(as_text=True)
