"""Support requests: the list a user may see, and one request in full."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import idempotency
from ..domain import access, audit, brokering, notify, workflow
from ..domain.errors import Conflict, Forbidden, Invalid, NotNow
from ..domain.policy import requests as policy
from ..domain.policy import require
from ..domain.sla import match_clock
from ..extensions import db
from ..htmx import render
from ..models import (
    LIVE_STATUSES,
    REQUEST_STATUSES,
    Deployment,
    RequestSchool,
    School,
    Specialism,
    SupportRequest,
    utcnow,
)
from ..pagination import paginate
from ..panels import PanelContext, request_panels
from ..security import any_role, roles
from ..unit_of_work import command
from .forms import NewRequestForm, ProposeForm, ReasonForm, RequestForm, TriageForm

bp = Blueprint("requests", __name__, url_prefix="/requests")


@bp.get("/")
@any_role
def index() -> ResponseReturnValue:
    status = request.args.get("status", "")
    where = access.requests_visible_to(current_user)
    if status in REQUEST_STATUSES:
        where = where & (SupportRequest.status == status)
    else:
        status = ""
    stmt = (
        select(SupportRequest)
        .where(where)
        .options(
            selectinload(SupportRequest.schools).joinedload(RequestSchool.school),
            joinedload(SupportRequest.specialism),
        )
        .order_by(SupportRequest.created_at.desc(), SupportRequest.id.desc())
    )
    page = paginate(stmt)
    return render("requests/index.html", "results", page=page, status=status,
                  statuses=REQUEST_STATUSES)


@bp.get("/<id:request_id>")
@any_role
def show(request_id: int) -> ResponseReturnValue:
    return _show(access.get_request(current_user, request_id))


def _show(req: SupportRequest, **forms: Any) -> str:
    """The request page; ``forms`` are re-shown by its panels (e.g. ``triage_form``)."""
    deployments = db.session.scalars(
        select(Deployment)
        .where(Deployment.request_id == req.id, access.deployments_visible_to(current_user))
        .options(joinedload(Deployment.leader), joinedload(Deployment.home_school))
        .order_by(Deployment.proposed_at)
    ).all()
    clock = match_clock(req.submitted_at, utcnow(), req.matched_at) if req.submitted_at else None
    return render("requests/show.html", req=req, deployments=deployments, match_clock=clock,
                  panels=request_panels.build(req, current_user, forms))


# ------------------------------------------------------------------ writing and triage (step 1-2)


WRITERS = policy.WRITERS
OVERSEERS = policy.OVERSEERS


def conflict(message: str, code: int = 409):
    """Answer a refused or lost action: nothing was saved (the unit of work rolls back)."""
    return render("error.html", code=code, title="That did not happen",
                  message=message), code


def _form(req: SupportRequest | None = None) -> RequestForm:
    form = RequestForm(obj=None) if req is not None else NewRequestForm(obj=None)
    form.specialism_id.choices = [(0, "Choose a subject or specialism")] + [
        (s.id, s.name) for s in db.session.scalars(select(Specialism).order_by(Specialism.name))
    ]
    schools = db.session.scalars(
        select(School).where(School.alliance_id == current_user.alliance_id)
        .order_by(School.name)
    ).all()
    form.school_ids.choices = [(s.id, s.name) for s in schools]
    if request.method == "GET":
        if req is not None:
            form.title.data = req.title
            form.standards.data = req.standards
            form.phase.data = req.phase
            form.specialism_id.data = req.specialism_id or 0
            for name in ("staff_involved", "priorities", "desired_outcomes",
                         "measures_of_success", "start_date", "end_date", "kind", "route"):
                getattr(form, name).data = getattr(req, name)
            form.days_wanted.data = req.half_days_wanted / 2 if req.half_days_wanted else None
            form.school_ids.data = [rs.school_id for rs in req.schools]
        else:
            form.kind.data = "sle_deployment"
            form.route.data = "board" if current_user.role == "board" else "school"
            if current_user.school_id:
                form.school_ids.data = [current_user.school_id]
                form.phase.data = current_user.school.phase
    return form


def _valid(form: RequestForm) -> bool:
    ok = form.validate()
    if form.specialism_id.data == 0 and not form.specialism_id.errors:
        form.specialism_id.errors = ["Choose a subject or specialism."]
        ok = False
    return ok


def _submit(req: SupportRequest) -> None:
    brokering.submit_request(req, current_user, ip=request.remote_addr or "")
    notify.notify(brokering.admins_of(req.alliance_id),
                  f"New request {req.reference} {req.title} from {current_user.name}",
                  brokering.request_url(req), alliance_id=req.alliance_id)


@bp.route("/new", methods=["GET", "POST"])
@roles(*WRITERS)
def new() -> ResponseReturnValue:
    if current_user.role == "board" and request.method == "GET":
        # a Board member's one "New request" is the Board's own form (targeting a school)
        return redirect(url_for("targeted.new"), code=303)
    form = _form()
    if request.method == "POST":
        if (replay := idempotency.claim(form)) is not None:
            return replay
        if not _valid(form):
            return render("requests/form.html", "form", form=form, req=None), 422
        try:
            with command():
                req = brokering.create_request(current_user, school_ids=form.school_ids.data,
                                               **form.model_fields())
                if request.form.get("submit_now"):
                    _submit(req)
                idempotency.created(url_for("requests.show", request_id=req.id), req)
        except Invalid as exc:
            exc.show_on(form)
            return render("requests/form.html", "form", form=form, req=None), 422
        except Conflict:
            return conflict("Someone saved the same thing at the same time. Nothing was saved.")
        done = "submitted" if req.status == "submitted" else "saved as a draft"
        flash(f"Request {req.reference} {done}.", "success")
        return redirect(url_for("requests.show", request_id=req.id), code=303)
    return render("requests/form.html", "form", form=form, req=None)


@bp.route("/<id:request_id>/edit", methods=["GET", "POST"])
@roles(*WRITERS)
def edit(request_id: int) -> ResponseReturnValue:
    req = access.get_request(current_user, request_id, for_update=request.method == "POST")
    try:
        require(policy.actions(req, current_user)["edit"])
    except (Forbidden, NotNow) as exc:
        return conflict(str(exc), exc.status)
    form = _form(req)
    if request.method == "POST":
        if not request.form.get("version"):
            return conflict("This form did not say which version of the request it changes, so "
                            "it was not saved over anyone else's change. Reload the page and "
                            "make your change again. Nothing was saved.")
        if request.form["version"] != str(req.version):
            return conflict("Someone changed this request since you opened it. Reload the page "
                            "to see their change. Nothing was saved.")
        if not _valid(form):
            return render("requests/form.html", "form", form=form, req=req,
                          can=policy.actions(req, current_user)), 422
        try:
            with command():
                for name, value in form.model_fields().items():
                    setattr(req, name, value)
                brokering.set_schools(req, form.school_ids.data)
                brokering.set_route(req, current_user)
                audit.record(current_user, "supportrequest.edited", req,
                             ip=request.remote_addr or "")
                if request.form.get("submit_now"):
                    _submit(req)
                idempotency.created(url_for("requests.show", request_id=req.id), req)
        except Invalid as exc:
            exc.show_on(form)
            req = access.get_request(current_user, request_id)
            return render("requests/form.html", "form", form=form, req=req,
                          can=policy.actions(req, current_user)), 422
        except Conflict:
            return conflict("Someone changed this request at the same time. Nothing was saved.")
        flash(f"Request {req.reference} {'submitted' if req.status == 'submitted' else 'saved'}.",
              "success")
        return redirect(url_for("requests.show", request_id=req.id), code=303)
    return render("requests/form.html", "form", form=form, req=req,
                  can=policy.actions(req, current_user))


def _move(request_id: int, action: str, reason: str = "", *, after=None):
    """Take request ``action`` (a :data:`brokering.MOVES` key, or "submit" for either kind of
    submission) through its domain command, which requires the policy first."""
    req = access.get_request(current_user, request_id, for_update=True)
    ip = request.remote_addr or ""
    try:
        with command():
            if action == "submit":
                brokering.submit_request(req, current_user, ip=ip)
            else:
                brokering.move_request(req, action, current_user, reason=reason, ip=ip)
            if after:
                after(req)
    except workflow.ReasonRequired as exc:
        flash(str(exc), "error")
        return redirect(url_for("requests.show", request_id=request_id), code=303)
    except (Forbidden, NotNow) as exc:
        return conflict(f"{str(exc).rstrip('.')}. Nothing was changed.", exc.status)
    except Conflict:
        return conflict("Someone else changed this request at the same time. Nothing was saved.")
    return redirect(url_for("requests.show", request_id=request_id), code=303)


@bp.post("/<id:request_id>/submit")
@roles(*WRITERS)
def submit(request_id: int) -> ResponseReturnValue:
    def tell(req):
        notify.notify(brokering.admins_of(req.alliance_id),
                      f"New request {req.reference} {req.title} from {current_user.name}",
                      brokering.request_url(req), alliance_id=req.alliance_id)
    ReasonForm()  # CSRF is checked globally; the form has no fields to validate
    return _move(request_id, "submit", after=tell)


@bp.post("/<id:request_id>/withdraw")
@roles(*WRITERS, *OVERSEERS)
def withdraw(request_id: int) -> ResponseReturnValue:
    def tell(req):
        if req.submitted_at:
            notify.notify(brokering.admins_of(req.alliance_id),
                          f"Request {req.reference} was withdrawn", brokering.request_url(req),
                          alliance_id=req.alliance_id, email=False)
    return _move(request_id, "withdraw", request.form.get("reason", ""), after=tell)


@bp.post("/<id:request_id>/triage")
@roles(*OVERSEERS)
def triage(request_id: int) -> ResponseReturnValue:
    req = access.get_request(current_user, request_id, for_update=True)
    form = TriageForm()
    if not form.validate():
        return _show(req, triage_form=form), 422
    reason = (form.reason.data or "").strip()

    def tell(r):
        if reason:
            r.triage_note = reason
        words = {"matching": "was accepted and is being matched",
                 "more_info": f"needs more information: {reason}",
                 "declined": f"was declined: {reason}"}[form.action.data]
        notify.notify([r.requested_by], f"Your request {r.reference} {words}",
                      brokering.request_url(r), alliance_id=r.alliance_id)
    return _move(request_id, policy.TRIAGE_ACTIONS[form.action.data], reason, after=tell)


@bp.get("/<id:request_id>/match")
@roles(*OVERSEERS)
def match(request_id: int) -> ResponseReturnValue:
    req = access.get_request(current_user, request_id)
    if not (can := policy.actions(req, current_user)["match"]):
        return conflict(can.reason, 403 if can.forbidden else 409)
    result = brokering.ranking(req)
    designation = request.args.get("designation", "")
    q = request.args.get("q", "").strip().casefold()
    only_free = request.args.get("free") == "1"
    matches = [m for m in result.matches
               if (not designation or m.candidate.designation == designation)
               and (not q or q in m.candidate.name.casefold())
               and (not only_free or not m.warnings)]
    return render("requests/match.html", "results", req=req, matches=matches,
                  exclusions=result.exclusions, designation=designation,
                  q=request.args.get("q", ""), only_free=only_free, form=ProposeForm(),
                  can=policy.actions(req, current_user))


@bp.post("/<id:request_id>/propose")
@roles(*OVERSEERS)
def propose(request_id: int) -> ResponseReturnValue:
    req = access.get_request(current_user, request_id, for_update=True)
    form = ProposeForm()
    if (replay := idempotency.claim(form)) is not None:
        return replay
    if not form.validate():
        flash(form.errors.get("idempotency_key", ["Choose a system leader to propose."])[0],
              "error")
        return redirect(url_for("requests.match", request_id=request_id), code=303)
    try:
        with command():
            d = brokering.propose(req, form.leader_id.data, current_user,
                                  ip=request.remote_addr or "")
            idempotency.created(url_for("deployments.show", deployment_id=d.id), d)
    except brokering.NotProposable as exc:
        return conflict(f"{exc} Nothing was saved.", 422)
    except (Forbidden, NotNow) as exc:
        return conflict(f"{exc} Nothing was saved.", exc.status)
    except Conflict:
        return conflict("Another co-ordinator proposed someone for this request at the same "
                        "time. Nothing of yours was saved.")
    flash(f"{d.leader.name} proposed. The receiving school, home school and system leader have "
          "been asked to confirm.", "success")
    return redirect(url_for("deployments.show", deployment_id=d.id), code=303)


def progress_panel(ctx: PanelContext[SupportRequest]) -> dict[str, Any] | None:
    req, user = ctx.obj, ctx.user
    live = [d for d in db.session.scalars(
        select(Deployment).where(Deployment.request_id == req.id,
                                 Deployment.status.in_(LIVE_STATUSES)))]
    return {
        "req": req,
        "can": policy.actions(req, user),
        "live": live,
        "triage_form": ctx.form("triage_form") or TriageForm(formdata=None),
    }


