"""Money pages: who sees which invoices, every route for every role, payments through the web,
CSV export, htmx filters, rate-card editing, the money panel and settlement statements."""

from __future__ import annotations

import csv
import io
import threading
from datetime import date

import pytest
from flask import g, has_app_context
from sqlalchemy import func, select

from portal.domain import finance, workflow
from portal.extensions import db
from portal.models import AuditEvent, Invoice, Payment, RateCard

from .. import factories
from ..factories import finance as ff

ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board"]


@pytest.fixture
def client_for(client_for):
    """Clients that forget the previous request's user: the test body's app context is reused by
    every request, and Flask-Login caches the signed-in user on ``g``, so a second client in the
    same test would otherwise act as the first one's user."""

    class Fresh:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            attr = getattr(self.inner, name)
            if name not in ("get", "post", "htmx_get"):
                return attr

            def call(*args, **kwargs):
                if has_app_context():
                    g.pop("_login_user", None)
                return attr(*args, **kwargs)

            return call

    return lambda user=None: Fresh(client_for(user))


def _complete(side, actor):
    d = ff.priced_deployment(side, model="east_sussex", designation="sle", half_days=12,
                             targeted=True)
    workflow.transition(d, "completed", actor)
    workflow.commit_or_conflict()
    invoices = db.session.scalars(select(Invoice).where(Invoice.deployment_id == d.id)).all()
    return d, {i.payer: i for i in invoices}


@pytest.fixture
def money(world):
    """Both alliances finished a Board-targeted East Sussex deployment of 6 days."""
    da, a = _complete(world.a, world.user("a", "director"))
    db_, b = _complete(world.b, world.user("b", "director"))
    return {"a": a, "b": b, "da": da, "db": db_}


# Which of alliance A's invoices each role may open (others answer 404).
SEES = {
    "headteacher": {"school"},
    "home_school": {"board", "teaching_school"},
    "board": {"board"},
    "director": {"school", "board", "teaching_school"},
    "admin": {"school", "board", "teaching_school"},
    "other_head": set(),
}


@pytest.mark.parametrize(("role", "visible"), SEES.items())
def test_each_role_sees_only_its_money(world, money, client_for, role, visible):
    c = client_for(world.user("a", role))
    for payer, inv in money["a"].items():
        expected = 200 if payer in visible else 404
        assert c.get(f"/finance/invoices/{inv.id}").status_code == expected, payer
    listing = c.get("/finance/").data.decode()
    for payer, inv in money["a"].items():
        assert (inv.number in listing) is (payer in visible)
    for inv in money["b"].values():
        assert inv.number not in listing
        assert c.get(f"/finance/invoices/{inv.id}").status_code == 404


def test_system_leaders_see_no_money(world, money, client_for):
    c = client_for(world.user("a", "sle"))
    assert c.get("/finance/").status_code == 403
    assert c.get(f"/finance/invoices/{money['a']['school'].id}").status_code == 403
    body = c.get(f"/deployments/{money['da'].id}").data.decode()
    assert "panel-finance-title" not in body


# every route, with what each role gets on alliance A's objects
def _routes(money):
    inv = money["a"]["school"].id
    dep = money["da"].id
    return [
        ("get", "/finance/", {}),
        ("get", "/finance/invoices.csv", {}),
        ("get", f"/finance/invoices/{inv}", {}),
        ("post", f"/finance/invoices/{inv}/send", {}),
        ("post", f"/finance/invoices/{inv}/payments", {"amount": "1", "received_on": "2026-11-20"}),
        ("post", f"/finance/invoices/{inv}/paid", {}),
        ("post", f"/finance/invoices/{inv}/refund", {}),
        ("get", f"/finance/deployments/{dep}/settlement", {}),
        ("post", f"/finance/deployments/{dep}/invoices", {}),
        ("get", "/finance/rates", {}),
        ("get", "/finance/rates/new", {}),
        ("post", "/finance/rates/new", {}),
    ]


