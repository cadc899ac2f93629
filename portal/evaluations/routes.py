"""Step 6 pages: the leader's evaluation, forwarding, the schools' sign-off, the director's
quality assurance, and ending a deployment early. Shown on the deployment page as the
"evaluations" panel.

The worked example of a feature on the policy framework: who may do what, and when, is
``portal/domain/policy/evaluations.py``. The panel hands the decisions to its template as
``can``; each GET page pre-checks with ``require()`` (so a refusal reads like the command's);
each POST is load -> form -> one command -> redirect, or the form again with 422 when the
command says the input is :class:`Invalid`. Forbidden, NotNow and Conflict are answered by the
app's error pages; the request's unit of work commits or rolls back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import idempotency
from ..domain import access
from ..domain import evaluations as ev
from ..domain.errors import Invalid
from ..domain.policy import LEADER_ROLES, require
from ..domain.policy import evaluations as policy
from ..domain.policy.commissions import is_commission
from ..extensions import db
from ..formatting import LONDON
from ..models import (
    EVALUATION_KINDS,
    RATINGS,
    Deployment,
    Evaluation,
    EvaluationDraft,
    User,
    utcnow,
)
from ..panels import PanelContext
from ..security import roles
from ..unit_of_work import command
from . import forms

bp = Blueprint("evaluations", __name__, url_prefix="/deployments/<id:deployment_id>/evaluations")

PANEL_STATUSES = ("active", "evaluation", "completed", "ended_early")
SCHOOL_STATUS_LABELS = {"forwarded": "Waiting for the school", "signed_off": "Signed off",
                        "returned": "Returned to the system leader"}


# ------------------------------------------------------------------------------------ panel


def _evaluations(d: Deployment, user: User) -> tuple[list[Evaluation], list[Evaluation]]:
    """Every evaluation of ``d`` in the order written (what the rules read) and those the
    user may see (what the panel shows, with their ratings), in one query."""
    rows = db.session.execute(
        select(Evaluation, access.evaluations_visible_to(user).label("visible"))
        .where(Evaluation.deployment_id == d.id)
        .options(selectinload(Evaluation.ratings))
        .order_by(Evaluation.created_at, Evaluation.id)
    ).all()
    return [e for e, _v in rows], [e for e, visible in rows if visible]


def _stage(d: Deployment, f: policy.Facts, waiting_for: list[str]) -> str:
    """Which sentence the panel opens with (the template shows it; it decides nothing)."""
    if d.status in ("ended_early", "completed"):
        return d.status
    if d.status != "evaluation":
        return "in_progress"
    if f.leader is not None and f.leader.status in ("submitted", "returned"):
        return f"leader_{f.leader.status}"
    return "waiting_schools" if waiting_for else "waiting_director"


def evaluations_panel(ctx: PanelContext[Deployment]) -> dict[str, Any] | None:
    d, user = ctx.obj, ctx.user
    if d.status not in PANEL_STATUSES:
        return None
    every, found = _evaluations(d, user)
    f = policy.facts(d, every)
    schools = ev.receiving_schools(d)
    names = {s.id: s.name for s in schools}
    leader = next((e for e in found if e.kind == "leader"), None)
    school_evals = [e for e in found if e.kind == "school"]
    signed = {sid for sid, e in f.schools.items() if e.status == "signed_off"}
    waiting_for = [s.name for s in schools if s.id not in signed]
    group_name = d.request.requested_by.group_name
    if f.group is not None and f.group.status != "signed_off":
        waiting_for.append(f"{group_name or 'the group'} (the officer, for the group)")
    return {
        "d": d,
        "stage": _stage(d, f, waiting_for),
        "leader": leader,
        "leader_returned": leader is not None and leader.status == "returned",
        "schools": [(e, e.status == "signed_off", SCHOOL_STATUS_LABELS.get(e.status, e.status),
                     e.status == "returned") for e in school_evals],
        "school_names": names,
        "waiting_for": waiting_for,
        "group": next((e for e in found if e.kind == "group"), None),
        "group_status": {**SCHOOL_STATUS_LABELS, "forwarded": "Waiting for the officer"},
        "group_name": group_name,
        "group_signed": f.group is not None and f.group.status == "signed_off",
        "qa_notes": [e for e in found if e.kind == "qa_mid"],
        "final": next((e for e in found if e.kind == "qa_final"), None),
        "outcomes": {o.id: o for o in ev.outcomes_for(d)},
        "is_commission": is_commission(d),
        "ratings": RATINGS,
        "scores": ev.SCORES,
        "kinds": EVALUATION_KINDS,
        "can": policy.actions(d, user, f),
        "forward_form": ctx.form("forward_form") or forms.ForwardForm(version=d.version),
    }


# ---------------------------------------------------------------------------------- helpers


def _deployment(deployment_id: int) -> Deployment:
    return access.get_deployment(current_user, deployment_id)


def _can(d: Deployment, action: str) -> None:
    """Pre-check a page with the same decision its command requires (403 or 409 otherwise)."""
    require(policy.actions(d, current_user)[action])


def _back_url(d: Deployment) -> str:
    return url_for("deployments.show", deployment_id=d.id) + "#panel-evaluations"


def _back(d: Deployment) -> ResponseReturnValue:
    return redirect(_back_url(d), 303)


def _run(d: Deployment, form: forms.VersionedForm, command: Callable[[int | None], object],
         success: str, again: Callable[[str], ResponseReturnValue]) -> ResponseReturnValue:
    """Run one command with the version the user saw (it refuses a moved-on deployment), and
    redirect; on :class:`Invalid` show the form again (422) with the message beside its field.
    Other errors go to the app's handlers (Forbidden 403, NotNow 409, Conflict 409); the unit
    of work rolls back."""
    try:
        command(form.seen_version())
        idempotency.created(_back_url(d), d)  # a form sent twice shows this, not a conflict
    except Invalid as exc:
        exc.show_on(form)
        return again(str(exc) if not exc.field else ""), 422  # type: ignore[return-value]
    flash(success, "success")
    return _back(d)


def _page(template: str, d: Deployment, form: FlaskForm, problem: str = "",
          **ctx: Any) -> str:
    kind = _DRAFT_KINDS.get(template)
    if kind and "group_name" in ctx and ctx["group_name"]:
        kind = "group"
    draft = ev.draft_for(d, current_user, kind) if kind else None
    return render_template(template, d=d, form=form, problem=problem, ratings=RATINGS,
                           draft=draft, **ctx)


# ---------------------------------------------------------------------------------- drafts

# the form pages that can be saved as a draft, and the kind of draft each keeps
_DRAFT_KINDS = {"evaluations/leader.html": "leader", "evaluations/school.html": "school",
                "evaluations/qa_note.html": "qa_mid"}
_NOT_KEPT = {"csrf_token", "version", "idempotency_key"}


def _wants_draft() -> bool:
    """The form's "Save as draft" button (a plain submit button: works without JavaScript)."""
    return request.method == "POST" and bool(request.form.get("save_draft"))


