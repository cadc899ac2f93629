"""Delivery: the live action plan (edited inline with htmx), first contact, visits, variations.

Every row edit is optimistic: the form carries the row's version, a stale save answers 409 with
the newer text beside the editor's own so nothing is lost. Viewers poll the plan's revision
every few seconds and get 204 while nothing changed. Every form also works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import False_, select
from sqlalchemy.orm import joinedload, selectinload

from .. import idempotency
from ..deployment_lists import DeploymentList
from ..domain import access, audit_words
from ..domain import plans as domain
from ..domain.errors import Conflict, Invalid, NotNow
from ..domain.policy import LEADER_ROLES, require
from ..domain.policy import plans as policy
from ..domain.sla import contact_clock
from ..extensions import db
from ..formatting import uk_date
from ..htmx import render, wants_partial
from ..models import ACTION_STATUSES, ActionPlan, PlanRevision, Variation, Visit, utcnow
from ..models import Deployment as DeploymentModel
from ..panels import PanelContext
from ..security import any_role, background, roles
from ..unit_of_work import command, reads_only
from ..validators import int_arg
from .forms import (
    ActionForm,
    DeclineForm,
    DeliverVisitForm,
    FirstContactForm,
    MoveForm,
    NewActionForm,
    NewOutcomeForm,
    OutcomeForm,
    PlanVisitForm,
    TextForm,
    VariationForm,
    VersionForm,
    VisitForm,
)

bp = Blueprint("plans", __name__)

VIEWERS = access.PLAN_ROLES
KINDS = ("action", "outcome")
COLUMNS = {"action": 7, "outcome": 3}  # the columns of each kind's table (merge view spans)


# ----------------------------------------------------------------------------- helpers


def _plan_for(deployment) -> ActionPlan | None:
    return db.session.scalar(select(ActionPlan).where(ActionPlan.deployment_id == deployment.id))


def _row_form(kind: str, row=None, formdata=None, plan=None, prefix=None):
    adding = row is None and prefix is None  # the "add" form, which carries a one-time key
    if prefix is None:
        prefix = f"{kind[0]}{row.id}" if row is not None else f"new-{kind}"
    if kind == "action":
        form_class = NewActionForm if adding else ActionForm
        form = form_class(formdata=formdata, obj=row if formdata is None else None,
                          prefix=prefix)
        form.set_outcomes(plan.outcomes if plan is not None else [])
    else:
        form_class = NewOutcomeForm if adding else OutcomeForm
        form = form_class(formdata=formdata, obj=row if formdata is None else None,
                          prefix=prefix)
    if row is not None and formdata is None:
        form.version.data = row.version
    return form


def _plan_ctx(deployment, plan) -> dict:
    can = {"edit_plan": policy.edit_plan(deployment, current_user)}
    editable = plan is not None and can["edit_plan"].allowed
    forms = {}
    if editable:
        forms = {"action": _row_form("action", plan=plan), "outcome": _row_form("outcome"),
                 "text": TextForm(formdata=None, prefix="text", obj=plan)}
        forms["text"].version.data = plan.text_version
    # the page's notice sits above its htmx blocks: a partial (a row, the poll) never shows it,
    # so only a whole page pays for reading the commission's agreements
    waiting = None if wants_partial() else policy.commission_hold_message(deployment)
    return {"d": deployment, "plan": plan, "editable": editable, "forms": forms, "can": can,
            "commission_waiting": waiting}


def _days_waiting(deployment: DeploymentModel) -> str | None:
    """Why some agreed days cannot be used yet: an amendment (or, on a commission, the
    commission's new agreement) still waiting for every party's signature."""
    f = policy.facts(deployment)
    return policy.days_waiting_for_signatures(deployment, f) \
        or policy.commission_hold_message(deployment, f)


def _row_response(template: str, status: int = 200, **ctx):
    """An htmx row partial, or (without JavaScript) the whole edit page."""
    if wants_partial():
        return render_template(template, **ctx), status
    return render_template("plans/edit_row.html", partial=template, **ctx), status


def _ip() -> str:
    return request.remote_addr or ""


def _back_to_plan(deployment_id: int, anchor: str = ""):
    return redirect(url_for("plans.show", deployment_id=deployment_id) + anchor, 303)


# ----------------------------------------------------------------------------- the plan


@bp.get("/deployments/<id:deployment_id>/plan")
@any_role
def show(deployment_id: int) -> ResponseReturnValue:
    deployment = access.get_plan_deployment(current_user, deployment_id)
    plan = _plan_for(deployment)
    return render("plans/show.html", "live", **_plan_ctx(deployment, plan))


@bp.post("/deployments/<id:deployment_id>/plan")
@roles(*LEADER_ROLES)  # the leader: a system leader, or a director leading a commission
def start(deployment_id: int) -> ResponseReturnValue:
    deployment = access.get_plan_deployment(current_user, deployment_id)
    domain.start_plan(deployment, current_user, ip=_ip())
    return _back_to_plan(deployment_id)


@bp.get("/deployments/<id:deployment_id>/plan/print")
@any_role
def printable(deployment_id: int) -> ResponseReturnValue:
    deployment = access.get_plan_deployment(current_user, deployment_id)
    plan = _plan_for(deployment)
    visits = _visits(deployment)
    return render_template("plans/print.html", d=deployment, plan=plan, visits=visits,
                           printed_at=utcnow())


@bp.get("/deployments/<id:deployment_id>/plan/history")
@any_role
def history(deployment_id: int) -> ResponseReturnValue:
    deployment = access.get_plan_deployment(current_user, deployment_id)
    plan = _plan_for(deployment)
    revisions: Sequence[PlanRevision] = []
    if plan is not None:
        revisions = db.session.scalars(
            select(PlanRevision).where(PlanRevision.plan_id == plan.id)
            .order_by(PlanRevision.revision.desc()).limit(500)
        ).all()
    outcomes = {o.id: o.text for o in plan.outcomes} if plan is not None else {}
    told = [(r, audit_words.describe_revision(r.entity, r.before, r.after, outcomes))
            for r in revisions]
    return render_template("plans/history.html", d=deployment, plan=plan, revisions=told)


@bp.get("/plans/<id:plan_id>/poll")
@background  # the page asks every few seconds: not activity that keeps a session alive
@reads_only
@any_role
def poll(plan_id: int) -> ResponseReturnValue:
    """204 while the viewer's revision is current (one indexed query); else the fresh plan."""
    since = int_arg("since", "plan revision", minimum=0)
    revision = access.plan_revision(current_user, plan_id)
    if since == revision:
        resp = make_response("", 204)
    else:
        plan = access.get_plan(current_user, plan_id)
        resp = make_response(render("plans/show.html", "live",
                                    **_plan_ctx(plan.deployment, plan)))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/plans/<id:plan_id>/<any(action, outcome):kind>s")
@roles(*LEADER_ROLES)  # the leader: a system leader, or a director leading a commission
def add_row(plan_id: int, kind: str) -> ResponseReturnValue:
    plan = access.get_plan(current_user, plan_id)
    deployment = plan.deployment
    form = _row_form(kind, formdata=request.form, plan=plan)
    if (replay := idempotency.claim(form)) is not None:
        return replay
    if not form.validate():
        ctx = _plan_ctx(deployment, plan)
        ctx["forms"][kind] = form
        if wants_partial():
            return render_template(f"plans/_add_{kind}.html", form=form, **ctx), 422
        return render("plans/show.html", None, **ctx), 422
    row = domain.add_row(plan, kind, form.values(), current_user, ip=_ip())
    idempotency.created(url_for("plans.show", deployment_id=deployment.id) + f"#{kind}-{row.id}",
                        row)
    if wants_partial():
        ctx = _plan_ctx(deployment, plan)
        return render_template("plans/_added.html", row=row, kind=kind, **ctx)
    flash("Added to the plan.", "success")
    return _back_to_plan(deployment.id, f"#{kind}-{row.id}")


@bp.get("/plans/<any(action, outcome):kind>/<id:row_id>")
@reads_only  # one row of the live plan, drawn again: the poll's sibling
@any_role
def row(kind: str, row_id: int) -> ResponseReturnValue:
    obj = access.get_plan_row(current_user, kind, row_id)
    if not wants_partial():
        return _back_to_plan(obj.plan.deployment_id, f"#{kind}-{row_id}")
    ctx = _plan_ctx(obj.plan.deployment, obj.plan)
    return render_template(f"plans/_{kind}_row.html", row=obj, **ctx)


@bp.get("/plans/<any(action, outcome):kind>/<id:row_id>/edit")
@roles(*LEADER_ROLES)  # the leader: a system leader, or a director leading a commission
def edit_row(kind: str, row_id: int) -> ResponseReturnValue:
    obj = access.get_plan_row(current_user, kind, row_id)
    plan = obj.plan
    domain.require_edit(plan.deployment, current_user)
    return _row_response(f"plans/_{kind}_form.html", row=obj, kind=kind, plan=plan,
                         d=plan.deployment, form=_row_form(kind, obj, plan=plan))


@bp.post("/plans/<any(action, outcome):kind>/<id:row_id>")
@roles(*LEADER_ROLES)  # the leader: a system leader, or a director leading a commission
def save_row(kind: str, row_id: int) -> ResponseReturnValue:
    try:
        obj = access.get_plan_row(current_user, kind, row_id)
    except access.NotVisible:
        gone_from = access.removed_row_plan(current_user, kind, row_id)
        if gone_from is None:
            raise
        form = _row_form(kind, None, formdata=request.form, plan=gone_from,
                         prefix=f"{kind[0]}{row_id}")
        return _conflict(kind, row_id, form.values(), form, plan=gone_from)
    plan = obj.plan
    deployment = plan.deployment
    form = _row_form(kind, obj, formdata=request.form, plan=plan)
    ctx = {"row": obj, "kind": kind, "plan": plan, "d": deployment, "form": form}
    if not form.validate():
        return _row_response(f"plans/_{kind}_form.html", 422, **ctx)
    mine = form.values()
    partial = wants_partial()
    try:  # a partial shows only the row just written: nothing to read again (issue 20)
        with command(fresh=not partial):
            domain.save_row(plan, obj, form.version.data, mine, current_user, ip=_ip())
    except Conflict:  # a StaleEdit, or a stale row at the flush
        return _conflict(kind, row_id, mine, form)
    if partial:
        return render_template(f"plans/_{kind}_row.html", row=obj, d=deployment, plan=plan,
                               editable=policy.edit_plan(deployment, current_user).allowed)
    flash("Saved.", "success")
    return _back_to_plan(deployment.id, f"#{kind}-{row_id}")


def _conflict(kind: str, row_id: int, mine: dict, form, plan=None):
    """409: the newer saved text beside the editor's own, in a form based on the new version."""
    try:
        current = access.get_plan_row(current_user, kind, row_id)
    except access.NotVisible:
        current = None
    if current is not None:
        form.version.data = current.version
        plan = current.plan
    ctx = {"row": current, "row_id": row_id, "kind": kind, "plan": plan, "form": form,
           "mine": mine, "columns": COLUMNS[kind], "d": plan.deployment if plan else None,
           "ACTION_STATUSES": ACTION_STATUSES}
    if current is not None and kind == "action":
        form.set_outcomes(plan.outcomes)
    return _row_response("plans/_row_conflict.html", 409, **ctx)


@bp.post("/plans/<any(action, outcome):kind>/<id:row_id>/delete")
@roles(*LEADER_ROLES)  # the leader: a system leader, or a director leading a commission
def delete_row(kind: str, row_id: int) -> ResponseReturnValue:
    try:
        obj = access.get_plan_row(current_user, kind, row_id)
    except access.NotVisible:
        # removed already (a double click) from a plan this user may see: nothing to do;
        # anything else, including another school's rows, is not found
        if wants_partial() and access.removed_row_plan(current_user, kind, row_id) is not None:
            return ""
        raise
    plan = obj.plan
    deployment_id = plan.deployment_id
    form = VersionForm(formdata=request.form)
    if not wants_partial() and request.form.get("confirmed") != "yes" and form.version.data:
        # without JavaScript nothing asked "Remove this?" yet: ask on a page of its own, for
        # the version the form was drawn from (a form without one is refused below, 409)
        domain.require_edit(plan.deployment, current_user)
        return render_template("plans/confirm_remove.html", kind=kind, row=obj,
                               d=plan.deployment, version=form.version.data,
                               ACTION_STATUSES=ACTION_STATUSES)
    try:
        with command():
            domain.remove_row(plan, obj, form.version.data, current_user, ip=_ip())
    except Conflict:
        current = access.get_plan_row(current_user, kind, row_id)
        ctx = _plan_ctx(current.plan.deployment, current.plan)
        return _row_response(f"plans/_{kind}_row.html", 409, row=current, stale=True, **ctx)
    if wants_partial():
        return ""
    flash("Removed from the plan.", "success")
    return _back_to_plan(deployment_id)


@bp.post("/plans/<any(action, outcome):kind>/<id:row_id>/move")
@roles(*LEADER_ROLES)  # the leader: a system leader, or a director leading a commission
def move_row(kind: str, row_id: int) -> ResponseReturnValue:
    obj = access.get_plan_row(current_user, kind, row_id)
    plan = obj.plan
    deployment = plan.deployment
    form = MoveForm(formdata=request.form)
    if not form.validate():
        abort(400)
    try:
        with command():
            domain.move_row(plan, obj, -1 if form.direction.data == "up" else 1, current_user,
                            ip=_ip())
    except Conflict:
        pass  # someone else moved rows at the same moment: show the order as it now is
    db.session.expire_all()
    plan = access.get_plan(current_user, plan.id)
    if wants_partial():
        return render_template(f"plans/_{kind}_table.html", **_plan_ctx(deployment, plan))
    return _back_to_plan(deployment.id, f"#{kind}-{row_id}")


@bp.post("/plans/<id:plan_id>/text")
@roles(*LEADER_ROLES)  # the leader: a system leader, or a director leading a commission
def save_text(plan_id: int) -> ResponseReturnValue:
    plan = access.get_plan(current_user, plan_id)
    deployment = plan.deployment
    form = TextForm(formdata=request.form, prefix="text")
    ctx = _plan_ctx(deployment, plan)
    ctx["forms"]["text"] = form
    if not form.validate():
        return render("plans/show.html", "text", **ctx), 422
    mine = {"next_steps": form.next_steps.data or "", "notes": form.notes.data or ""}
    try:
        with command():
            domain.save_text(plan, form.version.data, mine["next_steps"], mine["notes"],
                             current_user, ip=_ip())
    except Conflict:
        plan = access.get_plan(current_user, plan_id)
        form.version.data = plan.text_version
        ctx = _plan_ctx(deployment, plan)
        ctx["forms"]["text"] = form
        return render("plans/show.html", "text", conflict=mine, **ctx), 409
    if wants_partial():
        ctx = _plan_ctx(deployment, plan)
        return render("plans/show.html", "text", saved=True, **ctx)
    flash("Next steps and notes saved.", "success")
    return _back_to_plan(deployment.id, "#plan-text")


# ---------------------------------------------------------------- contact, visits, days


def _visits(deployment, status: str = "delivered") -> list[Visit]:
    """The deployment's delivered visits, newest first, or its planned ones, soonest first."""
    order = Visit.visit_date.desc() if status == "delivered" else Visit.visit_date
    return list(db.session.scalars(
        select(Visit).where(Visit.deployment_id == deployment.id, Visit.status == status)
        .options(joinedload(Visit.deployment))
        .order_by(order).limit(200)
    ))


def _visits_both(deployment) -> tuple[list[Visit], list[Visit]]:
    """:func:`_visits` delivered (newest first) and planned (soonest first), in one query."""
    rows = list(db.session.scalars(
        select(Visit).where(Visit.deployment_id == deployment.id,
                            Visit.status.in_(("delivered", "planned")))
        .options(joinedload(Visit.deployment), selectinload(Visit.actions))
        .order_by(Visit.visit_date, Visit.id).limit(400)
    ))
    delivered = [v for v in reversed(rows) if v.status == "delivered"][:200]
    return delivered, [v for v in rows if v.status == "planned"][:200]


def _visit(visit_id: int) -> Visit:
    """A visit of a deployment this user may see the plan of, or 404."""
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        abort(404)
    access.get_plan_deployment(current_user, visit.deployment_id)  # 404 if not theirs
    return visit


@bp.route("/deployments/<id:deployment_id>/visits/plan", methods=["GET", "POST"])
@roles(*LEADER_ROLES)  # the leader: a system leader, or a director leading a commission
def plan_visit(deployment_id: int) -> ResponseReturnValue:
    """Plan a visit ahead: the school and the leader see it; its days count once delivered."""
    deployment = access.get_plan_deployment(current_user, deployment_id)
    if (may := policy.plan_visit(deployment, current_user)).forbidden:
        require(may)
    form = PlanVisitForm(formdata=request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if (replay := idempotency.claim(form)) is not None:
            return replay
        if form.validate():
            url = url_for("deployments.show", deployment_id=deployment_id)
            try:
                with command():
                    visit = domain.plan_visit(
                        deployment, current_user, visit_date=form.visit_date.data,
                        half_days=int(form.half_days.data), notes=form.notes.data or "",
                        ip=_ip(), url=url)
                    idempotency.created(url, visit)
            except Invalid as exc:
                exc.show_on(form)
            except Conflict:
                form.visit_date.errors = ["A visit on that date is already planned."]
            else:
                flash(f"Visit planned for {uk_date(visit.visit_date)}.", "success")
                return redirect(url + "#panel-plans", 303)
        status = 422
    return render_template("plans/visit_plan_form.html", d=deployment, form=form,
                           left=domain.half_days_left(deployment),
                           waiting=_days_waiting(deployment),
                           planned=domain.planned_half_days(deployment),
                           window=domain.visit_window(deployment)), status


@bp.route("/visits/<id:visit_id>/delivered", methods=["GET", "POST"])
@roles(*LEADER_ROLES)  # the leader: a system leader, or a director leading a commission
def deliver_visit(visit_id: int) -> ResponseReturnValue:
    """Log a planned visit as delivered: what was done, the actions worked on."""
    visit = _visit(visit_id)
    deployment = visit.deployment
    require(policy.visit_actions(visit, current_user)["deliver"])
    plan = _plan_for(deployment)
    actions = list(plan.actions) if plan is not None else []
    form = DeliverVisitForm(formdata=request.form if request.method == "POST" else None,
                            notes=visit.notes)
    form.actions.choices = [(a.id, a.description[:80]) for a in actions]
    status = 200
    if request.method == "POST":
        if form.validate():
            chosen = [a for a in actions if a.id in set(form.actions.data or [])]
            statuses = {a.id: request.form.get(f"status-{a.id}", "") for a in chosen}
            statuses = {k: v for k, v in statuses.items()
                        if v and v != next(a.status for a in chosen if a.id == k)}
            url = url_for("deployments.show", deployment_id=deployment.id)
            try:
                with command():
                    domain.deliver_visit(visit, current_user, notes=form.notes.data or "",
                                         actions=chosen, statuses=statuses, ip=_ip(), url=url)
            except Invalid as exc:
                exc.show_on(form)
            else:
                flash(f"Visit on {uk_date(visit.visit_date)} logged as delivered.", "success")
                return redirect(url + "#panel-plans", 303)
        status = 422
    return render_template("plans/visit_form.html", d=deployment, form=form, visit=visit,
                           actions={a.id: a for a in actions}, statuses=ACTION_STATUSES,
                           left=domain.half_days_left(deployment),
                           waiting=_days_waiting(deployment),
                           window=domain.visit_window(deployment)), status


@bp.post("/visits/<id:visit_id>/cancel")
@roles(*LEADER_ROLES)  # the leader: a system leader, or a director leading a commission
def cancel_visit(visit_id: int) -> ResponseReturnValue:
    visit = _visit(visit_id)
    deployment_id, when = visit.deployment_id, visit.visit_date  # CSRF: checked app-wide
    url = url_for("deployments.show", deployment_id=deployment_id)
    domain.cancel_visit(visit, current_user, ip=_ip(), url=url)
    flash(f"The visit planned for {uk_date(when)} is cancelled.", "success")
    return redirect(url + "#panel-plans", 303)


@bp.post("/deployments/<id:deployment_id>/first-contact")
@roles(*LEADER_ROLES)  # the leader: a system leader, or a director leading a commission
def first_contact(deployment_id: int) -> ResponseReturnValue:
    deployment = access.get_plan_deployment(current_user, deployment_id)
    form = FirstContactForm(formdata=request.form)
    if not form.validate():
        abort(400)
    try:
        with command():
            domain.log_first_contact(
                deployment, current_user, note=form.note.data or "", ip=_ip(),
                url=url_for("deployments.show", deployment_id=deployment_id))
    except NotNow as exc:
        if exc.status != 409 or deployment.first_contact_at is None:
            raise
        flash("First contact was already logged.", "info")  # a double click: no change
        return redirect(url_for("deployments.show", deployment_id=deployment_id), 303)
    except Conflict:
        flash("First contact was already logged.", "info")
        return redirect(url_for("deployments.show", deployment_id=deployment_id), 303)
    flash("First contact logged.", "success")
    return redirect(url_for("deployments.show", deployment_id=deployment_id), 303)


@bp.route("/deployments/<id:deployment_id>/visits/new", methods=["GET", "POST"])
@roles(*LEADER_ROLES)  # the leader: a system leader, or a director leading a commission
def new_visit(deployment_id: int) -> ResponseReturnValue:
    deployment = access.get_plan_deployment(current_user, deployment_id)
    if (may := policy.log_visit(deployment, current_user)).forbidden:
        require(may)  # not the leader's; a frozen deployment still shows the form (POST: 409)
    plan = _plan_for(deployment)
    actions = list(plan.actions) if plan is not None else []
    form = VisitForm(formdata=request.form if request.method == "POST" else None)
    form.actions.choices = [(a.id, a.description[:80]) for a in actions]
    status = 200
    if request.method == "POST":
        if (replay := idempotency.claim(form)) is not None:
            return replay
        if form.validate():
            chosen = [a for a in actions if a.id in set(form.actions.data or [])]
            statuses = {a.id: request.form.get(f"status-{a.id}", "") for a in chosen}
            statuses = {k: v for k, v in statuses.items()
                        if v and v != next(a.status for a in chosen if a.id == k)}
            url = url_for("deployments.show", deployment_id=deployment_id)
            try:
                with command():
                    visit = domain.log_visit(
                        deployment, current_user, visit_date=form.visit_date.data,
                        half_days=int(form.half_days.data), notes=form.notes.data or "",
                        actions=chosen, statuses=statuses, ip=_ip(), url=url)
                    idempotency.created(url, visit)
            except Invalid as exc:
                exc.show_on(form)
            except Conflict:
                form.visit_date.errors = ["A visit on that date is already logged."]
            else:
                flash("Visit logged.", "success")
                return redirect(url_for("deployments.show", deployment_id=deployment_id), 303)
        status = 422
    return render_template("plans/visit_form.html", d=deployment, form=form,
                           actions={a.id: a for a in actions}, statuses=ACTION_STATUSES,
                           left=domain.half_days_left(deployment),
                           waiting=_days_waiting(deployment),
                           window=domain.visit_window(deployment)), status


@bp.route("/deployments/<id:deployment_id>/variations/new", methods=["GET", "POST"])
@roles(*LEADER_ROLES, "admin")
def new_variation(deployment_id: int) -> ResponseReturnValue:
    deployment = access.get_plan_deployment(current_user, deployment_id)
    if (may := policy.request_variation(deployment, current_user)).forbidden:
        require(may)  # not theirs; a pending request or a frozen deployment: the POST says so
    form = VariationForm(formdata=request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if (replay := idempotency.claim(form)) is not None:
            return replay
        if form.validate():
            url = url_for("deployments.show", deployment_id=deployment_id)
            try:
                with command():
                    variation = domain.request_variation(
                        deployment, current_user, form.half_days.data, form.reason.data,
                        ip=_ip(), url=url)
                    idempotency.created(url, variation)
            except Conflict:  # another one was asked for at the same moment
                raise domain.NotAllowed(domain.ONE_PENDING_VARIATION) from None
            except Invalid as exc:
                exc.show_on(form)
            else:
                flash("Extra days asked for. The receiving headteacher and the director must "
                      "both approve.", "success")
                return redirect(url_for("deployments.show", deployment_id=deployment_id), 303)
        status = 422
    return render_template("plans/variation_form.html", d=deployment, form=form), status


def _decided(exc: NotNow | Conflict, url: str) -> ResponseReturnValue:
    """Already decided (a double click, or the other party at the same moment): the view
    answers with where the request for extra days now stands; a refusal (403) is not caught."""
    if exc.status != 409:
        raise exc
    flash(str(exc) if isinstance(exc, NotNow) else
          "Someone else decided at the same moment; here is where it stands.", "info")
    return redirect(url, 303)


@bp.post("/variations/<id:variation_id>/approve")
@roles("headteacher", "director")
def approve_variation(variation_id: int) -> ResponseReturnValue:
    v = access.get_variation(current_user, variation_id)
    url = url_for("deployments.show", deployment_id=v.deployment_id)
    try:
        with command():
            done = domain.approve_variation(v, current_user, ip=_ip(), url=url)
    except (NotNow, Conflict) as exc:
        return _decided(exc, url)
    flash("Approved: the agreed days have risen." if done
          else "Approved. The other party must approve too.", "success")
    return redirect(url, 303)


@bp.post("/variations/<id:variation_id>/decline")
@roles("headteacher", "director")
def decline_variation(variation_id: int) -> ResponseReturnValue:
    v = access.get_variation(current_user, variation_id)
    url = url_for("deployments.show", deployment_id=v.deployment_id)
    form = DeclineForm(formdata=request.form, prefix=f"v{v.id}")
    if not form.validate():
        flash("Say why you decline the extra days.", "error")
        return redirect(url, 303)
    try:
        with command():
            domain.decline_variation(v, current_user, form.reason.data, ip=_ip(), url=url)
    except (NotNow, Conflict) as exc:
        return _decided(exc, url)
    flash("Extra days declined.", "success")
    return redirect(url, 303)


# ------------------------------------------------------------------------------ the panel


def plans_panel(ctx: PanelContext[DeploymentModel]) -> dict[str, Any] | None:
    """First contact (with the 7-day clock), days used vs agreed, visits, variations, plan."""
    deployment, user = ctx.obj, ctx.user
    if not policy.shows_delivery(deployment):
        return None
    sees_plan = user.role in VIEWERS  # the deployment page is already scoped to the user
    clock = None
    if deployment.confirmed_at is not None and policy.sees_contact_clock(deployment, user):
        clock = contact_clock(deployment.confirmed_at, utcnow(), deployment.first_contact_at)
    variations = list(db.session.scalars(
        select(Variation).where(Variation.deployment_id == deployment.id)
        .order_by(Variation.id.desc()).limit(20)
    )) if sees_plan else []
    # the newest variation tells whether one is pending (no second read)
    f = policy.facts(deployment, variations[0] if variations else None) if sees_plan else \
        policy.facts(deployment)
    visits, planned = _visits_both(deployment) if sees_plan else ([], [])
    return {
        "d": deployment,
        "clock": clock,
        "sees_plan": sees_plan,
        "can": policy.actions(deployment, user, f),
        "days_waiting": policy.days_waiting_for_signatures(deployment, f),
        "commission_waiting": policy.commission_hold_message(deployment, f),
        "variation_can": {v.id: policy.actions(v, user, f) for v in variations},
        "visits": visits,
        "planned": planned,
        "visit_can": {v.id: policy.visit_actions(v, user) for v in planned},
        "variations": variations,
        "plan": _plan_for(deployment) if sees_plan else None,
        "contact_form": FirstContactForm(),
        "decline_forms": {v.id: DeclineForm(prefix=f"v{v.id}") for v in variations},
    }


def first_contact_lists(ctx: PanelContext[None]) -> dict[str, DeploymentList] | None:
    """Deployments still waiting for the leader's first contact, the most urgent first (read
    with the home page's other lists, ``portal.deployment_lists``); None: never for this
    role, no panel and no query."""
    waiting = policy.waiting_first_contact(ctx.user)
    if isinstance(waiting, False_):
        return None
    return {"rows": DeploymentList(waiting, ("confirmed_at", "id"), 20)}


def first_contact_panel(ctx: PanelContext[None]) -> dict[str, Any] | None:
    rows = ctx.lists.get("rows")
    if not rows:
        return None
    now = utcnow()
    return {"rows": [(d, contact_clock(d.confirmed_at, now)) for d in rows]}
