"""A Board targets a school for subsidised support (East Sussex: "the Primary and Secondary
Boards may identify a school ... that would benefit from SLE support").

Deliberately small: the Board names the school, the focus and the days, and any further
concession per day on top of its standard grant; the request goes straight to the co-ordinator's
queue (``submitted``) with route ``board``.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select, text
from wtforms import (
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from ..domain import access, audit, workflow
from ..domain.notify import notify
from ..extensions import db
from ..models import PHASES, STANDARDS, RequestSchool, School, SupportRequest, User, utcnow
from ..models import standards_to_mask as to_mask
from ..security import roles

bp = Blueprint("targeted", __name__, url_prefix="/board")

_POUNDS = re.compile(r"^\s*£?\s*(\d{1,6})(?:\.(\d{1,2}))?\s*$")
_BOARD_LOCK = 7_301_912  # advisory-lock namespace: one targeted request at a time per Board
DUPLICATE_WINDOW = timedelta(minutes=2)


def pounds_to_pence(value: str) -> int:
    """"£25.50" -> 2550, with no float anywhere. Raises ValueError for anything else."""
    m = _POUNDS.match(value or "")
    if not m:
        raise ValueError("Enter an amount in pounds, like 25 or 25.50.")
    return int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))


def _pence(form, field) -> None:
    try:
        pounds_to_pence(field.data or "0")
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


class TargetedRequestForm(FlaskForm):
    school_id = SelectField("School to support", coerce=int, validators=[
        InputRequired(message="Choose the school to support.")])
    title = StringField("Focus of the support", validators=[
        DataRequired(message="Give the focus of the support."), Length(max=200)])
    standards = SelectMultipleField("Teachers' Standards the staff need support with",
                                    choices=list(STANDARDS.items()), validators=[
                                        DataRequired(message="Choose at least one standard.")])
    phase = SelectField("Phase", choices=list(PHASES.items()))
    priorities = TextAreaField("Why the Board is targeting this school", validators=[
        DataRequired(message="Say why the Board is targeting this school."), Length(max=5000)])
    desired_outcomes = TextAreaField("Desired outcomes", validators=[
        DataRequired(message="Give the desired outcomes."), Length(max=5000)])
    half_days_wanted = IntegerField("Half days of support", validators=[
        InputRequired(message="Give the number of half days."),
        NumberRange(min=1, max=200, message="Give between 1 and 200 half days.")])
    concession = StringField("Further concession per day (£)", default="0",
                             validators=[_pence])


def _schools() -> list[School]:
    return list(db.session.scalars(
        select(School).where(access.schools_visible_to(current_user)).order_by(School.name)))


@bp.route("/requests/new", methods=["GET", "POST"])
@roles("board")
def new() -> ResponseReturnValue:
    board = current_user.board
    if board is None:
        abort(403)
    form = TargetedRequestForm()
    form.school_id.choices = [(s.id, s.name) for s in _schools()]
    if request.method == "GET":
        form.phase.data = board.phase if board.phase in PHASES else "primary"
    if not form.validate_on_submit():
        code = 422 if request.method == "POST" else 200
        return render_template("reports/targeted.html", form=form, board=board), code
    school = access.get_school(current_user, form.school_id.data)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:ns, :k)"),
                           {"ns": _BOARD_LOCK, "k": board.id})
    title = form.title.data.strip()
    duplicate = db.session.scalar(
        select(SupportRequest.id).join(RequestSchool, RequestSchool.request_id == SupportRequest.id)
        .where(SupportRequest.board_id == board.id, SupportRequest.title == title,
               RequestSchool.school_id == school.id,
               SupportRequest.created_at >= utcnow() - DUPLICATE_WINDOW).limit(1))
    if duplicate is not None:  # a double click or a second tab: one request, not two
        return redirect(url_for("requests.show", request_id=duplicate), 303)
    now = utcnow()
    r = SupportRequest(
        reference=f"R-TMP-{now.timestamp():.6f}"[:20], alliance_id=current_user.alliance_id,
        requested_by_id=current_user.id, board_id=board.id, route="board",
        kind="sle_deployment", status="draft", title=title,
        standards_mask=to_mask(form.standards.data), phase=form.phase.data,
        priorities=form.priorities.data.strip(),
        desired_outcomes=form.desired_outcomes.data.strip(),
        half_days_wanted=form.half_days_wanted.data,
        concession_day_pence=pounds_to_pence(form.concession.data or "0"))
    r.schools = [RequestSchool(school_id=school.id, position=0)]
    db.session.add(r)
    db.session.flush()
    r.reference = f"R-{now.year}-B{r.id:05d}"
    audit.record(current_user, "request.targeted", r, detail={
        "board_id": board.id, "school_id": school.id,
        "concession_day_pence": r.concession_day_pence}, ip=request.remote_addr or "")
    workflow.transition(r, "submitted", current_user, ip=request.remote_addr or "")
    admins = db.session.scalars(select(User).where(
        User.alliance_id == r.alliance_id, User.role == "admin", User.active.is_(True)))
    notify(admins, f"{board.name} targeted {school.name} for support: {r.reference}",
           f"/requests/{r.id}")
    return redirect(url_for("requests.show", request_id=r.id), 303)
