"""The Board approves the funding of a Board-funded deployment; the co-ordinator changes who pays.

Each route: load (access) -> form -> one command (``portal/domain/boards.py``) -> redirect, or the
form again with the message beside its field.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..domain import access, boards, brokering, charging
from ..domain.errors import Invalid
from ..domain.policy import funding as policy
from ..domain.policy import require
from ..extensions import db
from ..models import Deployment
from ..panels import PanelContext
from ..security import roles
from ..unit_of_work import command
from .forms import ApproveFundingForm, ChangeFundingForm

bp = Blueprint("boards", __name__, url_prefix="/deployments")

OVERSEERS = policy.OVERSEERS


def _figures(d: Deployment, concession: int | None = None) -> dict[str, Any]:
    """What the Board reads before approving: its budget left, the grant, any concession."""
    board = d.request.board
    out: dict[str, Any] = {"board": board, "party_labels": charging.PARTY_LABELS}
    if board is not None:
        out["budget"] = boards.budget(board, leaving_out=d.id)
    try:
        out["quote"] = boards.quote(d, concession_day=concession)
        out["unfunded"] = boards.quote(d, targeted=False)
    except ValueError as exc:
        out["quote_error"] = str(exc)
    return out


def funding_panel(ctx: PanelContext[Deployment]) -> dict[str, Any] | None:
    """Who pays, and whether the Board has approved: for everyone who sees a Board-funded
    deployment, and for the co-ordinator (who may change it) on any deployment."""
    d, user = ctx.obj, ctx.user
    can = policy.actions(d, user)
    if not (policy.board_funded(d) or can["change_funding"]):
        return None
    return {"d": d, "can": can, "board": d.request.board,
            "awaiting": policy.awaiting_board(d), "confirmed": brokering.all_confirmed(d)}


def to_approve(ctx: PanelContext[None]) -> dict[str, Any] | None:
    """The Board member's home page: deployments whose funding waits for the Board."""
    if ctx.user.role != "board":
        return None
    # the twin holds the Board's visibility rule (the request's Board is the member's)
    rows = db.session.scalars(
        select(Deployment).where(policy.waiting_board_approval(ctx.user))
        .options(joinedload(Deployment.request), joinedload(Deployment.leader))
        .order_by(Deployment.proposed_at, Deployment.id).limit(20)).all()
    return {"deployments": rows}


@bp.route("/<id:deployment_id>/funding/approve", methods=["GET", "POST"])
@roles("board")
def approve(deployment_id: int) -> ResponseReturnValue:
    d = access.get_deployment(current_user, deployment_id, for_update=request.method == "POST")
    require(policy.actions(d, current_user)["approve_funding"])
    form = ApproveFundingForm()
    if request.method == "GET":
        form.concession.data = d.concession_day_pence
        return render_template("boards/approve.html", d=d, form=form, **_figures(d))
    if not form.validate():
        return render_template("boards/approve.html", d=d, form=form, **_figures(d)), 422
    concession = form.concession.data or 0
    try:
        with command():
            boards.approve_funding(d, current_user, concession_day=concession,
                                   ip=request.remote_addr or "")
    except Invalid as exc:
        exc.show_on(form)
        d = access.get_deployment(current_user, deployment_id)
        return render_template("boards/approve.html", d=d, form=form, **_figures(d)), 422
    d = access.get_deployment(current_user, deployment_id)
    flash("The Board's funding is approved." + (
        " Everyone has confirmed, so the agreement is drafted." if d.status == "agreement"
        else " The agreement is drafted once every party has confirmed."), "success")
    return redirect(url_for("deployments.show", deployment_id=deployment_id), 303)


@bp.route("/<id:deployment_id>/funding", methods=["GET", "POST"])
@roles(*OVERSEERS)
def change(deployment_id: int) -> ResponseReturnValue:
    d = access.get_deployment(current_user, deployment_id, for_update=request.method == "POST")
    require(policy.actions(d, current_user)["change_funding"])
    form = ChangeFundingForm()
    form.board_id.choices = [("", "No Board")] + boards.funding_choices(current_user)
    if request.method == "GET":
        form.route.data = d.request.route
        form.board_id.data = d.request.board_id
        return render_template("boards/change.html", d=d, form=form)
    if not form.validate():
        return render_template("boards/change.html", d=d, form=form), 422
    try:
        with command():
            boards.change_funding(d, current_user, route=form.route.data,
                                  board_id=form.board_id.data, ip=request.remote_addr or "")
    except Invalid as exc:
        exc.show_on(form)
        d = access.get_deployment(current_user, deployment_id)
        return render_template("boards/change.html", d=d, form=form), 422
    flash("Who pays has been changed.", "success")
    return redirect(url_for("deployments.show", deployment_id=deployment_id), 303)
