"""Administration commands: accounts (invite, edit, deactivate, reactivate, a new invitation,
sign out everywhere), schools (and the GIAS import), Boards, EIPs, specialisms and the
agreement template.

Each command takes plain values, starts by requiring ``policy.admin`` (the admin's, for their
own alliance), checks its rules (each refusal an :class:`~portal.domain.errors.Invalid` naming
its field), changes state, records the audit event and never commits: the request's unit of
work does, once.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (
    EIP,
    ROLES,
    Alliance,
    Board,
    LeaderProfile,
    LocalAuthority,
    School,
    SchoolNetwork,
    Specialism,
    Trust,
    User,
)
from . import access, audit, errors, gias, invites, postcodes, sessions
from .agreements import terms_hash
from .policy import admin as policy
from .policy import commissions as commission_policy
from .policy import require

SCHOOL_ROLES = ("headteacher", "sle", "home_school")
TAKEN_EMAIL = "Someone with this email address already has an account"
TAKEN_URN = "A school with this URN is already in the portal"
TAKEN_SPECIALISM = "That specialism is already on the list"


class TermsChanged(errors.Conflict):
    """The agreement terms changed since the page was drawn; ``current`` holds them now."""

    def __init__(self, message: str, *, current: str) -> None:
        super().__init__(message)
        self.current = current


# ---------------------------------------------------------------------------------- accounts


def _check_placement(actor: User, role: str, school_id: int | None,
                     board_id: int | None) -> None:
    """The role exists, and the school and Board (when the role needs them) are the admin's."""
    if role not in ROLES:
        raise errors.Invalid("Choose a role from the list", field="role")
    if school_id is not None and db.session.scalar(select(School.id).where(
            School.id == school_id, access.schools_managed_by(actor))) is None:
        raise errors.Invalid("Choose a school from the list, or No school", field="school_id")
    if role in SCHOOL_ROLES and school_id is None:
        raise errors.Invalid("Choose the school this person works at", field="school_id")
    if board_id is not None and db.session.scalar(select(Board.id).where(
            Board.id == board_id, access.boards_managed_by(actor))) is None:
        raise errors.Invalid("Choose a Board from the list, or No Board", field="board_id")
    if role == "board" and board_id is None:
        raise errors.Invalid("Choose the Board this person sits on", field="board_id")


def officer_group_choices(actor: User) -> list[tuple[str, str]]:
    """The groups an officer may represent: the admin's alliance's EIPs ("eip:<id>") and the
    local authorities of its schools ("la:<id>")."""
    from ..models import LocalAuthority

    eips = db.session.execute(select(EIP.id, EIP.name).where(access.eips_managed_by(actor))
                              .order_by(EIP.name)).all()
    las = db.session.execute(
        select(LocalAuthority.id, LocalAuthority.name).where(LocalAuthority.id.in_(
            select(School.local_authority_id).where(access.schools_visible_to(actor))))
        .order_by(LocalAuthority.name)).all()
    return [(f"eip:{i}", name) for i, name in eips] + \
        [(f"la:{i}", f"{name} (local authority)") for i, name in las]


def _officer_group(actor: User, role: str, group: str | None) -> tuple[int | None, int | None]:
    """(eip_id, local_authority_id) for an officer's ``group`` (required for an officer, one
    of :func:`officer_group_choices`); (None, None) for any other role."""
    if role != "officer":
        return None, None
    if not group:
        raise errors.Invalid("Choose the EIP or local authority this officer represents",
                             field="group")
    if group not in {value for value, _label in officer_group_choices(actor)}:
        raise errors.Invalid("Choose an EIP or local authority from the list", field="group")
    kind, _, number = group.partition(":")
    return (int(number), None) if kind == "eip" else (None, int(number))


