"""Administration for the School Support Co-ordinator: users (invitations), schools (and GIAS
import), Boards, EIPs, specialisms and the agreement template; and the audit viewer (admin and
director). Everything is scoped to the admin's own alliance through ``domain.access``."""

from __future__ import annotations

import re
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
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import joinedload

from .. import idempotency
from ..domain import access, audit, audit_words, gias, invites, sessions
from ..domain.agreements import terms_hash
from ..domain.errors import Conflict
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
    LeaderProfile,
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
    has_rate_cards = "finance.rate_cards" in current_app.view_functions
    return render_template("admin/index.html", has_rate_cards=has_rate_cards)


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


def _apply_profile(user: User, designation: str | None = None) -> None:
    """System leaders have a directory profile at their school; it follows school changes."""
    if user.role != "sle" or not user.school_id:
        return
    profile = db.session.scalar(select(LeaderProfile).where(LeaderProfile.user_id == user.id))
    if profile is None:
        db.session.add(LeaderProfile(user_id=user.id, alliance_id=user.alliance_id,
                                     home_school_id=user.school_id,
                                     designation=designation or "sle"))
    elif profile.home_school_id != user.school_id:
        profile.home_school_id = user.school_id
        profile.release_approved_days = None  # a new home school approves release afresh
        profile.release_approved_by_id = None
        profile.release_approved_at = None


