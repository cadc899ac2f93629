"""A school with no login is never a dead end (issue 15): the co-ordinator or director records
that school's answer to a proposal on its behalf (who agreed, how, when), or invites the
school's leader to answer themselves, from the deployment page. The rules are
``policy/deployments.py`` (``confirm_on_behalf``, ``release_on_behalf``); the commands
``brokering.respond_on_behalf`` and ``invites.invite_school_leader``."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .. import idempotency
from ..domain import access, brokering, errors, invites, workflow
from ..domain.policy import Decision, require
from ..domain.policy import deployments as policy
from ..htmx import render
from ..models import Deployment
from ..panels import PanelContext, deployment_panels
from ..security import roles
from ..unit_of_work import command
from .forms import InviteLeaderForm, OnBehalfForm
from .routes import bp

OVERSEERS = policy.OVERSEERS


def _choices(d: Deployment, f: policy.Facts) -> list[tuple[str, str]]:
    """The school parties an answer may be recorded for: unanswered, with no login."""
    labels = {(p.party, p.school_id): p.label for p in brokering.expected_parties(d)}
    return [(f"{party}:{school_id}", labels[(party, school_id)])
            for party in policy.ON_BEHALF.values()
            for school_id in policy.on_behalf_schools(d, f, party)]


def _parse(value: str) -> tuple[str, int] | None:
    party, _, school = (value or "").partition(":")
    return (party, int(school)) if party in policy.ROLE_OF_PARTY and school.isdigit() else None


def _allowed(d: Deployment, f: policy.Facts) -> None:
    """Refuse (403 or 409, with the policy's reason) unless some answer may be recorded."""
    can = policy.actions(d, current_user, f)
    decisions = [can[a] for a in policy.ON_BEHALF]
    if not any(decisions):
        require(next((x for x in decisions if x.forbidden), decisions[0]))


def _page(d: Deployment, **forms: Any) -> str:
    return render("deployments/show.html", d=d,
                  panels=deployment_panels.build(d, current_user, forms))


@bp.post("/<id:deployment_id>/on-behalf")
@roles(*OVERSEERS)
def record_on_behalf(deployment_id: int) -> ResponseReturnValue:
    d = access.get_deployment(current_user, deployment_id, for_update=True)
    f = policy.facts(d, current_user)
    _allowed(d, f)
    form = OnBehalfForm()
    form.school.choices = _choices(d, f)
    if not form.validate_on_submit():
        return _page(d, on_behalf_form=form), 422
    party, school_id = _parse(form.school.data) or ("", 0)
    try:
        with command():
            brokering.respond_on_behalf(
                d, current_user, party=party, school_id=school_id,
                decision=form.decision.data, agreed_by_name=form.agreed_by_name.data,
                agreed_by_role=form.agreed_by_role.data, agreed_via=form.agreed_via.data,
                agreed_on=form.agreed_on.data, reason=form.reason.data or "",
                ip=request.remote_addr or "")
    except workflow.ReasonRequired as exc:
        form.reason.errors = [str(exc)]
        return _page(access.get_deployment(current_user, deployment_id),
                     on_behalf_form=form), 422
    except errors.Invalid as exc:
        exc.show_on(form)
        return _page(access.get_deployment(current_user, deployment_id),
                     on_behalf_form=form), 422
    label = dict(form.school.choices).get(form.school.data, "The school")
    word = "agreed" if form.decision.data == "accepted" else "declined"
    flash(f"Recorded: {label} {word} ({form.agreed_by_name.data.strip()}, "
          f"{brokering.AGREED_VIA[form.agreed_via.data]}).", "success")
    return redirect(url_for("deployments.show", deployment_id=deployment_id), code=303)


@bp.post("/<id:deployment_id>/invite-school-leader")
@roles(*OVERSEERS)
def invite_school_leader(deployment_id: int) -> ResponseReturnValue:
    d = access.get_deployment(current_user, deployment_id)
    f = policy.facts(d, current_user)
    _allowed(d, f)
    form = InviteLeaderForm()
    form.school.choices = _choices(d, f)
    if (replay := idempotency.claim(form)) is not None:
        return replay  # sent twice: one invitation
    if not form.validate_on_submit():
        return _page(d, invite_form=form), 422
    party, school_id = _parse(form.school.data) or ("", 0)
    try:
        with command():
            user = invites.invite_school_leader(
                current_user, school_id=school_id, role=policy.ROLE_OF_PARTY[party],
                name=form.name.data, email=form.email.data, ip=request.remote_addr or "")
    except errors.Invalid as exc:
        exc.show_on(form)
        return _page(access.get_deployment(current_user, deployment_id), invite_form=form), 422
    where = url_for("deployments.show", deployment_id=deployment_id)
    idempotency.created(where, user)
    flash(f"Invitation sent to {user.email}. Once {user.name} has set a password they can "
          "answer here themselves; until then you can still record the school's answer.",
          "success")
    return redirect(where, code=303)


def on_behalf_forms(ctx: PanelContext[Deployment], f: policy.Facts,
                    can: dict[str, Decision]) -> dict[str, Any] | None:
    """For the responses panel (one set of facts for both): the forms that record a school's
    answer on its behalf and invite its leader, when this user may use them."""
    if not any(can[a] for a in policy.ON_BEHALF):
        return None
    d = ctx.obj
    choices = _choices(d, f)
    form = ctx.form("on_behalf_form") or OnBehalfForm(formdata=None)
    invite = ctx.form("invite_form") or InviteLeaderForm(formdata=None)
    form.school.choices = invite.school.choices = choices
    return {"d": d, "form": form, "invite": invite, "choices": choices}
