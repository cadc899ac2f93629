"""Nonsense is refused beside the field, never accepted silently (issue 13).

* Dates must be plausible for their object: visits within the agreed time frame and not before
  the agreement was signed; a request's time frame starting no earlier than a fortnight ago,
  within two years, at most two years long; agreement dates within the request's time frame or
  plausible; rates not decades ahead; payments not in the future nor years back.
* Pounds are read as a UK user means them (1,500.50 and £1500) or refused with a message:
  ``1,5`` is never £15.00.
* A drop-down given something it did not offer (``zzz``) says so and saves nothing; it never
  quietly clears the field.
* A NUL byte in an uploaded GIAS file is a clear message, not a PostgreSQL error.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import agreements as service
from portal.domain import errors
from portal.extensions import db
from portal.models import (
    Board,
    Deployment,
    Invoice,
    LocalAuthority,
    RateCard,
    School,
    SupportRequest,
    User,
    Visit,
)
from tests import factories
from tests.factories import agreements as fa
from tests.factories import directory as fdir
from tests.factories import plans as fd
from tests.factories import requests as factories_requests

from .test_access_matrix import _fingerprint
from .test_finance import RATE_FORM, _send, money  # noqa: F401  (the finished-deployment fixture)
from .test_reports_web import targeted_data

TODAY = date.today()


def _iso(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


# ---------------------------------------------------------------------------------- visits


@pytest.fixture
def delivery(world):
    fd.plans_world(world)
    return world


def _visit(client, w, day: str):
    return client.post(f"/deployments/{w.a.deployment.id}/visits/new",
                       {"visit_date": day, "half_days": "2", "notes": "Observed"})


@pytest.mark.parametrize("day", ["0001-01-01", "1900-01-01", "2000-01-01",
                                 (TODAY - timedelta(days=4000)).isoformat()])
def test_a_visit_dated_long_ago_is_refused_and_not_counted(delivery, client_for, day):
    w = delivery
    r = _visit(client_for(w.a.leader), w, day)
    assert r.status_code == 422
    assert 'id="visit_date-error"' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0
    db.session.expire_all()
    assert db.session.get(Deployment, w.a.deployment.id).half_days_delivered == 0


def test_a_visit_before_the_agreement_was_signed_is_refused(delivery, client_for):
    w = delivery
    signed = w.a.deployment.active_at.date()
    r = _visit(client_for(w.a.leader), w, (signed - timedelta(days=1)).isoformat())
    assert r.status_code == 422
    assert "when the agreement was signed" in r.get_data(as_text=True)
    assert _visit(client_for(w.a.leader), w, TODAY.isoformat()).status_code == 303


def test_a_visit_outside_the_agreed_time_frame_is_refused(delivery, client_for):
    """Where the signed agreement gives no dates (one signed before agreements carried them),
    the request's time frame bounds the visits."""
    w = delivery
    req = db.session.get(SupportRequest, w.a.request.id)
    req.start_date, req.end_date = TODAY - timedelta(days=30), TODAY - timedelta(days=3)
    signed = service.current(w.a.deployment.id)
    signed.content = {k: v for k, v in signed.content.items()
                      if k not in ("start_date", "end_date")}
    db.session.commit()
    r = _visit(client_for(w.a.leader), w, TODAY.isoformat())
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "within the agreed time frame" in body and 'id="visit_date-error"' in body
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_the_signed_agreements_dates_bound_the_visits(db, client_for):
    """The time frame agreed (and signed) is the one that counts, not the request's."""
    w = fa.ready_world()
    ag = service.current(w.a.deployment.id)
    ag = service.edit(ag, w.user("a", "admin"), {"start_date": TODAY - timedelta(days=10),
                                                 "end_date": TODAY - timedelta(days=1)},
                      seen_hash=ag.content_hash)
    db.session.commit()
    for signer in fa.signers(w):
        fa.sign(service.current(w.a.deployment.id), signer)
    db.session.commit()
    d = db.session.get(Deployment, w.a.deployment.id)
    assert d.status == "active"
    leader = w.a.leader
    r = _visit(client_for(leader), w, TODAY.isoformat())
    assert r.status_code == 422 and "within the agreed time frame" in r.get_data(as_text=True)
    assert "to " + f"{(TODAY - timedelta(days=1)).day}" in r.get_data(as_text=True)


# ------------------------------------------------------------------ request time frames


def _request_form(w, **over):
    maths = factories_requests.specialism()
    db.session.commit()
    return factories_requests.form_data([w.a.receiving.id], maths.id, **over)


