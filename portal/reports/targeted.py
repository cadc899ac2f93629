"""A Board targets a school for subsidised support (East Sussex: "the Primary and Secondary
Boards may identify a school ... that would benefit from SLE support").

The Board's "New request": one school of the Board's phase (a list of schools to choose from,
narrowed by a search that works without JavaScript), and everything matching needs: the
Teachers' Standards, phase, subject or specialism, a time frame and whole days. The request is
filed at once to the co-ordinator (route "Board-targeted", the Board named on it) by
:func:`portal.domain.boards.target`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from wtforms import IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .. import idempotency
from ..domain import boards
from ..domain.errors import Invalid
from ..domain.policy import requests as request_policy
from ..domain.policy import require
from ..extensions import db
from ..idempotency import OneTimeKey
from ..models import PHASES, STANDARDS, Board, LocalAuthority, School, Specialism
from ..requests.forms import (
    CheckboxesField,
    DayField,
    _standard_label,
    check_time_frame_end,
)
from ..security import roles
from ..unit_of_work import command
from ..validators import (
    MAX_AHEAD,
    TOLERANCE,
    IdSelectField,
    MoneyField,
    PlausibleDate,
    choice_errors,
    whole_number,
)

bp = Blueprint("targeted", __name__, url_prefix="/board")

SHOWN = 30  # schools listed at once; a search narrows the list


class WholeDaysField(IntegerField):
    """Whole days only: "2.5" or "two" is refused beside the field (the Board funds days)."""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and str(valuelist[0]).strip():
            try:
                self.data = whole_number(valuelist[0], minimum=0, maximum=1_000_000)
            except ValueError as exc:
                raise ValueError("Enter whole days, like 6 (the Board funds whole days).") \
                    from exc


class TargetedRequestForm(OneTimeKey, FlaskForm):
    school_q = StringField("Find a school", validators=[Optional(), Length(max=100)])
    school_id = RadioField("School to support", coerce=whole_number, validators=[
        InputRequired(message="Choose the school to support.")],
        **choice_errors("Choose the school to support from the list."))
    title = StringField("Focus of the support", validators=[
        DataRequired(message="Give the focus of the support."), Length(max=200)])
    standards = CheckboxesField(
        "Teachers' Standards the staff need support with",
        choices=[(code, _standard_label(code)) for code in STANDARDS],
        validators=[DataRequired(message="Choose at least one of the Teachers' Standards.")],
        **choice_errors("Choose the Teachers' Standards from the list."))
    phase = SelectField("Phase", choices=list(PHASES.items()),
                        validators=[DataRequired(message="Choose a phase.")],
                        **choice_errors("Choose a phase from the list."))
    specialism_id = IdSelectField("Subject or specialism",
                                  message="Choose a subject or specialism from the list.",
                                  validators=[InputRequired(message="Choose a subject or "
                                                                    "specialism.")])
    staff_involved = TextAreaField("Staff involved (roles, not names)",
                                   validators=[Optional(), Length(max=4000)])
    priorities = TextAreaField("Why the Board is targeting this school", validators=[
        DataRequired(message="Say why the Board is targeting this school."), Length(max=4000)])
    desired_outcomes = TextAreaField("Desired outcomes", validators=[
        DataRequired(message="Give the desired outcomes."), Length(max=4000)])
    start_date = DayField(
        "Time frame from", "Enter the date the support should start, like 11/01/2027.",
        PlausibleDate(past=TOLERANCE, future=MAX_AHEAD,
                      too_early="The support cannot start in the past: enter {earliest} or "
                                "later.",
                      too_late="Enter a start date by {latest}: requests are for support in "
                               "the next two years."))
    end_date = DayField("Time frame to", "Enter the date the support should end, like 26/03/2027.")
    days = WholeDaysField("Days of support", validators=[
        InputRequired(message="Enter the number of days, like 6."),
        NumberRange(min=1, max=boards.MAX_DAYS,
                    message=f"Enter between 1 and {boards.MAX_DAYS} whole days.")])
    concession = MoneyField("Further concession per day (£)", default=0, maximum=1_000_000,
                            validators=[Optional()])

    def validate_end_date(self, field):
        check_time_frame_end(self, field)



def _school_choices(board: Board, q: str, chosen: int | None) -> tuple[list[tuple[int, str]], int]:
    """The schools to list (matching ``q`` by name, postcode or local authority; at most
    :data:`SHOWN`, plus the one already chosen), and how many match in all."""
    where = boards.eligible_schools(current_user, board)
    if q:
        like = f"%{q.casefold()}%"
        where = where & or_(func.lower(School.name).like(like),
                            func.lower(School.postcode).like(like),
                            func.lower(LocalAuthority.name).like(like))
    base = select(School.id, School.name, School.postcode, LocalAuthority.name) \
        .outerjoin(LocalAuthority, LocalAuthority.id == School.local_authority_id)
    rows = list(db.session.execute(base.where(where).order_by(School.name, School.id)
                                   .limit(SHOWN)).all())
    total = db.session.scalar(select(func.count(School.id)).outerjoin(
        LocalAuthority, LocalAuthority.id == School.local_authority_id).where(where)) or 0
    if chosen and chosen not in {r[0] for r in rows}:
        rows += list(db.session.execute(base.where(
            boards.eligible_schools(current_user, board) & (School.id == chosen))).all())
    return [(i, ", ".join(p for p in (name, la, postcode) if p))
            for i, name, postcode, la in rows], total


def _chosen(form: TargetedRequestForm) -> int | None:
    try:
        return whole_number(request.form.get("school_id", ""))
    except ValueError:
        return None


def _page(form: TargetedRequestForm, board: Board, total: int, code: int = 200):
    return render_template("reports/targeted.html", form=form, board=board, total=total,
                           shown=SHOWN,
                           phases=", ".join(PHASES[p].lower() for p in
                                            boards.brokering.board_school_phases(board)
                                            if p in PHASES)), code


@bp.route("/requests/new", methods=["GET", "POST"])
@roles("board")
def new() -> ResponseReturnValue:
    require(request_policy.target(current_user))
    board: Board = current_user.board
    form = TargetedRequestForm()
    q = (request.values.get("school_q") or "").strip()[:100]
    form.school_id.choices, total = _school_choices(
        board, q, _chosen(form) if request.method == "POST" else None)
    form.specialism_id.choices = [("", "Choose a subject or specialism")] + [
        (s.id, s.name) for s in db.session.scalars(select(Specialism).order_by(Specialism.name))]
    if request.method == "GET":
        form.school_q.data = q
        form.phase.data = board.phase if board.phase in PHASES else "primary"
        return _page(form, board, total)
    if request.form.get("find"):  # "Find schools": the same form again, the list narrowed
        return _page(form, board, total)
    if (replay := idempotency.claim(form)) is not None:
        return replay  # a double click: one request, not two
    if not form.validate():
        return _page(form, board, total, 422)
    fields: dict[str, Any] = {
        "school_id": form.school_id.data, "title": form.title.data,
        "standards": form.standards.data, "phase": form.phase.data,
        "specialism_id": form.specialism_id.data, "priorities": form.priorities.data,
        "desired_outcomes": form.desired_outcomes.data, "staff_involved":
        form.staff_involved.data or "", "start_date": form.start_date.data,
        "end_date": form.end_date.data, "days": form.days.data,
        "concession_day": form.concession.data or 0}
    try:
        with command():
            r = boards.target(current_user, ip=request.remote_addr or "", **fields)
            idempotency.created(url_for("requests.show", request_id=r.id), r)
    except Invalid as exc:
        exc.show_on(form)
        return _page(form, board, total, 422)
    flash(f"Request {r.reference} was sent to the co-ordinator, who will match a system leader.",
          "success")
    return redirect(url_for("requests.show", request_id=r.id), 303)
