"""PDF and export costs (issue 21): ``python -m bench.documents [--invoices 20000]``.

* the signed agreement's PDF with a long agreement (terms long enough for about 10 pages),
  signed by every party: seconds to render and the peak Python memory while rendering;
* a year of a national-scale alliance's invoices (``--invoices``, two or three lines each, a
  tenth with a credit note) exported in the Xero and Sage layouts through the same generators
  the routes stream: seconds, rows, bytes and peak memory (which stays flat as the rows grow,
  since the rows are fetched in batches and written one at a time).

Uses a throw-away SQLite database in a temporary folder; prints a Markdown table and writes it
to ``bench/results-documents.md``. Peak memory is ``tracemalloc``'s (Python allocations; Pango's
own memory is not counted) and the process's peak resident size.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results-documents.md"

TERMS_PARAGRAPH = (
    "The system leader will work alongside the headteacher and senior leaders to review the "
    "school's priorities, observe teaching, support planning and assessment, and coach "
    "middle leaders, keeping to the school's safeguarding policy and the data protection "
    "agreement. Either party may end the support with two weeks' notice in writing. ")


def _measure(fn):
    """Seconds (a run on its own: tracemalloc slows Python down several times) and the peak
    Python memory (a second run, traced)."""
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    fn()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, seconds, peak


def _mb(n: float) -> str:
    return f"{n / 1_048_576:.1f} MB"


def _app(folder: str):
    from portal import create_app
    from portal.extensions import db
    from portal.worker import huey

    app = create_app({"PORTAL_ENV": "testing", "SECRET_KEY": "bench-only",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
                      "SERVER_NAME": None, "RATELIMIT_STORAGE_URI": "memory://",
                      "PUBLIC_URL": "https://portal.example.org"})
    huey.immediate = True
    with app.app_context():
        db.create_all()
    return app


def agreement_pdf(w) -> dict:
    from pypdf import PdfReader

    from portal import documents
    from portal.domain import agreements as service
    from portal.extensions import db
    from tests.factories import agreements as fa

    ag = service.current(w.a.deployment.id)
    for user in fa.signers(w):
        fa.sign(ag, user)
    db.session.commit()
    ag = service.current(w.a.deployment.id)
    documents.agreement_pdf(ag)  # warm: fonts, stylesheet, templates
    data, seconds, peak = _measure(lambda: documents.agreement_pdf(ag))
    count = len(PdfReader(io.BytesIO(data)).pages)
    return {"pages": count, "seconds": seconds, "peak": peak, "bytes": len(data)}


def invoices_export(w, n: int) -> list[dict]:
    from portal.domain import exports, finance
    from portal.extensions import db
    from portal.models import Invoice, InvoiceLine
    alliance_id, school_id = w.a.alliance.id, w.a.receiving.id
    rng = random.Random(21)
    start = date(2025, 9, 1)
    rows, lines = [], []
    for i in range(1, n + 1):
        credit = i % 10 == 0
        rate = 2000 if i % 4 == 0 else None
        amounts = [rng.randint(1_000, 500_000) for _ in range(rng.randint(2, 3))]
        vats = [0 if rate is None else (2 * a * rate + 10_000) // 20_000 for a in amounts]
        issued = start + timedelta(days=i * 365 // n)
        rows.append({"id": i, "number": f"BENCH-{i:06d}", "alliance_id": alliance_id,
                     "payer": "school", "payer_school_id": school_id,
                     "status": "credit" if credit else "sent", "issued_on": issued,
                     "due_on": None if credit else issued + timedelta(days=30),
                     "total_pence": sum(amounts) + sum(vats), "vat_pence": sum(vats),
                     "vat_rate_bp": rate, "paid_pence": 0, "credited_pence": 0,
                     "note": "", "version": 1, "sequence": i, "academic_year": 2025,
                     "po_number": f"PO{i}" if i % 3 == 0 else ""})
        for k, (a, v) in enumerate(zip(amounts, vats, strict=True)):
            lines.append({"invoice_id": i, "position": k, "description": f"Support line {k}",
                          "quantity": 1, "unit": "item", "unit_pence": a, "amount_pence": a,
                          "vat_pence": v})
    db.session.execute(insert(Invoice), rows)
    db.session.execute(insert(InvoiceLine), lines)
    db.session.commit()
    codes = exports.codes_for(alliance_id)
    out = []
    for name, make in (("Xero", exports.xero_rows), ("Sage 50", exports.sage_rows)):
        def run(make=make):
            stmt = exports.export_stmt([Invoice.alliance_id == alliance_id], "all")
            written = count = 0
            for chunk in exports.csv_stream(make(db.session.scalars(stmt), codes)):
                written += len(chunk)
                count += 1
            db.session.rollback()
            return count - 1, written

        (count, written), seconds, peak = _measure(run)
        out.append({"layout": name, "rows": count, "bytes": written, "seconds": seconds,
                    "peak": peak})
    del finance  # imported so the models' relationships are configured as in the app
    assert db.session.scalar(select(Invoice.id).limit(1)) is not None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=20_000,
                        help="invoices in the year exported (default 20,000)")
    parser.add_argument("--pages", type=int, default=10, help="pages of agreement (about)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        app = _app(folder)
        with app.app_context(), app.test_request_context("/"):
            from tests.factories import agreements as fa

            # about 8 paragraphs of terms fill a page at the PDF's type size
            terms = "\n\n".join(f"{i}. {TERMS_PARAGRAPH}" for i in range(1, 8 * args.pages))
            w = fa.ready_world(terms=terms)
            pdf = agreement_pdf(w)
            results = invoices_export(w, args.invoices)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        "# PDF and export benchmark", "",
        f"Run `python -m bench.documents --invoices {args.invoices}`; process peak resident "
        f"size {_mb(rss)}; load average at the end {load} (seconds grow with the machine's "
        "load; the memory columns do not).", "",
        "| What | Size | Seconds | Peak Python memory |", "|---|---|---|---|",
        f"| Signed agreement PDF | {pdf['pages']} pages, {pdf['bytes'] // 1024:,} KB | "
        f"{pdf['seconds']:.2f} | {_mb(pdf['peak'])} |",
    ]
    for r in results:
        lines.append(f"| {r['layout']} export, a year of invoices | {r['rows']:,} rows, "
                     f"{r['bytes'] // 1024:,} KB | {r['seconds']:.2f} | {_mb(r['peak'])} |")
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
