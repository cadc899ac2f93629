"""Meet the system leaders: the directory, profiles, a leader's own profile and availability,
the home-school leader's release approval, and the alliances' contact details."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import and_, exists, func, literal, select
from sqlalchemy.orm import joinedload, selectinload

from .. import idempotency
from ..domain import access, errors, profiles
from ..domain.policy import LEADER_ROLES
from ..domain.policy import commissions as commission_policy
from ..extensions import db
from ..htmx import render
from ..models import (
    DESIGNATIONS,
    EVALUATION_KINDS,
    LIVE_STATUSES,
    PHASES,
    RATINGS,
    STANDARDS,
    Alliance,
    Deployment,
    Evaluation,
    LeaderProfile,
    LocalAuthority,
    School,
    Specialism,
    Unavailability,
    User,
    leader_specialism,
    standards_to_mask,
)
from ..pagination import paginate
from ..security import any_role, roles
from ..unit_of_work import command
from ..validators import int_arg, parse_uk_date
from .forms import DeleteForm, ProfileForm, ReleaseForm, UnavailableForm

bp = Blueprint("directory", __name__, url_prefix="/directory")


@bp.app_template_global()
def commissions_only(profile: LeaderProfile) -> bool:
    """The leader is matched to lead NLE/LLE commissions only (the Teaching School headteacher,
    ``policy/commissions.py`` ``may_be_deployed``): their card says so."""
    return not commission_policy.may_be_deployed(profile.user.role, commission=False)


PAST_STATUSES = ("evaluation", "completed", "ended_early")


def _parse_date(value: str | None) -> date | None:
    try:
        return parse_uk_date(value) if value else None
    except ValueError:
        return None


def directory_filters(args) -> dict[str, Any]:
    """The filters from the query string, invalid values dropped (so URLs stay shareable)."""
    f: dict[str, Any] = {
        "q": (args.get("q") or "").strip()[:100],
        "specialism": int_arg("specialism", "specialism", source=args),
        "phase": args.get("phase") if args.get("phase") in PHASES else "",
        "standard": args.get("standard") if args.get("standard") in STANDARDS else "",
        "designation": args.get("designation") if args.get("designation") in DESIGNATIONS else "",
        "la": int_arg("la", "local authority", source=args),
        "available_from": _parse_date(args.get("available_from")),
        "available_to": _parse_date(args.get("available_to")),
    }
    if f["available_from"] and f["available_to"] and f["available_to"] < f["available_from"]:
        f["available_from"], f["available_to"] = f["available_to"], f["available_from"]
    return f


def directory_query(user: User, f: dict):
    # only active leaders (system leaders, and a Teaching School headteacher the co-ordinator
    # gave a profile): a profile stays behind if its owner changes role
    where = [access.leaders_visible_to(user), User.active.is_(True),
             User.role.in_(LEADER_ROLES)]
    if f["q"]:
        where.append(func.lower(User.name).contains(f["q"].lower(), autoescape=True))
    if f["specialism"]:
        where.append(exists().where(leader_specialism.c.profile_id == LeaderProfile.id,
                                    leader_specialism.c.specialism_id == f["specialism"]))
    if f["phase"]:
        where.append((literal(",") + LeaderProfile.phases + literal(","))
                     .like(f"%,{f['phase']},%"))
    if f["standard"]:
        where.append(LeaderProfile.standards_mask.op("&")(standards_to_mask([f["standard"]])) != 0)
    if f["designation"]:
        where.append(LeaderProfile.designation == f["designation"])
    if f["la"]:
        where.append(School.local_authority_id == f["la"])
    start, end = f["available_from"], f["available_to"]
    if start or end:
        start, end = start or end, end or start
        where.append(LeaderProfile.accepting.is_(True))
        where.append(~exists().where(Unavailability.profile_id == LeaderProfile.id,
                                     Unavailability.start <= end, Unavailability.end >= start))
    return (
        select(LeaderProfile)
        .join(User, User.id == LeaderProfile.user_id)
        .join(School, School.id == LeaderProfile.home_school_id)
        .where(and_(*where))
        .options(joinedload(LeaderProfile.user), joinedload(LeaderProfile.home_school),
                 selectinload(LeaderProfile.specialisms))
        .order_by(User.name, LeaderProfile.id)
    )


@bp.get("/")
@any_role
def leaders() -> ResponseReturnValue:
    f = directory_filters(request.args)
    page = paginate(directory_query(current_user, f))
    specialisms = db.session.scalars(select(Specialism).order_by(Specialism.name)).all()
    # the local authorities of the network's schools, from the network's schools (an index
    # walk of school_network): an EXISTS per authority read every school of each authority in
    # the country (100 ms at 10x national scale)
    las = db.session.scalars(
        select(LocalAuthority).distinct()
        .join(School, School.local_authority_id == LocalAuthority.id)
        .where(access.in_network(current_user.alliance_id))
        .order_by(LocalAuthority.name)).all()
    return render("directory/leaders.html", "results", page=page, f=f, specialisms=specialisms,
                  las=las, phases=PHASES, standards=STANDARDS, designations=DESIGNATIONS)


def leader_load(profile: LeaderProfile, user: User) -> dict:
    """Current load (live deployments) for an overseer; scoped through access."""
    live = db.session.execute(
        select(func.count(Deployment.id),
               func.coalesce(func.sum(Deployment.half_days_agreed), 0),
               func.coalesce(func.sum(Deployment.half_days_delivered), 0))
        .where(Deployment.leader_id == profile.user_id, Deployment.status.in_(LIVE_STATUSES),
               access.deployments_visible_to(user))
    ).one()
    return {"count": live[0], "agreed": live[1], "delivered": live[2],
            "remaining": max(0, live[1] - live[2])}


def past_deployments(profile: LeaderProfile, user: User) -> list[tuple[Deployment, list]]:
    deps = db.session.scalars(
        select(Deployment)
        .where(Deployment.leader_id == profile.user_id, Deployment.status.in_(PAST_STATUSES),
               access.deployments_visible_to(user))
        .options(joinedload(Deployment.request))
        .order_by(Deployment.proposed_at.desc()).limit(50)
    ).all()
    evals: dict[int, list[Evaluation]] = {d.id: [] for d in deps}
    if deps:
        for e in db.session.scalars(
            select(Evaluation)
            .where(Evaluation.deployment_id.in_(list(evals)), Evaluation.status != "draft")
            .options(selectinload(Evaluation.ratings)).order_by(Evaluation.id)
        ).all():
            evals[e.deployment_id].append(e)
    return [(d, evals[d.id]) for d in deps]


@bp.get("/leaders/<id:profile_id>")
@any_role
def leader(profile_id: int) -> ResponseReturnValue:
    profile = access.get_leader(current_user, profile_id)
    overseer = current_user.role in access.OVERSEERS
    return render(
        "directory/leader.html", profile=profile, overseer=overseer,
        load=leader_load(profile, current_user) if overseer else None,
        past=past_deployments(profile, current_user) if overseer else None,
        ratings=RATINGS, evaluation_kinds=EVALUATION_KINDS,
    )


# --------------------------------------------------------------------- the leader's own profile


def _own_profile() -> LeaderProfile:
    profile = db.session.scalar(
        select(LeaderProfile).where(LeaderProfile.user_id == current_user.id,
                                    access.leaders_visible_to(current_user)))
    if profile is None:
        raise access.NotVisible("own profile")
    return profile


@bp.route("/me", methods=["GET", "POST"])
@roles(*LEADER_ROLES)
def my_profile() -> ResponseReturnValue:
    profile = _own_profile()
    specialisms = db.session.scalars(select(Specialism).order_by(Specialism.name)).all()
    form = ProfileForm(obj=None if request.method == "POST" else profile)
    form.specialisms.choices = [(s.id, s.name) for s in specialisms]
    if request.method == "GET":
        form.phases.data = profile.phase_list
        form.standards.data = profile.standards
        form.specialisms.data = [s.id for s in profile.specialisms]
        form.version.data = str(profile.version)
        if profile.capacity_days and not (profile.autumn_days or profile.spring_days
                                          or profile.summer_days):
            # days offered per year, from before the terms were asked: suggest a split
            third, extra = divmod(profile.capacity_days, 3)
            form.autumn_days.data = third + (1 if extra > 0 else 0)
            form.spring_days.data = third + (1 if extra > 1 else 0)
            form.summer_days.data = third
    status = 200
    if form.validate_on_submit():
        chosen = set(form.specialisms.data or [])
        try:
            with command():
                profiles.save_profile(
                    current_user, profile, bio=form.bio.data or "",
                    phases=form.phases.data or [], standards=form.standards.data or [],
                    specialisms=[s for s in specialisms if s.id in chosen],
                    autumn_days=form.autumn_days.data, spring_days=form.spring_days.data,
                    summer_days=form.summer_days.data, accepting=form.accepting.data,
                    version=form.version.data or "", ip=request.remote_addr or "")
        except errors.Conflict:
            return render("directory/my_profile.html", profile=_own_profile(), form=form,
                          unavailable_form=UnavailableForm(formdata=None),
                          delete_form=DeleteForm(), conflict=True), 409
        except errors.Invalid as exc:
            exc.show_on(form)
            return render("directory/my_profile.html", profile=_own_profile(), form=form,
                          unavailable_form=UnavailableForm(formdata=None),
                          delete_form=DeleteForm(), conflict=False), 422
        flash("Your profile has been saved.", "success")
        return redirect(url_for("directory.my_profile"), code=303)
    if request.method == "POST":
        status = 422
    return render("directory/my_profile.html", profile=profile, form=form,
                  unavailable_form=UnavailableForm(formdata=None), delete_form=DeleteForm(),
                  conflict=False), status


@bp.post("/me/unavailable")
@roles(*LEADER_ROLES)
def add_unavailable() -> ResponseReturnValue:
    profile = _own_profile()
    form = UnavailableForm()
    if (replay := idempotency.claim(form)) is not None:
        return replay  # sent twice: the dates are added once
    if not form.validate_on_submit():
        pform = ProfileForm(obj=profile)
        pform.specialisms.choices = [(s.id, s.name) for s in profile.specialisms]
        pform.phases.data = profile.phase_list
        pform.standards.data = profile.standards
        pform.specialisms.data = [s.id for s in profile.specialisms]
        pform.version.data = str(profile.version)
        return render("directory/my_profile.html", profile=profile, form=pform,
                      unavailable_form=form, delete_form=DeleteForm(), conflict=False), 422
    u = profiles.add_unavailable(current_user, profile, start=form.start.data,
                                 end=form.end.data, note=form.note.data or "",
                                 ip=request.remote_addr or "")
    idempotency.created(url_for("directory.my_profile"), u)
    flash("Those dates are now shown as unavailable.", "success")
    return redirect(url_for("directory.my_profile"), code=303)


@bp.post("/me/unavailable/<id:unavailable_id>/delete")
@roles(*LEADER_ROLES)
def delete_unavailable(unavailable_id: int) -> ResponseReturnValue:
    profile = _own_profile()
    if not DeleteForm().validate_on_submit():
        abort(400)
    profiles.remove_unavailable(current_user, profile, unavailable_id,
                                ip=request.remote_addr or "")
    flash("Those dates have been removed.", "success")
    return redirect(url_for("directory.my_profile"), code=303)


# ------------------------------------------------------------- the home school approves release


@bp.get("/release")
@roles("home_school")
def release() -> ResponseReturnValue:
    profiles = db.session.scalars(
        select(LeaderProfile).where(access.released_leaders_for(current_user))
        .join(User, User.id == LeaderProfile.user_id)
        .options(joinedload(LeaderProfile.user)).order_by(User.name)
    ).all()
    forms = {}
    for p in profiles:
        form = ReleaseForm(prefix=f"p{p.id}", formdata=None)
        form.days.data = p.release_approved_days
        form.version.data = str(p.version)
        forms[p.id] = form
    return render("directory/release.html", profiles=profiles, forms=forms, errors_for=None)


def _release_page(profile: LeaderProfile, form: ReleaseForm) -> str:
    """The release page again, with this leader's form (and its errors) as submitted."""
    profiles = db.session.scalars(
        select(LeaderProfile).where(access.released_leaders_for(current_user))
        .join(User, User.id == LeaderProfile.user_id)
        .options(joinedload(LeaderProfile.user)).order_by(User.name)).all()
    forms = {}
    for p in profiles:
        if p.id == profile.id:
            forms[p.id] = form
            continue
        other = ReleaseForm(prefix=f"p{p.id}", formdata=None)
        other.days.data = p.release_approved_days
        other.version.data = str(p.version)
        forms[p.id] = other
    return render("directory/release.html", profiles=profiles, forms=forms,
                  errors_for=profile.id)