def _check_charged_as(has_profile: bool, role: str, school_id: int | None,
                      charged_as: str | None) -> str | None:
    """The designation a Teaching School headteacher's leader profile is charged at (Sefton B:
    they may lead a commission), None for no profile or another role. Once they have a profile
    it stays (commissions they led name it): the co-ordinator changes only its rate."""
    if role != commission_policy.TEACHING_SCHOOL_HEAD:
        return None
    if not charged_as:
        if has_profile:
            raise errors.Invalid("This Teaching School headteacher already has a leader profile: "
                                 "choose how they are charged (they can stop accepting "
                                 "commissions in their own profile)", field="leader_profile")
        return None
    if charged_as not in commission_policy.TEACHING_SCHOOL_HEAD_CHARGED_AS:
        raise errors.Invalid(commission_policy.CHARGED_AS_MESSAGE, field="leader_profile")
    if school_id is None:
        raise errors.Invalid("Choose the Teaching School this headteacher leads commissions "
                             "from: their leader profile is at that school", field="school_id")
    return charged_as


def _apply_profile(user: User, designation: str | None = None,
                   charged_as: str | None = None) -> None:
    """System leaders have a directory profile at their school; it follows school changes. A
    Teaching School headteacher (the director) has one when the co-ordinator gives them one
    (``charged_as``, from :func:`_check_charged_as`), at the rate it names."""
    if not user.school_id:
        return
    if user.role == commission_policy.TEACHING_SCHOOL_HEAD:
        if not charged_as:
            return
        designation = charged_as
    elif user.role != "sle":
        return
    profile = db.session.scalar(select(LeaderProfile).where(LeaderProfile.user_id == user.id))
    if profile is None:
        db.session.add(LeaderProfile(user_id=user.id, alliance_id=user.alliance_id,
                                     home_school_id=user.school_id,
                                     designation=designation or "sle"))
        return
    if charged_as:
        profile.designation = charged_as
    if profile.home_school_id != user.school_id:
        profile.home_school_id = user.school_id
        profile.release_approved_days = None  # a new home school approves release afresh
        profile.release_approved_by_id = None
        profile.release_approved_at = None


def _add_unique(obj: Any, message: str, field: str) -> None:
    """Add ``obj``; a unique column someone else took at the same moment is ``Invalid``."""
    try:
        with db.session.begin_nested():
            db.session.add(obj)
    except IntegrityError as exc:
        raise errors.Invalid(message, field=field) from exc


def invite_user(actor: User, *, email: str, name: str, role: str, school_id: int | None = None,
                board_id: int | None = None, job_title: str = "", designation: str = "sle",
                group: str | None = None, leader_profile: str | None = None,
                ip: str = "") -> User:
    """Make an account (no password yet) and email its single-use invitation link. An officer
    names the EIP or local authority they represent (``group``); a Teaching School headteacher
    may be given a leader profile (``leader_profile``: the designation they are charged at)."""
    require(policy.general(actor)["invite"])
    email = email.strip().lower()
    board_id = board_id if role == "board" else None
    _check_placement(actor, role, school_id, board_id)
    eip_id, la_id = _officer_group(actor, role, group)
    charged_as = _check_charged_as(False, role, school_id, leader_profile)
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise errors.Invalid(TAKEN_EMAIL, field="email")
    user = User(email=email, name=name.strip(), job_title=job_title.strip(), role=role,
                alliance_id=actor.alliance_id, school_id=school_id, board_id=board_id,
                eip_id=eip_id, local_authority_id=la_id, password_hash="")
    _add_unique(user, TAKEN_EMAIL, "email")
    _apply_profile(user, designation, charged_as)
    invites.send_invitation(user, actor)  # its link is made as it is sent
    audit.record(actor, "user.invite", user, ip=ip,
                 detail={"email": email, "role": user.role, "school_id": user.school_id})
    return user


