"""Finance exports a finance system imports (issue 21): line-level Xero sales-invoice and Sage 50
audit-trail CSVs with the alliance's codes, read back by a parser for each layout and checked
to the penny against the invoices; VAT per rate card; purchase-order numbers; aged debt; the
alliance's finance settings. Every route answers each role as its policy says."""

from __future__ import annotations

import csv
import io
import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.domain import charging, exports, finance
from portal.extensions import db
from portal.models import AllianceFinance, AuditEvent, Invoice

from ..factories import finance as ff

OVERSEERS = ("admin", "director")
ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board"]


# ------------------------------------------------------------------------------ the parsers


def pence(text: str) -> int:
    """A money cell as an importer reads it: pounds, at most two decimals, into pence."""
    assert re.fullmatch(r"-?\d+\.\d{2}", text), f"not a money amount: {text!r}"
    return int(Decimal(text) * 100)


def dmy(text: str) -> date:
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", text), f"not DD/MM/YYYY: {text!r}"
    day, month, year = map(int, text.split("/"))
    return date(year, month, day)


@dataclass
class Imported:
    """One invoice or credit note as the finance system would build it from the rows."""

    number: str
    contact: str = ""
    lines: list[dict] = field(default_factory=list)
    net: int = 0
    vat: int = 0
    total: int | None = None  # the file's own Total column (Xero)
    credit: bool = False


def parse_xero(text: str) -> dict[str, Imported]:
    """Xero's sales-invoice import: the template's columns in its order, required cells filled,
    every row of an invoice agreeing on its header cells; a negative quantity makes a credit
    note. Xero re-adds each invoice from its lines (quantity x unit amount + tax amount)."""
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == exports.XERO_COLUMNS
    required = [i for i, name in enumerate(rows[0]) if name.startswith("*")]
    col = {name.lstrip("*"): i for i, name in enumerate(rows[0])}
    out: dict[str, Imported] = {}
    for row in rows[1:]:
        assert len(row) == len(rows[0])
        for i in required:
            assert row[i] != "", f"{rows[0][i]} is empty in {row}"
        number = row[col["InvoiceNumber"]]
        inv = out.setdefault(number, Imported(number, contact=row[col["ContactName"]]))
        assert inv.contact == row[col["ContactName"]]
        issued, due = dmy(row[col["InvoiceDate"]]), dmy(row[col["DueDate"]])
        assert due >= issued
        quantity = int(row[col["Quantity"]])
        unit = pence(row[col["UnitAmount"]])
        tax = pence(row[col["TaxAmount"]])
        inv.credit = quantity < 0
        inv.net += quantity * unit
        inv.vat += tax
        total = pence(row[col["Total"]])
        assert inv.total in (None, total)
        inv.total = total
        assert row[col["Currency"]] == "GBP"
        inv.lines.append({"account": row[col["AccountCode"]], "tax": row[col["TaxType"]],
                          "reference": row[col["Reference"]],
                          "description": row[col["Description"]]})
    for inv in out.values():
        assert inv.net + inv.vat == inv.total, f"{inv.number}: lines do not add up"
    return out


def parse_sage(text: str) -> dict[str, Imported]:
    """Sage 50's audit-trail import: SI and SC rows, an 8-character account reference, a
    numeric nominal code, a dd/mm/yyyy date, a T-code; net and tax positive (the type says
    which way); the transactions of one reference grouped as Sage groups them."""
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == exports.SAGE_COLUMNS
    col = {name: i for i, name in enumerate(rows[0])}
    out: dict[str, Imported] = {}
    for row in rows[1:]:
        assert len(row) == len(rows[0])
        kind = row[col["Type"]]
        assert kind in ("SI", "SC")
        account = row[col["Account Reference"]]
        assert 1 <= len(account) <= 8
        assert re.fullmatch(r"\d{1,8}", row[col["Nominal A/C Ref"]])
        dmy(row[col["Date"]])
        assert re.fullmatch(r"T\d{1,2}", row[col["Tax Code"]])
        assert len(row[col["Details"]]) <= 60 and len(row[col["Reference"]]) <= 30
        net, tax = pence(row[col["Net Amount"]]), pence(row[col["Tax Amount"]])
        assert net >= 0 and tax >= 0
        inv = out.setdefault(row[col["Reference"]], Imported(row[col["Reference"]],
                                                             contact=account))
        inv.credit = kind == "SC"
        inv.net += net
        inv.vat += tax
        inv.lines.append({"nominal": row[col["Nominal A/C Ref"]], "tax": row[col["Tax Code"]],
                          "department": row[col["Department Code"]],
                          "extra": row[col["Extra Reference"]]})
    return out


