"""Impact reports: for the director (and co-ordinator) across the alliance, and for each Board
over the deployments it targeted. Figures come from :mod:`portal.domain.reports`."""

from __future__ import annotations

import csv
import io
from collections import defaultdict

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from ..domain import access
from ..domain import reports as figures
from ..domain.charging import academic_year_label
from ..extensions import db
from ..htmx import render
from ..models import (
    DEPLOYMENT_STATUSES,
    PHASES,
    STANDARDS,
    Board,
    Deployment,
    Evaluation,
    LocalAuthority,
    Outcome,
    OutcomeRating,
    RateCard,
    RequestSchool,
    School,
)
from ..models import (
    SupportRequest as SupportRequestTable,
)
from ..security import roles
from ..validators import int_arg

bp = Blueprint("reports", __name__, url_prefix="/reports")
READERS = ("director", "admin", "board")


def _fallback_grant(alliance_id: int) -> int:
    card = db.session.scalar(select(RateCard).where(RateCard.alliance_id == alliance_id)
                             .order_by(RateCard.effective_from.desc(), RateCard.id.desc())
                             .limit(1))
    return card.board_grant_day_pence if card else 0


def load_rows(user) -> list[figures.DeploymentRow]:
    """Every deployment the user may see, as plain rows: three queries whatever the count."""
    where = access.deployments_visible_to(user)
    # an alias, so that the visibility clause's own EXISTS on support_request is not correlated
    SupportRequest = aliased(SupportRequestTable)  # noqa: N806
    result = db.session.execute(
        select(Deployment.id, Deployment.reference, Deployment.status, SupportRequest.phase,
               Deployment.proposed_at, Deployment.half_days_agreed,
               Deployment.half_days_delivered, SupportRequest.board_id, SupportRequest.route,
               Deployment.targeted, Deployment.concession_day_pence,
               RateCard.board_grant_day_pence, SupportRequest.id, SupportRequest.submitted_at,
               SupportRequest.matched_at, Deployment.confirmed_at, Deployment.first_contact_at)
        .join(SupportRequest, SupportRequest.id == Deployment.request_id)
        .outerjoin(RateCard, RateCard.id == Deployment.rate_card_id)
        .where(where)
        .order_by(Deployment.proposed_at.desc(), Deployment.id.desc())
    ).tuples().all()
    las: dict[int, list[str]] = defaultdict(list)
    for request_id, name in db.session.execute(
        select(RequestSchool.request_id, LocalAuthority.name)
        .join(School, School.id == RequestSchool.school_id)
        .join(LocalAuthority, LocalAuthority.id == School.local_authority_id)
        .where(RequestSchool.request_id.in_(select(Deployment.request_id).where(where)))
        .order_by(RequestSchool.position)
    ):
        if name not in las[request_id]:
            las[request_id].append(name)
    fallback = None
    rows = []
    for (d_id, ref, status, phase, proposed_at, agreed, delivered, board_id, route, targeted,
         concession, grant, r_id, submitted_at, matched_at, confirmed_at, contact_at) in result:
        board_day = 0
        if board_id is not None and (targeted or route == "board"):
            if grant is None:
                fallback = _fallback_grant(user.alliance_id) if fallback is None else fallback
                grant = fallback
            board_day = grant + (concession or 0)
        rows.append(figures.DeploymentRow(
            id=d_id, reference=ref, status=status, phase=phase,
            proposed_on=proposed_at.date(), half_days_agreed=agreed,
            half_days_delivered=delivered, las=tuple(las.get(r_id, ())), board_id=board_id,
            board_day_pence=board_day, request_id=r_id, submitted_at=submitted_at,
            matched_at=matched_at, confirmed_at=confirmed_at, first_contact_at=contact_at))
    return rows


def load_ratings(user) -> list[figures.RatingRow]:
    SupportRequest = aliased(SupportRequestTable)  # noqa: N806
    counted = or_(and_(Evaluation.kind == "leader", Evaluation.status != "draft"),
                  and_(Evaluation.kind == "school", Evaluation.status == "signed_off"))
    result = db.session.execute(
        select(Evaluation.deployment_id, Evaluation.kind, Outcome.standard, SupportRequest.phase,
               OutcomeRating.rating)
        .join(Evaluation, Evaluation.id == OutcomeRating.evaluation_id)
        .join(Outcome, Outcome.id == OutcomeRating.outcome_id)
        .join(Deployment, Deployment.id == Evaluation.deployment_id)
        .join(SupportRequest, SupportRequest.id == Deployment.request_id)
        .where(access.deployments_visible_to(user), counted)
    ).all()
    return [figures.RatingRow(deployment_id=d, source=k, standard=s, phase=p, rating=r)
            for d, k, s, p, r in result]


def _boards(user) -> list[tuple[int, str, int]]:
    return [(board_id, name, budget) for board_id, name, budget in db.session.execute(
        select(Board.id, Board.name, Board.budget_pence)
        .where(access.boards_visible_to(user)).order_by(Board.name)).tuples()]


def _filters(rows, boards):
    chosen_year = int_arg("year", "year", minimum=2000, maximum=2100)
    phase = request.args.get("phase", "")
    la = request.args.get("la", "")
    year_options = figures.years(rows)
    la_options = sorted({name for r in rows for name in r.las})
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


def _report(user):
    rows = load_rows(user)
    boards = _boards(user)
    f = _filters(rows, boards)
    kept = figures.filter_rows(rows, year=f["year"], phase=f["phase"], la=f["la"])
    if f["board"] is not None:  # one Board's targeted deployments and its budget only
        kept = [r for r in kept if r.board_id == f["board"]]
        boards = [b for b in boards if b[0] == f["board"]]
    report = figures.build(kept, load_ratings(user), statuses=list(DEPLOYMENT_STATUSES),
                           standards=list(STANDARDS), phases=list(PHASES), boards=boards)
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
    report, f, board_names = _report(current_user)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows(figures.csv_table(report.rows, status_labels=DEPLOYMENT_STATUSES,
                                       board_names=board_names))
    suffix = "-".join(str(v) for v in _args(f).values()).replace(" ", "_")
    name = "impact-report" + (f"-{suffix}" if suffix else "") + ".csv"
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
    })
