"""The impact report's figures as SQL aggregates, and its deployments in pages.

At national scale an alliance holds thousands of deployments: the report never loads them all.
Totals and breakdowns are ``GROUP BY`` queries whose rows are bounded by the number of
statuses, standards, phases, ratings and Board day rates, not by the deployments; the page
shows the newest :data:`SHOWN` rows, and the CSV streams them all from one statement read
:data:`BATCH` rows at a time (a server-side cursor on PostgreSQL), so its query count and its
memory are the same for ten deployments or a hundred thousand. The arithmetic on those groups
(means, rounding, pence) is :mod:`portal.domain.reports`, so the answers are the same to the
penny and the tenth of an hour as the figures computed row by row
(tests/web/test_reports_sql.py keeps that old computation as the oracle).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, and_, case, exists, extract, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from ..domain import access
from ..domain import reports as figures
from ..extensions import db
from ..models import (
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

SHOWN = 50  # rows in the page's table; the CSV has them all
BATCH = 1_000  # deployments in each part of the streamed CSV (and rows fetched at a time)

# an alias, so that the visibility clause's own EXISTS on support_request is not correlated
SupportRequest = aliased(SupportRequestTable, name="report_request")


class micros_between(FunctionElement):  # noqa: N801 -- a SQL function, named like one
    """Whole microseconds from ``start`` to ``end`` (two UTC timestamp columns), exactly: the
    report's averages are summed in SQL and divided in Python as a ``timedelta`` is, so they
    round exactly as the row-by-row figures did (a float of days would not)."""

    type = Integer()
    inherit_cache = True


@compiles(micros_between)
def _micros_postgresql(element, compiler, **kw):
    start, end = list(element.clauses)
    return (f"CAST(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - "
            f"{compiler.process(start, **kw)})) * 1000000 AS BIGINT)")


@compiles(micros_between, "sqlite")
def _micros_sqlite(element, compiler, **kw):
    # SQLAlchemy stores "YYYY-MM-DD HH:MM:SS.ffffff": whole seconds from unixepoch() (SQLite
    # 3.38; strftime('%s') before, half as fast), the microseconds from characters 21-26 (''
    # and so 0 when a value was written without them)
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    version = getattr(compiler.dialect.dbapi, "sqlite_version_info", (0, 0, 0))

    def seconds(x: str) -> str:
        return (f"unixepoch({x})" if version >= (3, 38) else
                f"CAST(strftime('%s', {x}) AS INTEGER)")

    return (f"(({seconds(end)} - {seconds(start)}) * 1000000 + "
            f"CAST(substr({end}, 21, 6) AS INTEGER) - CAST(substr({start}, 21, 6) AS INTEGER))")


@dataclass(frozen=True)
class Filters:
    year: int | None = None
    phase: str | None = None
    la: str | None = None
    board: int | None = None


def _academic_year(column) -> ColumnElement:
    """The academic year (named by the calendar year it starts in) of a timestamp column."""
    return extract("year", column) - case((extract("month", column) < 9, 1), else_=0)


def _from_deployments(stmt):
    return stmt.join(SupportRequest, SupportRequest.id == Deployment.request_id)


def visible(user) -> ColumnElement[bool]:
    return access.deployments_visible_to(user)


def kept(user, f: Filters) -> ColumnElement[bool]:
    """The deployments in the report: those the user may see, narrowed by the filters (the
    query joins :data:`SupportRequest`)."""
    clauses = [visible(user)]
    if f.year is not None:
        clauses += [Deployment.proposed_at >= datetime(f.year, 9, 1, tzinfo=UTC),
                    Deployment.proposed_at < datetime(f.year + 1, 9, 1, tzinfo=UTC)]
    if f.phase:
        clauses.append(SupportRequest.phase == f.phase)
    if f.la:
        clauses.append(exists(
            select(RequestSchool.request_id)
            .join(School, School.id == RequestSchool.school_id)
            .join(LocalAuthority, LocalAuthority.id == School.local_authority_id)
            .where(RequestSchool.request_id == Deployment.request_id,
                   LocalAuthority.name == f.la)))
    if f.board is not None:
        clauses.append(SupportRequest.board_id == f.board)
    return and_(*clauses)


# ----------------------------------------------------------------------------- filter options


def year_options(user) -> list[int]:
    """The academic years the user's deployments were proposed in, newest first."""
    year = _academic_year(Deployment.proposed_at)
    found: list[Any] = list(db.session.scalars(select(year).distinct().where(visible(user))))
    return sorted({int(y) for y in found}, reverse=True)


def la_options(user) -> list[str]:
    """The local authorities of the schools on the user's deployments, sorted by name."""
    names = db.session.scalars(
        select(LocalAuthority.name).distinct()
        .join(School, School.local_authority_id == LocalAuthority.id)
        .join(RequestSchool, RequestSchool.school_id == School.id)
        .where(RequestSchool.request_id.in_(select(Deployment.request_id)
                                            .where(visible(user))))).all()
    return sorted(names)