@pytest.mark.parametrize(("over", "field"), [
    ({"start_date": "0001-01-01", "end_date": "9999-12-31"}, "start_date"),
    ({"start_date": "1900-01-01"}, "start_date"),
    ({"start_date": _iso(-30)}, "start_date"),
    ({"start_date": _iso(365 * 3), "end_date": _iso(365 * 3 + 30)}, "start_date"),
    ({"start_date": _iso(14), "end_date": "9999-12-31"}, "end_date"),
    ({"start_date": _iso(14), "end_date": _iso(14 + 365 * 2 + 30)}, "end_date"),
    ({"start_date": "not a date", "end_date": "9999-12-31"}, "end_date"),
])
def test_an_implausible_request_time_frame_is_refused_beside_the_field(world, client_for, over,
                                                                       field):
    data = _request_form(world, **over)
    client = client_for(world.user("a", "headteacher"))
    before = _fingerprint()
    r = client.post("/requests/new", data)
    assert r.status_code == 422
    assert f'id="{field}-error"' in r.get_data(as_text=True)
    assert _fingerprint() == before


@pytest.mark.parametrize(("start", "end"), [(-10, 60), (0, 0), (14, 14 + 365 * 2)])
def test_a_plausible_time_frame_is_accepted(world, client_for, start, end):
    r = client_for(world.user("a", "headteacher")).post(
        "/requests/new", _request_form(world, start_date=_iso(start), end_date=_iso(end)))
    assert r.status_code == 303


# ------------------------------------------------------------------------ agreement dates


def _edit(c, w, **dates):
    from .test_agreements import edit_data

    return c.post(f"/deployments/{w.a.deployment.id}/agreement/edit",
                  edit_data(service.current(w.a.deployment.id), **dates))


@pytest.mark.parametrize(("dates", "field"), [
    ({"start_date": "0001-01-01", "end_date": "9999-12-31"}, "start_date"),
    ({"start_date": "1900-01-01"}, "start_date"),
    ({"end_date": "9999-12-31"}, "end_date"),
    ({"start_date": _iso(365 * 5), "end_date": _iso(365 * 5 + 10)}, "start_date"),
])
def test_implausible_agreement_dates_are_refused_beside_the_field(db, client_for, dates, field):
    w = fa.ready_world()
    before = service.current(w.a.deployment.id).content_hash
    r = _edit(client_for(w.user("a", "admin")), w, **dates)
    assert r.status_code == 422
    assert f'id="{field}-error"' in r.get_data(as_text=True)
    db.session.expire_all()
    assert service.current(w.a.deployment.id).content_hash == before


def test_agreement_dates_within_the_request_or_plausible_are_saved(db, client_for):
    w = fa.ready_world()
    req = w.a.request
    c = client_for(w.user("a", "admin"))
    assert _edit(c, w, start_date=req.start_date.isoformat(),
                 end_date=req.end_date.isoformat()).status_code == 303
    assert _edit(c, w, start_date=_iso(30), end_date=_iso(200)).status_code == 303
    db.session.expire_all()
    assert service.current(w.a.deployment.id).content["end_date"] == _iso(200)


def test_the_domain_refuses_implausible_agreement_dates_too(db):
    w = fa.ready_world()
    ag = service.current(w.a.deployment.id)
    with pytest.raises(errors.Invalid) as caught:
        service.edit(ag, w.user("a", "admin"), {"start_date": date(1, 1, 1),
                                                "end_date": date(9999, 12, 31)},
                     seen_hash=ag.content_hash)
    assert caught.value.field == "start_date"


def test_dates_already_in_the_agreement_do_not_block_other_edits(db):
    """An agreement drafted from an old request keeps its dates; its terms stay editable."""
    from portal.domain import signing

    w = fa.ready_world()
    ag = service.current(w.a.deployment.id)
    ag.content = {**ag.content, "start_date": "2020-01-06", "end_date": "2020-03-27"}
    ag.content_hash = signing.content_hash(ag.content)
    db.session.commit()
    now = service.edit(ag, w.user("a", "admin"), {"terms": "Revised terms."},
                       seen_hash=ag.content_hash)
    assert now.content["terms"] == "Revised terms." and now.content["start_date"] == "2020-01-06"
    with pytest.raises(errors.Invalid):
        service.edit(now, w.user("a", "admin"), {"end_date": date(2020, 4, 1)},
                     seen_hash=now.content_hash)


# ------------------------------------------------------------------------------ rate cards


@pytest.mark.parametrize("day", ["9999-12-31", "2999-01-01", _iso(365 * 3)])
def test_a_rate_card_from_decades_away_is_refused(world, client_for, day):
    r = client_for(world.user("a", "admin")).post("/finance/rates/new",
                                                  {**RATE_FORM, "effective_from": day})
    assert r.status_code == 422
    assert 'id="effective_from-error"' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(RateCard)) == 0