# ------------------------------------------------------------------------------ the invoices


def _invoices(w, n: int = 40, seed: int = 21) -> list[Invoice]:
    """``n`` sent invoices of alliance A with random lines, some with VAT at 20% or 5%, some
    with a purchase-order number, and credit notes against some of them."""
    rng = random.Random(seed)
    admin = w.user("a", "admin")
    made = []
    for i in range(n):
        seq = finance.next_number(w.a.alliance.id)
        rate = rng.choice([None, None, 2000, 500, 1750])
        inv = Invoice(number=finance.format_number(w.a.alliance.id, seq), sequence=seq,
                      alliance_id=w.a.alliance.id, payer="school",
                      payer_school_id=w.a.receiving.id, status="draft",
                      issued_on=date(2026, 9, 1) + timedelta(days=i),
                      due_on=date(2026, 10, 1) + timedelta(days=i), academic_year=2026,
                      vat_rate_bp=rate, po_number=f"PO-{i}" if i % 3 == 0 else "")
        finance.set_lines(inv, [(f"Line {k} of {i}", rng.randint(1, 500_000))
                                for k in range(rng.randint(1, 4))])
        db.session.add(inv)
        db.session.flush()
        finance.mark_sent(inv, admin)
        made.append(inv)
    for inv in made[::5]:
        made.append(finance.credit_note(inv, rng.randint(1, inv.net_pence), admin,
                                        today=date(2026, 11, 1), reason="Fewer days"))
    db.session.commit()
    return made


@pytest.fixture
def invoices(world):
    return _invoices(world)


def _get(client_for, w, url, role="admin"):
    r = client_for(w.user("a", role)).get(url)
    assert r.status_code == 200, r.data[:400]
    return r


def test_the_xero_export_imports_and_every_invoice_adds_up_to_the_penny(world, client_for,
                                                                        invoices):
    r = _get(client_for, world, "/finance/export/xero.csv")
    assert r.mimetype == "text/csv" and r.is_streamed
    parsed = parse_xero(r.data.decode("utf-8"))
    assert set(parsed) == {inv.number for inv in invoices}
    for inv in invoices:
        got = parsed[inv.number]
        sign = -1 if inv.is_credit else 1
        assert got.credit == inv.is_credit
        assert got.total == sign * inv.total_pence
        assert got.vat == sign * inv.vat_pence
        assert got.net == sign * inv.subtotal_pence
        assert len(got.lines) == len(inv.lines)
        assert {line["tax"] for line in got.lines} == {
            "20% (VAT on Income)" if inv.vat_rate_bp else "No VAT"}
        assert {line["account"] for line in got.lines} == {"200"}
        if inv.po_number:
            assert {line["reference"] for line in got.lines} == {inv.po_number}
    assert sum(p.total for p in parsed.values()) == sum(
        -i.total_pence if i.is_credit else i.total_pence for i in invoices)


def test_the_sage_export_imports_and_every_invoice_adds_up_to_the_penny(world, client_for,
                                                                       invoices):
    r = _get(client_for, world, "/finance/export/sage.csv")
    parsed = parse_sage(r.data.decode("utf-8"))
    assert set(parsed) == {inv.number for inv in invoices}
    for inv in invoices:
        got = parsed[inv.number]
        assert got.credit == inv.is_credit
        assert (got.net, got.vat) == (inv.subtotal_pence, inv.vat_pence)
        assert got.net + got.vat == inv.total_pence
        assert got.contact == f"S{world.a.receiving.urn}"[:8]
        assert {line["tax"] for line in got.lines} == {"T1" if inv.vat_rate_bp else "T9"}
        assert {line["nominal"] for line in got.lines} == {"4000"}
        assert {line["extra"] for line in got.lines} == {inv.po_number}