def boards(user) -> list[tuple[int, str, int]]:
    return [(board_id, name, budget) for board_id, name, budget in db.session.execute(
        select(Board.id, Board.name, Board.budget_pence)
        .where(access.boards_visible_to(user)).order_by(Board.name)).tuples()]


# ------------------------------------------------------------------------------------ figures


def _board_day(user) -> ColumnElement:
    """The Board's share a day of a deployment (its grant, from the deployment's rate card or
    else the alliance's newest, plus any concession), or 0 when no Board targeted it."""
    newest = (select(RateCard.board_grant_day_pence)
              .where(RateCard.alliance_id == user.alliance_id)
              .order_by(RateCard.effective_from.desc(), RateCard.id.desc())
              .limit(1).scalar_subquery())
    grant = func.coalesce(RateCard.board_grant_day_pence, newest, 0)
    targeted = and_(SupportRequest.board_id.is_not(None),
                    or_(Deployment.targeted.is_(True), SupportRequest.route == "board"))
    return case((targeted, grant + func.coalesce(Deployment.concession_day_pence, 0)),
                else_=0)


def report(user, f: Filters, *, statuses, standards, phases,
           board_list: list[tuple[int, str, int]]) -> figures.Report:
    """Every figure of the report, and its newest :data:`SHOWN` rows, in a fixed number of
    queries whatever the number of deployments."""
    where = kept(user, f)
    contact = and_(Deployment.confirmed_at.is_not(None),
                   Deployment.first_contact_at.is_not(None))
    by_status: dict[str, int] = {}
    delivered = contact_n = contact_us = 0
    row: Any
    for row in db.session.execute(_from_deployments(
            select(Deployment.status, func.count(Deployment.id),
                   func.coalesce(func.sum(Deployment.half_days_delivered), 0),
                   func.count(case((contact, 1))),
                   func.coalesce(func.sum(case((contact, micros_between(
                       Deployment.confirmed_at, Deployment.first_contact_at)))), 0)))
            .where(where).group_by(Deployment.status)):
        status, n, days, c_n, c_us = row
        by_status[status] = n
        delivered += int(days)
        contact_n += c_n
        contact_us += int(c_us)
    total = sum(by_status.values())

    matched = and_(SupportRequestTable.submitted_at.is_not(None),
                   SupportRequestTable.matched_at.is_not(None))
    match: Any = db.session.execute(
        select(func.count(SupportRequestTable.id),
               func.coalesce(func.sum(micros_between(SupportRequestTable.submitted_at,
                                                     SupportRequestTable.matched_at)), 0))
        .where(matched, SupportRequestTable.id.in_(
            _from_deployments(select(Deployment.request_id)).where(where)))).one()
    match_n, match_us = match

    counted = or_(and_(Evaluation.kind == "leader", Evaluation.status != "draft"),
                  and_(Evaluation.kind == "school", Evaluation.status == "signed_off"))
    by_standard: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    by_phase: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for standard, phase, rating, n in db.session.execute(
            select(Outcome.standard, SupportRequest.phase, OutcomeRating.rating,
                   func.count(OutcomeRating.id))
            .join(Evaluation, Evaluation.id == OutcomeRating.evaluation_id)
            .join(Outcome, Outcome.id == OutcomeRating.outcome_id)
            .join(Deployment, Deployment.id == Evaluation.deployment_id)
            .join(SupportRequest, SupportRequest.id == Deployment.request_id)
            .where(where, counted)
            .group_by(Outcome.standard, SupportRequest.phase, OutcomeRating.rating)):
        by_standard[standard or "none"][rating] += n
        by_phase[phase or "none"][rating] += n

    spent: dict[int, int] = defaultdict(int)
    if board_list:
        day = _board_day(user)
        for row in db.session.execute(_from_deployments(
                select(SupportRequest.board_id, day, Deployment.half_days_delivered,
                       func.count(Deployment.id)))
                .outerjoin(RateCard, RateCard.id == Deployment.rate_card_id)
                .where(where, SupportRequest.board_id.is_not(None))
                .group_by(SupportRequest.board_id, day, Deployment.half_days_delivered)):
            board_id, day_pence, half_days, n = row
            if day_pence:
                spent[board_id] += n * figures.cost_for_half_days(int(day_pence), half_days)

    return figures.Report(
        rows=next(pages(user, f, size=SHOWN), []),
        total=total,
        by_status={s: by_status.get(s, 0) for s in statuses},
        half_days_delivered=delivered,
        by_standard=figures.summaries(by_standard, order=standards),
        by_phase=figures.summaries(by_phase, order=phases),
        hours_to_match=figures.mean_hours(int(match_us), match_n),
        days_to_contact=figures.mean_days(contact_us, contact_n),
        budgets=[figures.BoardBudget(board_id=i, name=name, budget_pence=budget,
                                     spent_pence=spent.get(i, 0))
                 for i, name, budget in board_list],
    )


