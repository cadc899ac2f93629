"""Agreement pages: read and sign (htmx panel), decline, edit, void, print, verify.

URLs:
  GET  /deployments/<id>/agreement            the agreement with its signing panel
  POST /deployments/<id>/agreement/sign       sign the version shown (fresh login needed)
  POST /deployments/<id>/agreement/decline    decline, with a reason
  GET|POST /deployments/<id>/agreement/edit   admin or director edits the terms
  POST /deployments/<id>/agreement/void       admin or director voids it, with a reason
  GET  /deployments/<id>/agreement/print      printable signed agreement with the evidence
  GET  /deployments/<id>/agreement.pdf        the same as a PDF, with its certificate page
  GET  /deployments/<id>/agreement/evidence.json  its evidence bundle (flask verify-agreement)
  GET|POST /agreements/terms                  the alliance's terms-and-conditions template
  GET  /agreements/verify/<token>             public: every check of the agreement, and does a
                                              fingerprint match the fully signed agreement?
  GET|POST /confirm-password                  re-enter the password before signing
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, flash, make_response, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import literal, select
from werkzeug.datastructures import MultiDict

from .. import documents, drafts
from ..auth.flow import school_account_of
from ..domain import access, audit, errors, signing
from ..domain import agreements as service
from ..domain.errors import Conflict, Invalid, NotNow, NotVisible
from ..domain.policy import agreements as policy
from ..domain.policy import require
from ..extensions import db, limiter
from ..formatting import uk_date
from ..htmx import hx_redirect, is_htmx, render
from ..models import AGREEMENT_STATUSES, Agreement, Alliance, Deployment, User
from ..panels import PanelContext
from ..security import any_role, is_fresh, mark_fresh, public, roles, safe_next
from ..unit_of_work import command
from ..validators import int_arg
from .forms import (
    ConfirmPasswordForm,
    DeclineForm,
    EditForm,
    OnBehalfSignForm,
    SignForm,
    TermsForm,
    VerifyForm,
    VoidForm,
)

bp = Blueprint("agreements", __name__)

OVERSEERS = policy.OVERSEERS


def _ip() -> str:
    return request.remote_addr or ""


def _ua() -> str:
    return request.headers.get("User-Agent", "")[:400]


def _on_behalf_form(agreement, f, form=None) -> OnBehalfSignForm:
    form = form or OnBehalfSignForm(formdata=None, version=agreement.version,
                                    content_hash=agreement.content_hash)
    form.party.choices = [(s.party, s.description) for s in f.on_behalf]
    return form


def _context(deployment: Deployment, agreement, *, sign_form=None, decline_form=None,
             behalf_form=None, message: str = "", message_kind: str = "info") -> dict:
    signers = {s.user_id for s in agreement.signatures}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(signers)))} \
        if signers else {}
    slots = service.slots(deployment, agreement)
    f = policy.facts(agreement, deployment, current_user)
    mine = f.slot
    can = policy.actions(agreement, current_user, deployment=deployment, f=f)
    consent = service.consent_for(deployment, agreement, mine, current_user) \
        if mine is not None else ""
    if sign_form is None:
        sign_form = SignForm(formdata=None, version=agreement.version,
                             content_hash=agreement.content_hash)
    if decline_form is None:
        decline_form = DeclineForm(formdata=None, version=agreement.version,
                                   content_hash=agreement.content_hash)
    earlier = service.previous(agreement)
    amendment = policy.is_amendment(agreement, deployment)
    return {
        "d": deployment, "agreement": agreement, "content": agreement.content,
        "earlier": earlier,
        "changes": service.changes_between(earlier, agreement) if earlier else [],
        "amendment": amendment,
        "in_force": service.last_signed(deployment.id) if amendment else None,
        "fingerprint": signing.fingerprint(agreement.content_hash),
        "slots": slots, "signers": users, "mine": mine, "can": can, "consent": consent,
        "open": policy.is_open(agreement, deployment),
        "started": policy.signing_started(agreement),
        "sign_form": sign_form, "decline_form": decline_form,
        "behalf_form": _on_behalf_form(agreement, f, behalf_form),
        "on_behalf": {s.id: service.on_behalf_summary(s) for s in agreement.signatures
                      if s.on_behalf},
        "message": message, "message_kind": message_kind,
        "message_is_error": message_kind == "error",
        "void_form": VoidForm(formdata=None),
        "history": service.history(deployment.id),
        "AGREEMENT_STATUSES": AGREEMENT_STATUSES,
    }


@bp.get("/deployments/<id:deployment_id>/agreement")
@any_role
def show(deployment_id: int) -> ResponseReturnValue:
    deployment, agreement = access.get_agreement(current_user, deployment_id)
    return render("agreements/show.html", "agreement_body", **_context(deployment, agreement))


def _answer(deployment, agreement, status: int, **ctx):
    """Re-render the agreement (its body for htmx) with a status, or redirect after success."""
    if status == 303 and not is_htmx():
        flash(ctx.get("message", ""), "success")
        return redirect(url_for(".show", deployment_id=deployment.id), 303)
    body = render("agreements/show.html", "agreement_body",
                  **_context(deployment, agreement, **ctx))
    return body, 200 if status == 303 else status


def _need_fresh(deployment_id: int):
    """Ask for the password again, keeping the form sent (the typed name, the version and
    fingerprint shown) so that :func:`confirm_password` completes it (issue 15)."""
    target = url_for(".show", deployment_id=deployment_id)
    kept = drafts.hold(current_user.id, target)
    url = url_for(".confirm_password", next=target)
    response = hx_redirect(make_response("", 200), url) if is_htmx() else redirect(url, 303)
    return drafts.attach(response, kept) if kept else response


DONE = {"signed": "Your signature is recorded.",
        "declined": "Your decision not to sign is recorded. The co-ordinator has been told."}


def _command(agreement: Agreement, decision: str, form: SignForm | DeclineForm) -> None:
    """The one domain command a sign or decline form sends."""
    if decision == "signed":
        assert isinstance(form, SignForm)
        service.sign(agreement, current_user, version=form.version.data,
                     seen_hash=form.content_hash.data, typed_name=form.typed_name.data,
                     ip=_ip(), user_agent=_ua())
    else:
        assert isinstance(form, DeclineForm)
        service.decline(agreement, current_user, version=form.version.data,
                        seen_hash=form.content_hash.data, reason=form.reason.data,
                        ip=_ip(), user_agent=_ua())


def _respond(deployment_id: int, decision: str):
    deployment, agreement = access.get_agreement(current_user, deployment_id)
    answer = policy.actions(agreement, current_user, deployment=deployment)[
        "sign" if decision == "signed" else "decline"]
    if answer.forbidden:  # not now: the command answers, beside the agreement shown again
        require(answer)
    form: SignForm | DeclineForm = SignForm() if decision == "signed" else DeclineForm()
    key = "sign_form" if decision == "signed" else "decline_form"
    if not form.validate_on_submit():
        return _answer(deployment, agreement, 422, **{key: form})
    if isinstance(form, SignForm) and not signing.typed_name_matches(form.typed_name.data,
                                                                     current_user.name):
        # the command checks it too; said here so a wrong name is put right before the password
        form.typed_name.errors.append(
            f"Type your full name exactly as it is shown: {current_user.name}.")
        return _answer(deployment, agreement, 422, **{key: form})
    if not is_fresh():
        return _need_fresh(deployment_id)
    try:
        with command():
            _command(agreement, decision, form)
    except Invalid as exc:
        exc.show_on(form)
        deployment, agreement = access.get_agreement(current_user, deployment_id)
        return _answer(deployment, agreement, 422, **{key: form})
    except (Conflict, NotNow) as exc:
        # changed, closed or answered meanwhile: the agreement as it now is, with why
        deployment, agreement = access.get_agreement(current_user, deployment_id)
        return _answer(deployment, agreement, exc.status, message=str(exc),
                       message_kind="error")
    deployment, agreement = access.get_agreement(current_user, deployment_id)
    return _answer(deployment, agreement, 303, message=DONE[decision], message_kind="success")


KEPT_ANSWERS = {"agreements.sign": "signed", "agreements.decline": "declined"}


def _kept_answer(kept: drafts.Pending) -> tuple[str, int] | None:
    """The (decision, deployment id) of a kept sign or decline form, or None."""
    try:
        endpoint, args = current_app.url_map.bind("").match(kept.action, method="POST")
    except Exception:  # noqa: BLE001 - not one of ours any more: nothing to complete
        return None
    decision = KEPT_ANSWERS.get(endpoint)
    return (decision, int(args["deployment_id"])) if decision else None


def _complete(kept: drafts.Pending) -> tuple[str, str, str] | None:
    """Complete the signature (or decline) kept while the password was asked for: the same form
    and command as :func:`_respond`, on exactly the version and fingerprint the user saw.
    Returns (where to go, message, kind), or None when the kept form is not an answer."""
    answer = _kept_answer(kept)
    if answer is None:
        return None
    decision, deployment_id = answer
    try:
        deployment, agreement = access.get_agreement(current_user, deployment_id)
    except errors.NotVisible:
        return None
    where = url_for(".show", deployment_id=deployment_id)
    data = MultiDict([(name, value) for name, value in kept.fields])
    form: SignForm | DeclineForm = (SignForm if decision == "signed" else DeclineForm)(
        formdata=data, meta={"csrf": False})  # the form's own POST passed CSRF; this one too
    if not form.validate():
        return where, "Your password is confirmed. Check the agreement and sign it now.", "info"
    try:
        with command():
            _command(agreement, decision, form)
    except errors.PortalError as exc:
        return where, f"Your password is confirmed, but nothing was recorded: {exc}", "error"
    return where, f"Your password is confirmed. {DONE[decision]}", "success"


@bp.post("/deployments/<id:deployment_id>/agreement/sign")
@roles(*service.SIGNER_ROLES)
def sign(deployment_id: int) -> ResponseReturnValue:
    return _respond(deployment_id, "signed")


@bp.post("/deployments/<id:deployment_id>/agreement/decline")
@roles(*service.SIGNER_ROLES)
def decline(deployment_id: int) -> ResponseReturnValue:
    return _respond(deployment_id, "declined")


@bp.post("/deployments/<id:deployment_id>/agreement/on-behalf")
@roles(*OVERSEERS)
def sign_on_behalf(deployment_id: int) -> ResponseReturnValue:
    """Record the signature of a school with no login (issue 15): who agreed, how, when."""
    deployment, agreement = access.get_agreement(current_user, deployment_id)
    f = policy.facts(agreement, deployment, current_user)
    require(policy.actions(agreement, current_user, deployment=deployment, f=f)[
        "sign_on_behalf"])
    form = _on_behalf_form(agreement, f, OnBehalfSignForm())
    if not form.validate_on_submit():
        return _answer(deployment, agreement, 422, behalf_form=form)
    try:
        with command():
            service.record_on_behalf(
                agreement, current_user, party=form.party.data, version=form.version.data,
                seen_hash=form.content_hash.data, agreed_by_name=form.agreed_by_name.data,
                agreed_by_role=form.agreed_by_role.data, agreed_via=form.agreed_via.data,
                agreed_on=form.agreed_on.data, ip=_ip(), user_agent=_ua())
    except errors.Invalid as exc:
        exc.show_on(form)
        deployment, agreement = access.get_agreement(current_user, deployment_id)
        return _answer(deployment, agreement, 422, behalf_form=form)
    except (errors.Conflict, errors.NotNow) as exc:
        deployment, agreement = access.get_agreement(current_user, deployment_id)
        return _answer(deployment, agreement, exc.status, message=str(exc),
                       message_kind="error")
    deployment, agreement = access.get_agreement(current_user, deployment_id)
    label = dict(form.party.choices).get(form.party.data, "the school")
    return _answer(deployment, agreement, 303, message_kind="success",
                   message=f"Recorded: {form.agreed_by_name.data.strip()} signed for {label}.")


@bp.route("/deployments/<id:deployment_id>/agreement/edit", methods=["GET", "POST"])
@roles(*OVERSEERS)
def edit(deployment_id: int) -> ResponseReturnValue:
    deployment, agreement = access.get_agreement(current_user, deployment_id)
    may = policy.actions(agreement, current_user, deployment=deployment)["edit"]
    if may.forbidden:
        require(may)
    if not may:
        return render("agreements/closed.html", d=deployment, agreement=agreement,
                      reason=may.reason), 409
    content = agreement.content
    form = EditForm(data={
        "content_hash": agreement.content_hash,
        **{k: content.get(k) for k in ("desired_outcomes", "measures_of_success", "schedule",
                                       "exit_arrangements", "terms")},
        "start_date": _date(content.get("start_date")),
        "end_date": _date(content.get("end_date")),
    }) if request.method == "GET" else EditForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            changes = {name: getattr(form, name).data for name in service.EDITABLE}
            for name in ("desired_outcomes", "measures_of_success", "schedule",
                         "exit_arrangements", "terms"):
                changes[name] = (changes[name] or "").replace("\r\n", "\n").strip()
            had = agreement.version
            try:
                with command():
                    now = service.edit(agreement, current_user, changes,
                                       seen_hash=form.content_hash.data, ip=_ip())
            except Conflict as exc:
                deployment, agreement = access.get_agreement(current_user, deployment_id)
                return render("agreements/edit.html", d=deployment, agreement=agreement,
                              started=policy.signing_started(agreement),
                              form=form, conflict=str(exc)), 409
            except NotNow as exc:  # closed since the form was opened
                return render("agreements/closed.html", d=deployment, agreement=agreement,
                              reason=str(exc)), 409
            except Invalid as exc:
                exc.show_on(form)
                deployment, agreement = access.get_agreement(current_user, deployment_id)
                return render("agreements/edit.html", d=deployment, agreement=agreement,
                              started=policy.signing_started(agreement),
                              form=form), 422
            if now.version != had:
                flash(f"The terms changed after signing began, so this is now version "
                      f"{now.version}: every signature was voided and the signatories told.",
                      "success")
            else:
                flash("The draft agreement is saved.", "success")
            return redirect(url_for(".show", deployment_id=deployment_id), 303)
        status = 422
    return render("agreements/edit.html", d=deployment, agreement=agreement, form=form,
                  started=policy.signing_started(agreement)), status


def _date(value):
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


@bp.app_template_filter("isodate")
def _isodate(value) -> str:
    parsed = _date(value)
    return uk_date(parsed) if parsed else ""


@bp.post("/deployments/<id:deployment_id>/agreement/void")
@roles(*OVERSEERS)
def void(deployment_id: int) -> ResponseReturnValue:
    deployment, agreement = access.get_agreement(current_user, deployment_id)
    form = VoidForm()
    if not form.validate_on_submit():
        ctx = _context(deployment, agreement)
        ctx["void_form"] = form
        return render("agreements/show.html", **ctx), 422
    try:
        with command():
            service.void(agreement, current_user, form.reason.data, ip=_ip())
    except (Conflict, NotNow) as exc:
        deployment, agreement = access.get_agreement(current_user, deployment_id)
        return _answer(deployment, agreement, exc.status, message=str(exc),
                       message_kind="error")
    flash("The agreement is void and the deployment cancelled.", "success")
    return redirect(url_for(".show", deployment_id=deployment_id), 303)


def _version(deployment: Deployment, agreement: Agreement) -> Agreement:
    """The version named by ``?version=`` (404 if the deployment has none such), else the
    latest."""
    version = int_arg("version", "agreement version")
    if version and version != agreement.version:
        earlier = next((a for a in service.history(deployment.id) if a.version == version),
                       None)
        if earlier is None:
            abort(404)
        return earlier
    return agreement


@bp.get("/deployments/<id:deployment_id>/agreement/print")
@any_role
def printable(deployment_id: int) -> ResponseReturnValue:
    deployment, agreement = access.get_agreement(current_user, deployment_id)
    agreement = _version(deployment, agreement)
    return render("agreements/print.html", **documents.agreement_context(agreement))


@bp.get("/deployments/<id:deployment_id>/agreement.pdf")
@any_role
def pdf(deployment_id: int) -> ResponseReturnValue:
    """The agreement (the version asked for, else the latest) as a PDF with its certificate
    page; seen by whoever may see the agreement (``access.get_agreement``: 404 otherwise)."""
    deployment, agreement = access.get_agreement(current_user, deployment_id)
    agreement = _version(deployment, agreement)
    response = current_app.response_class(documents.agreement_pdf(agreement),
                                          mimetype=documents.PDF)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{documents.agreement_filename(agreement)}"')
    return response


@bp.get("/deployments/<id:deployment_id>/agreement/evidence.json")
@any_role
def evidence_bundle(deployment_id: int) -> ResponseReturnValue:
    """The agreement's evidence bundle, to check offline with ``flask verify-agreement``."""
    deployment, agreement = access.get_agreement(current_user, deployment_id)
    response = current_app.response_class(
        json.dumps(service.evidence_bundle(agreement), indent=1, ensure_ascii=False),
        mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="agreement-{deployment.reference}-v{agreement.version}'
        '-evidence.json"')
    return response


