"""The commission page (Sefton B-F): everyone deployed under an NLE/LLE commission, their stage
and plan, the commissioner's QA notes, and "Deploy a colleague" from the ranked list.

Who may see or do what is ``portal/domain/policy/commissions.py`` (and ``access`` for whom each
viewer sees); the commands are ``portal/domain/commissions.py``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from .. import idempotency
from ..domain import access, commissions, errors, finance
from ..domain.errors import Invalid
from ..domain.policy import commissions as policy
from ..domain.policy import finance as finance_policy
from ..domain.policy import plans as plan_policy
from ..domain.policy import require
from ..extensions import db
from ..htmx import render
from ..models import Deployment, Evaluation
from ..panels import PanelContext
from ..security import any_role, roles
from ..unit_of_work import command
from .forms import DeployForm, RemoveForm

bp = Blueprint("commissions", __name__, url_prefix="/commissions")

DEPLOYERS = ("sle", "admin", "director")


def _days_asked(commission: Deployment) -> int:
    """The half days the ranked list is for: ?days= (whole or half days), else the request's."""
    raw = request.args.get("days", "").strip()
    try:
        half = int(Decimal(raw) * 2) if raw else 0
    except (InvalidOperation, ValueError):
        half = 0
    return half if 1 <= half <= commissions.MAX_HALF_DAYS else \
        max(1, commission.request.half_days_wanted or 2)


def _page(commission: Deployment, form: DeployForm | None = None,
          remove_form: RemoveForm | None = None, remove_id: int | None = None) -> str:
    can = policy.actions(commission, current_user)
    half_days = form.half_days if form is not None and form.days.data and not form.days.errors \
        else _days_asked(commission)
    ranked = commissions.ranking(commission, half_days) if can["deploy"].allowed else None
    if form is None:
        form = DeployForm(formdata=None)
        form.days.data = Decimal(half_days) / 2
    members = commissions.members(commission, current_user)
    ids = [m.deployment.id for m in members]
    found = db.session.scalars(
        select(Evaluation).where(Evaluation.deployment_id.in_(ids),
                                 Evaluation.kind.in_(("qa_mid", "qa_final")),
                                 access.evaluations_visible_to(current_user))
        .order_by(Evaluation.created_at, Evaluation.id)).all()
    names = {m.deployment.id: m.deployment.leader.name for m in members}
    notes = [(f"{'End-of-work sign-off' if n.kind == 'qa_final' else 'Mid-point review'} of "
              f"{names.get(n.deployment_id, 'the commission')}",
              "Notes" if n.kind == "qa_final" else "Is it working?", n) for n in found]
    money = finance_policy.general(current_user)["view_invoices"].allowed
    quote = finance.commission_quote(commission) if money else None
    return render(
        "commissions/show.html", "people", c=commission, members=members, can=can,
        person_can={m.deployment.id: policy.person_actions(m.deployment, current_user)
                    for m in members},
        ranked=ranked, form=form, remove_form=remove_form or RemoveForm(formdata=None),
        remove_id=remove_id, notes=notes,
        held=(held := finance.commission_holds([m.deployment for m in members])),
        usable={m.deployment.id: finance.usable_half_days(m.deployment, held[m.deployment.id])
                for m in members},
        held_words=[plan_policy.extra_days_held(held[m.deployment.id],
                                                f"for {m.deployment.leader.name}")
                    for m in members if held[m.deployment.id]],
        quote=quote, default_days=f"{half_days / 2:g}")


@bp.get("/<id:deployment_id>")
@any_role
def show(deployment_id: int) -> ResponseReturnValue:
    commission = commissions.get_commission(current_user, deployment_id)
    return _page(commission)


@bp.post("/<id:deployment_id>/deploy")
@roles(*DEPLOYERS)
def deploy(deployment_id: int) -> ResponseReturnValue:
    commission = commissions.get_commission(current_user, deployment_id)
    form = DeployForm()
    if (replay := idempotency.claim(form)) is not None:
        return replay
    require(policy.deploy(commission, current_user))
    if not form.validate():
        return _page(commission, form), 422
    try:
        with command():
            person = commissions.deploy(commission, form.leader_id.data, form.half_days,
                                        current_user, ip=request.remote_addr or "")
    except Invalid as exc:
        if exc.field == "leader_id":
            form.leader_id.errors = [str(exc)]
        else:
            exc.show_on(form)
        return _page(commissions.get_commission(current_user, deployment_id), form), 422
    idempotency.created(url_for("commissions.show", deployment_id=deployment_id), person)
    flash(f"{person.leader.name} is proposed under the commission. The school, their home "
          "school and they have been asked to agree; the commission's agreement changed for "
          "every party to sign.", "success")
    return redirect(url_for("commissions.show", deployment_id=deployment_id), code=303)


@bp.post("/people/<id:deployment_id>/remove")
@roles(*DEPLOYERS)
def remove(deployment_id: int) -> ResponseReturnValue:
    person = access.get_deployment(current_user, deployment_id, for_update=True)
    if person.commission is None:
        raise errors.NotVisible()
    require(policy.remove(person, current_user))
    form = RemoveForm()
    if not form.validate():
        return _page(person.commission, remove_form=form, remove_id=person.id), 422
    commission_id = person.commission_id
    commissions.remove(person, current_user, reason=form.reason.data,
                       ip=request.remote_addr or "")
    flash(f"{person.leader.name} is off the commission. Its agreement changed for every party "
          "to sign.", "success")
    return redirect(url_for("commissions.show", deployment_id=commission_id), code=303)


def commission_panel(ctx: PanelContext[Deployment]) -> dict[str, Any] | None:
    """On a deployment's page: the commission it is, or belongs to, with a link to it."""
    d, user = ctx.obj, ctx.user
    root = finance.commission_root(d)
    if root is None:
        return None
    visible = db.session.scalar(select(Deployment.id).where(
        Deployment.id == root.id, access.deployments_visible_to(user))) is not None
    return {"d": d, "root": root, "is_root": root.id == d.id, "visible": visible,
            "count": len(finance.commission_members(root))}