# ------------------------------------------------------------------------------ rows, paged


def _row_columns(user) -> tuple[Any, ...]:
    return (Deployment.id, Deployment.reference, Deployment.status, SupportRequest.phase,
            Deployment.proposed_at, Deployment.half_days_agreed, Deployment.half_days_delivered,
            SupportRequest.board_id, _board_day(user), SupportRequest.id,
            SupportRequest.submitted_at, SupportRequest.matched_at, Deployment.confirmed_at,
            Deployment.first_contact_at)


def _rows(user, f: Filters, *extra: Any):
    """The report's deployments as rows of :func:`_row_columns` (and ``extra`` columns)."""
    return (_from_deployments(select(*_row_columns(user), *extra))
            .outerjoin(RateCard, RateCard.id == Deployment.rate_card_id).where(kept(user, f)))


def _deployment_row(r: Any, las: tuple[str, ...]) -> figures.DeploymentRow:
    (d_id, ref, status, phase, proposed_at, agreed, delivered, board_id, board_day, r_id,
     submitted_at, matched_at, confirmed_at, contact_at) = r[:14]
    return figures.DeploymentRow(
        id=d_id, reference=ref, status=status, phase=phase, proposed_on=proposed_at.date(),
        half_days_agreed=agreed, half_days_delivered=delivered, las=las, board_id=board_id,
        board_day_pence=int(board_day or 0), request_id=r_id, submitted_at=submitted_at,
        matched_at=matched_at, confirmed_at=confirmed_at, first_contact_at=contact_at)


def stream(user, f: Filters, *, size: int | None = None
           ) -> Iterator[list[figures.DeploymentRow]]:
    """Every deployment of the report, newest first, in lists of ``size``, from one statement:
    each deployment's rows joined to its schools' local authorities (in the request's order),
    fetched ``size`` rows at a time (``yield_per``: a server-side cursor on PostgreSQL, the
    sqlite3 cursor stepping on SQLite), so neither the query count nor the memory grows with
    the alliance."""
    size = size or BATCH
    stmt = (_rows(user, f, LocalAuthority.name)
            .outerjoin(RequestSchool, RequestSchool.request_id == SupportRequest.id)
            .outerjoin(School, School.id == RequestSchool.school_id)
            .outerjoin(LocalAuthority, LocalAuthority.id == School.local_authority_id)
            .order_by(Deployment.proposed_at.desc(), Deployment.id.desc(),
                      RequestSchool.position, RequestSchool.school_id)
            .execution_options(yield_per=size))
    part: list[figures.DeploymentRow] = []
    current: Any = None
    las: list[str] = []
    for row in db.session.execute(stmt):
        if current is not None and row[0] != current[0]:
            part.append(_deployment_row(current, tuple(las)))
            las = []
            if len(part) == size:
                yield part
                part = []
        current = row
        if row[-1] is not None and row[-1] not in las:
            las.append(row[-1])
    if current is not None:
        part.append(_deployment_row(current, tuple(las)))
    if part:
        yield part


def pages(user, f: Filters, *, size: int | None = None) -> Iterator[list[figures.DeploymentRow]]:
    """The report's deployments, newest first, ``size`` at a time: two queries a page (the
    rows, then their schools' local authorities), each starting after the last row of the page
    before (keyset), so the thousandth page costs what the first did. The page shows the first
    (:data:`SHOWN` rows); the CSV reads them all from one statement (:func:`stream`)."""
    size = size or BATCH
    after: tuple[datetime, int] | None = None
    while True:
        stmt = _rows(user, f)
        if after is not None:
            stmt = stmt.where(or_(Deployment.proposed_at < after[0],
                                  and_(Deployment.proposed_at == after[0],
                                       Deployment.id < after[1])))
        batch = db.session.execute(
            stmt.order_by(Deployment.proposed_at.desc(), Deployment.id.desc()).limit(size)
        ).tuples().all()
        if not batch:
            return
        las: dict[int, list[str]] = defaultdict(list)
        for request_id, name in db.session.execute(
                select(RequestSchool.request_id, LocalAuthority.name)
                .join(School, School.id == RequestSchool.school_id)
                .join(LocalAuthority, LocalAuthority.id == School.local_authority_id)
                .where(RequestSchool.request_id.in_({r[9] for r in batch}))
                .order_by(RequestSchool.request_id, RequestSchool.position)):
            if name not in las[request_id]:
                las[request_id].append(name)
        yield [_deployment_row(r, tuple(las.get(r[9], ()))) for r in batch]
        if len(batch) < size:
            return
        after = (batch[-1][4], batch[-1][0])