@bp.post("/release/<id:profile_id>")
@roles("home_school")
def approve_release(profile_id: int) -> ResponseReturnValue:
    profile = access.get_released_leader(current_user, profile_id)
    form = ReleaseForm(prefix=f"p{profile.id}")
    if not form.validate_on_submit():
        return _release_page(profile, form), 422
    try:
        with command():
            profiles.approve_release(current_user, profile, form.days.data,
                                     version=form.version.data or "",
                                     ip=request.remote_addr or "")
    except errors.Invalid as exc:
        exc.show_on(form)
        return _release_page(access.get_released_leader(current_user, profile_id), form), 422
    except errors.Conflict as exc:
        profile = access.get_released_leader(current_user, profile_id)
        current = ReleaseForm(prefix=f"p{profile.id}", formdata=None)
        current.days.data = profile.release_approved_days
        current.version.data = str(profile.version)
        current.days.errors = [str(exc)]
        return _release_page(profile, current), 409
    flash(f"You have approved {form.days.data} days' release for {profile.user.name}.", "success")
    return redirect(url_for("directory.release"), code=303)


# ------------------------------------------------------------------------------ alliances


@bp.get("/alliances")
@any_role
def alliances() -> ResponseReturnValue:
    rows = db.session.scalars(select(Alliance).order_by(Alliance.name)).all()
    return render("directory/alliances.html", alliances=rows)
