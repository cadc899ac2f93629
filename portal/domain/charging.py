"""Charging rules: rate cards, Board subsidy, brokerage fee, free allowances and early-end refunds.

Plain Python with no Flask or database imports, so that every rule can be tested on its own.

Every amount of money is an ``int`` of pence; nothing here ever holds money in a float. Where a
division is unavoidable it is done in integer arithmetic and rounded **half up to the penny**
(an exact half penny goes up, anything less goes down), always by :func:`_div_half_up`:

* the cost of a duration: ``day_rate x half_days / 2``, so only a half penny can arise, and only
  when the day rate is an odd number of pence and the duration is an odd number of half days;
* the brokerage fee: ``commission_cost x brokerage_bp / 10_000``, so 10% of 17,505p is 1,751p;
* the Board's share of a subsidised deployment: ``(grant + concession per day) x half_days / 2``.

The receiving school's share of the commission is then *the remainder* (commission cost less the
Board's share), never a separately rounded figure, so the parts always add up to the whole::

    school_pays + board_pays == home_school_receives + teaching_school_receives

Two charging models come from the seed documents:

* ``east_sussex``: every deployment is charged at the nationally agreed SLE rate of £350 a day,
  paid to the system leader's home school as supply cover. On a deployment targeted by the
  Primary or Secondary Board, the Board grants £200 a day to the home school and the receiving
  school pays the other £150; the Board may grant a further concession case by case.
* ``sefton``: the day rate depends on who delivers (NLE £500 to non-SLE £300), and the supported
  school also pays the Teaching School a brokerage fee of 10% of the cost of the commission.
  Good-practice visits and one-off consultations have their own prices with a free allowance
  per school per academic year.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import TypeGuard

from ..formatting import days as days_in_words

__all__ = [
    "BASIS_POINTS",
    "DESIGNATIONS",
    "DESIGNATION_LABELS",
    "KINDS",
    "KIND_LABELS",
    "MODELS",
    "PARTIES",
    "PARTY_LABELS",
    "PAYING_PARTIES",
    "CommissionQuote",
    "Person",
    "PersonCharge",
    "Quote",
    "RateCard",
    "Settlement",
    "Share",
    "academic_year",
    "academic_year_bounds",
    "academic_year_label",
    "brokerage_applies",
    "brokerage_fee",
    "commission_delivered",
    "commission_quote",
    "consultation_charge",
    "cost_for_half_days",
    "describe_half_days",
    "east_sussex_card",
    "format_pence",
    "invoice_shares",
    "good_practice_visit_charge",
    "offers_consultations",
    "offers_good_practice_visits",
    "quote",
    "sefton_card",
    "settle_early_end",
    "split_evenly",
]

DESIGNATIONS: tuple[str, ...] = ("nle", "lle", "slt", "sle", "non_sle")
"""Who delivers the work. ``slt`` is a colleague without LLE accreditation working as SLT;
``non_sle`` is a colleague without SLE accreditation working as an SLE."""

DESIGNATION_LABELS: dict[str, str] = {
    "nle": "National Leader of Education",
    "lle": "Local Leader of Education",
    "slt": "Non-accredited, working as SLT",
    "sle": "Specialist Leader of Education",
    "non_sle": "Non-accredited, working as SLE",
}

KINDS: tuple[str, ...] = ("sle_deployment", "commission", "good_practice_visit", "consultation")

KIND_LABELS: dict[str, str] = {
    "sle_deployment": "SLE deployment",
    "commission": "NLE/LLE commission",
    "good_practice_visit": "Good-practice visit",
    "consultation": "One-off SLT or subject-leader consultation",
}

MODELS: tuple[str, ...] = ("east_sussex", "sefton")

PARTIES: tuple[str, ...] = ("school", "board", "home_school", "teaching_school")
"""Everyone money moves between: the receiving school(s) and the Board pay; the system leader's
home school and the Teaching School receive."""

PAYING_PARTIES: tuple[str, ...] = ("school", "board")

BASIS_POINTS = 10_000
"""Basis points in a whole: 1,000 bp is 10%."""

PARTY_LABELS: dict[str, str] = {
    "school": "Receiving school",
    "board": "Board",
    "home_school": "Home school",
    "teaching_school": "Teaching School",
}


# --------------------------------------------------------------------------------------------
# Integer arithmetic and validation helpers
# --------------------------------------------------------------------------------------------


def _is_int(value: object) -> TypeGuard[int]:
    """True for a real ``int``; ``bool`` is refused even though it subclasses ``int``."""
    return isinstance(value, int) and not isinstance(value, bool)


def _require_int(name: str, value: object, *, minimum: int | None = None) -> int:
    if not _is_int(value):
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")
    return value


def _div_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up, for a non-negative numerator.

    Pure integer arithmetic: ``floor((2n + d) / 2d)`` is ``n / d`` rounded to the nearest whole
    number with an exact half going up.
    """
    if numerator < 0 or denominator <= 0:
        raise ValueError("half-up division is defined here for n >= 0 and d > 0 only")
    return (2 * numerator + denominator) // (2 * denominator)