def test_the_exports_carry_the_alliances_own_codes(world, client_for, invoices):
    db.session.add(AllianceFinance(alliance_id=world.a.alliance.id, **{
        **exports.DEFAULT_CODES, "xero_account_code": "210", "xero_tax_outside": "Exempt Income",
        "sage_nominal_code": "4010", "sage_tax_outside": "T2", "sage_department": "7"}))
    db.session.commit()
    xero = parse_xero(_get(client_for, world, "/finance/export/xero.csv").data.decode())
    sage = parse_sage(_get(client_for, world, "/finance/export/sage.csv").data.decode())
    outside = [i for i in invoices if not i.vat_rate_bp]
    assert outside
    for inv in outside:
        assert {line["account"] for line in xero[inv.number].lines} == {"210"}
        assert {line["tax"] for line in xero[inv.number].lines} == {"Exempt Income"}
        assert {(x["nominal"], x["tax"], x["department"]) for x in sage[inv.number].lines} \
            == {("4010", "T2", "7")}


def test_drafts_void_invoices_and_another_alliances_invoices_are_not_exported(world,
                                                                            client_for):
    _invoices(world, n=3)
    seq = finance.next_number(world.a.alliance.id)
    draft = Invoice(number="DRAFT-1", sequence=seq, alliance_id=world.a.alliance.id,
                    payer="school", payer_school_id=world.a.receiving.id, status="draft",
                    issued_on=date(2026, 9, 1), academic_year=2026)
    finance.set_lines(draft, [("Draft", 1000)])
    other_seq = finance.next_number(world.b.alliance.id)
    other = Invoice(number="OTHER-1", sequence=other_seq, alliance_id=world.b.alliance.id,
                    payer="school", payer_school_id=world.b.receiving.id, status="sent",
                    issued_on=date(2026, 9, 1), due_on=date(2026, 10, 1), academic_year=2026)
    finance.set_lines(other, [("Other", 1000)])
    db.session.add_all([draft, other])
    db.session.commit()
    for layout, parse in (("xero", parse_xero), ("sage", parse_sage)):
        parsed = parse(_get(client_for, world, f"/finance/export/{layout}.csv").data.decode())
        assert "DRAFT-1" not in parsed and "OTHER-1" not in parsed and len(parsed) >= 3


def test_the_export_follows_the_lists_year_filter(world, client_for, invoices):
    parsed = parse_sage(_get(client_for, world, "/finance/export/sage.csv?year=2025")
                        .data.decode())
    assert parsed == {}


def test_a_formula_in_a_description_is_made_harmless(world, client_for):
    seq = finance.next_number(world.a.alliance.id)
    inv = Invoice(number="X-1", sequence=seq, alliance_id=world.a.alliance.id, payer="school",
                  payer_school_id=world.a.receiving.id, status="sent",
                  issued_on=date(2026, 9, 1), due_on=date(2026, 10, 1), academic_year=2026)
    finance.set_lines(inv, [("=HYPERLINK(\"http://x\")", 1000)])
    db.session.add(inv)
    db.session.commit()
    for layout in ("xero", "sage"):
        text = _get(client_for, world, f"/finance/export/{layout}.csv").data.decode()
        assert ",=HYPERLINK" not in text and ",\"=HYPERLINK" not in text


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", ["/finance/export/xero.csv", "/finance/export/sage.csv",
                                 "/finance/aged-debt"])
def test_only_overseers_export_or_see_aged_debt(world, client_for, role, url):
    status = client_for(world.user("a", role)).get(url).status_code
    assert status == (200 if role in OVERSEERS else 403)


# ------------------------------------------------------------------------------ aged debt