def test_a_rate_card_a_year_ahead_is_saved(world, client_for):
    r = client_for(world.user("a", "admin")).post("/finance/rates/new",
                                                  {**RATE_FORM, "effective_from": _iso(365)})
    assert r.status_code == 303


# ------------------------------------------------------------------------------ payments


def _pay(c, inv, amount, day=None):
    return c.post(f"/finance/invoices/{inv.id}/payments",
                  {"amount": amount, "received_on": day or TODAY.isoformat()})


@pytest.mark.parametrize("amount", ["1,5", "1,50", "15,00", "1,5000", "1.5.0", "1.555", "-1",
                                    "1e3", "NaN", "1 500", "£", "99999999999999999999"])
def test_an_amount_that_would_be_a_guess_is_refused_beside_the_field(world, money, client_for,  # noqa: F811
                                                                     amount):
    c = client_for(world.user("a", "admin"))
    inv = money["a"]["school"]
    _send(c, inv)
    r = _pay(c, inv, amount)
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert 'id="amount-error"' in body and "Enter an amount" in body
    db.session.expire_all()
    assert db.session.get(Invoice, inv.id).paid_pence == 0


def test_a_decimal_comma_says_how_to_write_pence(world, money, client_for):  # noqa: F811
    c = client_for(world.user("a", "admin"))
    inv = money["a"]["school"]
    _send(c, inv)
    body = _pay(c, inv, "1,5").get_data(as_text=True)
    assert "commas only between thousands" in body and "full stop before the pence" in body


@pytest.mark.parametrize(("amount", "pence"), [("1.5", 150), ("£1.50", 150), ("£150", 15_000),
                                               ("1,5", None), ("£1,500.50", None)])
def test_amounts_are_read_as_a_uk_user_means_them(world, money, client_for, amount, pence):  # noqa: F811
    c = client_for(world.user("a", "admin"))
    inv = money["a"]["school"]  # £900 due
    _send(c, inv)
    r = _pay(c, inv, amount)
    db.session.expire_all()
    paid = db.session.get(Invoice, inv.id).paid_pence
    if pence is None:  # "1,5" refused; £1,500.50 is more than is due, and says so
        assert r.status_code == 422 and paid == 0
    else:
        assert r.status_code == 303 and paid == pence


@pytest.mark.parametrize("day", ["0001-01-01", "1900-01-01", "9999-12-31", _iso(1)])
def test_a_payment_date_that_cannot_be_is_refused(world, money, client_for, day):  # noqa: F811
    c = client_for(world.user("a", "admin"))
    inv = money["a"]["school"]
    _send(c, inv)
    r = _pay(c, inv, "10", day)
    assert r.status_code == 422 and 'id="received_on-error"' in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Invoice, inv.id).paid_pence == 0


@pytest.mark.parametrize(("field", "value"), [("lle_day", "1,5"), ("sle_day", "12,50"),
                                              ("nle_day", "10001"), ("consult_hour", "1.5.0")])
def test_rate_card_amounts_are_refused_not_guessed(world, client_for, field, value):
    r = client_for(world.user("a", "admin")).post("/finance/rates/new",
                                                  {**RATE_FORM, field: value})
    assert r.status_code == 422 and f'id="{field}-error"' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(RateCard)) == 0


def test_rate_card_amounts_with_thousands_are_read(world, client_for):
    r = client_for(world.user("a", "admin")).post(
        "/finance/rates/new", {**RATE_FORM, "nle_day": "£1,050.50", "lle_day": "£500"})
    assert r.status_code == 303
    card = db.session.scalar(select(RateCard))
    assert card.nle_day_pence == 105_050 and card.lle_day_pence == 50_000


@pytest.mark.parametrize("budget", ["1,5", "99999999", "£10,000,000.01", "1.5.0"])
def test_a_board_budget_beyond_reason_is_refused(world, client_for, budget):
    """99999999 pounds passed the old check and overflowed the INTEGER column on PostgreSQL."""
    r = client_for(world.user("a", "admin")).post(
        "/admin/boards/new", {"name": "Big Board", "phase": "primary", "budget": budget})
    assert r.status_code == 422 and 'id="budget-error"' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Board)) == 0


def test_a_board_budget_of_ten_million_is_kept_in_pence(world, client_for):
    r = client_for(world.user("a", "admin")).post(
        "/admin/boards/new", {"name": "Big Board", "phase": "primary", "budget": "£10,000,000"})
    assert r.status_code == 303
    assert db.session.scalar(select(Board.budget_pence)) == 1_000_000_000