def cost_for_half_days(day_rate: int, half_days: int) -> int:
    """Cost in pence of ``half_days`` half days at ``day_rate`` pence a day.

    ``day_rate x half_days / 2`` rounded half up to the penny: one half day at 35,001p costs
    17,501p (17,500.5p rounded up). Zero half days cost nothing.
    """
    _require_int("day rate", day_rate, minimum=0)
    _require_int("half days", half_days, minimum=0)
    return _div_half_up(day_rate * half_days, 2)


def brokerage_fee(commission_cost: int, brokerage_bp: int) -> int:
    """The brokerage fee on a commission: ``brokerage_bp`` basis points of its cost.

    ``commission_cost x brokerage_bp / 10,000`` rounded half up to the penny, so at 10%
    (1,000 bp) a cost of 17,505p carries a fee of 1,751p and 17,504p a fee of 1,750p.
    """
    _require_int("commission cost", commission_cost, minimum=0)
    _require_int("brokerage", brokerage_bp, minimum=0)
    if brokerage_bp > BASIS_POINTS:
        raise ValueError("brokerage cannot exceed 100% (10,000 basis points)")
    return _div_half_up(commission_cost * brokerage_bp, BASIS_POINTS)


def split_evenly(total: int, parts: int) -> tuple[int, ...]:
    """Share ``total`` pence equally between ``parts`` payers, to the penny.

    Everyone pays ``total // parts``; the pennies left over go one each to the first payers in
    order, so the shares differ by at most a penny, never increase along the tuple, and always
    sum exactly to ``total``: 100p between three is (34, 33, 33).
    """
    _require_int("total", total, minimum=0)
    _require_int("number of payers", parts, minimum=1)
    base, leftover = divmod(total, parts)
    return tuple(base + 1 if index < leftover else base for index in range(parts))


def format_pence(pence: int) -> str:
    """Pounds and pence with thousands separators: ``180000`` -> ``"£1,800.00"``."""
    _require_int("amount", pence)
    sign = "-" if pence < 0 else ""
    pounds, remainder = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{remainder:02d}"


def _format_percent(basis_points: int) -> str:
    whole, fraction = divmod(basis_points, 100)
    if fraction == 0:
        return f"{whole}%"
    return f"{whole}.{fraction:02d}".rstrip("0") + "%"


def describe_half_days(half_days: int) -> str:
    """A duration in words, the one way the portal writes days: 1 -> "half a day",
    2 -> "1 day", 3 -> "1½ days", 8 -> "4 days"."""
    _require_int("half days", half_days, minimum=0)
    return days_in_words(half_days)