def update_user(actor: User, target: User, *, name: str, role: str,
                school_id: int | None = None, board_id: int | None = None,
                job_title: str = "", designation: str = "sle", group: str | None = None,
                leader_profile: str | None = None, ip: str = "") -> None:
    """Change an account's name, role, school, Board or (a leader's) designation, or give a
    Teaching School headteacher a leader profile (``leader_profile``: the designation they are
    charged at). A change of role or school signs them out everywhere: their rights changed."""
    require(policy.edit(target, actor))
    if role != target.role:
        decision = policy.change_role(target, actor)
        if not decision:  # beside the role field of the form it was typed in
            raise errors.Invalid(decision.reason, field="role")
    board_id = board_id if role == "board" else None
    _check_placement(actor, role, school_id, board_id)
    eip_id, la_id = _officer_group(actor, role, group)
    charged_as = _check_charged_as(target.profile is not None, role, school_id, leader_profile)
    profile = target.profile
    before = {"role": target.role, "school_id": target.school_id, "board_id": target.board_id,
              "eip_id": target.eip_id, "local_authority_id": target.local_authority_id,
              "name": target.name, "designation": profile.designation if profile else None}
    target.name = name.strip()
    target.job_title = job_title.strip()
    target.role = role
    target.school_id = school_id
    target.board_id = board_id
    target.eip_id, target.local_authority_id = eip_id, la_id
    _apply_profile(target, designation, charged_as)
    if target.role == "sle" and target.profile is not None:
        target.profile.designation = designation
    after = {"role": target.role, "school_id": target.school_id, "board_id": target.board_id,
             "eip_id": eip_id, "local_authority_id": la_id, "name": target.name,
             "designation": designation if target.role == "sle"
             else charged_as or before["designation"]}
    if before != after:
        if before["role"] != after["role"] or before["school_id"] != after["school_id"] \
                or (before["eip_id"], before["local_authority_id"]) != (eip_id, la_id):
            sessions.end_all(target)  # new rights: sign in again
        audit.record(actor, "user.update", target, ip=ip,
                     detail={"before": before, "after": after})


def deactivate_user(actor: User, target: User, *, ip: str = "") -> None:
    """Stop an account signing in; every session of theirs stops at once."""
    require(policy.deactivate(target, actor))
    target.active = False
    sessions.end_all(target)
    audit.record(actor, "user.deactivate", target, ip=ip)


def reactivate_user(actor: User, target: User, *, ip: str = "") -> None:
    require(policy.reactivate(target, actor))
    target.active = True
    audit.record(actor, "user.reactivate", target, ip=ip)


def reinvite_user(actor: User, target: User, *, ip: str = "") -> None:
    """A new invitation link (earlier ones stop working) for someone with no password yet."""
    require(policy.reinvite(target, actor))
    invites.send_invitation(target, actor)  # its link is made as it is sent
    audit.record(actor, "user.reinvite", target, ip=ip)


def end_sessions(actor: User, target: User, *, ip: str = "") -> None:
    """Sign an account out everywhere without deactivating it."""
    require(policy.end_sessions(target, actor))
    sessions.end_all(target)
    audit.record(actor, "user.sessions_end", target, ip=ip)


# ----------------------------------------------------------------------------------- schools


def check_version(obj: School | Board | EIP, seen: int | None) -> None:
    """The admin edited ``obj`` as it was at version ``seen``; refuse (409) if it has changed
    since, or if the form did not say, so an edit from an older page never overwrites a newer
    one. (Two saves at the same moment: the row's ``version_id_col`` refuses the second.)"""
    if seen is None:
        raise errors.Conflict("This form did not say which version it was filled in on, so "
                              "nothing was saved over anyone else's change. Reload the page "
                              "and try again.")
    if seen != obj.version:
        raise errors.Conflict("Someone else changed this while you were editing. Reload the "
                              "page to see the latest version; nothing of yours was saved.")