@bp.route("/users/invite", methods=["GET", "POST"])
@roles("admin")
def invite() -> ResponseReturnValue:
    form = _prepare_user_form(InviteForm())
    if request.method == "POST" and (replay := idempotency.claim(form)) is not None:
        return replay  # sent twice: one invitation
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
            form.email.errors.append("Someone with this email address already has an account")
        else:
            user = User(email=email, name=form.name.data.strip(),
                        job_title=(form.job_title.data or "").strip(), role=form.role.data,
                        alliance_id=current_user.alliance_id, school_id=form.school_id.data,
                        board_id=form.board_id.data if form.role.data == "board" else None,
                        password_hash="")
            try:
                with command():
                    db.session.add(user)
            except Conflict:
                form = _prepare_user_form(form)
                form.email.errors.append("Someone with this email address already has an account")
                return render_template("admin/invite.html", form=form), 422
            _apply_profile(user, form.designation.data)
            invites.send_invitation(user, current_user)  # its link is made as it is sent
            audit.record(current_user, "user.invite", user, ip=_ip(),
                         detail={"email": email, "role": user.role, "school_id": user.school_id})
            idempotency.created(url_for("admin.user", user_id=user.id), user)
            flash(f"Invitation sent to {email}.", "success")
            return redirect(url_for("admin.user", user_id=user.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/invite.html", form=form), status


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
@roles("admin")
def user(user_id: int) -> ResponseReturnValue:
    target = access.get_managed_user(current_user, user_id)
    form = _prepare_user_form(UserForm(obj=target))
    if request.method == "GET" and target.profile is not None:
        form.designation.data = target.profile.designation
    if form.validate_on_submit():
        if target.id == current_user.id and form.role.data != target.role:
            form.role.errors.append("You cannot change your own role. Ask another co-ordinator.")
        else:
            profile = target.profile
            before = {"role": target.role, "school_id": target.school_id,
                      "board_id": target.board_id, "name": target.name,
                      "designation": profile.designation if profile else None}
            target.name = form.name.data.strip()
            target.job_title = (form.job_title.data or "").strip()
            target.role = form.role.data
            target.school_id = form.school_id.data
            target.board_id = form.board_id.data if target.role == "board" else None
            _apply_profile(target, form.designation.data)
            if target.role == "sle" and target.profile is not None:
                target.profile.designation = form.designation.data
            after = {"role": target.role, "school_id": target.school_id,
                     "board_id": target.board_id, "name": target.name,
                     "designation": form.designation.data if target.role == "sle"
                     else before["designation"]}
            if before != after:
                if before["role"] != after["role"] or before["school_id"] != after["school_id"]:
                    sessions.end_all(target)  # new rights: sign in again
                audit.record(current_user, "user.update", target, ip=_ip(),
                             detail={"before": before, "after": after})
            flash(f"{target.name}'s account has been saved.", "success")
            return redirect(url_for("admin.user", user_id=target.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user.html", target=target, form=form,
                           action_form=ActionForm()), status


@bp.post("/users/<id:user_id>/deactivate")
@roles("admin")
def deactivate(user_id: int) -> ResponseReturnValue:
    target = access.get_managed_user(current_user, user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if target.id == current_user.id:
        abort(403)  # an admin cannot lock themselves out
    if target.active:
        target.active = False
        sessions.end_all(target)  # every session of theirs stops at once
        audit.record(current_user, "user.deactivate", target, ip=_ip())
    flash(f"{target.name} has been deactivated and signed out everywhere.", "success")
    return redirect(url_for("admin.user", user_id=target.id), code=303)


@bp.post("/users/<id:user_id>/reactivate")
@roles("admin")
def reactivate(user_id: int) -> ResponseReturnValue:
    target = access.get_managed_user(current_user, user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not target.active:
        target.active = True
        audit.record(current_user, "user.reactivate", target, ip=_ip())
    flash(f"{target.name} can sign in again.", "success")
    return redirect(url_for("admin.user", user_id=target.id), code=303)


@bp.post("/users/<id:user_id>/reinvite")
@roles("admin")
def reinvite(user_id: int) -> ResponseReturnValue:
    target = access.get_managed_user(current_user, user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    refusal = invites.may_reinvite(target)
    if refusal:
        flash(refusal, "error")
        return redirect(url_for("admin.user", user_id=target.id), code=303)
    invites.send_invitation(target, current_user)  # its link is made as it is sent
    audit.record(current_user, "user.reinvite", target, ip=_ip())
    flash(f"A new invitation has been sent to {target.email}; earlier links no longer work.",
          "success")
    return redirect(url_for("admin.user", user_id=target.id), code=303)


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
    where = access.schools_managed_by(current_user)
    if q:
        where = where & or_(func.lower(School.name).contains(q.lower(), autoescape=True),
                            School.urn == q)
    stmt = (select(School).where(where).options(joinedload(School.local_authority))
            .order_by(School.name, School.id))
    return render("admin/schools.html", "results", page=paginate(stmt), q=q)


def _school_form_save(form, school: School | None):
    urn = form.urn.data.strip()
    clash = db.session.scalar(select(School.id).where(School.urn == urn))
    if clash and (school is None or clash != school.id):
        form.urn.errors.append("A school with this URN is already in the portal")
        return None
    created = school is None
    if created:
        school = School(alliance_id=current_user.alliance_id)
        db.session.add(school)
    before = {} if created else {"urn": school.urn, "name": school.name, "phase": school.phase}
    school.urn = urn
    school.name = form.name.data.strip()
    school.phase = form.phase.data
    school.postcode = (form.postcode.data or "").strip().upper()
    school.local_authority_id = form.local_authority_id.data
    school.eip_id = form.eip_id.data
    db.session.flush()
    audit.record(current_user, "school.create" if created else "school.update", school, ip=_ip(),
                 detail={"before": before, "after": {"urn": school.urn, "name": school.name,
                                                     "phase": school.phase}})
    if created:
        idempotency.created(url_for("admin.schools"), school)
    return school


@bp.route("/schools/new", methods=["GET", "POST"])
@roles("admin")
def school_new() -> ResponseReturnValue:
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
    form = _prepare_school_form(SchoolForm(obj=obj))
    if form.validate_on_submit() and _school_form_save(form, obj):
        flash("The school has been saved.", "success")
        return redirect(url_for("admin.schools"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/school.html", form=form, school=obj), status


def _chunks(items: list, size: int = 900):
    for i in range(0, len(items), size):
        yield items[i:i + size]


@bp.route("/schools/import", methods=["GET", "POST"])
@roles("admin")
def school_import() -> ResponseReturnValue:
    form = ImportForm()
    if request.method == "POST" and (replay := idempotency.claim(form)) is not None:
        return replay  # sent twice: imported once
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render("admin/import.html", "import_result", form=form, parsed=None), status
    data = form.file.data.read(current_app.config.get("IMPORT_MAX_BYTES", 20 * 1024 * 1024) + 1)
    if len(data) > current_app.config.get("IMPORT_MAX_BYTES", 20 * 1024 * 1024):
        form.file.errors.append("The file is too large (20 MB at most)")
        return render("admin/import.html", "import_result", form=form, parsed=None), 422
    # Which URNs in the file already belong to a school, and whose?
    prelim = gias.parse(data)
    urns = sorted({r.urn for r in prelim.rows})
    existing: dict[str, School] = {}
    for chunk in _chunks(urns):
        for s in db.session.scalars(select(School).where(School.urn.in_(chunk))).all():
            existing[s.urn] = s
    foreign = {u for u, s in existing.items()
               if s.alliance_id is not None and s.alliance_id != current_user.alliance_id}
    parsed = gias.parse(data, foreign_urns=foreign) if foreign else prelim
    if not parsed.ok:
        if parsed.error:
            form.file.errors.append(parsed.error)
        else:
            form.file.errors.append(
                f"{len(parsed.rejected)} row(s) were rejected, so nothing was imported. "
                "Correct them and upload the file again.")
        return render("admin/import.html", "import_result", form=form, parsed=parsed), 422
    las = {la.name.lower(): la for la in db.session.scalars(select(LocalAuthority)).all()}
    created = updated = 0
    new_rows: list[dict] = []
    changed_rows: list[dict] = []
    for row in parsed.rows:
        la = las.get(row.la_name.lower())
        if la is None:
            code = row.la_code or None
            if code and db.session.scalar(select(LocalAuthority.id)
                                          .where(LocalAuthority.code == code)):
                code = None
            la = LocalAuthority(name=row.la_name, code=code)
            db.session.add(la)
            db.session.flush()
            las[row.la_name.lower()] = la
        school = existing.get(row.urn)
        if school is None:
            new_rows.append({"urn": row.urn, "name": row.name, "phase": row.phase,
                             "postcode": row.postcode, "local_authority_id": la.id,
                             "alliance_id": current_user.alliance_id, "eip_id": None})
            created += 1
        else:
            changed_rows.append({"id": school.id, "name": row.name, "phase": row.phase,
                                 "postcode": row.postcode, "local_authority_id": la.id,
                                 "alliance_id": current_user.alliance_id})
            updated += 1
    for chunk in _chunks(new_rows, 1000):
        db.session.execute(insert(School), chunk)  # one executemany per chunk
    for chunk in _chunks(changed_rows, 1000):
        db.session.execute(update(School), chunk)  # bulk UPDATE by primary key
    audit.record(current_user, "school.import", None, ip=_ip(),
                 detail={"rows": len(parsed.rows), "created": created, "updated": updated,
                         "filename": (form.file.data.filename or "")[:200]})
    idempotency.created(url_for("admin.schools"))
    flash(f"Imported {len(parsed.rows)} schools: {created} added, {updated} updated.", "success")
    return redirect(url_for("admin.schools"), code=303)


# --------------------------------------------------------------------------------- boards


@bp.get("/boards")
@roles("admin")
def boards() -> ResponseReturnValue:
    rows = db.session.scalars(select(Board).where(access.boards_managed_by(current_user))
                              .order_by(Board.name)).all()
    return render_template("admin/boards.html", boards=rows)


def _board_save(form, board: Board | None) -> Board:
    created = board is None
    if created:
        board = Board(alliance_id=current_user.alliance_id)
        db.session.add(board)
    before = {} if created else {"name": board.name, "phase": board.phase,
                                 "budget_pence": board.budget_pence}
    board.name = form.name.data.strip()
    board.phase = form.phase.data
    board.budget_pence = form.budget_pence
    db.session.flush()
    audit.record(current_user, "board.create" if created else "board.update", board, ip=_ip(),
                 detail={"before": before, "after": {"name": board.name, "phase": board.phase,
                                                     "budget_pence": board.budget_pence}})
    if created:
        idempotency.created(url_for("admin.boards"), board)
    return board


@bp.route("/boards/new", methods=["GET", "POST"])
@roles("admin")
def board_new() -> ResponseReturnValue:
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


def _eip_save(form, eip: EIP | None) -> EIP:
    created = eip is None
    if created:
        eip = EIP(alliance_id=current_user.alliance_id)
        db.session.add(eip)
    before = {} if created else {"name": eip.name}
    eip.name = form.name.data.strip()
    db.session.flush()
    audit.record(current_user, "eip.create" if created else "eip.update", eip, ip=_ip(),
                 detail={"before": before, "after": {"name": eip.name}})
    if created:
        idempotency.created(url_for("admin.eips"), eip)
    return eip


@bp.route("/eips/new", methods=["GET", "POST"])
@roles("admin")
def eip_new() -> ResponseReturnValue:
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
    form = EIPForm(obj=obj)
    if form.validate_on_submit():
        _eip_save(form, obj)
        flash("The EIP has been saved.", "success")
        return redirect(url_for("admin.eips"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/eip.html", form=form, eip=obj), status


# ---------------------------------------------------------------------------- specialisms


def _code(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40] or "specialism"


@bp.route("/specialisms", methods=["GET", "POST"])
@roles("admin")
def specialisms() -> ResponseReturnValue:
    form = SpecialismForm()
    status = 200
    if request.method == "POST" and (replay := idempotency.claim(form)) is not None:
        return replay  # sent twice: added once
    if form.validate_on_submit():
        name = form.name.data.strip()
        code = _code(name)
        clash = db.session.scalar(select(Specialism.id).where(
            or_(Specialism.code == code, func.lower(Specialism.name) == name.lower())))
        if clash:
            form.name.errors.append("That specialism is already on the list")
        else:
            s = Specialism(code=code, name=name)
            try:
                with command():
                    db.session.add(s)
            except Conflict:
                form.name.errors.append("That specialism is already on the list")
            else:
                audit.record(current_user, "specialism.create", s, ip=_ip(),
                             detail={"code": code, "name": name})
                idempotency.created(url_for("admin.specialisms"), s)
                flash(f"“{name}” has been added to the list.", "success")
                return redirect(url_for("admin.specialisms"), code=303)
    if request.method == "POST":
        status = 422
    rows = db.session.scalars(select(Specialism).order_by(Specialism.name)).all()
    return render_template("admin/specialisms.html", form=form, specialisms=rows), status


# ---------------------------------------------------------------------- agreement template


@bp.route("/agreement-template", methods=["GET", "POST"])
@roles("admin")
def agreement_template() -> ResponseReturnValue:
    alliance = db.session.get(Alliance, current_user.alliance_id)
    form = TemplateForm(obj=alliance)
    if request.method == "GET":
        form.seen_hash.data = terms_hash(alliance.agreement_terms)
    if form.validate_on_submit():
        alliance = db.session.scalars(
            select(Alliance).where(Alliance.id == alliance.id).with_for_update()
            .execution_options(populate_existing=True)).one()
        if form.seen_hash.data != terms_hash(alliance.agreement_terms):
            # the page did not say which terms it edits, or they changed since it was drawn:
            # nothing is saved over them; sending again (now based on them) saves these
            current = alliance.agreement_terms
            form.seen_hash.data = terms_hash(current)
            return render_template(
                "admin/agreement_template.html", form=form, alliance=alliance, current=current,
                conflict="Someone else changed the terms while you were editing, or this page "
                         "was out of date, so nothing was saved. The terms saved now are "
                         "below. Check them, then send yours again to replace them."), 409
        before = alliance.agreement_terms
        alliance.agreement_terms = form.agreement_terms.data or ""
        if before != alliance.agreement_terms:
            audit.record(current_user, "alliance.agreement_terms", alliance, ip=_ip(),
                         detail={"before_length": len(before or ""),
                                 "after_length": len(alliance.agreement_terms)})
        flash("The agreement template has been saved. New agreements will use it.", "success")
        return redirect(url_for("admin.agreement_template"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/agreement_template.html", form=form, alliance=alliance), status


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


@bp.post("/users/<id:user_id>/sessions")
@roles("admin")
def end_sessions(user_id: int) -> ResponseReturnValue:
    """Sign a user out everywhere without deactivating them."""
    target = access.get_managed_user(current_user, user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    sessions.end_all(target)
    audit.record(current_user, "user.sessions_end", target, ip=_ip())
    flash(f"{target.name} has been signed out everywhere.", "success")
    return redirect(url_for("admin.user", user_id=target.id), code=303)