@pytest.mark.parametrize("value", ["1,5", "1.5.0", "-2"])
def test_a_targeted_concession_is_refused_not_guessed(client_for, value):
    from .test_reports_web import fc

    w = fc.evaluations_world()
    fc.board_for(w.a)
    db.session.commit()
    r = client_for(w.user("a", "board")).post("/board/requests/new",
                                              targeted_data(w, concession=value))
    assert r.status_code == 422 and 'id="concession-error"' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SupportRequest).where(
        SupportRequest.route == "board")) == 0


# ------------------------------------------------------------------------------- choices


@pytest.fixture
def la_world(world):
    la = LocalAuthority(name="Sefton", code="343")
    db.session.add(la)
    db.session.flush()
    world.a.home.local_authority_id = la.id
    world.la = la
    world.eip = factories.eip(world.a.alliance)
    db.session.commit()
    return world


@pytest.mark.parametrize(("field", "value"), [
    ("local_authority_id", "zzz"), ("local_authority_id", "99999999999999999999"),
    ("eip_id", "zzz"), ("local_authority_id", "-1"),
])
def test_an_invalid_school_choice_is_refused_not_cleared(la_world, client_for, field, value):
    w = la_world
    school = w.a.home
    client = client_for(w.user("a", "admin"))
    before = _fingerprint()
    r = client.post(f"/admin/schools/{school.id}", {
        "urn": school.urn, "name": school.name, "phase": "primary", field: value})
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert f'id="{field}-error"' in body and "from the list" in body
    db.session.expire_all()
    assert db.session.get(School, school.id).local_authority_id == w.la.id
    assert _fingerprint() == before


def test_choosing_none_still_clears_the_local_authority(la_world, client_for):
    w = la_world
    school = w.a.home
    r = client_for(w.user("a", "admin")).post(f"/admin/schools/{school.id}", {
        "urn": school.urn, "name": school.name, "phase": "primary", "local_authority_id": "",
        "version": str(school.version)})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(School, school.id).local_authority_id is None


@pytest.mark.parametrize("value", ["zzz", "99999999999999999999", "1.0"])
def test_an_invalid_school_for_a_user_is_refused_not_cleared(world, client_for, value):
    director = world.user("a", "director")
    director.school_id = world.a.home.id
    db.session.commit()
    r = client_for(world.user("a", "admin")).post(f"/admin/users/{director.id}", {
        "name": director.name, "role": "director", "school_id": value, "board_id": "",
        "designation": "sle"})
    assert r.status_code == 422
    assert 'id="school_id-error"' in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, director.id).school_id == world.a.home.id


@pytest.mark.parametrize(("field", "value"), [("specialism_id", "zzz"),
                                              ("specialism_id", "99999999999999999999"),
                                              ("school_ids", "zzz"),
                                              ("school_ids", "99999999999999999999")])
def test_an_invalid_request_choice_is_refused_with_a_message(world, client_for, field, value):
    data = _request_form(world, **{field: value})
    client = client_for(world.user("a", "headteacher"))
    before = _fingerprint()
    r = client.post("/requests/new", data)
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "from the list" in body and "could not coerce" not in body
    assert _fingerprint() == before


def test_an_invalid_targeted_school_is_refused_with_a_message(client_for):
    from .test_reports_web import fc

    w = fc.evaluations_world()
    fc.board_for(w.a)
    db.session.commit()
    r = client_for(w.user("a", "board")).post("/board/requests/new",
                                              targeted_data(w, school_id="zzz"))
    assert r.status_code == 422
    assert "Choose the school to support from the list" in r.get_data(as_text=True)


# ------------------------------------------------------------------------------ GIAS file


@pytest.mark.parametrize("where", ["name", "header", "utf16"])
def test_a_nul_byte_in_a_gias_file_is_a_clear_message(world, client_for, where):
    text = fdir.GIAS_HEADER + fdir.gias_row("200001", "Good Primary") \
        + fdir.gias_row("200002", "Bad\x00Primary")
    data = text.encode("utf-8")
    if where == "header":
        data = b"\x00" + data
    elif where == "utf16":
        data = text.replace("\x00", "").encode("utf-16-le")  # no BOM: NULs between letters
    n = db.session.scalar(select(func.count()).select_from(School))
    r = client_for(world.user("a", "admin")).post(
        "/admin/schools/import", {"file": (io.BytesIO(data), "extract.csv")},
        content_type="multipart/form-data")
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "NUL character" in body and "Nothing was imported" in body
    assert db.session.scalar(select(func.count()).select_from(School)) == n