def test_aged_debt_puts_each_balance_in_its_band_and_totals_to_the_penny(world, client_for):
    today = date(2027, 1, 31)
    admin = world.user("a", "admin")
    amounts = {0: 10_001, 1: 20_002, 30: 30_003, 31: 40_004, 60: 50_005, 61: 60_006,
               90: 70_007, 91: 80_008, 400: 90_009, -5: 11_111}
    for late, amount in amounts.items():
        seq = finance.next_number(world.a.alliance.id)
        inv = Invoice(number=f"A-{seq}", sequence=seq, alliance_id=world.a.alliance.id,
                      payer="school", payer_school_id=world.a.receiving.id, status="draft",
                      issued_on=today - timedelta(days=late + 30),
                      due_on=today - timedelta(days=late), academic_year=2026)
        finance.set_lines(inv, [("Support", amount)])
        db.session.add(inv)
        db.session.flush()
        finance.mark_sent(inv, admin)
    db.session.commit()
    rows, total = exports.aged_debt([Invoice.alliance_id == world.a.alliance.id], today)
    expect = {"current": 10_001 + 11_111, "d30": 20_002 + 30_003, "d60": 40_004 + 50_005,
              "d90": 60_006 + 70_007, "d90plus": 80_008 + 90_009}
    assert total.bands == expect
    assert total.total == sum(amounts.values())
    assert [r.payer for r in rows] == [world.a.receiving.name]
    # a part payment and a credit note reduce the balance that is aged
    inv = db.session.scalar(select(Invoice).where(Invoice.number.like("A-%"))
                            .order_by(Invoice.due_on).limit(1))  # the 400-days-late one
    finance.record_payment(inv, 9, admin, received_on=date.today())
    finance.credit_note(inv, 1000, admin, today=date.today(), reason="Less")
    db.session.commit()
    _rows, total = exports.aged_debt([Invoice.alliance_id == world.a.alliance.id], today)
    assert total.bands["d90plus"] == expect["d90plus"] - 9 - 1000
    body = _get(client_for, world, "/finance/aged-debt").data.decode()
    assert world.a.receiving.name in body and "More than 90 days overdue" in body


@pytest.mark.parametrize(("late", "band"), [(-1, "current"), (0, "current"), (1, "d30"),
                                            (30, "d30"), (31, "d60"), (60, "d60"),
                                            (61, "d90"), (90, "d90"), (91, "d90plus")])
def test_age_bands_edges(late, band):
    today = date(2027, 3, 1)
    assert exports.age_band(today - timedelta(days=late), today) == band


# ------------------------------------------------------------------------------ PO numbers


def _sent_invoice(w, payer_school=None) -> Invoice:
    seq = finance.next_number(w.a.alliance.id)
    inv = Invoice(number=f"P-{seq}", sequence=seq, alliance_id=w.a.alliance.id, payer="school",
                  payer_school_id=(payer_school or w.a.receiving).id, status="sent",
                  issued_on=date(2026, 9, 1), due_on=date(2026, 10, 1), academic_year=2026)
    finance.set_lines(inv, [("Support", 12_345)])
    db.session.add(inv)
    db.session.commit()
    return inv


PO_ALLOWED = {"admin": True, "director": True, "headteacher": True, "home_school": False,
              "sle": False, "board": False}


@pytest.mark.parametrize(("role", "allowed"), PO_ALLOWED.items())
def test_the_payer_or_an_overseer_records_the_po_number(world, client_for, role, allowed):
    inv = _sent_invoice(world)
    r = client_for(world.user("a", role)).post(f"/finance/invoices/{inv.id}/po-number",
                                               data={"po_number": "  PO 4471/B  "})
    db.session.expire_all()
    if allowed:
        assert r.status_code == 303
        assert db.session.get(Invoice, inv.id).po_number == "PO 4471/B"
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "invoice.po_number")) == 1
    else:
        assert r.status_code in (403, 404)
        assert db.session.get(Invoice, inv.id).po_number == ""


def test_a_nul_byte_in_a_po_number_is_refused_by_the_portal_wide_check(world, client_for):
    inv = _sent_invoice(world)
    r = client_for(world.user("a", "admin")).post(f"/finance/invoices/{inv.id}/po-number",
                                                  data={"po_number": "PO\x00NUL"})
    assert r.status_code == 400  # portal/security.py: no NUL byte reaches a form
    db.session.expire_all()
    assert db.session.get(Invoice, inv.id).po_number == ""


@pytest.mark.parametrize("bad", ["x" * 31, "PO\x07BEL", "PO\ufffd", "PO\u202eEVIL"])
def test_a_bad_po_number_is_refused_beside_its_field_and_nothing_saved(world, client_for, bad):
    inv = _sent_invoice(world)
    r = client_for(world.user("a", "admin")).post(f"/finance/invoices/{inv.id}/po-number",
                                                  data={"po_number": bad})
    assert r.status_code == 422
    body = r.data.decode()
    assert "purchase-order number is" in body.lower()
    db.session.expire_all()
    assert db.session.get(Invoice, inv.id).po_number == ""


