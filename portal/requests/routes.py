"""Support requests: the list a user may see, and one request in full."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from .. import idempotency
from ..domain import access, brokering
from ..domain.errors import Invalid
from ..domain.policy import requests as policy
from ..domain.policy import require
from ..domain.sla import match_clock
from ..extensions import db
from ..htmx import render
from ..models import (
    LIVE_STATUSES,
    REQUEST_STATUSES,
    ROUTES,
    Deployment,
    RequestSchool,
    School,
    Specialism,
    SupportRequest,
    utcnow,
)
from ..pagination import paginate, rows_through_page
from ..panels import PanelContext, request_panels
from ..security import any_role, roles
from ..unit_of_work import command
from .forms import NewRequestForm, ProposeForm, ReasonForm, RequestForm, TriageForm

bp = Blueprint("requests", __name__, url_prefix="/requests")


@bp.get("/")
@any_role
def index() -> ResponseReturnValue:
    status = request.args.get("status", "")
    if status not in REQUEST_STATUSES:
        status = ""
    shown = rows_through_page()
    stmt = (
        select(SupportRequest)
        .where(access.first_visible_requests(current_user, limit=shown,
                                             status=status or None))
        .options(  # the schools in the page's own query (a partial costs at most 3)
            joinedload(SupportRequest.schools).joinedload(RequestSchool.school),
            joinedload(SupportRequest.specialism),
        )
        .order_by(*access.REQUESTS_NEWEST_FIRST)
    )
    page = paginate(stmt, access.count_visible_requests(current_user, status=status or None))
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
    clock = match_clock(req.submitted_at, utcnow(), req.matched_at) \
        if policy.shows_match_clock(req) else None
    return render("requests/show.html", req=req, deployments=deployments, match_clock=clock,
                  panels=request_panels.build(req, current_user, forms))


# ------------------------------------------------------------------ writing and triage (step 1-2)


WRITERS = policy.WRITERS
OVERSEERS = policy.OVERSEERS


def _form(req: SupportRequest | None = None) -> RequestForm:
    form = RequestForm(obj=None) if req is not None else NewRequestForm(obj=None)
    form.specialism_id.choices = [(0, "Choose a subject or specialism")] + [
        (s.id, s.name) for s in db.session.scalars(select(Specialism).order_by(Specialism.name))
    ]
    # an officer names schools of their group only, and their requests take their route
    officer_route = current_user.officer_route
    # a headteacher whose school is in more than one network chooses where it goes (a new
    # request only), and may name the schools of any of those networks
    networks = access.networks_of(current_user.school_id) \
        if req is None and current_user.role == "headteacher" else []
    if len(networks) > 1:
        form.alliance_id.choices = networks
        if request.method == "GET":
            form.alliance_id.data = current_user.alliance_id
    elif isinstance(form, NewRequestForm):
        del form.alliance_id
    if current_user.role == "officer":
        where = access.group_schools(current_user)
    elif len(networks) > 1:
        where = or_(*(access.in_network(alliance_id) for alliance_id, _ in networks))
    else:
        where = access.in_network(req.alliance_id if req is not None
                                  else current_user.alliance_id)
    schools = db.session.scalars(select(School).where(where).order_by(School.name)).all()
    form.school_ids.choices = [(s.id, s.name) for s in schools]
    if officer_route is not None:
        form.route.choices = [(officer_route, ROUTES[officer_route])]
        form.school_ids.label.text = f"Schools of {current_user.group_name} to support"
    if request.method == "GET":
        if req is not None:
            form.title.data = req.title
            form.standards.data = req.standards
            form.phase.data = req.phase
            form.specialism_id.data = req.specialism_id or 0
            for name in ("staff_involved", "priorities", "desired_outcomes",
                         "measures_of_success", "start_date", "end_date", "kind", "route"):
                getattr(form, name).data = getattr(req, name)
            if req.hours_wanted:  # a consultation: asked for in hours
                form.hours_wanted.data = req.hours_wanted
            else:
                form.days_wanted.data = req.half_days_wanted / 2 if req.half_days_wanted else None
            form.school_ids.data = [rs.school_id for rs in req.schools]
        else:
            form.kind.data = "sle_deployment"
            form.route.data = "board" if current_user.role == "board" else \
                officer_route or "school"
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


def _ip() -> str:
    return request.remote_addr or ""


def _form_page(form: RequestForm, req: SupportRequest | None) -> str:
    can = policy.actions(req, current_user) if req is not None else None
    return render("requests/form.html", "form", form=form, req=req, can=can,
                  asked=req is not None and policy.asks_for_more_info(req))


@bp.route("/new", methods=["GET", "POST"])
@roles(*WRITERS)
def new() -> ResponseReturnValue:
    if current_user.role == "board" and request.method == "GET":
        # a Board member's one "New request" is the Board's own form (targeting a school)
        return redirect(url_for("targeted.new"), code=303)
    # the page refuses as the command would (an officer with no group yet)
    require(policy.create(current_user))
    form = _form()
    if request.method == "POST":
        if (replay := idempotency.claim(form)) is not None:
            return replay
        if not _valid(form):
            return _form_page(form, None), 422
        try:
            with command():
                req = brokering.create_request(
                    current_user, school_ids=form.school_ids.data,
                    alliance_id=form.alliance_id.data if "alliance_id" in form else None,
                    submit=bool(request.form.get("submit_now")), ip=_ip(), **form.model_fields())
        except Invalid as exc:  # the hours, or a Board route with no Board: beside the field
            exc.show_on(form)
            return _form_page(form, None), 422
        idempotency.created(url_for("requests.show", request_id=req.id), req)
        done = "submitted" if req.submitted_at else "saved as a draft"
        flash(f"Request {req.reference} {done}.", "success")
        return redirect(url_for("requests.show", request_id=req.id), code=303)
    return _form_page(form, None)


@bp.route("/<id:request_id>/edit", methods=["GET", "POST"])
@roles(*WRITERS)
def edit(request_id: int) -> ResponseReturnValue:
    req = access.get_request(current_user, request_id, for_update=request.method == "POST")
    require(policy.actions(req, current_user)["edit"])
    form = _form(req)
    if request.method == "POST":
        if not _valid(form):
            return _form_page(form, req), 422
        submitting = bool(request.form.get("submit_now"))
        try:
            with command():
                brokering.edit_request(req, current_user, version=request.form.get("version"),
                                       school_ids=form.school_ids.data, submit=submitting,
                                       ip=_ip(), **form.model_fields())
        except Invalid as exc:
            exc.show_on(form)
            return _form_page(form, access.get_request(current_user, request_id)), 422
        idempotency.created(url_for("requests.show", request_id=req.id), req)
        flash(f"Request {req.reference} {'submitted' if submitting else 'saved'}.", "success")
        return redirect(url_for("requests.show", request_id=req.id), code=303)
    return _form_page(form, req)


def _back(request_id: int) -> ResponseReturnValue:
    return redirect(url_for("requests.show", request_id=request_id), code=303)


@bp.post("/<id:request_id>/submit")
@roles(*WRITERS)
def submit(request_id: int) -> ResponseReturnValue:
    req = access.get_request(current_user, request_id, for_update=True)
    ReasonForm()  # CSRF is checked globally; the form has no fields to validate
    brokering.submit_request(req, current_user, ip=_ip())
    return _back(request_id)


@bp.post("/<id:request_id>/withdraw")
@roles(*WRITERS, *OVERSEERS)
def withdraw(request_id: int) -> ResponseReturnValue:
    req = access.get_request(current_user, request_id, for_update=True)
    brokering.withdraw_request(req, current_user, reason=request.form.get("reason", ""),
                               ip=_ip())
    # say what happened: the page alone does not (issue 15, item 10)
    flash(f"Request {req.reference} withdrawn. The co-ordinator has been told.", "success")
    return _back(request_id)


@bp.post("/<id:request_id>/triage")
@roles(*OVERSEERS)
def triage(request_id: int) -> ResponseReturnValue:
    req = access.get_request(current_user, request_id, for_update=True)
    form = TriageForm()
    if not form.validate():
        return _show(req, triage_form=form), 422
    try:
        with command():
            brokering.triage_request(req, form.action.data, current_user,
                                     reason=form.reason.data or "", ip=_ip())
    except Invalid as exc:
        exc.show_on(form)
        return _show(access.get_request(current_user, request_id), triage_form=form), 422
    said = {"matching": "accepted for matching. Next: find a system leader.",
            "more_info": "sent back to the school asking for more information.",
            "declined": "declined. The school has been told why."}.get(form.action.data, "")
    flash(f"Request {req.reference} {said}", "success")
    return _back(request_id)


@bp.get("/<id:request_id>/match")
@roles(*OVERSEERS)
def match(request_id: int) -> ResponseReturnValue:
    req = access.get_request(current_user, request_id)
    require(policy.actions(req, current_user)["match"])
    result = brokering.ranking(req)
    designation = request.args.get("designation", "")
    q = request.args.get("q", "").strip().casefold()
    only_free = request.args.get("free") == "1"
    matches = [m for m in result.matches
               if (not designation or m.candidate.designation == designation)
               and (not q or q in m.candidate.name.casefold())
               and (not only_free or not m.warnings)]
    clock = match_clock(req.submitted_at, utcnow(), req.matched_at) if req.submitted_at else None
    return render("requests/match.html", "results", req=req, matches=matches, match_clock=clock,
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
    d = brokering.propose(req, form.leader_id.data, current_user, ip=_ip())
    idempotency.created(url_for("deployments.show", deployment_id=d.id), d)
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
        "next_step": policy.next_step(req),
        "note_heading": policy.triage_note_heading(req),
        "live": live,
        "triage_form": ctx.form("triage_form") or TriageForm(formdata=None),
    }