# --------------------------------------------------------------------------------------------
# Rate cards
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateCard:
    """A snapshot of one alliance's rate card (store it with an agreement so later edits to the
    card never change a charge already agreed).

    ``board_school_day`` is the published figure for what a receiving school pays a day on a
    Board-targeted deployment at the standard rate (East Sussex: £150 of £350). :func:`quote`
    always charges the school *the rest of the day rate* after the Board's grant, which is that
    figure whenever ``day rate == board_grant_day + board_school_day``.

    A card is validated when built: every designation has a positive day rate, brokerage is
    between 0 and 10,000 bp, no amount is negative, and the Board grant never exceeds a day
    rate (so a school's share is never negative). ``day_rates`` is copied into a read-only
    mapping, so the caller's dict can change afterwards without touching the card.
    """

    model: str
    day_rates: Mapping[str, int]
    brokerage_bp: int
    board_grant_day: int
    board_school_day: int
    gpv_half_day: int
    gpv_free_per_year: int
    consult_hour: int
    consult_free_hours: int

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"unknown charging model {self.model!r}; expected one of {MODELS}")
        if not isinstance(self.day_rates, Mapping):
            raise ValueError("day_rates must map each designation to pence per day")
        unknown = sorted(set(self.day_rates) - set(DESIGNATIONS))
        missing = [d for d in DESIGNATIONS if d not in self.day_rates]
        if unknown:
            raise ValueError(f"unknown designation(s) in the rate card: {', '.join(unknown)}")
        if missing:
            raise ValueError(f"the rate card has no day rate for: {', '.join(missing)}")
        for designation in DESIGNATIONS:
            _require_int(f"day rate for {designation}", self.day_rates[designation], minimum=1)
        object.__setattr__(
            self,
            "day_rates",
            MappingProxyType({d: self.day_rates[d] for d in DESIGNATIONS}),
        )
        for name in (
            "brokerage_bp",
            "board_grant_day",
            "board_school_day",
            "gpv_half_day",
            "gpv_free_per_year",
            "consult_hour",
            "consult_free_hours",
        ):
            _require_int(name, getattr(self, name), minimum=0)
        if self.brokerage_bp > BASIS_POINTS:
            raise ValueError("brokerage cannot exceed 100% (10,000 basis points)")
        if self.board_grant_day == 0 and self.board_school_day != 0:
            raise ValueError("a school share for Board-targeted work needs a Board grant")
        lowest = min(self.day_rates.values())
        if self.board_grant_day > lowest:
            raise ValueError(
                f"the Board grant ({format_pence(self.board_grant_day)} a day) exceeds the "
                f"lowest day rate ({format_pence(lowest)})"
            )

    @property
    def has_board_subsidy(self) -> bool:
        """Whether Board-targeted deployments on this card are subsidised."""
        return self.board_grant_day > 0

    def day_rate(self, designation: str) -> int:
        """Pence per day for ``designation``; ValueError for an unknown one."""
        _check_designation(designation)
        return self.day_rates[designation]


def east_sussex_card() -> RateCard:
    """The East Sussex Teaching School Network's rates as seeded.

    Every designation at the nationally agreed SLE rate of £350 a day, no brokerage fee; on a
    Board-targeted deployment the Board grants £200 a day and the receiving school pays £150.
    Good-practice visits and consultations are not offered (no price, no allowance).
    """
    return RateCard(
        model="east_sussex",
        day_rates={d: 35_000 for d in DESIGNATIONS},
        brokerage_bp=0,
        board_grant_day=20_000,
        board_school_day=15_000,
        gpv_half_day=0,
        gpv_free_per_year=0,
        consult_hour=0,
        consult_free_hours=0,
    )


def sefton_card() -> RateCard:
    """The regionally agreed Sefton charging model as seeded.

    NLE £500, LLE £450, non-LLE working as SLT £400, SLE £350, non-SLE working as SLE £300 a
    day; a 10% brokerage fee to the Teaching School; no Board subsidy. Good-practice visits:
    first half day free per school per academic year, then £100 a half day. Consultations: first
    hour free per school per academic year, then £70 an hour.
    """
    return RateCard(
        model="sefton",
        day_rates={"nle": 50_000, "lle": 45_000, "slt": 40_000, "sle": 35_000, "non_sle": 30_000},
        brokerage_bp=1_000,
        board_grant_day=0,
        board_school_day=0,
        gpv_half_day=10_000,
        gpv_free_per_year=1,
        consult_hour=7_000,
        consult_free_hours=1,
    )


def _check_designation(designation: object) -> str:
    if not isinstance(designation, str) or designation not in DESIGNATIONS:
        raise ValueError(f"unknown designation {designation!r}; expected one of {DESIGNATIONS}")
    return designation