def _save_draft(d: Deployment, kind: str, form: FlaskForm,
                again: Callable[[str], ResponseReturnValue]) -> ResponseReturnValue:
    """Keep what was typed, unvalidated (sending it later validates it in full), and come
    back to the same form."""
    typed = {f.name: request.form.get(f.name, "") for f in form
             if f.name not in _NOT_KEPT and f.name in request.form}
    try:
        with command():
            ev.save_draft(d, current_user, kind, typed, ip=request.remote_addr or "")
    except Invalid as exc:
        return again(str(exc)), 422  # type: ignore[return-value]
    flash("Your draft is saved. Only you can see it: come back to finish and send it.",
          "success")
    return redirect(request.path, 303)


def _fill_draft(form: FlaskForm, draft: EvaluationDraft | None) -> bool:
    """Put a saved draft back into its form (GET); False when there is none."""
    if draft is None:
        return False
    for name, value in draft.fields.items():
        if name in form and name not in _NOT_KEPT:
            form[name].data = value
    return True


# ------------------------------------------------------------------------------ the leader


@bp.route("/evaluation", methods=["GET", "POST"])
@roles(*LEADER_ROLES)
def leader(deployment_id: int) -> ResponseReturnValue:
    d = _deployment(deployment_id)
    outcomes = ev.outcomes_for(d)
    existing = ev.leader_evaluation(d)
    form = forms.leader_form(outcomes, version=d.version)

    def again(problem: str = "") -> ResponseReturnValue:
        return _page("evaluations/leader.html", d, form, problem, existing=existing,
                     returned=policy.was_returned(existing))

    if _wants_draft():
        _can(d, "evaluate")
        return _save_draft(d, "leader", form, again)
    if request.method == "POST" and (replay := idempotency.claim(form)) is not None:
        return replay  # sent twice: the first was saved (claimed before the policy is asked)
    _can(d, "evaluate")
    if request.method == "GET" and not _fill_draft(form, ev.draft_for(d, current_user, "leader")) \
            and existing is not None:
        _fill(form, existing, ("summary", "changes_for_teachers", "changes_for_pupils",
                               "recommendations", "exit_arrangements"))
    if not form.validate_on_submit():
        code = 422 if request.method == "POST" else 200
        return _page("evaluations/leader.html", d, form, existing=existing,
                     returned=policy.was_returned(existing)), code

    def act(seen: int | None) -> object:
        return ev.submit_leader_evaluation(
            d, current_user, ratings=forms.ratings_from(form), summary=form.summary.data,
            changes_for_teachers=form.changes_for_teachers.data,
            changes_for_pupils=form.changes_for_pupils.data,
            recommendations=form.recommendations.data,
            exit_arrangements=form.exit_arrangements.data, seen_version=seen,
            ip=request.remote_addr or "")

    return _run(d, form, act, "Your final evaluation was sent to the co-ordinator.",
                  lambda problem: _page("evaluations/leader.html", d, form, problem,
                                        existing=existing,
                                        returned=policy.was_returned(existing)))


