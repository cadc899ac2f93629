"""Users, their roles, and system-leader profiles."""

from __future__ import annotations

from datetime import date

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import Model, db
from .base import DESIGNATIONS, ROLES, UTCDateTime, mask_to_standards, utcnow
from .schools import EIP, Alliance, Board, LocalAuthority, School

_ROLE_CHECK = "role in (" + ", ".join(f"'{r}'" for r in ROLES) + ")"
_DESIGNATION_CHECK = "designation in (" + ", ".join(f"'{d}'" for d in DESIGNATIONS) + ")"


class User(UserMixin, Model):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    job_title: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(20))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliance.id"))
    board_id: Mapped[int | None] = mapped_column(ForeignKey("board.id"))
    # An officer's group of schools: the schools of their EIP, or of their local authority
    # (within the alliance). One of the two, for the "officer" role only.
    eip_id: Mapped[int | None] = mapped_column(ForeignKey("eip.id"))
    local_authority_id: Mapped[int | None] = mapped_column(ForeignKey("local_authority.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on logout-everywhere, password change and deactivation: old sessions stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_login_at = mapped_column(UTCDateTime, nullable=True)
    # Emails: False = one per event (immediate), True = one daily digest (issue 17). In-portal
    # notifications appear either way.
    daily_digest: Mapped[bool] = mapped_column(default=False, server_default=false())

    school: Mapped[School | None] = relationship()
    alliance: Mapped[Alliance] = relationship()
    board: Mapped[Board | None] = relationship()
    eip: Mapped[EIP | None] = relationship()
    local_authority: Mapped[LocalAuthority | None] = relationship()
    profile: Mapped[LeaderProfile | None] = relationship(
        back_populates="user", uselist=False, foreign_keys="LeaderProfile.user_id"
    )

    __table_args__ = (
        CheckConstraint(_ROLE_CHECK, name="role"),
        Index("ix_user_account_school_role", "school_id", "role"),
        Index("ix_user_account_alliance_role", "alliance_id", "role"),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def role_label(self) -> str:
        if self.role == "officer" and self.officer_route:
            return OFFICER_LABELS[self.officer_route]
        return ROLES[self.role]

    @property
    def officer_route(self) -> str | None:
        """The route an officer's requests take: "eip" (EIP-led) or "la" (LA-commissioned)."""
        if self.role != "officer":
            return None
        if self.eip_id:
            return "eip"
        return "la" if self.local_authority_id else None

    @property
    def group_name(self) -> str:
        """The name of an officer's group of schools ("" for anyone else)."""
        if self.officer_route == "eip" and self.eip is not None:
            return self.eip.name
        if self.officer_route == "la" and self.local_authority is not None:
            return f"{self.local_authority.name} School Improvement Service"
        return ""


OFFICER_LABELS = {"eip": "EIP officer", "la": "Local authority officer"}


class Specialism(Model):
    """The controlled list of subjects and specialisms a request or a leader can name."""

    __tablename__ = "specialism"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))


leader_specialism = Table(
    "leader_specialism",
    db.metadata,
    Column("profile_id", ForeignKey("leader_profile.id", ondelete="CASCADE"), primary_key=True),
    Column("specialism_id", ForeignKey("specialism.id"), primary_key=True, index=True),
)


def split_phases(phases: str) -> list[str]:
    """A profile's phases as stored ("primary,secondary"), one by one."""
    return [p for p in phases.split(",") if p]


class LeaderProfile(Model):
    """A system leader's entry in the directory: what they offer and how much time."""

    __tablename__ = "leader_profile"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliance.id"))
    home_school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    designation: Mapped[str] = mapped_column(String(10))
    phases: Mapped[str] = mapped_column(String(120), default="")  # comma-separated phase codes
    standards_mask: Mapped[int] = mapped_column(default=0)  # bit i = STANDARDS[i]
    bio: Mapped[str] = mapped_column(Text, default="")
    capacity_days: Mapped[int] = mapped_column(default=0)  # days offered per academic year
    # Days offered in each term; capacity_days is kept as their sum (issue 8).
    autumn_days: Mapped[int] = mapped_column(default=0)
    spring_days: Mapped[int] = mapped_column(default=0)
    summer_days: Mapped[int] = mapped_column(default=0)
    release_approved_days: Mapped[int | None] = mapped_column()  # set by the home school
    release_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    release_approved_at = mapped_column(UTCDateTime, nullable=True)
    accepting: Mapped[bool] = mapped_column(default=True)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    version: Mapped[int] = mapped_column(default=1)

    user: Mapped[User] = relationship(back_populates="profile", foreign_keys=[user_id])
    home_school: Mapped[School] = relationship()
    specialisms: Mapped[list[Specialism]] = relationship(secondary=leader_specialism)
    unavailable: Mapped[list[Unavailability]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", order_by="Unavailability.start"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(_DESIGNATION_CHECK, name="designation"),
        CheckConstraint("capacity_days >= 0", name="capacity_not_negative"),
        CheckConstraint("autumn_days >= 0 and spring_days >= 0 and summer_days >= 0",
                        name="term_days_not_negative"),
        Index("ix_leader_profile_alliance_designation", "alliance_id", "designation"),
    )

    @property
    def phase_list(self) -> list[str]:
        return split_phases(self.phases)

    @property
    def standards(self) -> list[str]:
        return mask_to_standards(self.standards_mask)

    @property
    def designation_label(self) -> str:
        return DESIGNATIONS[self.designation]


class Unavailability(Model):
    __tablename__ = "unavailability"
    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("leader_profile.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[date]
    end: Mapped[date]
    note: Mapped[str] = mapped_column(String(200), default="")

    profile: Mapped[LeaderProfile] = relationship(back_populates="unavailable")

    __table_args__ = (CheckConstraint('"end" >= start', name="end_after_start"),)