def brokerage_applies(kind: str) -> bool:
    """Whether the card's brokerage fee is added to work of this ``kind``.

    It is for SLE deployments and NLE/LLE commissions (priced with :func:`quote`). It is not for
    good-practice visits or one-off consultations: the Sefton protocol lists those as "other
    S2SS episodes" with their own prices, which are taken as all-in.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind of support {kind!r}; expected one of {KINDS}")
    return kind in ("sle_deployment", "commission")


# --------------------------------------------------------------------------------------------
# Academic years
# --------------------------------------------------------------------------------------------


def academic_year(d: date) -> int:
    """The academic year holding ``d``, named by the calendar year it starts in.

    A year runs 1 September to 31 August: 1 Sep 2026 to 31 Aug 2027 is 2026. A ``datetime`` is
    taken by its date.
    """
    if not isinstance(d, date):
        raise ValueError(f"expected a date, not {d!r}")
    return d.year if d.month >= 9 else d.year - 1


def academic_year_label(year: int) -> str:
    """``2026`` -> ``"2026/27"``; ``1999`` -> ``"1999/00"``."""
    _require_int("academic year", year, minimum=1)
    return f"{year}/{(year + 1) % 100:02d}"


def academic_year_bounds(year: int) -> tuple[date, date]:
    """First and last day of academic ``year``, both inclusive: 2026 -> 1 Sep 2026, 31 Aug 2027."""
    _require_int("academic year", year, minimum=1)
    return date(year, 9, 1), date(year + 1, 8, 31)


# --------------------------------------------------------------------------------------------
# Quotes for deployments and commissions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """One line of a breakdown: ``party`` pays (school, board) or receives (home_school,
    teaching_school) ``amount`` pence, described in words."""

    party: str
    amount: int
    description: str


@dataclass(frozen=True)
class Quote:
    """The agreed (or delivered) charge for a deployment or commission, in pence.

    ``lines`` describes every non-zero movement of money. The ``school`` and ``board`` lines sum
    to ``school_pays`` and ``board_pays``; the ``home_school`` and ``teaching_school`` lines sum to
    ``home_school_receives`` and ``teaching_school_receives``.
    """

    half_days: int
    day_rate: int
    commission_cost: int
    brokerage_fee: int
    school_pays: int
    school_shares: tuple[int, ...]
    board_pays: int
    home_school_receives: int
    teaching_school_receives: int
    lines: tuple[Share, ...]
    designation: str
    subsidised: bool

    def lines_for(self, party: str) -> tuple[Share, ...]:
        """The breakdown lines of one party."""
        if party not in PARTIES:
            raise ValueError(f"unknown party {party!r}; expected one of {PARTIES}")
        return tuple(line for line in self.lines if line.party == party)


def _validate_terms(
    card: RateCard,
    designation: str,
    *,
    targeted: bool,
    concession_day: int,
    schools: int,
) -> None:
    if not isinstance(card, RateCard):
        raise ValueError("a RateCard is needed to price work")
    _check_designation(designation)
    if not isinstance(targeted, bool):
        raise ValueError(f"targeted must be True or False, not {targeted!r}")
    _require_int("number of receiving schools", schools, minimum=1)
    _require_int("concession per day", concession_day, minimum=0)
    if concession_day:
        if not (targeted and card.has_board_subsidy):
            raise ValueError(
                "a Board concession applies only to a subsidised, Board-targeted deployment"
            )
        grantable = card.day_rates[designation] - card.board_grant_day
        if concession_day > grantable:
            raise ValueError(
                f"the concession ({format_pence(concession_day)} a day) exceeds what the school "
                f"pays after the Board grant ({format_pence(grantable)} a day)"
            )


def _build_quote(
    card: RateCard,
    designation: str,
    half_days: int,
    *,
    targeted: bool,
    concession_day: int,
    schools: int,
) -> Quote:
    """Price ``half_days`` (zero allowed, for an early end before any visit); inputs validated."""
    rate = card.day_rates[designation]
    label = DESIGNATION_LABELS[designation]
    duration = describe_half_days(half_days)
    subsidised = targeted and card.has_board_subsidy

    cost = cost_for_half_days(rate, half_days)
    grant = cost_for_half_days(card.board_grant_day, half_days) if subsidised else 0
    board = (
        cost_for_half_days(card.board_grant_day + concession_day, half_days) if subsidised else 0
    )
    concession = board - grant
    school_commission = cost - board
    fee = brokerage_fee(cost, card.brokerage_bp)
    school_total = school_commission + fee

    who = "Receiving school" if schools == 1 else f"Receiving schools ({schools}, shared equally)"
    candidates: list[Share] = []
    if subsidised:
        per_day = rate - card.board_grant_day - concession_day
        candidates.append(
            Share(
                "school",
                school_commission,
                f"{who}: {duration} of {label} support at {format_pence(per_day)} a day "
                f"({format_pence(rate)} day rate less the Board's share)",
            )
        )
    else:
        candidates.append(
            Share(
                "school",
                school_commission,
                f"{who}: {duration} of {label} support at {format_pence(rate)} a day",
            )
        )
    candidates.append(
        Share(
            "school",
            fee,
            f"{who}: brokerage fee to the Teaching School, {_format_percent(card.brokerage_bp)} of "
            f"the {format_pence(cost)} commission cost",
        )
    )
    candidates.append(
        Share(
            "board",
            grant,
            f"Board grant to the home school: {format_pence(card.board_grant_day)} a day for "
            f"{duration}",
        )
    )
    candidates.append(
        Share(
            "board",
            concession,
            f"Board concession: a further {format_pence(concession_day)} a day for {duration}",
        )
    )
    candidates.append(
        Share(
            "home_school",
            cost,
            f"Home school: supply cover for {duration} of release at {format_pence(rate)} a day",
        )
    )
    candidates.append(
        Share(
            "teaching_school",
            fee,
            f"Teaching School: brokerage fee of {_format_percent(card.brokerage_bp)}",
        )
    )

    return Quote(
        half_days=half_days,
        day_rate=rate,
        commission_cost=cost,
        brokerage_fee=fee,
        school_pays=school_total,
        school_shares=split_evenly(school_total, schools),
        board_pays=board,
        home_school_receives=cost,
        teaching_school_receives=fee,
        lines=tuple(line for line in candidates if line.amount),
        designation=designation,
        subsidised=subsidised,
    )


def quote(
    card: RateCard,
    designation: str,
    half_days: int,
    *,
    targeted: bool = False,
    concession_day: int = 0,
    schools: int = 1,
) -> Quote:
    """Price a deployment or commission of ``half_days`` half days by a ``designation``.

    * Commission cost: day rate x half days / 2, rounded half up to the penny; it all goes to the
      system leader's home school as supply cover.
    * Brokerage fee: the card's ``brokerage_bp`` of the commission cost, rounded half up; the
      receiving school(s) pay it to the Teaching School (Sefton 10%, East Sussex none).
    * ``targeted`` (a Board-targeted deployment) is subsidised only when the card has a Board
      grant; otherwise it is priced like any other deployment. When subsidised, the Board pays
      ``board_grant_day`` plus ``concession_day`` a day (rounded half up over the duration) and
      the school pays the rest of the commission cost.
    * ``concession_day`` must be 0 unless the deployment is subsidised, and may not exceed what
      the school would pay a day after the grant, so the school's share never goes below zero.
    * ``schools`` receiving schools share the school's total (commission share plus brokerage)
      equally, leftover pennies to the first schools in order (see :func:`split_evenly`).

    Raises ValueError for an unknown designation, a duration under one half day, fewer than one
    school, a negative or ungrantable concession, or anything that is not a whole number.
    """
    _validate_terms(
        card, designation, targeted=targeted, concession_day=concession_day, schools=schools
    )
    _require_int("half days", half_days, minimum=1)
    return _build_quote(
        card,
        designation,
        half_days,
        targeted=targeted,
        concession_day=concession_day,
        schools=schools,
    )


def invoice_shares(q: Quote) -> tuple[tuple[int, int], ...]:
    """Each receiving school's invoice as ``(commission share, brokerage share)`` in pence.

    Each school's two lines add up to its ``q.school_shares`` entry (what the agreement quoted),
    the brokerage shares are the fee split evenly (:func:`split_evenly`) and the commission
    shares are the rest, so across all schools they add up to the school's commission share and
    the fee. No share is ever negative: a school's total is at least its share of the fee,
    because both are split the same way and the total is never less than the fee.
    """
    fees = split_evenly(q.brokerage_fee, len(q.school_shares))
    return tuple((total - fee, fee) for total, fee in zip(q.school_shares, fees, strict=True))


# --------------------------------------------------------------------------------------------
# NLE/LLE commissions: several people, one brokerage fee on the whole
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """One person's part in a commission: who delivers (their designation), the half days agreed
    and the half days delivered so far. ``key`` is the caller's handle for the person."""

    key: object
    designation: str
    half_days_agreed: int
    half_days_delivered: int = 0


