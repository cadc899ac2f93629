"""Administration for the School Support Co-ordinator: users (invitations), schools (and GIAS
import), Boards, EIPs, specialisms and the agreement template; and the audit viewer (admin and
director). Everything is scoped to the admin's own alliance through ``domain.access``."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from .. import idempotency
from ..domain import access, audit, audit_words
from ..domain import admin as commands
from ..domain.agreements import terms_hash
from ..domain.errors import Conflict, Invalid
from ..domain.policy import admin as policy
from ..domain.policy import require
from ..extensions import db
from ..formatting import LONDON
from ..htmx import render
from ..models import (
    EIP,
    ROLES,
    Alliance,
    AuditEvent,
    Board,
    Deployment,
    LocalAuthority,
    School,
    Specialism,
    User,
)
from ..pagination import paginate
from ..security import roles
from ..unit_of_work import command
from ..validators import int_arg, whole_number
from .forms import (
    ActionForm,
    AuditFilterForm,
    BoardForm,
    EIPForm,
    ImportForm,
    InviteForm,
    NewBoardForm,
    NewEIPForm,
    NewSchoolForm,
    SchoolForm,
    SignInForm,
    SpecialismForm,
    TemplateForm,
    UserForm,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")



def _ip() -> str:
    return request.remote_addr or ""


@bp.get("/")
@roles("admin")
def index() -> ResponseReturnValue:
    from ..domain.policy import finance as money

    # the money feature may be left out of an app; its rates page is linked when it is there
    has_rates = "finance.rates" in current_app.view_functions \
        and bool(money.general(current_user)["view_rates"])
    return render_template("admin/index.html", has_rates=has_rates)


# ---------------------------------------------------------------------------------- users


def _school_choices():
    schools = db.session.execute(
        select(School.id, School.name).where(access.schools_managed_by(current_user))
        .order_by(School.name)).all()
    return [("", "No school")] + [(s.id, s.name) for s in schools]


def _board_choices():
    boards = db.session.execute(
        select(Board.id, Board.name).where(access.boards_managed_by(current_user))
        .order_by(Board.name)).all()
    return [("", "No Board")] + [(b.id, b.name) for b in boards]


def _prepare_user_form(form):
    form.school_id.choices = _school_choices()
    form.board_id.choices = _board_choices()
    form.group.choices = [("", "None")] + commands.officer_group_choices(current_user)
    return form


@bp.get("/users")
@roles("admin")
def users() -> ResponseReturnValue:
    q = (request.args.get("q") or "").strip()[:100]
    role = request.args.get("role") if request.args.get("role") in ROLES else ""
    where = access.users_managed_by(current_user)
    if q:
        like = q.lower()
        where = where & or_(func.lower(User.name).contains(like, autoescape=True),
                            func.lower(User.email).contains(like, autoescape=True))
    if role:
        where = where & (User.role == role)
    stmt = (select(User).where(where).options(joinedload(User.school))
            .order_by(User.name, User.id))
    return render("admin/users.html", "results", page=paginate(stmt), q=q, role=role,
                  roles=ROLES)


def _user_values(form: InviteForm | UserForm) -> dict:
    return {"name": form.name.data, "job_title": form.job_title.data or "",
            "role": form.role.data, "school_id": form.school_id.data,
            "board_id": form.board_id.data, "designation": form.designation.data,
            "group": form.group.data or None,
            "leader_profile": form.leader_profile.data or None}


@bp.route("/users/invite", methods=["GET", "POST"])
@roles("admin")
def invite() -> ResponseReturnValue:
    require(policy.general(current_user)["invite"])
    form = _prepare_user_form(InviteForm())
    if request.method == "POST" and (replay := idempotency.claim(form)) is not None:
        return replay  # sent twice: one invitation
    if form.validate_on_submit():
        try:
            with command():
                user = commands.invite_user(current_user, email=form.email.data,
                                            ip=_ip(), **_user_values(form))
        except Invalid as exc:
            exc.show_on(form)
        else:
            idempotency.created(url_for("admin.user", user_id=user.id), user)
            flash(f"Invitation sent to {user.email}.", "success")
            return redirect(url_for("admin.user", user_id=user.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/invite.html", form=form), status


def _user_page(target: User, form: UserForm, status: int = 200) -> ResponseReturnValue:
    return render_template("admin/user.html", target=target, form=form,
                           action_form=ActionForm(),
                           can=policy.actions(target, current_user)), status


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
@roles("admin")
def user(user_id: int) -> ResponseReturnValue:
    target = access.get_managed_user(current_user, user_id)
    require(policy.edit(target, current_user))
    form = _prepare_user_form(UserForm(obj=target))
    if request.method == "GET" and target.profile is not None:
        form.designation.data = target.profile.designation
        if target.role == "director":
            form.leader_profile.data = target.profile.designation
    if request.method == "GET" and target.role == "officer":
        form.group.data = f"eip:{target.eip_id}" if target.eip_id else \
            f"la:{target.local_authority_id}" if target.local_authority_id else ""
    if form.validate_on_submit():
        try:
            with command():
                commands.update_user(current_user, target, ip=_ip(), **_user_values(form))
        except Invalid as exc:
            exc.show_on(form)
        else:
            flash(f"{target.name}'s account has been saved.", "success")
            return redirect(url_for("admin.user", user_id=target.id), code=303)
    return _user_page(target, form, 422 if request.method == "POST" else 200)


def _account_action(user_id: int) -> User:
    """The managed account a button acts on, once its CSRF token is checked."""
    target = access.get_managed_user(current_user, user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return target


def _back_to(target: User, message: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for("admin.user", user_id=target.id), code=303)


@bp.post("/users/<id:user_id>/deactivate")
@roles("admin")
def deactivate(user_id: int) -> ResponseReturnValue:
    target = _account_action(user_id)
    commands.deactivate_user(current_user, target, ip=_ip())
    return _back_to(target, f"{target.name} has been deactivated and signed out everywhere.")


@bp.post("/users/<id:user_id>/reactivate")
@roles("admin")
def reactivate(user_id: int) -> ResponseReturnValue:
    target = _account_action(user_id)
    commands.reactivate_user(current_user, target, ip=_ip())
    return _back_to(target, f"{target.name} can sign in again.")


@bp.post("/users/<id:user_id>/reinvite")
@roles("admin")
def reinvite(user_id: int) -> ResponseReturnValue:
    target = _account_action(user_id)
    commands.reinvite_user(current_user, target, ip=_ip())
    return _back_to(target, f"A new invitation has been sent to {target.email}; earlier links "
                            "no longer work.")


@bp.post("/users/<id:user_id>/sessions")
@roles("admin")
def end_sessions(user_id: int) -> ResponseReturnValue:
    """Sign a user out everywhere without deactivating them."""
    target = _account_action(user_id)
    commands.end_sessions(current_user, target, ip=_ip())
    return _back_to(target, f"{target.name} has been signed out everywhere.")


# -------------------------------------------------------------------------------- schools


def _prepare_school_form(form):
    las = db.session.execute(select(LocalAuthority.id, LocalAuthority.name)
                             .order_by(LocalAuthority.name)).all()
    form.local_authority_id.choices = [("", "None")] + [(i, n) for i, n in las]
    eips = db.session.execute(select(EIP.id, EIP.name).where(access.eips_managed_by(current_user))
                              .order_by(EIP.name)).all()
    form.eip_id.choices = [("", "None")] + [(i, n) for i, n in eips]
    return form


@bp.get("/schools")
@roles("admin")
def schools() -> ResponseReturnValue:
    q = (request.args.get("q") or "").strip()[:100]
    where = access.schools_visible_to(current_user)  # the network's members, homed or not
    if q:
        where = where & or_(func.lower(School.name).contains(q.lower(), autoescape=True),
                            School.urn == q)
    stmt = (select(School).where(where).options(joinedload(School.local_authority),
                                                joinedload(School.alliance))
            .order_by(School.name, School.id))
    page = paginate(stmt)
    # a member school whose home is another network is listed, not linked: that network
    # keeps its details (policy.admin.manages_school)
    editable = {s.id for s in page.items if policy.actions(s, current_user)["edit"]}
    return render("admin/schools.html", "results", page=page, q=q, editable=editable)


def _school_form_save(form: SchoolForm, school: School | None) -> School | None:
    """Run the save command with the form's values; None (the form carries why) if refused."""
    try:
        with command():
            saved = commands.save_school(
                current_user, school, urn=form.urn.data, name=form.name.data,
                phase=form.phase.data, postcode=form.postcode.data or "",
                address=(form.address_line1.data or "", form.address_line2.data or "",
                         form.address_line3.data or ""), town=form.town.data or "",
                local_authority_id=form.local_authority_id.data,
                eip_id=form.eip_id.data if "eip_id" in form else None,
                seen_version=form.seen_version(), ip=_ip())
    except Invalid as exc:
        exc.show_on(form)
        return None
    if school is None:
        idempotency.created(url_for("admin.schools"), saved)
    return saved


