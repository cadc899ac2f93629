"""A Board targets a school for subsidised support (East Sussex: "the Primary and Secondary
Boards may identify a school ... that would benefit from SLE support").

Deliberately small: the Board names the school, the focus and the days, and any further
concession per day on top of its standard grant; the request goes straight to the co-ordinator's
queue (``submitted``) with route ``board``.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .. import idempotency
from ..domain import access, audit, workflow
from ..domain.notify import notify
from ..extensions import db
from ..idempotency import OneTimeKey
from ..models import PHASES, STANDARDS, RequestSchool, School, SupportRequest, User, utcnow
from ..models import standards_to_mask as to_mask
from ..security import roles
from ..validators import IdSelectField, MoneyField

bp = Blueprint("targeted", __name__, url_prefix="/board")

_BOARD_LOCK = 7_301_912  # advisory-lock namespace: one targeted request at a time per Board
DUPLICATE_WINDOW = timedelta(minutes=2)


class TargetedRequestForm(OneTimeKey, FlaskForm):
    school_id = IdSelectField("School to support", message="Choose the school to support "
                              "from the list.", validators=[
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
    concession = MoneyField("Further concession per day (£)", default=0, maximum=1_000_000,
                            validators=[Optional()])


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
    elif (replay := idempotency.claim(form)) is not None:
        return replay  # a double click: one request, not two
    if not form.validate_on_submit():
        code = 422 if request.method == "POST" else 200
        return render_template("reports/targeted.html", form=form, board=board), code
    school = access.get_school(current_user, form.school_id.data)
    title = form.title.data.strip()
    now = utcnow()
    r = SupportRequest(
        reference=f"R-TMP-{now.timestamp():.6f}"[:20], alliance_id=current_user.alliance_id,
        requested_by_id=current_user.id, board_id=board.id, route="board",
        kind="sle_deployment", status="draft", title=title,
        standards_mask=to_mask(form.standards.data), phase=form.phase.data,
        priorities=form.priorities.data.strip(),
        desired_outcomes=form.desired_outcomes.data.strip(),
        half_days_wanted=form.half_days_wanted.data,
        concession_day_pence=form.concession.data or 0)
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
    idempotency.created(url_for("requests.show", request_id=r.id), r)
    return redirect(url_for("requests.show", request_id=r.id), 303)