def _fill(form: FlaskForm, source: Evaluation, names: tuple[str, ...]) -> None:
    for name in names:
        form[name].data = getattr(source, name)
    for r in source.ratings:
        if f"rating_{r.outcome_id}" in form:
            form[f"rating_{r.outcome_id}"].data = str(r.rating)
            form[f"evidence_{r.outcome_id}"].data = r.evidence


# ------------------------------------------------------------------------------ the admin


@bp.post("/forward")
@roles("admin", "director")
def forward(deployment_id: int) -> ResponseReturnValue:
    d = _deployment(deployment_id)
    form = forms.ForwardForm()
    if not form.validate_on_submit():
        abort(400)
    return _run(d, form, lambda seen: ev.forward(d, current_user, seen_version=seen,
                                                 ip=request.remote_addr or ""),
                "The evaluation was forwarded to the receiving school(s).",
                lambda problem: render_template("error.html", code=422, title="Not forwarded",
                                                message=problem))


# ----------------------------------------------------------------------- receiving schools


@bp.route("/school", methods=["GET", "POST"])
@roles("headteacher")
def school(deployment_id: int) -> ResponseReturnValue:
    d = _deployment(deployment_id)
    _can(d, "sign_school")
    return _school_questions(d, "school", ev.sign_off_school,
                             "Your school's evaluation is signed off.",
                             back_form=forms.ReturnForm(version=d.version, formdata=None))


@bp.route("/group", methods=["GET", "POST"])
@roles("officer")
def group(deployment_id: int) -> ResponseReturnValue:
    """The officer's evaluation of the support to their group of schools as a whole: the
    school's questions, for the group (each headteacher still signs for their own school)."""
    d = _deployment(deployment_id)
    _can(d, "sign_group")
    return _school_questions(d, "group", ev.sign_off_group,
                             "Your group's evaluation is signed off.",
                             back_form=None, group_name=current_user.group_name)


def _school_questions(d: Deployment, kind: str, sign_off: Any, done: str,
                      **extra: Any) -> ResponseReturnValue:
    """The school's questions (a school's evaluation, or an officer's for the group): a draft
    saved, the form shown, or the answers signed off with ``sign_off``."""
    outcomes = ev.outcomes_for(d)
    people = ev.people_to_rate(d) if kind == "school" else []
    form = forms.school_form(outcomes, people, version=d.version)
    ctx: dict[str, Any] = {"leader_ev": ev.leader_evaluation(d), "outcomes": outcomes,
                           "scores": ev.SCORES, "people": people, **extra}

    def page(problem: str = "") -> str:
        return _page("evaluations/school.html", d, form, problem, **ctx)

    if _wants_draft():
        return _save_draft(d, kind, form, page)
    if request.method == "GET":
        _fill_draft(form, ev.draft_for(d, current_user, kind))
    if not form.validate_on_submit():
        return page(), 422 if request.method == "POST" else 200

    def act(seen: int | None) -> object:
        more = {"people": forms.people_from(form)} if people else {}
        return sign_off(
            d, current_user, ratings=forms.ratings_from(form),
            support_quality=int(form.support_quality.data),
            value_for_money=int(form.value_for_money.data),
            would_use_again=form.would_use_again.data == "yes", summary=form.summary.data or "",
            seen_version=seen, ip=request.remote_addr or "", **more)

    return _run(d, form, act, done, page)