ALLOWED = {
    "/finance/": {"headteacher", "home_school", "board", "director", "admin"},
    "/finance/invoices.csv": {"director", "admin"},
    "show": {"headteacher", "director", "admin"},  # the school's invoice
    "act": {"director", "admin"},
    "settlement": {"headteacher", "home_school", "board", "director", "admin"},
    "/finance/rates": {"director", "admin"},
    "/finance/rates/new": {"admin"},
}


def _allowed(url: str, method: str) -> set[str]:
    if url in ALLOWED:
        return ALLOWED[url]
    if url.endswith("/settlement"):
        return ALLOWED["settlement"]
    if method == "post":
        return ALLOWED["act"]
    return ALLOWED["show"]


@pytest.mark.parametrize("role", ROLES)
def test_every_route_for_every_role(world, money, client_for, role):
    c = client_for(world.user("a", role))
    for method, url, data in _routes(money):
        r = c.get(url) if method == "get" else c.post(url, data)
        code = r.status_code
        if role in _allowed(url, method):
            # allowed: a page, a redirect after a change, a refused state (409), bad input (422),
            # or 404 for a settlement of a deployment that did not end early
            assert code in (200, 303, 404, 409, 422), (url, code)
            if url.endswith("/settlement"):
                assert code == 404  # completed, not ended early
            elif method == "get":
                assert code == 200, url
        elif role == "board" and "/invoices/" in url and method == "get":
            assert code == 404, url  # a board member may open Board invoices, not the school's
        elif role == "home_school" and "/invoices/" in url and method == "get":
            assert code == 404, url
        else:
            assert code == 403, (url, code)


def test_strangers_are_sent_to_sign_in(world, money, anon):
    for method, url, data in _routes(money):
        r = anon.get(url) if method == "get" else anon.post(url, data)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url


@pytest.mark.parametrize("role", ["director", "admin"])
def test_other_alliances_objects_answer_404(world, money, client_for, role):
    c = client_for(world.user("a", role))
    inv = money["b"]["school"].id
    for url in (f"/finance/invoices/{inv}", f"/finance/deployments/{money['db'].id}/settlement"):
        assert c.get(url).status_code == 404
    for url in (f"/finance/invoices/{inv}/send", f"/finance/invoices/{inv}/paid",
                f"/finance/invoices/{inv}/payments", f"/finance/invoices/{inv}/refund",
                f"/finance/deployments/{money['db'].id}/invoices"):
        assert c.post(url, {"amount": "1", "received_on": "2026-11-20"}).status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
    assert money["b"]["school"].status == "draft"


def test_headteacher_of_another_school_sees_nothing(world, money, client_for):
    c = client_for(world.user("a", "other_head"))
    assert b"No invoices match." in c.get("/finance/").data
    for inv in money["a"].values():
        assert c.get(f"/finance/invoices/{inv.id}").status_code == 404


# ------------------------------------------------------------------ payments through the web


def _send(c, inv):
    assert c.post(f"/finance/invoices/{inv.id}/send").status_code == 303


def test_payment_flow_with_partial_and_overpayment(world, money, client_for):
    c = client_for(world.user("a", "admin"))
    inv = money["a"]["school"]
    _send(c, inv)
    r = c.post(f"/finance/invoices/{inv.id}/payments",
               {"amount": "£1,000.00", "received_on": "2026-11-20", "reference": "BACS 1"})
    assert r.status_code == 422  # £1,000 is more than the £900 due
    body = r.data.decode()
    assert 'id="amount-error"' in body and "more than the £900.00 still due" in body
    r = c.post(f"/finance/invoices/{inv.id}/payments",
               {"amount": "400.50", "received_on": "2026-11-20", "reference": "BACS 1"})
    assert r.status_code == 303
    db.session.expire_all()
    assert inv.paid_pence == 40_050 and inv.status == "part_paid"
    r = c.post(f"/finance/invoices/{inv.id}/payments", {"amount": "12.345", "received_on": ""})
    assert r.status_code == 422 and b"Enter an amount in pounds" in r.data
    r = c.post(f"/finance/invoices/{inv.id}/payments",
               {"amount": "10", "received_on": "2999-01-01"})
    assert r.status_code == 422 and b'id="received_on-error"' in r.data
    db.session.expire_all()
    assert inv.paid_pence == 40_050
    assert c.post(f"/finance/invoices/{inv.id}/paid").status_code == 303
    db.session.expire_all()
    assert inv.paid_pence == 90_000 and inv.status == "paid"
    r = c.post(f"/finance/invoices/{inv.id}/paid")
    assert r.status_code == 409 and b"already paid in full" in r.data
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "Invoice", AuditEvent.object_id == inv.id)).all()
    assert actions.count("invoice.payment") == 2 and "invoice.sent" in actions


