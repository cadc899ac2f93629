"""Step 6 pages: the leader's evaluation, forwarding, the schools' sign-off, the director's
quality assurance, and ending a deployment early. Shown on the deployment page as the
"completion" panel."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import idempotency
from ..domain import access, workflow
from ..domain import evaluations as ev
from ..extensions import db
from ..formatting import LONDON
from ..models import EVALUATION_KINDS, RATINGS, Deployment, Evaluation, utcnow
from ..panels import deployment_panels
from ..security import roles
from . import demo_data, forms, home  # noqa: F401  (demo step and home panel register themselves)

bp = Blueprint("evaluations", __name__, url_prefix="/deployments/<id:deployment_id>/completion")


# ------------------------------------------------------------------------------------ panel


def _visible_evaluations(d: Deployment, user) -> list[Evaluation]:
    return list(db.session.scalars(
        select(Evaluation)
        .where(Evaluation.deployment_id == d.id, access.evaluations_visible_to(user))
        .options(selectinload(Evaluation.ratings))
        .order_by(Evaluation.created_at, Evaluation.id)
    ))


@deployment_panels.panel("completion", "evaluations/_panel.html", order=80)
def completion_panel(d: Deployment, user):
    if d.status not in ("active", "evaluation", "completed", "ended_early"):
        return None
    found = _visible_evaluations(d, user)
    schools = ev.receiving_schools(d)
    names = {s.id: s.name for s in schools}
    own = next((e for e in found if e.kind == "school" and e.school_id == user.school_id
                and user.role == "headteacher"), None)
    leader = next((e for e in found if e.kind == "leader"), None)
    school_evals = [e for e in found if e.kind == "school"]
    signed = {e.school_id for e in school_evals if e.status == "signed_off"}
    return {
        "d": d,
        "leader": leader,
        "schools": school_evals,
        "school_names": names,
        "waiting_for": [s.name for s in schools if s.id not in signed],
        "qa_notes": [e for e in found if e.kind == "qa_mid"],
        "final": next((e for e in found if e.kind == "qa_final"), None),
        "outcomes": {o.id: o for o in ev.outcomes_for(d)},
        "own": own,
        "ratings": RATINGS,
        "scores": ev.SCORES,
        "kinds": EVALUATION_KINDS,
        "can": {
            "evaluate": user.role == "sle" and d.leader_id == user.id and (
                (d.status == "active" and leader is None) or
                (d.status == "evaluation" and leader is not None
                 and leader.status in ("submitted", "returned"))),
            "forward": user.role in ev.OVERSEERS and d.status == "evaluation"
                       and leader is not None and leader.status == "submitted",
            "sign_school": own is not None and own.status == "forwarded"
                           and d.status == "evaluation",
            "qa_note": user.role == "director" and d.status in ("active", "evaluation"),
            "sign_off": user.role == "director" and d.status == "evaluation"
                        and not [s for s in schools if s.id not in signed],
            "end_early": user.role in ev.OVERSEERS and d.status in ("active", "evaluation"),
        },
        "forward_form": forms.ForwardForm(version=d.version),
    }


# ---------------------------------------------------------------------------------- helpers


def _deployment(deployment_id: int) -> Deployment:
    return access.get_deployment(current_user, deployment_id)


def _back_url(d: Deployment) -> str:
    return url_for("deployments.show", deployment_id=d.id) + "#panel-completion"


def _back(d: Deployment):
    return redirect(_back_url(d), 303)


def _refuse(code: int, title: str, message: str):
    return render_template("error.html", code=code, title=title, message=message), code


def _apply(d: Deployment, action, success: str, rerender):
    """Run one domain action, commit once, and answer: 303 on success, 409 on a conflict or a
    step not possible now, 403 for the wrong party, 422 (form re-shown) on a rule the input broke.
    """
    try:
        action()
        idempotency.created(_back_url(d), d)  # a form sent twice shows this, not a conflict
        workflow.commit_or_conflict()
    except workflow.Conflict as exc:
        db.session.rollback()
        message = str(exc) if str(exc).startswith(("Someone", "This form")) else (
            "Someone else changed this deployment at the same time. Reload the page to see the "
            "latest version; nothing of yours was saved.")
        return _refuse(409, "This deployment has changed", message)
    except ev.NotAllowed:
        db.session.rollback()
        abort(403)
    except workflow.IllegalTransition as exc:
        db.session.rollback()
        if exc.forbidden:
            abort(403)
        return _refuse(409, "That step is not possible now", str(exc))
    except ev.EvaluationError as exc:
        db.session.rollback()
        return _refuse(409, "That step is not possible now", str(exc))
    except ValueError as exc:
        db.session.rollback()
        return rerender(str(exc)), 422
    flash(success, "success")
    return _back(d)


def _page(template: str, d: Deployment, form, problem: str = "", **ctx):
    return render_template(template, d=d, form=form, problem=problem, ratings=RATINGS, **ctx)


# ------------------------------------------------------------------------------ the leader


@bp.route("/evaluation", methods=["GET", "POST"])
@roles("sle")
def leader(deployment_id: int):
    d = _deployment(deployment_id)
    if d.leader_id != current_user.id:
        abort(403)
    outcomes = ev.outcomes_for(d)
    existing = ev.leader_evaluation(d)
    if not (d.status == "active" and existing is None) and not (
            d.status == "evaluation" and existing is not None
            and existing.status in ("submitted", "returned")):
        return _refuse(409, "The evaluation cannot be changed now",
                       "The final evaluation has already been forwarded, or the deployment is "
                       "not active.")
    form = forms.leader_form(outcomes, version=d.version)
    if request.method == "POST" and (replay := idempotency.claim(form)) is not None:
        return replay
    if request.method == "GET" and existing is not None:
        _fill(form, existing, ("summary", "changes_for_teachers", "changes_for_pupils",
                               "recommendations", "exit_arrangements"))
    if not form.validate_on_submit():
        code = 422 if request.method == "POST" else 200
        return _page("evaluations/leader.html", d, form, existing=existing), code

    def act():
        ev.check_version(d, form.seen_version())
        ev.submit_leader_evaluation(
            d, current_user, ratings=forms.ratings_from(form), summary=form.summary.data,
            changes_for_teachers=form.changes_for_teachers.data,
            changes_for_pupils=form.changes_for_pupils.data,
            recommendations=form.recommendations.data,
            exit_arrangements=form.exit_arrangements.data, ip=request.remote_addr or "")

    return _apply(d, act, "Your final evaluation was sent to the co-ordinator.",
                  lambda problem: _page("evaluations/leader.html", d, form, problem,
                                        existing=existing))


def _fill(form, source: Evaluation, names) -> None:
    for name in names:
        form[name].data = getattr(source, name)
    for r in source.ratings:
        if f"rating_{r.outcome_id}" in form:
            form[f"rating_{r.outcome_id}"].data = str(r.rating)
            form[f"evidence_{r.outcome_id}"].data = r.evidence


# ------------------------------------------------------------------------------ the admin


@bp.post("/forward")
@roles("admin", "director")
def forward(deployment_id: int):
    d = _deployment(deployment_id)
    form = forms.ForwardForm()
    if not form.validate_on_submit():
        abort(400)

    def act():
        ev.check_version(d, form.seen_version())
        ev.forward(d, current_user, ip=request.remote_addr or "")

    return _apply(d, act, "The evaluation was forwarded to the receiving school(s).",
                  lambda problem: _refuse(422, "Not forwarded", problem)[0])


# ----------------------------------------------------------------------- receiving schools


def _own_school_evaluation(d: Deployment) -> Evaluation | None:
    if not ev.is_receiving_head(d, current_user):
        abort(403)
    own = ev.school_evaluation(d, current_user.school_id)
    if own is None or d.status != "evaluation" or own.status != "forwarded":
        return None
    return own


@bp.route("/school", methods=["GET", "POST"])
@roles("headteacher")
def school(deployment_id: int):
    d = _deployment(deployment_id)
    own = _own_school_evaluation(d)
    if own is None:
        return _refuse(409, "Nothing to sign off",
                       "Your school has no evaluation of this deployment waiting for sign-off.")
    outcomes = ev.outcomes_for(d)
    form = forms.school_form(outcomes, version=d.version)
    back_form = forms.ReturnForm(version=d.version, formdata=None)
    ctx = {"leader_ev": ev.leader_evaluation(d), "outcomes": outcomes, "scores": ev.SCORES,
           "back_form": back_form}
    if not form.validate_on_submit():
        code = 422 if request.method == "POST" else 200
        return _page("evaluations/school.html", d, form, **ctx), code

    def act():
        ev.check_version(d, form.seen_version())
        ev.sign_off_school(
            d, current_user, ratings=forms.ratings_from(form),
            support_quality=int(form.support_quality.data),
            value_for_money=int(form.value_for_money.data),
            would_use_again=form.would_use_again.data == "yes", summary=form.summary.data or "",
            ip=request.remote_addr or "")

    return _apply(d, act, "Your school's evaluation is signed off.",
                  lambda problem: _page("evaluations/school.html", d, form, problem, **ctx))


@bp.post("/school/return")
@roles("headteacher")
def school_return(deployment_id: int):
    d = _deployment(deployment_id)
    own = _own_school_evaluation(d)
    if own is None:
        return _refuse(409, "Nothing to return",
                       "Your school has no evaluation of this deployment waiting for sign-off.")
    outcomes = ev.outcomes_for(d)
    back_form = forms.ReturnForm()
    form = forms.school_form(outcomes, version=d.version, formdata=None)
    ctx = {"leader_ev": ev.leader_evaluation(d), "outcomes": outcomes, "scores": ev.SCORES,
           "back_form": back_form}
    if not back_form.validate_on_submit():
        return _page("evaluations/school.html", d, form, **ctx), 422

    def act():
        ev.check_version(d, back_form.seen_version())
        ev.return_to_leader(d, current_user, reason=back_form.reason.data,
                            ip=request.remote_addr or "")

    return _apply(d, act, "The evaluation was returned to the system leader.",
                  lambda problem: _page("evaluations/school.html", d, form, problem, **ctx))


# ---------------------------------------------------------------------------- the director


@bp.route("/qa", methods=["GET", "POST"])
@roles("director")
def qa_note(deployment_id: int):
    d = _deployment(deployment_id)
    if d.status not in ("active", "evaluation"):
        return _refuse(409, "Not in progress",
                       "Quality-assurance notes are for a deployment in progress.")
    form = forms.QANoteForm(version=d.version)
    if request.method == "POST" and (replay := idempotency.claim(form)) is not None:
        return replay
    if not form.validate_on_submit():
        code = 422 if request.method == "POST" else 200
        return _page("evaluations/qa_note.html", d, form), code

    def act():
        ev.check_version(d, form.seen_version())
        ev.add_qa_note(d, current_user, is_working=form.is_working.data,
                       changes=form.changes.data or "", next_steps=form.next_steps.data or "",
                       exit_strategy=form.exit_strategy.data or "", ip=request.remote_addr or "")

    return _apply(d, act, "Your quality-assurance review was recorded.",
                  lambda problem: _page("evaluations/qa_note.html", d, form, problem))


@bp.route("/sign-off", methods=["GET", "POST"])
@roles("director")
def sign_off(deployment_id: int):
    d = _deployment(deployment_id)
    if d.status != "evaluation" or not ev.all_schools_signed_off(d):
        return _refuse(409, "Not ready for sign-off",
                       "The final quality-assurance sign-off comes after every receiving school "
                       "has signed off its evaluation.")
    form = forms.FinalQAForm(version=d.version)
    if not form.validate_on_submit():
        code = 422 if request.method == "POST" else 200
        return _page("evaluations/sign_off.html", d, form), code

    def act():
        ev.check_version(d, form.seen_version())
        ev.final_sign_off(d, current_user, notes=form.notes.data, ip=request.remote_addr or "")

    return _apply(d, act, "Quality assurance signed off: the deployment is complete.",
                  lambda problem: _page("evaluations/sign_off.html", d, form, problem))


# ------------------------------------------------------------------------------ early end


@bp.route("/end-early", methods=["GET", "POST"])
@roles("admin", "director")
def end_early(deployment_id: int):
    d = _deployment(deployment_id)
    form = forms.EndEarlyForm(version=d.version)
    if request.method == "POST" and (replay := idempotency.claim(form)) is not None:
        return replay  # sent twice: the first closed it
    if d.status not in ("active", "evaluation"):
        return _refuse(409, "Cannot end early",
                       "Only an active deployment, or one under evaluation, can end early.")
    today = utcnow().astimezone(LONDON).date()
    if request.method == "GET":
        form.half_days_delivered.data = d.half_days_delivered
        return _page("evaluations/end_early.html", d, form)
    valid = form.validate_on_submit()
    if valid and form.half_days_delivered.data > d.half_days_agreed:
        form.half_days_delivered.errors.append(
            f"Half days delivered cannot be more than the {d.half_days_agreed} agreed.")
        valid = False
    if valid and form.last_day_delivered.data > today:
        form.last_day_delivered.errors.append("The last day delivered cannot be in the future.")
        valid = False
    if not valid:
        return _page("evaluations/end_early.html", d, form), 422

    def act():
        ev.check_version(d, form.seen_version())
        ev.end_early(d, current_user, reason=form.reason.data,
                     last_day_delivered=form.last_day_delivered.data,
                     half_days_delivered=form.half_days_delivered.data, today=today,
                     ip=request.remote_addr or "")

    return _apply(d, act, "The deployment was closed early.",
                  lambda problem: _page("evaluations/end_early.html", d, form, problem))