@dataclass(frozen=True)
class PersonCharge:
    """One person's cost in a commission: ``half_days`` at their designation's ``day_rate``."""

    key: object
    designation: str
    half_days: int
    day_rate: int
    cost: int


@dataclass(frozen=True)
class CommissionQuote:
    """The charge for a whole commission, in pence (Sefton points C and F).

    Each person's days are priced at their own designation's rate; the brokerage fee is the
    card's ``brokerage_bp`` of the *whole* commission's cost (rounded once, half up), never a
    sum of per-person fees rounded separately. ``school_shares`` splits the school's total
    between the receiving schools (:func:`split_evenly`); ``fee_shares`` splits the fee the
    same way, so each school's invoice is its share of the cost plus its share of the fee.
    """

    people: tuple[PersonCharge, ...]
    commission_cost: int
    brokerage_fee: int
    school_pays: int
    school_shares: tuple[int, ...]
    fee_shares: tuple[int, ...]

    def cost_of(self, key: object) -> int:
        return sum(p.cost for p in self.people if p.key == key)


def _check_people(card: RateCard, people: object) -> tuple[Person, ...]:
    if not isinstance(card, RateCard):
        raise ValueError("a RateCard is needed to price work")
    if not isinstance(people, (list, tuple)) or not people:
        raise ValueError("a commission needs at least one person")
    out = []
    for person in people:
        if not isinstance(person, Person):
            raise ValueError(f"expected a Person, not {person!r}")
        _check_designation(person.designation)
        _require_int("half days agreed", person.half_days_agreed, minimum=0)
        _require_int("half days delivered", person.half_days_delivered, minimum=0)
        if person.half_days_delivered > person.half_days_agreed:
            raise ValueError(
                f"delivered half days ({person.half_days_delivered}) cannot exceed the agreed "
                f"{person.half_days_agreed}")
        out.append(person)
    return tuple(out)