_terms_hash = service.terms_hash


def _alliance() -> Alliance:
    alliance = db.session.get(Alliance, current_user.alliance_id)
    if alliance is None:
        raise NotVisible("alliance")
    return alliance


@bp.route("/agreements/terms", methods=["GET", "POST"])
@roles(*OVERSEERS)
def terms() -> ResponseReturnValue:
    alliance = _alliance()
    if request.method == "GET":
        form = TermsForm(data={"terms": alliance.agreement_terms or service.DEFAULT_TERMS,
                               "seen_hash": _terms_hash(alliance.agreement_terms)})
        return render("agreements/terms.html", form=form, alliance=alliance)
    form = TermsForm()
    if not form.validate_on_submit():
        return render("agreements/terms.html", form=form, alliance=alliance), 422
    try:
        with command():
            service.save_terms(alliance, current_user, form.terms.data,
                               seen_hash=form.seen_hash.data, ip=_ip())
    except Conflict as exc:
        alliance = _alliance()
        return render("agreements/terms.html", form=form, alliance=alliance,
                      conflict=str(exc)), 409
    flash("The terms for new agreements are saved. Agreements already drafted keep theirs.",
          "success")
    return redirect(url_for(".terms"), 303)


@bp.get("/agreements/verify/<token>")
@limiter.limit("60 per minute")
@public
def verify(token: str) -> ResponseReturnValue:
    agreement = service.by_token(token)
    if agreement is None:
        abort(404)
    form = VerifyForm(request.args)
    exam = service.examine(agreement)  # every check, from the stored content and signatures
    result = None
    if "fingerprint" in request.args and form.validate():
        result = service.verify_fingerprint(agreement, form.fingerprint.data, exam)
    response = make_response(render("agreements/verify.html", agreement=agreement, form=form,
                                    result=result,
                                    reference=service.deployment_of(agreement).reference, exam=exam,
                                    checkpoint=exam.bundle["checkpoint"],
                                    public_key=exam.bundle["public_key"]))
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _confirm_limit() -> str:
    return current_app.config["LOGIN_LIMIT"]


