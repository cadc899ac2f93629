"""Impact reports: for the director (and co-ordinator) across the alliance, and for each Board
over the deployments it targeted. The figures are SQL aggregates (:mod:`.sql`, arithmetic in
:mod:`portal.domain.reports`); the page lists the newest rows and the CSV streams them all."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..domain import reports as figures
from ..domain.charging import academic_year_label
from ..htmx import render
from ..models import DEPLOYMENT_STATUSES, PHASES, STANDARDS
from ..security import roles
from ..validators import int_arg
from . import sql

bp = Blueprint("reports", __name__, url_prefix="/reports")
READERS = ("director", "admin", "board")


def _filters(user, boards):
    chosen_year = int_arg("year", "year", minimum=2000, maximum=2100)
    phase = request.args.get("phase", "")
    la = request.args.get("la", "")
    year_options = figures.years(sql.year_options(user))
    la_options = sql.la_options(user)
    if chosen_year is not None and chosen_year not in dict(year_options):
        year_options = sorted([*year_options, (chosen_year, academic_year_label(chosen_year))],
                              reverse=True)
    chosen_phase = phase if phase in PHASES else None
    chosen_la = la if la in la_options else None
    board = int_arg("board", "Board")
    board_ids = {i for i, _name, _budget in boards}
    chosen_board = board if board in board_ids else None
    return {"year": chosen_year, "phase": chosen_phase, "la": chosen_la, "board": chosen_board,
            "year_options": year_options, "la_options": la_options,
            "board_options": [(i, name) for i, name, _ in boards] if len(boards) > 1 else []}


def _chosen(user):
    """The filters chosen, the report's narrowing of them, and the Boards it covers (one
    Board's targeted deployments and its budget only, when one is chosen)."""
    boards = sql.boards(user)
    f = _filters(user, boards)
    if f["board"] is not None:
        boards = [b for b in boards if b[0] == f["board"]]
    return f, sql.Filters(year=f["year"], phase=f["phase"], la=f["la"], board=f["board"]), \
        boards


def _report(user):
    f, chosen, boards = _chosen(user)
    report = sql.report(user, chosen, statuses=list(DEPLOYMENT_STATUSES),
                        standards=list(STANDARDS), phases=list(PHASES), board_list=boards)
    return report, f, {i: name for i, name, _ in boards}


# templates/reports/_chart.html: bar widths in per cent of the chart
CHART = {"width": 100}


@bp.get("/")
@roles(*READERS)
def index() -> ResponseReturnValue:
    report, f, board_names = _report(current_user)
    charts = {
        "status": figures.bars([(DEPLOYMENT_STATUSES[s], n) for s, n in report.by_status.items()
                                if n or s in ("active", "completed")], **CHART),
        "standard": figures.bars([(s.key if s.key != "none" else "No standard", s.mean)
                                  for s in report.by_standard], maximum=4, decimals=2, **CHART),
        "phase": figures.bars([(PHASES.get(s.key, s.key), s.mean) for s in report.by_phase],
                              maximum=4, decimals=2, **CHART),
    }
    title = (f"{current_user.board.name} impact report" if current_user.role == "board"
             and current_user.board else f"{current_user.alliance.short_name} impact report")
    return render("reports/index.html", "report", report=report, f=f, charts=charts,
                  title=title, board_names=board_names, statuses=DEPLOYMENT_STATUSES,
                  phases=PHASES, standards=STANDARDS, args=_args(f))


def _args(f) -> dict:
    return {k: v for k, v in (("year", f["year"]), ("phase", f["phase"]), ("la", f["la"]),
                              ("board", f["board"])) if v is not None}


@bp.get("/export.csv")
@roles(*READERS)
def export() -> ResponseReturnValue:
    user = current_user._get_current_object()
    f, chosen, boards = _chosen(user)
    board_names = {i: name for i, name, _ in boards}

    def body():
        # streamed from one statement a part at a time, so a national export never sits in
        # memory and costs the same number of queries as a small one
        header = True
        for rows in sql.stream(user, chosen):
            out = io.StringIO()
            csv.writer(out).writerows(figures.csv_table(
                rows, status_labels=DEPLOYMENT_STATUSES, board_names=board_names,
                header=header))
            header = False
            yield out.getvalue()
        if header:  # no deployments: the header alone
            out = io.StringIO()
            csv.writer(out).writerow(figures.CSV_HEADER)
            yield out.getvalue()

    suffix = "-".join(str(v) for v in _args(f).values()).replace(" ", "_")
    name = "impact-report" + (f"-{suffix}" if suffix else "") + ".csv"
    return Response(stream_with_context(body()), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
    })
