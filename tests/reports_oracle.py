"""The impact report as it was computed before issue 20: every deployment the user may see
loaded into Python, filtered and summed row by row. Kept only here, as the oracle that the SQL
aggregates and the streamed CSV of :mod:`portal.reports.sql` are checked against
(tests/web/test_reports_sql.py), and for the figures' unit tests on known data."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from portal.domain import access
from portal.domain.charging import academic_year, academic_year_label, cost_for_half_days
from portal.domain.reports import (
    BoardBudget,
    DeploymentRow,
    RatingRow,
    RatingSummary,
    Report,
    average_hours,
)
from portal.extensions import db
from portal.models import (
    Deployment,
    Evaluation,
    LocalAuthority,
    Outcome,
    OutcomeRating,
    RateCard,
    RequestSchool,
    School,
)
from portal.models import SupportRequest as SupportRequestTable

SCALE = (1, 2, 3, 4)


# ------------------------------------------------------------------------- loading (the routes')


def _fallback_grant(alliance_id: int) -> int:
    card = db.session.scalar(select(RateCard).where(RateCard.alliance_id == alliance_id)
                             .order_by(RateCard.effective_from.desc(), RateCard.id.desc())
                             .limit(1))
    return card.board_grant_day_pence if card else 0


def load_rows(user) -> list[DeploymentRow]:
    where = access.deployments_visible_to(user)
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
        rows.append(DeploymentRow(
            id=d_id, reference=ref, status=status, phase=phase,
            proposed_on=proposed_at.date(), half_days_agreed=agreed,
            half_days_delivered=delivered, las=tuple(las.get(r_id, ())), board_id=board_id,
            board_day_pence=board_day, request_id=r_id, submitted_at=submitted_at,
            matched_at=matched_at, confirmed_at=confirmed_at, first_contact_at=contact_at))
    return rows


def load_ratings(user) -> list[RatingRow]:
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
    return [RatingRow(deployment_id=d, source=k, standard=s, phase=p, rating=r)
            for d, k, s, p, r in result]


# ------------------------------------------------------------------------------- arithmetic


def years(rows: Iterable[DeploymentRow]) -> list[tuple[int, str]]:
    found = sorted({academic_year(r.proposed_on) for r in rows}, reverse=True)
    return [(y, academic_year_label(y)) for y in found]


def filter_rows(rows: Iterable[DeploymentRow], *, year: int | None = None,
                phase: str | None = None, la: str | None = None) -> list[DeploymentRow]:
    out = []
    for r in rows:
        if year is not None and academic_year(r.proposed_on) != year:
            continue
        if phase and r.phase != phase:
            continue
        if la and la not in r.las:
            continue
        out.append(r)
    return out


def by_status(rows: Iterable[DeploymentRow], statuses: Sequence[str]) -> dict[str, int]:
    counts = Counter(r.status for r in rows)
    return {s: counts.get(s, 0) for s in statuses}


def _hours_to_match(rows: Sequence[DeploymentRow]) -> float | None:
    per_request: dict[object, tuple] = {}
    for r in rows:  # a request matched twice (after a decline) counts once, at its latest match
        per_request[r.request_id if r.request_id is not None else ("d", r.id)] = (
            r.submitted_at, r.matched_at)
    return average_hours(per_request.values())


def _days_to_contact(rows: Sequence[DeploymentRow]) -> float | None:
    hours = average_hours((r.confirmed_at, r.first_contact_at) for r in rows)
    return None if hours is None else round(hours / 24, 1)


def ratings_by(ratings: Iterable[RatingRow], key: str, *, source: str | None = None,
               order: Sequence[str] = ()) -> list[RatingSummary]:
    groups: dict[str, list[int]] = defaultdict(list)
    for r in ratings:
        if source and r.source != source:
            continue
        groups[getattr(r, key) or "none"].append(r.rating)
    keys = [k for k in order if k in groups] + sorted(k for k in groups if k not in order)
    out = []
    for k in keys:
        values = groups[k]
        spread = Counter(values)
        out.append(RatingSummary(key=k, count=len(values),
                                 mean=round(sum(values) / len(values), 2),
                                 counts={s: spread.get(s, 0) for s in SCALE}))
    return out


def subsidy_spent(rows: Iterable[DeploymentRow]) -> dict[int, int]:
    spent: dict[int, int] = defaultdict(int)
    for r in rows:
        if r.board_id is not None and r.board_day_pence:
            spent[r.board_id] += cost_for_half_days(r.board_day_pence, r.half_days_delivered)
    return dict(spent)


def board_budgets(rows: Iterable[DeploymentRow],
                  boards: Iterable[tuple[int, str, int]]) -> list[BoardBudget]:
    spent = subsidy_spent(rows)
    return [BoardBudget(board_id=i, name=name, budget_pence=budget, spent_pence=spent.get(i, 0))
            for i, name, budget in boards]


def build(rows: Sequence[DeploymentRow], ratings: Iterable[RatingRow], *,
          statuses: Sequence[str], standards: Sequence[str] = (), phases: Sequence[str] = (),
          boards: Iterable[tuple[int, str, int]] = ()) -> Report:
    """Every figure of the report for rows already filtered (all of them in ``rows``)."""
    ids = {r.id for r in rows}
    kept = [r for r in ratings if r.deployment_id in ids]
    return Report(
        rows=list(rows),
        total=len(rows),
        by_status=by_status(rows, statuses),
        half_days_delivered=sum(r.half_days_delivered for r in rows),
        by_standard=ratings_by(kept, "standard", order=standards),
        by_phase=ratings_by(kept, "phase", order=phases),
        hours_to_match=_hours_to_match(rows),
        days_to_contact=_days_to_contact(rows),
        budgets=board_budgets(rows, boards),
    )