def _commission(card: RateCard, priced: list[tuple[Person, int]],
                schools: int) -> CommissionQuote:
    charges = tuple(
        PersonCharge(p.key, p.designation, half_days, card.day_rates[p.designation],
                     cost_for_half_days(card.day_rates[p.designation], half_days))
        for p, half_days in priced)
    cost = sum(c.cost for c in charges)
    fee = brokerage_fee(cost, card.brokerage_bp)
    return CommissionQuote(
        people=charges, commission_cost=cost, brokerage_fee=fee, school_pays=cost + fee,
        school_shares=split_evenly(cost + fee, schools), fee_shares=split_evenly(fee, schools))


def commission_quote(card: RateCard, people: list[Person] | tuple[Person, ...], *,
                     schools: int = 1) -> CommissionQuote:
    """The agreed charge for a commission: every person's agreed half days at their
    designation's rate, plus brokerage on the whole.

    Sefton, 4 LLE days and 6 SLE days: £1,800 + £2,100 = £3,900, brokerage £390, the school pays
    £4,290. Raises ValueError for no people, an unknown designation, a negative count, or fewer
    than one school.
    """
    checked = _check_people(card, people)
    _require_int("number of receiving schools", schools, minimum=1)
    return _commission(card, [(p, p.half_days_agreed) for p in checked], schools)


def commission_delivered(card: RateCard, people: list[Person] | tuple[Person, ...], *,
                         schools: int = 1) -> CommissionQuote:
    """What a commission that ended (or ended early) is charged: each person's *delivered* half
    days at their rate, plus brokerage on that cost only. Nobody pays for days not delivered and
    the charge never exceeds :func:`commission_quote`.

    Sefton, the same commission with the SLE stopping after 2 days: £1,800 + £700 + £250 =
    £2,750.
    """
    checked = _check_people(card, people)
    _require_int("number of receiving schools", schools, minimum=1)
    return _commission(card, [(p, p.half_days_delivered) for p in checked], schools)