@bp.route("/confirm-password", methods=["GET", "POST"])
@limiter.limit(_confirm_limit, methods=["POST"])
@any_role
def confirm_password() -> ResponseReturnValue:
    form = ConfirmPasswordForm()
    kept = drafts.pending(current_user.id)
    signing_next = kept is not None and _kept_answer(kept) is not None
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        return render("agreements/confirm_password.html", form=form, signing=signing_next,
                      school=school_account_of(current_user))
    if form.validate_on_submit():
        if current_user.check_password(form.password.data):
            mark_fresh()
            outcome = _complete(kept) if signing_next and kept is not None else None
            if signing_next:
                drafts.discard(current_user.id)  # used once, whatever became of it
            audit.record(current_user, "auth.reconfirmed", current_user, ip=_ip())
            if outcome is not None:
                where, message, kind = outcome
                flash(message, kind)
                return redirect(where, 303)
            return redirect(safe_next(form.next.data) or url_for("dashboard.home"), 303)
        form.password.errors.append("That password is not right. Try again.")
    return render("agreements/confirm_password.html", form=form, signing=signing_next,
                  school=school_account_of(current_user)), 422


def agreement_panel(ctx: PanelContext[Deployment]) -> dict[str, Any] | None:
    deployment, user = ctx.obj, ctx.user
    agreement = service.current(deployment.id)
    if agreement is None:
        return None
    slots = service.slots(deployment, agreement)
    f = policy.facts(agreement, deployment, user)
    return {"agreement": agreement, "slots": slots,
            "status_label": AGREEMENT_STATUSES[agreement.status],
            "mine": f.slot, "can": policy.actions(agreement, user, deployment=deployment, f=f),
            "signed": sum(1 for s in slots if s.signed), "total": len(slots)}


def agreements_to_sign(ctx: PanelContext[None]) -> dict[str, Any] | None:
    user = ctx.user
    if user.role not in service.SIGNER_ROLES:
        return None
    waits = policy.waiting_sign(user, Deployment)
    # The deployments walked oldest first, stopping at the twentieth that waits (a school's,
    # a leader's, a home school's or an alliance's, by date), not every one the user may see
    # read and sorted. OFFSET 0 keeps PostgreSQL from turning the EXISTS into a join that
    # starts from every open agreement in the country (issue 20): it stays a test of each
    # deployment walked, two index lookups.
    waiting = (select(literal(1)).where(Agreement.deployment_id == Deployment.id, waits)
               .correlate(Deployment).offset(0).exists())
    first = access.first_visible_deployments(user, waiting,
                                             order=access.DEPLOYMENTS_OLDEST_FIRST, limit=20)
    rows = db.session.execute(
        select(Agreement, Deployment).join(Deployment, Deployment.id == Agreement.deployment_id)
        .where(first, waits).order_by(*access.DEPLOYMENTS_OLDEST_FIRST).limit(20)
    ).all()
    if not rows:
        return None
    return {"rows": rows}