def test_another_alliances_invoice_is_404_for_po_number_and_pdf(world, client_for):
    seq = finance.next_number(world.b.alliance.id)
    inv = Invoice(number="B-1", sequence=seq, alliance_id=world.b.alliance.id, payer="school",
                  payer_school_id=world.b.receiving.id, status="sent",
                  issued_on=date(2026, 9, 1), due_on=date(2026, 10, 1), academic_year=2026)
    finance.set_lines(inv, [("Support", 100)])
    db.session.add(inv)
    db.session.commit()
    for role in ROLES:
        c = client_for(world.user("a", role))
        expect_get = 404 if role != "sle" else 403
        assert c.get(f"/finance/invoices/{inv.id}.pdf").status_code == expect_get
        assert c.post(f"/finance/invoices/{inv.id}/po-number",
                      data={"po_number": "X"}).status_code == expect_get


# ------------------------------------------------------------------------------ VAT on rate cards


def test_a_rate_card_with_vat_charges_it_line_by_line_and_shows_it(world, client_for):
    card = ff.rate_card(world.a.alliance, "sefton", vat_rate_bp=2000)
    d = ff.priced_deployment(world.a, model="sefton", designation="lle", half_days=8,
                             card=card)
    from portal.domain import workflow

    workflow.transition(d, "completed", world.user("a", "director"))
    workflow.commit_or_conflict()
    school = db.session.scalar(select(Invoice).where(Invoice.deployment_id == d.id,
                                                     Invoice.payer == "school"))
    assert school.vat_rate_bp == 2000
    assert [line.vat_pence for line in school.lines] == [36_000, 3_600]
    assert school.vat_pence == 39_600 and school.total_pence == 198_000 + 39_600
    body = _get(client_for, world, f"/finance/invoices/{school.id}").data.decode()
    assert "VAT at 20%" in body and "£396.00" in body


def test_the_default_card_is_outside_the_scope_of_vat(world, client_for):
    d = ff.priced_deployment(world.a, model="sefton", designation="lle", half_days=8)
    from portal.domain import workflow

    workflow.transition(d, "completed", world.user("a", "director"))
    workflow.commit_or_conflict()
    school = db.session.scalar(select(Invoice).where(Invoice.deployment_id == d.id,
                                                     Invoice.payer == "school"))
    assert school.vat_rate_bp is None and school.vat_pence == 0
    assert school.total_pence == 198_000
    body = _get(client_for, world, f"/finance/invoices/{school.id}").data.decode()
    assert "Outside the scope of VAT" in body


def _rate_form(**over) -> dict:
    data = {"effective_from": (date.today() + timedelta(days=1)).isoformat(),
            "nle_day": "450", "lle_day": "450", "slt_day": "400", "sle_day": "350",
            "non_sle_day": "300", "brokerage_percent": "10", "board_grant_day": "0",
            "board_school_day": "0", "gpv_half_day": "0", "gpv_free_per_year": "0",
            "consult_hour": "0", "consult_free_hours": "0", "vat_percent": ""}
    data.update(over)
    return data


@pytest.mark.parametrize(("typed", "stored"), [("", None), ("20", 2000), ("5%", 500),
                                               ("17.5", 1750), ("0", 0)])
def test_the_rate_form_saves_the_vat_treatment(world, client_for, typed, stored):
    c = client_for(world.user("a", "admin"))
    r = c.post("/finance/rates/new", data=_rate_form(vat_percent=typed))
    assert r.status_code == 303, r.data[:600]
    card = finance.current_rate_card(world.a.alliance.id, date.today() + timedelta(days=1))
    assert card.vat_rate_bp == stored


@pytest.mark.parametrize("typed", ["101", "-1", "20.555", "twenty", "２０", "1e2"])
def test_a_vat_rate_out_of_range_is_refused_beside_its_field(world, client_for, typed):
    from portal.models import RateCard

    before = db.session.scalar(select(func.count()).select_from(RateCard))
    c = client_for(world.user("a", "admin"))
    r = c.post("/finance/rates/new", data=_rate_form(vat_percent=typed))
    assert r.status_code == 422
    assert "Enter a VAT rate from 0 to 100" in r.data.decode()
    assert db.session.scalar(select(func.count()).select_from(RateCard)) == before