# --------------------------------------------------------------------------------------------
# Early end
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settlement:
    """What is owed when the system leader cannot complete a deployment.

    ``delivered`` prices the half days actually delivered exactly as :func:`quote` would (it may
    be zero half days, when the deployment ends before any visit); ``agreed`` is the original
    quote. ``paid``, ``refunds`` and ``still_owed`` are keyed by the paying parties, ``"school"``
    (all receiving schools together) and ``"board"``, and always hold both keys:
    ``refunds[p] = max(0, paid[p] - owed[p])`` and ``still_owed[p] = max(0, owed[p] - paid[p])``,
    where ``owed`` is ``delivered.school_pays`` and ``delivered.board_pays``.
    """

    delivered: Quote
    agreed: Quote
    paid: dict[str, int]
    refunds: dict[str, int]
    still_owed: dict[str, int]


def settle_early_end(
    card: RateCard,
    designation: str,
    agreed_half_days: int,
    delivered_half_days: int,
    *,
    targeted: bool = False,
    concession_day: int = 0,
    schools: int = 1,
    paid: Mapping[str, int] | None = None,
) -> Settlement:
    """Settle a deployment that ends after ``delivered_half_days`` of ``agreed_half_days``.

    The terms (card, designation, targeting, concession, schools) are those of the agreement.
    Each paying party owes only for what was delivered; whatever it paid ahead beyond that is
    returned to it, and nobody is ever charged more than agreed. ``paid`` maps ``"school"``
    and/or ``"board"`` to what each has paid already (missing means nothing yet).

    Raises ValueError when the delivered half days are negative or exceed the agreed ones, for
    an unknown or negative payment, and for anything :func:`quote` refuses.
    """
    agreed = quote(
        card,
        designation,
        agreed_half_days,
        targeted=targeted,
        concession_day=concession_day,
        schools=schools,
    )
    _require_int("delivered half days", delivered_half_days, minimum=0)
    if delivered_half_days > agreed_half_days:
        raise ValueError(
            f"delivered half days ({delivered_half_days}) cannot exceed the agreed "
            f"{agreed_half_days}"
        )
    delivered = _build_quote(
        card,
        designation,
        delivered_half_days,
        targeted=targeted,
        concession_day=concession_day,
        schools=schools,
    )

    paid_so_far = {party: 0 for party in PAYING_PARTIES}
    for party, amount in (paid or {}).items():
        if party not in PAYING_PARTIES:
            raise ValueError(f"only {PAYING_PARTIES} pay; got a payment from {party!r}")
        paid_so_far[party] = _require_int(f"amount paid by {party}", amount, minimum=0)

    owed = {"school": delivered.school_pays, "board": delivered.board_pays}
    return Settlement(
        delivered=delivered,
        agreed=agreed,
        paid=paid_so_far,
        refunds={p: max(0, paid_so_far[p] - owed[p]) for p in PAYING_PARTIES},
        still_owed={p: max(0, owed[p] - paid_so_far[p]) for p in PAYING_PARTIES},
    )


# --------------------------------------------------------------------------------------------
# Good-practice visits and consultations (all-in prices, no brokerage)
# --------------------------------------------------------------------------------------------


def offers_good_practice_visits(card: RateCard) -> bool:
    """Whether the card prices good-practice visits at all (East Sussex does not)."""
    return card.gpv_half_day > 0 or card.gpv_free_per_year > 0


def offers_consultations(card: RateCard) -> bool:
    """Whether the card prices one-off consultations at all (East Sussex does not)."""
    return card.consult_hour > 0 or card.consult_free_hours > 0


def _charge_after_allowance(price: int, allowance: int, prior: int, units: int) -> int:
    free_left = max(0, allowance - prior)
    return max(0, units - free_left) * price


