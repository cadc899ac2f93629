"""Support requests, the specialisms they ask for, and the request form's data."""

from __future__ import annotations

from datetime import date, timedelta

from portal.domain import workflow
from portal.extensions import db
from portal.models import (
    Alliance,
    RequestSchool,
    School,
    Specialism,
    SupportRequest,
    User,
    standards_to_mask,
    utcnow,
)

from ._seq import next_number
from .people import acting

# A request is made as a draft or submitted; "matching" is reached through the workflow.
INITIAL_STATUSES = ("draft", "submitted")
STATUSES = (*INITIAL_STATUSES, "matching")


def support_request(a: Alliance, by: User, schools: list[School], *, status: str = "submitted",
                    title: str = "Maths reasoning", half_days: int = 8, hours_ago: int = 5,
                    board=None, route: str | None = None) -> SupportRequest:
    """A request made by ``by`` for ``schools``, submitted ``hours_ago`` (or a draft).

    ``status="matching"``: submitted, then accepted for matching by the alliance's co-ordinator
    through the workflow. Later statuses come from ``advance()`` on a deployment of it.
    """
    if status not in STATUSES:
        raise ValueError(f"a request is built as one of {STATUSES}; later statuses come from "
                         "the workflow (advance() its deployment)")
    now = utcnow()
    r = SupportRequest(reference=f"R-T-{next_number():05d}", alliance_id=a.id,
                       requested_by_id=by.id,
                       status="draft" if status == "draft" else "submitted", title=title,
                       standards_mask=standards_to_mask(["TS2"]), phase="primary",
                       start_date=date.today() + timedelta(days=7),
                       end_date=date.today() + timedelta(days=60), half_days_wanted=half_days,
                       board_id=board.id if board else None,
                       route=route or by.officer_route or "school",
                       submitted_at=None if status == "draft" else now - timedelta(hours=hours_ago))
    r.schools = [RequestSchool(school_id=s.id, position=i) for i, s in enumerate(schools)]
    db.session.add(r)
    db.session.flush()
    if status == "matching":
        workflow.transition(r, "matching", acting("admin", alliance_id=a.id))
        db.session.flush()
    return r



def specialism(code: str = "maths", name: str = "Mathematics") -> Specialism:
    s = db.session.query(Specialism).filter_by(code=code).one_or_none()
    if s is None:
        s = Specialism(code=code, name=name)
        db.session.add(s)
        db.session.flush()
    return s


def form_data(school_ids, spec_id, /, **over) -> dict:
    """What the request form posts, with ``over`` changing fields (None leaves one out)."""
    start = date.today() + timedelta(days=14)
    data = {
        "title": "Reasoning in Year 5",
        "standards": ["TS2", "TS6"],
        "phase": "primary",
        "specialism_id": str(spec_id),
        "staff_involved": "Two Year 5 class teachers",
        "priorities": "Reasoning in maths lessons",
        "desired_outcomes": "Pupils explain their reasoning",
        "measures_of_success": "Book looks and pupil voice show reasoning",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=60)).isoformat(),
        "days_wanted": "4",
        "kind": "sle_deployment",
        "route": "school",
        "school_ids": [str(i) for i in school_ids],
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}
