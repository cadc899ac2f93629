"""Journey step 3: each party confirms or declines a proposal (receiving heads, the home school's
release, the leader). Registered on the ``deployments`` blueprint, with the "responses" panel."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..domain import access, brokering, workflow
from ..domain.errors import Conflict
from ..domain.policy import deployments as policy
from ..htmx import render
from ..models import Deployment
from ..panels import PanelContext, deployment_panels
from ..requests.forms import RespondForm
from ..security import roles
from ..unit_of_work import command
from .routes import bp

PARTY_ROLES = ("headteacher", "home_school", "sle")


@bp.post("/<id:deployment_id>/respond")
@roles(*PARTY_ROLES)
def respond(deployment_id: int) -> ResponseReturnValue:
    d = access.get_deployment(current_user, deployment_id, for_update=True)
    form = RespondForm()
    if not form.validate() or form.decision.data not in ("accepted", "declined"):
        return _page(d, form), 422
    try:
        with command():
            brokering.respond(d, current_user, form.decision.data, form.reason.data or "",
                              ip=request.remote_addr or "")
    except workflow.ReasonRequired as exc:
        form.reason.errors = [str(exc)]
        return _page(access.get_deployment(current_user, deployment_id), form), 422
    except workflow.IllegalTransition as exc:
        return _refused(str(exc), 403 if exc.forbidden else 409)
    except Conflict:
        return _refused("Someone answered this proposal at the same moment. Reload the page: "
                        "your answer was not saved.", 409)
    word = "confirmed" if form.decision.data == "accepted" else "declined"
    flash(f"You {word} the proposal {d.reference}.", "success")
    return redirect(url_for("deployments.show", deployment_id=deployment_id), code=303)


def _page(d: Deployment, form: RespondForm) -> str:
    return render("deployments/show.html", d=d,
                  panels=deployment_panels.build(d, current_user, {"respond_form": form}))


def _refused(message: str, code: int):
    return render("error.html", code=code, title="That did not happen",
                  message=f"{message} Nothing was changed."), code


def responses_panel(ctx: PanelContext[Deployment]) -> dict[str, Any] | None:
    d, user = ctx.obj, ctx.user
    parties = brokering.expected_parties(d)
    answers = {(r.party, r.school_id): r for r in d.responses}
    rows = [(p, answers.get((p.party, p.school_id))) for p in parties]
    mine = brokering.party_of(d, user)
    f = policy.facts(d, user)
    can = policy.actions(d, user, f)
    form = ctx.form("respond_form") or RespondForm(formdata=None)
    on_behalf = {r.id: brokering.on_behalf_summary(r) for r in d.responses if r.on_behalf}
    from .on_behalf import on_behalf_forms  # the forms for a school with no login, if any

    return {"rows": rows, "mine": mine, "can": can, "answer": policy.answer_action(d, user, f),
            "on_behalf": on_behalf, "behalf": on_behalf_forms(ctx, f, can),
            "waiting": d.status == "proposed", "form": form, "d": d}