def test_payment_before_sending_is_refused(world, money, client_for):
    c = client_for(world.user("a", "admin"))
    inv = money["a"]["school"]
    r = c.post(f"/finance/invoices/{inv.id}/paid")
    assert r.status_code == 409 and b"before recording a payment" in r.data


def test_payment_needs_csrf(world, money, client_for):
    c = client_for(world.user("a", "admin"))
    r = c.post(f"/finance/invoices/{money['a']['school'].id}/send", csrf=False)
    assert r.status_code == 400
    db.session.expire_all()
    assert money["a"]["school"].status == "draft"


def test_two_people_marking_paid_at_once_pay_once(app, world, money, client_for):
    admin, director = world.user("a", "admin"), world.user("a", "director")
    inv = money["a"]["school"]
    finance.mark_sent(inv, admin)
    db.session.commit()
    clients = [client_for(admin), client_for(director)]
    url = f"/finance/invoices/{inv.id}/paid"
    codes: list[int] = []
    start = threading.Barrier(2)

    def click(c):
        start.wait(timeout=10)
        codes.append(c.post(url).status_code)

    threads = [threading.Thread(target=click, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(codes) == [303, 409]
    db.session.rollback()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert db.session.get(Invoice, inv.id).paid_pence == 90_000


# ------------------------------------------------------------------ lists, filters, CSV, print


def test_htmx_filter_returns_only_results_and_urls_are_shareable(world, money, client_for):
    c = client_for(world.user("a", "admin"))
    r = c.htmx_get("/finance/?payer=board")
    body = r.data.decode()
    assert r.status_code == 200 and "<html" not in body
    assert money["a"]["board"].number in body and money["a"]["school"].number not in body
    full = c.get(f"/finance/?school={world.a.receiving.id}").data.decode()
    assert "<html" in full and money["a"]["school"].number in full
    assert money["a"]["board"].number not in full
    assert f'value="{world.a.receiving.id}" selected' in full
    year = money["a"]["school"].academic_year
    assert money["a"]["school"].number in c.get(f"/finance/?year={year}").data.decode()
    assert b"No invoices match." in c.get(f"/finance/?year={year + 5}").data
    assert b"No invoices match." in c.get("/finance/?status=paid").data


def test_csv_export_follows_the_filters_and_the_alliance(world, money, client_for):
    c = client_for(world.user("a", "director"))
    r = c.get("/finance/invoices.csv?payer=school")
    assert r.mimetype == "text/csv" and "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.data.decode())))
    assert rows[0][0] == "Number"
    assert [row[0] for row in rows[1:]] == [money["a"]["school"].number]
    assert rows[1][9] == "900.00" and rows[1][12] == "900.00"
    everything = c.get("/finance/invoices.csv").data.decode()
    assert money["b"]["school"].number not in everything


def test_invoice_page_is_printable(world, money, client_for):
    body = client_for(world.user("a", "headteacher")).get(
        f"/finance/invoices/{money['a']['school'].id}").data.decode()
    assert "data-print" in body and "Please quote" in body and "Due" in body
    assert "Mark as sent" not in body  # actions are for the co-ordinator and director
    css = client_for(world.user("a", "admin")).get("/static/css/portal.css").data.decode()
    assert "@media print" in css and ".invoice-actions" in css


# ------------------------------------------------------------------ the money panel


def test_finance_panel_on_the_deployment_page(world, money, client_for):
    body = client_for(world.user("a", "headteacher")).get(
        f"/deployments/{money['da'].id}").data.decode()
    assert 'id="panel-finance-title"' in body
    assert money["a"]["school"].number in body and money["a"]["board"].number not in body
    admin_body = client_for(world.user("a", "admin")).get(
        f"/deployments/{money['da'].id}").data.decode()
    assert all(i.number in admin_body for i in money["a"].values())


def test_advance_invoices_and_early_end_settlement(world, client_for):
    d = ff.priced_deployment(world.a, model="east_sussex", designation="sle", half_days=12,
                             delivered=0, status="active", targeted=True)
    admin = client_for(world.user("a", "admin"))
    page = admin.get(f"/deployments/{d.id}").data.decode()
    assert "Raise invoices in advance" in page
    assert admin.post(f"/finance/deployments/{d.id}/invoices").status_code == 303
    again = admin.post(f"/finance/deployments/{d.id}/invoices")  # no double: "not now"
    assert again.status_code == 409 and "already been raised" in again.data.decode()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 3
    for inv_id in db.session.scalars(select(Invoice.id)).all():  # sent, so credited later
        assert admin.post(f"/finance/invoices/{inv_id}/send").status_code == 303

    d = db.session.get(type(d), d.id)
    d.half_days_delivered = 4
    workflow.transition(d, "ended_early", world.user("a", "director"), reason="Leader ill")
    workflow.commit_or_conflict()
    body = client_for(world.user("a", "headteacher")).get(
        f"/finance/deployments/{d.id}/settlement").data.decode()
    assert "Settlement statement" in body
    assert "£300.00" in body and "£400.00" in body and "£900.00" in body
    assert "CN-" in body
    panel = admin.get(f"/deployments/{d.id}").data.decode()
    assert "Settlement statement for the early end" in panel


# ------------------------------------------------------------------ rate card


RATE_FORM = {
    "effective_from": date.today().isoformat(), "nle_day": "500", "lle_day": "475.00",
    "slt_day": "400", "sle_day": "350", "non_sle_day": "300", "brokerage_percent": "10",
    "board_grant_day": "0", "board_school_day": "0", "gpv_half_day": "100",
    "gpv_free_per_year": "1", "consult_hour": "70", "consult_free_hours": "1",
}


def test_admin_changes_rates_and_history_is_kept(world, client_for):
    old = ff.rate_card(world.a.alliance, "sefton")
    db.session.commit()
    c = client_for(world.user("a", "admin"))
    form = c.get("/finance/rates/new").data.decode()
    assert 'value="450.00"' in form and 'value="10"' in form
    r = c.post("/finance/rates/new", RATE_FORM)
    assert r.status_code == 303
    cards = db.session.scalars(select(RateCard).where(
        RateCard.alliance_id == world.a.alliance.id).order_by(RateCard.id)).all()
    assert [card.lle_day_pence for card in cards] == [45_000, 47_500]
    assert cards[0].id == old.id and cards[1].created_by_id == world.user("a", "admin").id
    page = client_for(world.user("a", "director")).get("/finance/rates").data.decode()
    assert "£475.00" in page and "£450.00" in page and "(in force)" in page
    assert "Change the rates" not in page  # directors read, the co-ordinator edits


@pytest.mark.parametrize(("field", "value", "message"), [
    ("lle_day", "abc", "Enter an amount in pounds"),
    ("lle_day", "0", "at least 1"),
    ("brokerage_percent", "120", "from 0 to 100"),
    ("board_grant_day", "400", "exceeds the lowest day rate"),
    ("board_school_day", "150", "needs a Board grant"),
    ("effective_from", "2000-01-01", "today or later"),
    ("gpv_free_per_year", "-1", "Enter 0 to 50"),
])
def test_bad_rates_are_refused_beside_the_field(world, client_for, field, value, message):
    c = client_for(world.user("a", "admin"))
    r = c.post("/finance/rates/new", {**RATE_FORM, field: value})
    assert r.status_code == 422
    body = r.data.decode()
    assert f'id="{field}-error"' in body and message in body
    assert db.session.scalar(select(func.count()).select_from(RateCard)) == 0


def test_demo_has_invoices_part_payments_and_an_early_end(app, db, client_for):
    from portal.models import User

    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    invoices = db.session.scalars(select(Invoice)).all()
    assert any(i.status == "part_paid" for i in invoices)
    credits = [i for i in invoices if i.is_credit]
    assert credits and any(i.refund_due_pence for i in invoices)
    admin = db.session.scalar(select(User).where(User.email == "admin@estsn.example.org"))
    body = client_for(admin).get("/finance/").data.decode()
    assert "CN-" in body and "INV-" in body


def test_home_school_sees_what_it_is_owed(world, money, client_for):
    admin = world.user("a", "admin")
    for inv in (money["a"]["board"], money["a"]["teaching_school"]):
        finance.mark_sent(inv, admin)
    db.session.commit()
    body = client_for(world.user("a", "home_school")).get("/finance/").data.decode()
    assert "Owed to your school" in body and "£2,100.00" in body  # £1,200 grant + £900 passed on


def test_list_queries_do_not_grow_with_the_number_of_invoices(app, world, client_for):
    from sqlalchemy import event

    c = client_for(world.user("a", "admin"))
    counts = []
    for n in (1, 12):
        while db.session.scalar(select(func.count()).select_from(Invoice)) < n:
            seq = finance.next_number(world.a.alliance.id)
            payer = factories.school(world.a.alliance, f"Payer {seq}")  # lazy loads would grow
            db.session.add(Invoice(number=finance.format_number(world.a.alliance.id, seq),
                                   sequence=seq, alliance_id=world.a.alliance.id,
                                   deployment_id=world.a.deployment.id, payer="school",
                                   payer_school_id=payer.id, total_pence=100,
                                   academic_year=2026, status="sent"))
            db.session.commit()
        statements: list[str] = []

        def count(*args, _s=statements):
            _s.append(args[2])

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert c.get("/finance/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_rates_page_lists_allowances_used_this_year(world, client_for):
    from portal.domain import charging

    card = ff.rate_card(world.a.alliance, "sefton")
    finance.use_allowance(finance.to_card(card), world.a.receiving.id, "good_practice_visit",
                            2, on=date.today())
    finance.use_allowance(finance.to_card(card), world.b.receiving.id, "consultation",
                            1, on=date.today())
    db.session.commit()
    body = client_for(world.user("a", "director")).get("/finance/rates").data.decode()
    assert charging.academic_year_label(charging.academic_year(date.today())) in body
    assert world.a.receiving.name in body and "£100.00" in body
    assert world.b.receiving.name not in body


def test_invoices_in_advance_before_confirmation_are_refused_with_the_domains_message(
        world, client_for):
    ff.rate_card(world.a.alliance)
    d = world.a.deployment  # still proposed
    admin = client_for(world.user("a", "admin"))
    r = admin.post(f"/finance/deployments/{d.id}/invoices")
    assert r.status_code == 409  # answered by error_pages, as every "not now" is
    assert "only once the proposal is confirmed" in r.data.decode()
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 0


# ------------------------------------------------------------------ the pages answer the policy

# each invoice action, by the form action that offers it on the invoice page
ACTION_URLS = {"send": "/send", "record_payment": "/payments", "mark_paid": "/paid",
               "refund": "/refund", "set_po_number": "/po-number"}


def _offered(body: str, inv: Invoice) -> set[str]:
    return {name for name, tail in ACTION_URLS.items()
            if f'action="/finance/invoices/{inv.id}{tail}"' in body}


def _check_offers(world, client_for, inv: Invoice) -> None:
    from portal.domain.policy import finance as policy

    for role in ("admin", "director", "headteacher"):
        user = world.user("a", role)
        db.session.expire_all()
        inv = db.session.get(Invoice, inv.id)
        can = policy.actions(inv, user)
        body = client_for(user).get(f"/finance/invoices/{inv.id}").data.decode()
        assert _offered(body, inv) == {n for n, d in can.items() if d.allowed}, (role, inv.status)
        reason = can["record_payment"].reason
        if not can["record_payment"] and not can["record_payment"].forbidden:
            assert reason in body  # the overseer is told why there is nothing to record
        elif reason:
            assert reason not in body  # a payer is not told the co-ordinator's rules


def test_the_invoice_page_offers_each_action_iff_the_policy_allows(world, money, client_for):
    inv = money["a"]["school"]
    _check_offers(world, client_for, inv)  # draft: send only
    admin = client_for(world.user("a", "admin"))
    assert admin.post(f"/finance/invoices/{inv.id}/send").status_code == 303
    _check_offers(world, client_for, inv)  # sent: payments
    assert admin.post(f"/finance/invoices/{inv.id}/paid").status_code == 303
    _check_offers(world, client_for, inv)  # paid: nothing, and why


def test_the_invoice_routes_answer_409_with_the_policys_reason(world, money, client_for):
    inv = money["a"]["school"]
    admin = client_for(world.user("a", "admin"))
    r = admin.post(f"/finance/invoices/{inv.id}/refund")
    assert r.status_code == 409 and f"No refund is due on {inv.number}" in r.data.decode()
    assert admin.post(f"/finance/invoices/{inv.id}/send").status_code == 303
    again = admin.post(f"/finance/invoices/{inv.id}/send")
    assert again.status_code == 409 and "has already been sent" in again.data.decode()
    htmx = admin.post(f"/finance/invoices/{inv.id}/send", headers={"HX-Request": "true"})
    assert htmx.status_code == 409 and htmx.headers["HX-Retarget"] == "#htmx-status"
    head = client_for(world.user("a", "headteacher"))
    assert head.post(f"/finance/invoices/{inv.id}/paid").status_code == 403
    db.session.expire_all()
    assert db.session.get(Invoice, inv.id).paid_pence == 0


@pytest.mark.parametrize("role", ["admin", "director", "headteacher", "home_school", "board"])
def test_the_money_pages_offer_export_and_new_rates_iff_allowed(world, money, client_for, role):
    from portal.domain.policy import finance as policy

    user = world.user("a", role)
    can = policy.actions(None, user)
    c = client_for(user)
    listing = c.get("/finance/").data.decode()
    assert ("/finance/invoices.csv" in listing) is can["export"].allowed
    if can["view_rates"]:
        rates = c.get("/finance/rates").data.decode()
        assert ('href="/finance/rates/new"' in rates) is can["new_rate_card"].allowed
        if not can["new_rate_card"]:
            assert can["new_rate_card"].reason in rates  # the director is told who sets them


def test_the_money_panel_offers_invoices_in_advance_iff_the_policy_allows(world, client_for):
    from portal.domain.policy import finance as policy

    d = ff.priced_deployment(world.a, half_days=8, delivered=0, status="active")
    url = f'action="/finance/deployments/{d.id}/invoices"'
    for role in ("admin", "director", "headteacher"):
        user = world.user("a", role)
        body = client_for(user).get(f"/deployments/{d.id}").data.decode()
        assert (url in body) is policy.actions(d, user)["raise_in_advance"].allowed, role
    assert client_for(world.user("a", "admin")).post(
        f"/finance/deployments/{d.id}/invoices").status_code == 303
    db.session.expire_all()
    d = db.session.get(type(d), d.id)
    assert not policy.actions(d, world.user("a", "admin"))["raise_in_advance"]
    assert url not in client_for(world.user("a", "admin")).get(f"/deployments/{d.id}").data.decode()