def good_practice_visit_charge(
    card: RateCard, prior_half_days_this_year: int, half_days: int
) -> int:
    """Charge for a good-practice visit of ``half_days`` half days to one school.

    ``prior_half_days_this_year`` is the half days of good-practice visits the school has
    already had in the same academic year (see :func:`academic_year`). The first
    ``gpv_free_per_year`` half days each year are free; every half day after that costs
    ``gpv_half_day``. The price is all-in: no brokerage fee is added (see
    :func:`brokerage_applies`). Sefton: a school's first visit of the year is £0, its second
    £100.

    Raises ValueError when the card does not offer good-practice visits, for a negative prior
    count, or for a visit shorter than one half day.
    """
    if not offers_good_practice_visits(card):
        raise ValueError(f"the {card.model} rate card does not offer good-practice visits")
    prior = _require_int(
        "half days of visits already this year", prior_half_days_this_year, minimum=0
    )
    units = _require_int("half days", half_days, minimum=1)
    return _charge_after_allowance(card.gpv_half_day, card.gpv_free_per_year, prior, units)


def consultation_charge(card: RateCard, prior_hours_this_year: int, hours: int) -> int:
    """Charge for a one-off SLT or subject-leader consultation of ``hours`` hours to one school.

    ``prior_hours_this_year`` is the consultation hours the school has already had in the same
    academic year. The first ``consult_free_hours`` hours each year are free, then each hour
    costs ``consult_hour``. All-in: no brokerage fee is added. Sefton: 2 hours with none used
    before cost £70.

    Raises ValueError when the card does not offer consultations, for a negative prior count, or
    for a consultation shorter than one hour.
    """
    if not offers_consultations(card):
        raise ValueError(f"the {card.model} rate card does not offer consultations")
    prior = _require_int("consultation hours already this year", prior_hours_this_year, minimum=0)
    units = _require_int("hours", hours, minimum=1)
    return _charge_after_allowance(card.consult_hour, card.consult_free_hours, prior, units)


# ----------------------------------------------------------------------------------------- VAT
#
# A rate card's VAT treatment is ``None`` (outside the scope of VAT, the default) or a rate in
# basis points (2000 = 20%). VAT is worked out on each line, in pence, half up, and an invoice's
# VAT is the sum of its lines' VAT, so the lines always add up to the totals (what Xero and Sage
# re-add from the lines).

VAT_MAX_BP = 10_000


def check_vat_rate(rate_bp: object) -> int | None:
    """A VAT rate as stored: ``None`` (outside the scope) or 0..10,000 basis points."""
    if rate_bp is None:
        return None
    if not _is_int(rate_bp) or not 0 <= rate_bp <= VAT_MAX_BP:
        raise ValueError("VAT is a rate from 0% to 100%, or outside the scope of VAT")
    return rate_bp


def vat_on(net: int, rate_bp: int | None) -> int:
    """The VAT in pence on a line of ``net`` pence (a credit's line is positive too), half up:
    at 20% a line of 1,003p carries 201p (200.6p), 1,002p carries 200p (200.4p), 1,002.5p
    does not arise (lines are whole pence) but 2.5p of VAT on 12.5p would round to 3p."""
    _require_int("net amount", net, minimum=0)
    rate = check_vat_rate(rate_bp)
    return 0 if not rate else _div_half_up(net * rate, BASIS_POINTS)


def net_of(gross: int, rate_bp: int | None) -> int:
    """The net amount whose VAT-inclusive total is ``gross`` (for a credit note given as the
    amount to take off). ``net + vat_on(net) == gross`` whenever such a net exists; when none
    does (VAT rounding skips that gross amount) the nearest net below, so the line's VAT makes
    up the difference and the total is still exactly ``gross``."""
    _require_int("gross amount", gross, minimum=0)
    rate = check_vat_rate(rate_bp)
    if not rate:
        return gross
    net = _div_half_up(gross * BASIS_POINTS, BASIS_POINTS + rate)
    while net > 0 and net + vat_on(net, rate) > gross:
        net -= 1
    while net + 1 + vat_on(net + 1, rate) <= gross:
        net += 1
    return net


def vat_label(rate_bp: int | None) -> str:
    """How an invoice names its VAT: "Outside the scope of VAT" or "VAT at 20%"."""
    if rate_bp is None:
        return "Outside the scope of VAT"
    return f"VAT at {_format_percent(rate_bp)}"