def save_school(actor: User, school: School | None, *, urn: str, name: str, phase: str,
                postcode: str = "", address: tuple[str, ...] = ("", "", ""), town: str = "",
                local_authority_id: int | None = None, eip_id: int | None = None,
                seen_version: int | None = None, ip: str = "") -> School:
    """Add a school to the admin's alliance (``school`` None) or change one whose home network
    is theirs (``policy.manages_school``: a member school of another home is refused), as it
    was at ``seen_version``. ``address``: up to three street lines; the postcode must be a UK
    one."""
    require(policy.general(actor)["add_school"] if school is None
            else policy.actions(school, actor)["edit"])
    if school is not None:
        check_version(school, seen_version)
    urn = urn.strip()
    clash = db.session.scalar(select(School.id).where(School.urn == urn))
    if clash and (school is None or clash != school.id):
        raise errors.Invalid(TAKEN_URN, field="urn")
    tidy_postcode = postcodes.normalise(postcode)
    if tidy_postcode is None:
        raise errors.Invalid(postcodes.INVALID, field="postcode")
    if eip_id is not None and db.session.scalar(select(EIP.id).where(
            EIP.id == eip_id, access.eips_managed_by(actor))) is None:
        raise errors.Invalid("Choose an EIP from the list, or None", field="eip_id")
    created = school is None
    if school is None:
        school = School(alliance_id=actor.alliance_id)
        db.session.add(school)
    before = {} if created else {"urn": school.urn, "name": school.name, "phase": school.phase}
    school.urn = urn
    school.name = name.strip()
    school.phase = phase
    school.postcode = tidy_postcode
    lines = [line.strip() for line in (*address, "", "", "")[:3]]
    school.address_line1, school.address_line2, school.address_line3 = lines
    school.town = town.strip()
    school.local_authority_id = local_authority_id
    school.eip_id = eip_id
    db.session.flush()
    if created:
        db.session.add(SchoolNetwork(school_id=school.id, alliance_id=actor.alliance_id))
    audit.record(actor, "school.create" if created else "school.update", school, ip=ip,
                 detail={"before": before, "after": {"urn": school.urn, "name": school.name,
                                                     "phase": school.phase}})
    return school


@dataclass
class Imported:
    rows: int
    created: int
    updated: int
    closed: int = 0  # closed in GIAS: schools the portal had, now marked closed
    closed_skipped: int = 0  # closed in GIAS and not in the portal: not added
    trusts: int = 0  # trusts added
    joined: int = 0  # schools of another network that joined this one
    kept: int = 0  # schools whose home is another network: left as that network has them