@bp.post("/school/return")
@roles("headteacher")
def school_return(deployment_id: int) -> ResponseReturnValue:
    d = _deployment(deployment_id)
    _can(d, "sign_school")
    outcomes = ev.outcomes_for(d)
    people = ev.people_to_rate(d)
    back_form = forms.ReturnForm()
    form = forms.school_form(outcomes, people, version=d.version, formdata=None)
    ctx: dict[str, Any] = {"leader_ev": ev.leader_evaluation(d), "outcomes": outcomes,
                           "scores": ev.SCORES, "back_form": back_form, "people": people}
    if not back_form.validate_on_submit():
        return _page("evaluations/school.html", d, form, **ctx), 422

    def act(seen: int | None) -> object:
        return ev.return_to_leader(d, current_user, reason=back_form.reason.data,
                                   seen_version=seen, ip=request.remote_addr or "")

    return _run(d, back_form, act, "The evaluation was returned to the system leader.",
                  lambda problem: _page("evaluations/school.html", d, form, problem, **ctx))


# ---------------------------------------------------------------------------- the director


@bp.route("/qa", methods=["GET", "POST"])
@roles("director", "sle")  # the commissioner of a commission: policy/evaluations.py
def qa_note(deployment_id: int) -> ResponseReturnValue:
    d = _deployment(deployment_id)
    form = forms.QANoteForm(version=d.version)
    if _wants_draft():
        _can(d, "qa_note")
        return _save_draft(d, "qa_mid", form,
                           lambda problem: _page("evaluations/qa_note.html", d, form, problem))
    if request.method == "POST" and (replay := idempotency.claim(form)) is not None:
        return replay
    _can(d, "qa_note")
    if request.method == "GET":
        _fill_draft(form, ev.draft_for(d, current_user, "qa_mid"))
    if not form.validate_on_submit():
        code = 422 if request.method == "POST" else 200
        return _page("evaluations/qa_note.html", d, form), code

    def act(seen: int | None) -> object:
        return ev.add_qa_note(d, current_user, is_working=form.is_working.data,
                              changes=form.changes.data or "",
                              next_steps=form.next_steps.data or "",
                              exit_strategy=form.exit_strategy.data or "",
                              seen_version=seen, ip=request.remote_addr or "")

    return _run(d, form, act, "Your quality-assurance review was recorded.",
                  lambda problem: _page("evaluations/qa_note.html", d, form, problem))


@bp.route("/sign-off", methods=["GET", "POST"])
@roles("director", "sle")  # the commissioner of a commission: policy/evaluations.py
def sign_off(deployment_id: int) -> ResponseReturnValue:
    d = _deployment(deployment_id)
    _can(d, "sign_off")
    form = forms.FinalQAForm(version=d.version)
    if not form.validate_on_submit():
        code = 422 if request.method == "POST" else 200
        return _page("evaluations/sign_off.html", d, form), code

    def act(seen: int | None) -> object:
        return ev.final_sign_off(d, current_user, notes=form.notes.data,
                                 seen_version=seen, ip=request.remote_addr or "")

    return _run(d, form, act, "Quality assurance signed off: the deployment is complete.",
                  lambda problem: _page("evaluations/sign_off.html", d, form, problem))


# ------------------------------------------------------------------------------ early end


@bp.route("/end-early", methods=["GET", "POST"])
@roles("admin", "director", "sle")  # the sle: a commissioner, for someone on the commission
def end_early(deployment_id: int) -> ResponseReturnValue:
    d = _deployment(deployment_id)
    form = forms.EndEarlyForm(version=d.version)
    if request.method == "POST" and (replay := idempotency.claim(form)) is not None:
        return replay  # sent twice: the first closed it
    _can(d, "end_early")
    today = utcnow().astimezone(LONDON).date()
    if request.method == "GET":
        form.half_days_delivered.data = d.half_days_delivered
        return _page("evaluations/end_early.html", d, form)
    if not form.validate_on_submit():
        return _page("evaluations/end_early.html", d, form), 422

    def act(seen: int | None) -> object:
        ev.end_early(d, current_user, reason=form.reason.data,
                     last_day_delivered=form.last_day_delivered.data,
                     half_days_delivered=form.half_days_delivered.data, today=today,
                     seen_version=seen, ip=request.remote_addr or "")
        return d

    return _run(d, form, act, "The deployment was closed early.",
                  lambda problem: _page("evaluations/end_early.html", d, form, problem))
