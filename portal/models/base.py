"""Column types and reference codes shared by every aggregate."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, always hands back an aware UTC datetime (SQLite and PostgreSQL alike)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


ROLES = {
    "headteacher": "Headteacher",
    "sle": "System leader",
    "home_school": "Home-school leader",
    "director": "Teaching School Director",
    "admin": "School Support Co-ordinator",
    "board": "Board member",
    # represents an Education Improvement Partnership or the local authority's School
    # Improvement Service, filing requests for a group of schools (Sefton A.1, East Sussex 2)
    "officer": "EIP or local authority officer",
}

PHASES = {
    "early_years": "Early years",
    "primary": "Primary",
    "secondary": "Secondary",
    "post_16": "Post-16",
    "all_through": "All-through",
    "special": "Special",
}

STANDARDS = {
    "TS1": "Set high expectations which inspire, motivate and challenge pupils",
    "TS2": "Promote good progress and outcomes by pupils",
    "TS3": "Demonstrate good subject and curriculum knowledge",
    "TS4": "Plan and teach well structured lessons",
    "TS5": "Adapt teaching to respond to the strengths and needs of all pupils",
    "TS6": "Make accurate and productive use of assessment",
    "TS7": "Manage behaviour effectively to ensure a good and safe learning environment",
    "TS8": "Fulfil wider professional responsibilities",
    "PART2": "Personal and professional conduct",
}

DESIGNATIONS = {
    "nle": "National Leader of Education",
    "lle": "Local Leader of Education",
    "slt": "Non-accredited, working as SLT",
    "sle": "Specialist Leader of Education",
    "non_sle": "Non-accredited, working as SLE",
}

SUPPORT_KINDS = {
    "sle_deployment": "SLE deployment",
    "commission": "NLE/LLE commission",
    "good_practice_visit": "Good-practice visit",
    "consultation": "One-off consultation",
}

ROUTES = {
    "school": "School-led",
    "eip": "EIP-led",
    "la": "LA-commissioned",
    "board": "Board-targeted",
    "direct": "Direct to a Teaching School headteacher",
}

CHARGING_MODELS = {"east_sussex": "East Sussex (flat rate, Board subsidy)",
                   "sefton": "Sefton (rate by designation, 10% brokerage)"}


def standards_to_mask(codes) -> int:
    keys = list(STANDARDS)
    mask = 0
    for code in codes:
        mask |= 1 << keys.index(code)
    return mask


def mask_to_standards(mask: int) -> list[str]:
    return [code for i, code in enumerate(STANDARDS) if mask & (1 << i)]