def test_a_credit_note_takes_its_vat_off_in_proportion(world):
    _invoices(world, n=0)
    admin = world.user("a", "admin")
    seq = finance.next_number(world.a.alliance.id)
    inv = Invoice(number="V-1", sequence=seq, alliance_id=world.a.alliance.id, payer="school",
                  payer_school_id=world.a.receiving.id, status="draft",
                  issued_on=date(2026, 9, 1), due_on=date(2026, 10, 1), academic_year=2026,
                  vat_rate_bp=2000)
    finance.set_lines(inv, [("Support", 100_000)])
    db.session.add(inv)
    db.session.flush()
    finance.mark_sent(inv, admin)
    cn = finance.credit_note(inv, 12_000, admin, today=date(2026, 9, 5), reason="A day less")
    assert (cn.subtotal_pence, cn.vat_pence, cn.total_pence) == (10_000, 2_000, 12_000)
    assert inv.net_pence == 120_000 - 12_000


# ------------------------------------------------------------------------------ settings


def _settings(**over) -> dict:
    return {**exports.DEFAULT_CODES, "account_name": "Alpha TSA", "sort_code": "12 34 56",
            "account_number": "12345678", **over}


@pytest.mark.parametrize("role", ROLES)
def test_only_the_coordinator_changes_the_finance_settings(world, client_for, role):
    c = client_for(world.user("a", role))
    assert c.get("/admin/finance").status_code == (200 if role == "admin" else 403)
    r = c.post("/admin/finance", data=_settings())
    assert r.status_code == (303 if role == "admin" else 403)
    saved = db.session.get(AllianceFinance, world.a.alliance.id)
    assert (saved is not None) == (role == "admin")
    if saved is not None:
        assert saved.sort_code == "12-34-56"
        assert db.session.get(AllianceFinance, world.b.alliance.id) is None


@pytest.mark.parametrize(("name", "bad"), [
    ("sort_code", "12345"), ("account_number", "1234567X"), ("sage_nominal_code", "40O0"),
    ("sage_tax_outside", "X9"), ("sage_department", "1000"), ("xero_account_code", ""),
    ("vat_number", "GB12"), ("xero_tax_vat", "20%\u0007"), ("account_name", "Alpha\u202e"),
])
def test_a_bad_setting_is_refused_beside_its_field_and_nothing_saved(world, client_for, name,
                                                                    bad):
    c = client_for(world.user("a", "admin"))
    r = c.post("/admin/finance", data=_settings(**{name: bad}))
    assert r.status_code == 422
    assert 'aria-invalid="true"' in r.data.decode() or "error" in r.data.decode()
    assert db.session.get(AllianceFinance, world.a.alliance.id) is None


def test_a_stale_settings_form_is_a_conflict(world, client_for):
    c = client_for(world.user("a", "admin"))
    assert c.post("/admin/finance", data=_settings()).status_code == 303
    r = c.post("/admin/finance", data=_settings(version="", account_name="Other"))
    assert r.status_code == 409
    db.session.expire_all()
    assert db.session.get(AllianceFinance, world.a.alliance.id).account_name == "Alpha TSA"


def test_bank_details_never_go_into_the_audit_log(world, client_for):
    c = client_for(world.user("a", "admin"))
    assert c.post("/admin/finance", data=_settings()).status_code == 303
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "finance_settings.saved"))
    assert event is not None
    text = str(event.detail)
    assert "12345678" not in text and "12-34-56" not in text


def test_money_is_integer_pence_in_vat(world):
    assert charging.vat_on(1003, 2000) == 201


@pytest.mark.parametrize("layout", ["xero", "sage"])
def test_an_export_costs_the_same_queries_however_many_invoices(world, client_for, layout,
                                                                monkeypatch):
    """Issue 20: the lines were read for each batch of invoices, so a national alliance's year
    took a query per 500 invoices (the bench's exports went from 5 queries to 14 at ten times
    the data). Batches of two here, to see it with a few invoices: now one statement streams
    every invoice with its lines."""
    from flask import current_app
    from flask_sqlalchemy.record_queries import get_recorded_queries

    from tests.querycount import counted

    def queries(url: str) -> list[str]:  # the body read too: it is streamed
        db.session.commit()
        with current_app._get_current_object().app_context():
            response = client.get(url)
            assert response.status_code == 200 and response.get_data()
            return [q.statement for q in get_recorded_queries() if counted(q.statement)]

    monkeypatch.setattr(exports._with_lines, "__defaults__", (2,))
    client = client_for(world.user("a", "admin"))
    url = f"/finance/export/{layout}.csv"
    _invoices(world, n=3, seed=1)
    few = len(queries(url))
    _invoices(world, n=12, seed=2)
    many = queries(url)
    assert len(many) == few, "\n".join(q[:120] for q in many)
