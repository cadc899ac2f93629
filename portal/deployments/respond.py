"""Journey step 3: each party confirms or declines a proposal (receiving heads, the home school's
release, the leader). Registered on the ``deployments`` blueprint, with the "responses" panel."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..domain import access, agreements, brokering
from ..domain.errors import Forbidden, Invalid
from ..domain.policy import LEADER_ROLES
from ..domain.policy import deployments as policy
from ..formatting import days
from ..htmx import render
from ..models import DESIGNATIONS, Deployment
from ..panels import PanelContext, deployment_panels
from ..requests.forms import RespondForm
from ..security import roles
from ..unit_of_work import command
from .routes import bp

PARTY_ROLES = ("headteacher", "home_school", *LEADER_ROLES)


@bp.post("/<id:deployment_id>/respond")
@roles(*PARTY_ROLES)
def respond(deployment_id: int) -> ResponseReturnValue:
    d = access.get_deployment(current_user, deployment_id, for_update=True)
    if policy.party_of(d, current_user, policy.facts(d, current_user)) is None:
        # a director answers only a proposal they lead (a commission): not anyone else's
        raise Forbidden("Only a party to this proposal answers it.")
    form = RespondForm()
    if not form.validate():
        return _page(d, form), 422
    try:
        with command():
            brokering.respond(d, current_user, form.decision.data, form.reason.data or "",
                              ip=request.remote_addr or "")
    except Invalid as exc:
        exc.show_on(form)
        return _page(access.get_deployment(current_user, deployment_id), form), 422
    word = "confirmed" if form.decision.data == "accepted" else "declined"
    flash(f"You {word} the proposal {d.reference}.", "success")
    return redirect(url_for("deployments.show", deployment_id=deployment_id), code=303)


def _page(d: Deployment, form: RespondForm) -> str:
    return render("deployments/show.html", d=d,
                  panels=deployment_panels.build(d, current_user, {"respond_form": form}))


def _asked(answer: str | None, d: Deployment) -> tuple[str, str]:
    """What the party answering is asked, and the words on its button."""
    if answer == "release":
        return (f"Agree to release {d.leader.name} for {days(d.half_days_agreed)}?",
                "Agree the release")
    if answer == "accept":
        return f"Accept this deployment of {days(d.half_days_agreed)}?", "Accept the deployment"
    return (f"Confirm {d.leader.name} as the system leader for your school?",
            "Confirm the system leader")


def responses_panel(ctx: PanelContext[Deployment]) -> dict[str, Any] | None:
    d, user = ctx.obj, ctx.user
    parties = brokering.expected_parties(d)
    answers = {(r.party, r.school_id): r for r in d.responses}
    rows = [(p, answers.get((p.party, p.school_id))) for p in parties]
    f = policy.facts(d, user)
    mine = brokering.party_of(d, user, f)
    can = policy.actions(d, user, f)
    form = ctx.form("respond_form") or RespondForm(formdata=None)
    answer = policy.answer_action(d, user, f)
    question, button = _asked(answer, d)
    # the receiving headteacher sees the price before confirming (in Sefton it depends on who
    # is proposed)
    price = agreements.price_for_school(d, user.school_id) \
        if answer == "confirm" and can["confirm"].allowed else None
    on_behalf = {r.id: brokering.on_behalf_summary(r) for r in d.responses if r.on_behalf}
    from .on_behalf import on_behalf_forms  # the forms for a school with no login, if any

    return {"rows": [(p, r, r is not None and r.decision == "accepted") for p, r in rows],
            "mine": mine, "can": can, "answer": answer, "question": question,
            "button": button, "waiting": policy.is_open(d), "form": form, "d": d,
            "price": price, "designation": DESIGNATIONS.get(d.designation, ""),
            "on_behalf": on_behalf, "behalf": on_behalf_forms(ctx, f, can)}