@bp.route("/schools/new", methods=["GET", "POST"])
@roles("admin")
def school_new() -> ResponseReturnValue:
    require(policy.general(current_user)["add_school"])
    form = _prepare_school_form(NewSchoolForm())
    if request.method == "POST" and (replay := idempotency.claim(form)) is not None:
        return replay  # sent twice: one school
    if form.validate_on_submit() and _school_form_save(form, None):
        flash("The school has been added.", "success")
        return redirect(url_for("admin.schools"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/school.html", form=form, school=None), status


@bp.route("/schools/<id:school_id>", methods=["GET", "POST"])
@roles("admin")
def school(school_id: int) -> ResponseReturnValue:
    obj = access.get_managed_school(current_user, school_id)
    require(policy.actions(obj, current_user)["edit"])
    form = _prepare_school_form(SchoolForm(obj=obj))
    if form.validate_on_submit() and _school_form_save(form, obj):
        flash("The school has been saved.", "success")
        return redirect(url_for("admin.schools"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/school.html", form=form, school=obj), status


def import_summary(done: commands.Imported) -> str:
    said = f"Imported {done.rows:,} schools: {done.created:,} added, {done.updated:,} updated"
    if done.closed or done.closed_skipped:
        said += (f"; {done.closed + done.closed_skipped:,} closed in GIAS ({done.closed:,} "
                 f"marked closed, {done.closed_skipped:,} not added)")
    if done.trusts:
        said += f"; {done.trusts:,} trusts added"
    if done.joined:
        said += f"; {done.joined:,} already in another network, now in yours too"
    if done.kept:
        said += (f"; {done.kept:,} left as their home network has them (it keeps their "
                 "details)")
    return said + "."


@bp.route("/schools/import", methods=["GET", "POST"])
@roles("admin")
def school_import() -> ResponseReturnValue:
    require(policy.general(current_user)["import_schools"])
    form = ImportForm()
    if request.method == "POST" and (replay := idempotency.claim(form)) is not None:
        return replay  # sent twice: imported once
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render("admin/import.html", "import_result", form=form, parsed=None), status
    try:  # the upload is a temporary file (see portal/uploads.py), read as a stream
        with command():
            done = commands.import_schools(current_user, form.file.data.stream,
                                           filename=form.file.data.filename or "", ip=_ip(),
                                           only_las=form.only_las())
    except Invalid as exc:
        exc.show_on(form)
        return render("admin/import.html", "import_result", form=form,
                      parsed=getattr(exc, "parsed", None)), 422
    idempotency.created(url_for("admin.schools"))
    flash(import_summary(done), "success")
    return redirect(url_for("admin.schools"), code=303)


# --------------------------------------------------------------------------------- boards


@bp.get("/boards")
@roles("admin")
def boards() -> ResponseReturnValue:
    rows = db.session.scalars(select(Board).where(access.boards_managed_by(current_user))
                              .order_by(Board.name)).all()
    return render_template("admin/boards.html", boards=rows)


def _board_save(form: BoardForm, board: Board | None) -> Board:
    saved = commands.save_board(current_user, board, name=form.name.data, phase=form.phase.data,
                                budget_pence=form.budget_pence,
                                seen_version=form.seen_version(), ip=_ip())
    if board is None:
        idempotency.created(url_for("admin.boards"), saved)
    return saved


@bp.route("/boards/new", methods=["GET", "POST"])
@roles("admin")
def board_new() -> ResponseReturnValue:
    require(policy.general(current_user)["add_board"])
    form = NewBoardForm()
    if request.method == "POST" and (replay := idempotency.claim(form)) is not None:
        return replay  # sent twice: one Board
    if form.validate_on_submit():
        _board_save(form, None)
        flash("The Board has been added.", "success")
        return redirect(url_for("admin.boards"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/board.html", form=form, board=None), status


@bp.route("/boards/<id:board_id>", methods=["GET", "POST"])
@roles("admin")
def board(board_id: int) -> ResponseReturnValue:
    obj = access.get_managed_board(current_user, board_id)
    require(policy.actions(obj, current_user)["edit"])
    form = BoardForm(obj=obj)
    if request.method == "GET":
        form.budget.data = obj.budget_pence
    if form.validate_on_submit():
        _board_save(form, obj)
        flash("The Board has been saved.", "success")
        return redirect(url_for("admin.boards"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/board.html", form=form, board=obj), status


# ----------------------------------------------------------------------------------- EIPs


@bp.get("/eips")
@roles("admin")
def eips() -> ResponseReturnValue:
    rows = db.session.execute(
        select(EIP, func.count(School.id)).outerjoin(School, School.eip_id == EIP.id)
        .where(access.eips_managed_by(current_user)).group_by(EIP.id).order_by(EIP.name)).all()
    return render_template("admin/eips.html", eips=rows)


def _eip_save(form: EIPForm, eip: EIP | None) -> EIP:
    saved = commands.save_eip(current_user, eip, name=form.name.data,
                              seen_version=form.seen_version(), ip=_ip())
    if eip is None:
        idempotency.created(url_for("admin.eips"), saved)
    return saved


@bp.route("/eips/new", methods=["GET", "POST"])
@roles("admin")
def eip_new() -> ResponseReturnValue:
    require(policy.general(current_user)["add_eip"])
    form = NewEIPForm()
    if request.method == "POST" and (replay := idempotency.claim(form)) is not None:
        return replay  # sent twice: one EIP
    if form.validate_on_submit():
        _eip_save(form, None)
        flash("The EIP has been added.", "success")
        return redirect(url_for("admin.eips"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/eip.html", form=form, eip=None), status


@bp.route("/eips/<id:eip_id>", methods=["GET", "POST"])
@roles("admin")
def eip(eip_id: int) -> ResponseReturnValue:
    obj = access.get_managed_eip(current_user, eip_id)
    require(policy.actions(obj, current_user)["edit"])
    form = EIPForm(obj=obj)
    if form.validate_on_submit():
        _eip_save(form, obj)
        flash("The EIP has been saved.", "success")
        return redirect(url_for("admin.eips"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/eip.html", form=form, eip=obj), status


# ---------------------------------------------------------------------------- specialisms


@bp.route("/specialisms", methods=["GET", "POST"])
@roles("admin")
def specialisms() -> ResponseReturnValue:
    require(policy.general(current_user)["add_specialism"])
    form = SpecialismForm()
    status = 200
    if request.method == "POST" and (replay := idempotency.claim(form)) is not None:
        return replay  # sent twice: added once
    if form.validate_on_submit():
        try:
            with command():
                s = commands.add_specialism(current_user, form.name.data, ip=_ip())
        except Invalid as exc:
            exc.show_on(form)
        else:
            idempotency.created(url_for("admin.specialisms"), s)
            flash(f"“{s.name}” has been added to the list.", "success")
            return redirect(url_for("admin.specialisms"), code=303)
    if request.method == "POST":
        status = 422
    rows = db.session.scalars(select(Specialism).order_by(Specialism.name)).all()
    return render_template("admin/specialisms.html", form=form, specialisms=rows), status


# ---------------------------------------------------------------------- agreement template


@bp.route("/agreement-template", methods=["GET", "POST"])
@roles("admin")
def agreement_template() -> ResponseReturnValue:
    require(policy.general(current_user)["edit_agreement_template"])
    alliance = db.session.get_one(Alliance, current_user.alliance_id)
    form = TemplateForm(obj=alliance)
    if request.method == "GET":
        form.seen_hash.data = terms_hash(alliance.agreement_terms)
    if form.validate_on_submit():
        try:
            with command():
                commands.save_agreement_terms(current_user, form.agreement_terms.data or "",
                                              seen_hash=form.seen_hash.data, ip=_ip())
        except commands.TermsChanged as exc:
            # nothing is saved over them; sending again (now based on them) saves these
            form.seen_hash.data = terms_hash(exc.current)
            return render_template("admin/agreement_template.html", form=form,
                                   alliance=alliance, current=exc.current,
                                   conflict=exc.message), 409
        flash("The agreement template has been saved. New agreements will use it.", "success")
        return redirect(url_for("admin.agreement_template"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/agreement_template.html", form=form, alliance=alliance), status


# --------------------------------------------------------------------------------- signing in


@bp.route("/sign-in", methods=["GET", "POST"])
@roles("admin")
def sign_in() -> ResponseReturnValue:
    """Which school accounts may sign in (Microsoft tenant, Google domains) and whether the
    co-ordinator and directors must use two-factor sign-in."""
    from ..domain import oidc

    require(policy.general(current_user)["edit_sign_in"])
    alliance = db.session.get_one(Alliance, current_user.alliance_id)
    row = oidc.settings_for(alliance.id)
    form = SignInForm(obj=row)
    if form.validate_on_submit():
        try:
            with command():
                oidc.save_settings(current_user, provider=form.provider.data or "",
                                   client_id=form.client_id.data or "",
                                   tenants=form.tenants.data or "",
                                   domains=form.domains.data or "",
                                   require_two_factor=bool(form.require_two_factor.data),
                                   ip=_ip())
        except Invalid as exc:
            exc.show_on(form)
        else:
            flash("The sign-in settings are saved.", "success")
            return redirect(url_for("admin.sign_in"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/sign_in.html", form=form, alliance=alliance,
        secret_name=oidc.secret_name(alliance), secret_hint=oidc.secret_hint(alliance),
        callback=url_for("auth.school_callback", _external=True),
        ready=oidc.is_ready(oidc.settings_for(alliance.id), alliance)), status
# ---------------------------------------------------------------------------- finance settings


@bp.route("/finance", methods=["GET", "POST"])
@roles("admin")
def finance_settings() -> ResponseReturnValue:
    """The alliance's bank details (printed on invoices) and its Xero and Sage codes (in the
    exports). Checked by ``domain.exports.clean_codes``: a bad value is refused beside its
    field and nothing is saved."""
    from ..domain import exports
    from ..domain.policy import finance as finance_policy
    from ..finance.forms import FinanceSettingsForm
    from ..models import AllianceFinance

    require(finance_policy.general(current_user)["finance_settings"])
    row = db.session.get(AllianceFinance, current_user.alliance_id)
    form = FinanceSettingsForm()
    status, conflict = 200, ""
    if request.method == "GET":
        codes = exports.codes_for(current_user.alliance_id)
        for name in form.FIELDS:
            getattr(form, name).data = getattr(codes, name)
        form.version.data = row.version if row is not None else None
    elif form.validate_on_submit():
        try:
            with command():
                exports.save_codes(current_user, form.values(), version=form.version.data,
                                   ip=_ip())
        except Invalid as exc:
            exc.show_on(form)
            status = 422
        except Conflict as exc:
            conflict, status = str(exc), 409
            form.version.data = row.version if row is not None else None
        else:
            flash("The bank details and finance-system codes are saved.", "success")
            return redirect(url_for("admin.finance_settings"), code=303)
    else:
        status = 422
    return render_template("admin/finance_settings.html", form=form, conflict=conflict), status


# ---------------------------------------------------------------------------- audit viewer


def _audit_filters(args) -> tuple[dict, AuditFilterForm]:
    """The filters in the query string; dates are checked by the form (errors beside them)."""
    dates = AuditFilterForm(args)
    dates.validate()
    return {"deployment": (args.get("deployment") or "").strip()[:40],
            "user": int_arg("user", "person"), "who": (args.get("who") or "").strip()[:100],
            "action": (args.get("action") or "").strip()[:60],
            "date_from": None if dates.date_from.errors else dates.date_from.data,
            "date_to": None if dates.date_to.errors else dates.date_to.data}, dates


@bp.get("/audit")
@roles("admin", "director")
def audit_trail() -> ResponseReturnValue:
    require(policy.general(current_user)["view_audit"])
    f, dates = _audit_filters(request.args)
    if dates.errors:  # a date no audit record can have: say so beside it, show nothing
        return render("admin/audit.html", "results", page=None, f=f, dates=dates,
                      sentences={}, person=None, deployment=None), 422
    where = access.audit_visible_to(current_user)
    deployment = None
    if f["deployment"]:
        ref = f["deployment"]
        try:
            ref_id = whole_number(ref)
        except ValueError:
            ref_id = -1
        deployment = db.session.scalar(
            select(Deployment).where(
                access.deployments_visible_to(current_user),
                or_(Deployment.reference == ref, Deployment.id == ref_id)))
        if deployment is None:
            where = where & (AuditEvent.id == -1)  # unknown or not ours: nothing
        else:
            where = where & audit.about_deployment(deployment)
    if f["user"]:
        where = where & or_(AuditEvent.actor_id == f["user"],
                            (AuditEvent.object_type == "User")
                            & (AuditEvent.object_id == f["user"]))
    if f["who"]:
        who = f["who"].lower()
        matching = select(User.id).where(
            User.alliance_id == current_user.alliance_id,
            or_(func.lower(User.name).contains(who, autoescape=True),
                func.lower(User.email).contains(who, autoescape=True)))
        where = where & or_(AuditEvent.actor_id.in_(matching),
                            (AuditEvent.object_type == "User")
                            & AuditEvent.object_id.in_(matching))
    if f["action"]:
        where = where & AuditEvent.action.startswith(f["action"], autoescape=True)
    if f["date_from"]:
        # days are London calendar days, as the table shows them
        where = where & (AuditEvent.at >= datetime.combine(f["date_from"], time.min, LONDON)
                         .astimezone(UTC))
    if f["date_to"]:
        where = where & (AuditEvent.at < datetime.combine(f["date_to"] + timedelta(days=1),
                                                          time.min, LONDON).astimezone(UTC))
    stmt = select(AuditEvent).where(where).order_by(AuditEvent.id.desc())
    page = paginate(stmt)
    names = audit.names_for(page.items)
    sentences = {e.id: audit_words.describe(e, names) for e in page.items}
    person = db.session.scalar(select(User).where(
        User.id == f["user"], User.alliance_id == current_user.alliance_id)) if f["user"] else None
    return render("admin/audit.html", "results", page=page, f=f, dates=dates,
                  sentences=sentences, person=person, deployment=deployment)