def _batches(rows: Iterator[gias.Row], size: int) -> Iterator[list[gias.Row]]:
    batch: list[gias.Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Names:
    """Local authorities and trusts by name/code, made on first sight (a few thousand at
    most in England, so they are kept; the schools are not)."""

    def __init__(self) -> None:
        self.las = {name.lower(): id_ for id_, name in
                    db.session.execute(select(LocalAuthority.id, LocalAuthority.name))}
        self.la_codes = {c for c in db.session.scalars(select(LocalAuthority.code)) if c}
        self.trusts = dict(db.session.execute(select(Trust.code, Trust.id)).all())
        self.new_trusts = 0

    def la(self, row: gias.Row) -> int:
        key = row.la_name.lower()
        if key not in self.las:
            code = row.la_code or None
            if code in self.la_codes:
                code = None
            la = LocalAuthority(name=row.la_name, code=code)
            db.session.add(la)
            db.session.flush()
            self.las[key] = la.id
            if code:
                self.la_codes.add(code)
        return self.las[key]

    def add_trusts(self, rows: list[gias.Row]) -> None:
        """Add the trusts first seen in these rows, in one statement."""
        new: dict[str, str] = {}
        for row in rows:
            if row.trust_code and row.trust_code not in self.trusts:
                new.setdefault(row.trust_code, row.trust_name)
        if new:
            made = db.session.execute(
                insert(Trust).returning(Trust.code, Trust.id),
                [{"code": code, "name": name} for code, name in new.items()])
            self.trusts.update({code: id_ for code, id_ in made})
            self.new_trusts += len(new)

    def trust(self, row: gias.Row) -> int | None:
        return self.trusts[row.trust_code] if row.trust_code else None


def import_schools(actor: User, source: bytes | IO[bytes], *, filename: str = "", ip: str = "",
                   only_las: set[str] | None = None) -> Imported:
    """Import a GIAS extract (bytes, or a seekable binary file: the national file is read as a
    stream, :data:`gias.CHUNK` rows at a time) into the admin's alliance, in the caller's one
    transaction. If any row is rejected, ``Invalid`` on ``file`` (with ``parsed``, the
    :class:`gias.Report`) is raised after the whole file is checked, so the caller's rollback
    leaves nothing half-imported. Schools the portal has (same URN) are updated if their home
    is the admin's network; one whose home is another network becomes a member of the admin's
    too and is otherwise left as its home network keeps it (``policy.manages_school``: its
    name, address, phase, local authority, trust and closing are that network's); closed
    establishments are marked closed if the portal has them and otherwise not added.
    ``only_las``: import only these local authorities."""
    require(policy.general(actor)["import_schools"])
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    reader = gias.Reader(stream, only_las=only_las)
    report = reader.report
    names = _Names()
    done = Imported(0, 0, 0)
    for batch in _batches(iter(reader), gias.CHUNK):
        existing = {urn: (id_, version, alliance_id) for id_, urn, version, alliance_id in
                    db.session.execute(select(School.id, School.urn, School.version,
                                              School.alliance_id)
                                       .where(School.urn.in_([r.urn for r in batch])))}
        members = set(db.session.scalars(select(SchoolNetwork.school_id).where(
            SchoolNetwork.alliance_id == actor.alliance_id,
            SchoolNetwork.school_id.in_([found[0] for found in existing.values()]))))
        new_rows: list[dict] = []
        changed_rows: list[dict] = []
        joined: list[dict] = []
        if not report.rejected_count and not report.error:
            names.add_trusts(batch)
        for row in batch:
            found = existing.get(row.urn)
            if report.rejected_count or report.error:
                continue  # nothing will be kept: check the rest, write nothing more
            if found is not None and found[2] is not None and found[2] != actor.alliance_id:
                # another network's school: it joins this one too, its record stays theirs
                done.kept += 1
                if found[0] not in members and not row.closed:
                    joined.append({"school_id": found[0], "alliance_id": actor.alliance_id})
                continue
            values = {"name": row.name, "phase": row.phase, **row.address,
                      "local_authority_id": names.la(row), "trust_id": names.trust(row),
                      "closed": row.closed}
            if found is None and row.closed:
                done.closed_skipped += 1
            elif found is None:
                new_rows.append({"urn": row.urn, "eip_id": None,
                                 "alliance_id": actor.alliance_id, **values})
            else:  # the admin's own school (or one with no home yet, which becomes theirs)
                values["alliance_id"] = actor.alliance_id
                changed_rows.append({"id": found[0], "version": found[1], **values})
                done.closed += row.closed
                if found[0] not in members and not row.closed:
                    joined.append({"school_id": found[0], "alliance_id": actor.alliance_id})
        if new_rows:  # Core, not ORM: one multi-row INSERT per chunk on PostgreSQL
            table = School.__table__
            made = db.session.execute(insert(table).returning(School.id),  # type: ignore[arg-type]
                                      new_rows)
            joined += [{"school_id": id_, "alliance_id": actor.alliance_id}
                       for id_ in made.scalars()]
        if changed_rows:
            db.session.execute(update(School), changed_rows)  # bulk UPDATE by primary key
        if joined:
            db.session.execute(insert(SchoolNetwork.__table__), joined)  # type: ignore[arg-type]
        done.created += len(new_rows)
        done.updated += len(changed_rows)
        done.joined += len(joined) - len(new_rows)
    if not report.ok:
        message = report.error or (
            f"{report.rejected_count:,} row(s) were rejected, so nothing was imported. "
            "Correct them and upload the file again.")
        raise errors.Invalid(message, field="file", parsed=report)
    done.rows = report.rows
    done.trusts = names.new_trusts
    audit.record(actor, "school.import", None, ip=ip,
                 detail={"rows": done.rows, "created": done.created, "updated": done.updated,
                         "closed": done.closed, "closed_skipped": done.closed_skipped,
                         "trusts": done.trusts, "joined": done.joined, "kept": done.kept,
                         "filename": filename[:200]})
    return done


# ------------------------------------------------------------------------ Boards and EIPs


def save_board(actor: User, board: Board | None, *, name: str, phase: str, budget_pence: int,
               seen_version: int | None = None, ip: str = "") -> Board:
    """Add a Board to the admin's alliance (``board`` None) or change one of theirs, as it
    was at ``seen_version``."""
    require(policy.general(actor)["add_board"] if board is None
            else policy.actions(board, actor)["edit"])
    if board is not None:
        check_version(board, seen_version)
    if not isinstance(budget_pence, int) or budget_pence < 0:
        raise errors.Invalid("Enter the budget in pounds, 0 if none", field="budget")
    created = board is None
    if board is None:
        board = Board(alliance_id=actor.alliance_id)
        db.session.add(board)
    before = {} if created else {"name": board.name, "phase": board.phase,
                                 "budget_pence": board.budget_pence}
    board.name = name.strip()
    board.phase = phase
    board.budget_pence = budget_pence
    db.session.flush()
    audit.record(actor, "board.create" if created else "board.update", board, ip=ip,
                 detail={"before": before, "after": {"name": board.name, "phase": board.phase,
                                                     "budget_pence": board.budget_pence}})
    return board


def save_eip(actor: User, eip: EIP | None, *, name: str, seen_version: int | None = None,
             ip: str = "") -> EIP:
    """Add an Education Improvement Partnership (``eip`` None) or rename one, as it was at
    ``seen_version``."""
    require(policy.general(actor)["add_eip"] if eip is None
            else policy.actions(eip, actor)["edit"])
    if eip is not None:
        check_version(eip, seen_version)
    created = eip is None
    if eip is None:
        eip = EIP(alliance_id=actor.alliance_id)
        db.session.add(eip)
    before = {} if created else {"name": eip.name}
    eip.name = name.strip()
    db.session.flush()
    audit.record(actor, "eip.create" if created else "eip.update", eip, ip=ip,
                 detail={"before": before, "after": {"name": eip.name}})
    return eip


# ------------------------------------------------------------- specialisms and the template


def specialism_code(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40] or "specialism"


def add_specialism(actor: User, name: str, *, ip: str = "") -> Specialism:
    """Add to the list every alliance shares (entries are added, never renamed)."""
    require(policy.general(actor)["add_specialism"])
    name = name.strip()
    code = specialism_code(name)
    if db.session.scalar(select(Specialism.id).where(
            or_(Specialism.code == code, func.lower(Specialism.name) == name.lower()))):
        raise errors.Invalid(TAKEN_SPECIALISM, field="name")
    s = Specialism(code=code, name=name)
    _add_unique(s, TAKEN_SPECIALISM, "name")
    audit.record(actor, "specialism.create", s, ip=ip, detail={"code": code, "name": name})
    return s


def save_agreement_terms(actor: User, terms: str, *, seen_hash: str | None,
                         ip: str = "") -> Alliance:
    """Replace the alliance's agreement terms, if they are still those the page showed
    (``seen_hash``); otherwise :class:`TermsChanged` with the terms saved now, and nothing is
    saved over them. The alliance row is locked first, so two saves queue."""
    require(policy.general(actor)["edit_agreement_template"])
    alliance = db.session.scalars(
        select(Alliance).where(Alliance.id == actor.alliance_id).with_for_update()
        .execution_options(populate_existing=True)).one()
    if seen_hash != terms_hash(alliance.agreement_terms):
        raise TermsChanged(
            "Someone else changed the terms while you were editing, or this page was out of "
            "date, so nothing was saved. The terms saved now are below. Check them, then send "
            "yours again to replace them.", current=alliance.agreement_terms)
    before = alliance.agreement_terms
    alliance.agreement_terms = terms
    if before != terms:
        audit.record(actor, "alliance.agreement_terms", alliance, ip=ip,
                     detail={"before_length": len(before or ""), "after_length": len(terms)})
    return alliance
