"""The Money views a payer and the Board meet: refunds due shown in the list, credit notes
negative in the CSV with a refund column (so its columns add up), and every link a user follows
from Money opens (issue 15, item 9)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from flask import g, has_app_context
from sqlalchemy import select

from portal.domain import finance, workflow
from portal.extensions import db
from portal.models import Invoice

from ..factories import finance as ff


@pytest.fixture
def fresh(client_for):
    """A client that forgets the previous request's signed-in user (see test_finance.py)."""

    def make(user):
        c = client_for(user)

        class Fresh:
            def __getattr__(self, name):
                attr = getattr(c, name)
                if name not in ("get", "post", "htmx_get"):
                    return attr

                def call(*args, **kwargs):
                    if has_app_context():
                        g.pop("_login_user", None)
                    return attr(*args, **kwargs)

                return call

        return Fresh()

    return make


@pytest.fixture
def ended(world):
    """A Board-targeted East Sussex SLE deployment of 6 days, invoiced in advance, the school's
    and the Board's invoices sent and paid in full, then ended early after 2 days: each is
    credited and a refund is due to the school (£600.00) and to the Board (£800.00)."""
    admin = world.user("a", "admin")
    d = ff.priced_deployment(world.a, model="east_sussex", designation="sle", half_days=12,
                             delivered=0, status="active", targeted=True)
    raised = {i.payer: i for i in finance.raise_invoices(d, admin, half_days=12)}
    for payer in ("school", "board"):
        inv = raised[payer]
        finance.mark_sent(inv, admin)
        finance.record_payment(inv, inv.total_pence, admin, received_on=date(2026, 10, 1))
    db.session.commit()
    d.half_days_delivered = 4
    d.last_day_delivered = date(2026, 11, 20)
    workflow.transition(d, "ended_early", admin, reason="The system leader is ill")
    workflow.commit_or_conflict()
    return d, raised


HREF = re.compile(r'href="(/[^"#]*)')


@pytest.mark.parametrize("role", ["board", "headteacher", "home_school", "director", "admin"])
def test_every_link_from_money_opens(world, ended, fresh, role):
    c = fresh(world.user("a", role))
    seen: set[str] = set()
    pages = ["/finance/"]
    for depth in range(2):
        found = []
        for page in pages:
            r = c.get(page)
            assert r.status_code == 200, page
            for href in HREF.findall(r.data.decode()):
                href = href.replace("&amp;", "&")
                if href in seen or href.startswith(("/static", "/auth/logout")):
                    continue
                seen.add(href)
                found.append(href)
        broken = [h for h in found if c.get(h).status_code >= 400]
        assert broken == [], (depth, broken)
        pages = [h for h in found if h.startswith("/finance/") and not h.endswith(".csv")]


# ------------------------------------------------------------------ the refund due, in the list


@pytest.mark.parametrize(("role", "label", "owed"), [
    ("headteacher", "Refund due to your school", "£600.00"),
    ("board", "Refund due to your Board", "£800.00"),
    ("director", "Refunds due to payers", "£1,400.00"),
])
def test_the_money_list_shows_the_refund_due(world, ended, fresh, role, label, owed):
    body = fresh(world.user("a", role)).get("/finance/").data.decode()
    assert f"<dt>{label}</dt><dd>{owed}</dd>" in body
    d, raised = ended
    mine = raised["school"] if role == "headteacher" else raised["board"]
    row = body[body.index(mine.number):].split("</tr>")[0]
    assert "Refund due" in row and ("£600.00" if mine.payer == "school" else "£800.00") in row


def test_no_refund_due_says_nothing_of_refunds(world, fresh):
    ff.priced_deployment(world.a, model="sefton", designation="lle", half_days=8,
                         status="completed")
    body = fresh(world.user("a", "headteacher")).get("/finance/").data.decode()
    assert "Refund due" not in body


def test_a_refund_recorded_clears_the_refund_due(world, ended, fresh):
    _d, raised = ended
    finance.record_refund(raised["school"], world.user("a", "admin"), on=date(2026, 11, 25))
    db.session.commit()
    body = fresh(world.user("a", "headteacher")).get("/finance/").data.decode()
    assert "Refund due" not in body


# ------------------------------------------------------------------ the CSV adds up


def _pence(cell: str) -> int:
    sign = -1 if cell.startswith("-") else 1
    pounds, pence = cell.lstrip("-").split(".")
    return sign * (int(pounds) * 100 + int(pence))


def test_the_csv_has_credit_notes_negative_and_a_refund_column_so_columns_add_up(
        world, ended, fresh):
    r = fresh(world.user("a", "admin")).get("/finance/invoices.csv")
    rows = list(csv.DictReader(io.StringIO(r.data.decode())))
    credits = [row for row in rows if row["Type"] == "Credit note"]
    # negative numbers a spreadsheet sums, not text guarded against formulas ("'-600.00")
    assert credits and all(row["Total (£)"].startswith("-") for row in credits)
    by_number = {row["Number"]: row for row in rows}
    _d, raised = ended
    assert by_number[raised["school"].number]["Refund due (£)"] == "600.00"
    assert by_number[raised["board"].number]["Refund due (£)"] == "800.00"

    def column(name: str) -> int:
        return sum(_pence(row[name]) for row in rows)

    # the Total column sums to what is charged after credit notes ...
    invoices = db.session.scalars(select(Invoice).where(Invoice.status != "credit")).all()
    assert column("Total (£)") == sum(i.net_pence for i in invoices)
    # ... and what is charged less what is paid is what is still due less what is owed back
    assert column("Total (£)") - column("Paid (£)") == \
        column("Balance (£)") - column("Refund due (£)")
    assert column("Refund due (£)") == 140_000


@pytest.mark.parametrize("role", ["board", "headteacher", "home_school", "director", "admin"])
def test_every_money_link_on_the_deployment_page_opens(world, ended, fresh, role):
    d, _raised = ended
    c = fresh(world.user("a", role))
    r = c.get(f"/deployments/{d.id}")
    assert r.status_code == 200
    links = {h.replace("&amp;", "&") for h in HREF.findall(r.data.decode())
             if h.startswith("/finance/")}
    assert links, "the money panel links its invoices"
    assert [h for h in sorted(links) if c.get(h).status_code >= 400] == []
