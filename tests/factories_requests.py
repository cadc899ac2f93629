"""Test data for requests, matching and confirmation (issue 3)."""

from __future__ import annotations

from datetime import date, timedelta

from portal.extensions import db
from portal.models import Specialism


def specialism(code: str = "maths", name: str = "Mathematics") -> Specialism:
    s = db.session.query(Specialism).filter_by(code=code).one_or_none()
    if s is None:
        s = Specialism(code=code, name=name)
        db.session.add(s)
        db.session.flush()
    return s


def form_data(school_ids, spec_id, /, **over) -> dict:
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
