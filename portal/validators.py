"""Input rules shared by every area of the portal: numbers, money, dates, choices and the ids and
numbers in web addresses.

A value that is not what the field asks for is refused with a plain message beside the field (a
form) or a 404/400 (a web address); it is never guessed at, never silently dropped and never
reaches the database as something it cannot hold.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import abort, request
from werkzeug.routing import IntegerConverter
from wtforms import SelectField, StringField
from wtforms.validators import StopValidation
from wtforms.widgets import CheckboxInput, TextInput

from .formatting import money, uk_date

# The largest value an INTEGER column holds (PostgreSQL; SQLite holds more). Every id is one.
DB_INT_MAX = 2**31 - 1

# ------------------------------------------------------------------------------- numbers


def is_amount(value, limit: int | Decimal = 10**9) -> bool:
    """A finite number no larger than ``limit``: NaN, infinity and 1E30 are not amounts (and
    make Decimal raise when compared or quantized)."""
    try:
        number = Decimal(value)
        return number.is_finite() and abs(number) <= limit
    except ArithmeticError:
        return False


class Finite:
    """Refuse NaN, infinity and numbers too large to be an amount (``1E30``) before any range
    check compares them (Decimal raises on those comparisons). Put it first in the chain."""

    def __init__(self, message: str = "Enter a number, like 4 or 2.5.", limit: int = 10**9):
        self.message = message
        self.limit = Decimal(limit)

    def __call__(self, form, field):
        value = field.data
        if value is None:
            return
        if not is_amount(value, self.limit):
            field.errors[:] = []
            raise StopValidation(self.message)


_WHOLE = re.compile(r"\d{1,10}", re.ASCII)  # ASCII: "٣" is a digit to Python, not to a person


def whole_number(text, *, minimum: int = 1, maximum: int = DB_INT_MAX) -> int:
    """``"42"`` -> 42. ValueError for anything else: signs, spaces inside, decimals, or a number
    outside ``minimum``..``maximum`` (by default what an id column holds)."""
    if isinstance(text, int) and not isinstance(text, bool):
        number = text
    else:
        cleaned = str(text if text is not None else "").strip()
        if not _WHOLE.fullmatch(cleaned):
            raise ValueError(f"not a whole number: {text!r}")
        number = int(cleaned)
    if not minimum <= number <= maximum:
        raise ValueError(f"{number} is outside {minimum}..{maximum}")
    return number


# ------------------------------------------------------------------- ids in web addresses


class IdConverter(IntegerConverter):
    """``<id:request_id>``: a whole number from 1 to what an id column holds. Anything else
    (``/requests/99999999999999999999``) matches no route, so it is a 404 before any query."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 1,  # noqa: A002
                 max: int | None = DB_INT_MAX, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app) -> None:
    """Register the ``id`` converter (before any blueprint adds its routes), and the date
    field's way of showing a date for a hand-written date box (``|date_input``, ``DATE_HINT``)."""
    app.url_map.converters["id"] = IdConverter
    app.add_template_filter(uk_date_input, "date_input")
    app.add_template_global(DATE_HINT, "DATE_HINT")


# --------------------------------------------------------------------------- query strings


def int_arg(name: str, label: str, *, minimum: int = 1, maximum: int = DB_INT_MAX,
            default: int | None = None, source=None, where: str = "web address") -> int | None:
    """A whole number from the query string (or ``source``, e.g. ``request.form``).

    Missing or empty gives ``default``. Anything else that is not a whole number from
    ``minimum`` to ``maximum`` is refused with a 400 that names it (``label``, in words):
    every list and filter reads its numbers through here.
    """
    values = request.args if source is None else source
    raw = (values.get(name) or "").strip()
    if not raw:
        return default
    try:
        return whole_number(raw, minimum=minimum, maximum=maximum)
    except ValueError:
        abort(400, description=f"The {label} in the {where} is not one the portal can use. "
                               "Go back and choose it again from the page; nothing was changed.")


# --------------------------------------------------------------------------------- money

MAX_PENCE = 100_000_000  # £1,000,000.00: more than any one charge, payment or rate
_POUNDS = re.compile(r"(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<pence>\d{1,2}))?", re.ASCII)
AMOUNT_HINT = "Enter an amount in pounds, like 150 or 1,980.50."


def parse_pounds(text: str | None, *, maximum: int = MAX_PENCE) -> int:
    """Pounds as a UK user types them, to integer pence; ValueError (its message for the user)
    for anything that would have to be guessed at.

    ``"1,500.50"`` -> 150050, ``"£1500"`` -> 150000, ``"1.5"`` -> 150. A comma only ever
    separates thousands, so ``"1,5"`` and ``"1,50"`` (decimal commas) are refused, as are
    ``"1.5.0"``, a third figure of pence, minus signs, ``NaN`` and ``1e3``.
    """
    cleaned = (text or "").strip()
    if cleaned.startswith("£"):
        cleaned = cleaned[1:].strip()
    if not cleaned:
        raise ValueError(AMOUNT_HINT)
    match = _POUNDS.fullmatch(cleaned)
    if match is None:
        if cleaned[:1] in ("-", "−") and _POUNDS.fullmatch(cleaned[1:].strip()):
            raise ValueError("Enter an amount in pounds without a minus sign.")
        if cleaned.count(".") > 1:
            raise ValueError("Enter an amount in pounds with one full stop, before the pence, "
                             "like 1,980.50.")
        if "," in cleaned:
            raise ValueError("Enter an amount in pounds with commas only between thousands, "
                             "like 1,500, and a full stop before the pence, like 1,500.50.")
        if re.fullmatch(r"[\d,]*\.\d{3,}", cleaned):
            raise ValueError("Enter an amount in pounds and whole pence, like 12.50.")
        raise ValueError(AMOUNT_HINT)
    whole = match["whole"].replace(",", "")
    pence = int(whole[-15:]) * 100 + int((match["pence"] or "0").ljust(2, "0"))
    if len(whole.lstrip("0")) > 15 or pence > maximum:  # never int() a million digits
        raise ValueError(f"Enter an amount up to {money(maximum)}.")
    return pence


def pounds(pence: int | None) -> str:
    """Pence as the pounds a money field shows for editing: 150050 -> "1500.50"."""
    if pence is None:
        return ""
    whole, p = divmod(pence, 100)
    return f"{whole}.{p:02d}"


class MoneyField(StringField):
    """A text box for pounds and pence (:func:`parse_pounds`); ``.data`` is integer pence, or
    None when empty or refused (the message then shows beside the field)."""

    def __init__(self, label=None, validators=None, *, maximum: int = MAX_PENCE, **kw):
        super().__init__(label, validators, **kw)
        self.maximum = maximum

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        if self.raw.strip():
            try:
                self.data = parse_pounds(self.raw, maximum=self.maximum)
            except ValueError as exc:
                self.data = None
                self.process_errors.append(str(exc))

    def process_data(self, value):
        self.data = value

    def _value(self):
        if getattr(self, "raw", None) is not None:
            return self.raw
        return pounds(self.data) if self.data is not None else ""


# --------------------------------------------------------------------------------- dates


def years(n: int) -> timedelta:
    return timedelta(days=365 * n + n // 4)


TOLERANCE = timedelta(days=14)  # how far in the past a time frame may still start
MAX_TIME_FRAME = years(2)  # the longest time frame of a request or an agreement
MAX_AHEAD = years(2)  # how far ahead a time frame may start, or new rates take effect


def date_problem(value: date, earliest: date | None, latest: date | None, *,
                 too_early: str = "Enter a date on or after {earliest}.",
                 too_late: str = "Enter a date on or before {latest}.") -> str | None:
    """The message for a date outside ``earliest``..``latest`` (either may be None), or None.
    ``{earliest}`` and ``{latest}`` in the messages become dates like "23 Nov 2026"."""
    words = {"earliest": uk_date(earliest), "latest": uk_date(latest)}
    if earliest is not None and value < earliest:
        return too_early.format(**words)
    if latest is not None and value > latest:
        return too_late.format(**words)
    return None


DATE_EXAMPLE = "26/03/2027"
DATE_HINT = f"For example, {DATE_EXAMPLE}."
_UK_DATE = re.compile(r"(\d{1,2})\s*[/.\- ]\s*(\d{1,2})\s*[/.\- ]\s*(\d{1,4})", re.ASCII)
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)


def parse_uk_date(text: str | None) -> date:
    """A date as a UK user types it, day first: ``"26/03/2027"``, ``"26/3/2027"``,
    ``"26.03.2027"``, ``"26 03 2027"`` or ``"26-03-2027"``; also ``"2027-03-26"`` (what a
    browser's own date picker sends). ValueError, its message for the user, for anything that
    would have to be guessed at: a two-figure year, a month after the day (``03/26/2027``), a day
    that is not in its month (``31/02/2027``), or words.
    """
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValueError(f"Enter a date, like {DATE_EXAMPLE}.")
    iso = _ISO_DATE.fullmatch(cleaned)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    else:
        uk = _UK_DATE.fullmatch(cleaned)
        if uk is None:
            raise ValueError(f"Enter the date as day, month and year, like {DATE_EXAMPLE}.")
        day, month, year = (int(g) for g in uk.groups())
        if len(uk[3]) != 4:
            raise ValueError(f"Enter the year in full, like {DATE_EXAMPLE}.")
        if month > 12 and day <= 12:
            raise ValueError(f"Enter the day before the month, like {DATE_EXAMPLE}.")
    if not 1 <= month <= 12:
        raise ValueError(f"Enter a month from 1 to 12, like {DATE_EXAMPLE}.")
    if year < 1:
        raise ValueError(f"Enter a real year, like {DATE_EXAMPLE}.")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"Enter a real date, like {DATE_EXAMPLE}: that day is not in the "
                         "month.") from None


def uk_date_input(value: date | None) -> str:
    """A date as a date field shows it for editing: date(2027, 3, 26) -> "26/03/2027"."""
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}" if value else ""


class UKDateField(StringField):
    """The portal's one date field: a text box that reads UK dates, day first
    (:func:`parse_uk_date`), so the field, its hint ("For example, 26/03/2027") and every
    message agree whatever the browser's own date format. ``.data`` is a ``date``, or None when
    empty or refused (the message then shows beside the field, and the typed text stays).

    ``message`` replaces the reader's own messages (a form that says what the date is for)."""

    widget = TextInput()
    data: Any  # a date once the form validated (a required field's checks make sure of it)
    date_hint = DATE_HINT  # the field macro adds it to any hint the page gives

    def __init__(self, label=None, validators=None, *, message: str | None = None, **kw):
        render_kw = {"autocomplete": "off", "spellcheck": "false", "class": "input-date",
                     **(kw.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kw)
        self.message = message
        self.raw: str | None = None

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        if self.raw.strip():
            try:
                self.data = parse_uk_date(self.raw)
            except ValueError as exc:
                self.process_errors.append(self.message or str(exc))

    def process_data(self, value):
        self.data = value

    def pre_validate(self, form):
        if self.process_errors:  # what cannot be read is said once, not "Enter a date" after it
            raise StopValidation()

    def _value(self):
        if self.raw is not None:
            return self.raw
        return uk_date_input(self.data) if isinstance(self.data, date) else ""


class PlausibleDate:
    """A date near enough to today to be meant: 0001-01-01, 1900 and 9999 are typing slips.

    ``past`` and ``future`` are how far before and after today the date may be (None: no limit
    that way, ``timedelta(0)``: not before / not after today). Messages as in
    :func:`date_problem`. Put it after the field's required check.
    """

    def __init__(self, *, past: timedelta | None, future: timedelta | None,
                 too_early: str = "Enter a date on or after {earliest}.",
                 too_late: str = "Enter a date on or before {latest}.",
                 today=None):
        self.past, self.future = past, future
        self.too_early, self.too_late = too_early, too_late
        self.today = today or date.today

    def bounds(self) -> tuple[date | None, date | None]:
        today = self.today()
        return (today - self.past if self.past is not None else None,
                today + self.future if self.future is not None else None)

    def __call__(self, form, field):
        if field.data is None or field.errors:
            return
        earliest, latest = self.bounds()
        problem = date_problem(field.data, earliest, latest, too_early=self.too_early,
                               too_late=self.too_late)
        if problem:
            raise StopValidation(problem)


def time_frame_problem(start: date | None, end: date | None, *,
                       max_span: timedelta = MAX_TIME_FRAME) -> str | None:
    """What is wrong with a time frame's end, given its start (None if nothing)."""
    if start is None or end is None:
        return None
    if end < start:
        return "The end of the time frame must be on or after its start."
    if end - start > max_span:
        return (f"A time frame can be at most {max_span.days // 365} years long: end it by "
                f"{uk_date(start + max_span)}.")
    return None


# ------------------------------------------------------------------------------- choices


def optional_id(value) -> int | None:
    """Coerce a choice of one row: "" is none; anything but an id raises ValueError."""
    if value is None or value == "":
        return None
    return whole_number(value)


def choice_errors(message: str) -> dict:
    """The keyword arguments that make a wtforms choice field refuse anything it did not offer
    (a value that cannot be read, or one not among the choices) with ``message``."""
    return {"invalid_value_message": message, "invalid_choice_message": message}


class IdSelectField(SelectField):
    """A drop-down of rows by id ("" for none, if a choice offers it). A value that is not one
    of the choices (``zzz``, another alliance's id, 99999999999999999999) is refused with
    ``message`` beside the field: it never silently becomes "none"."""

    def __init__(self, label=None, validators=None, *, message: str, **kw):
        kw.setdefault("coerce", optional_id)
        super().__init__(label, validators, **choice_errors(message), **kw)


class GroupCheckbox(CheckboxInput):
    """One checkbox of a group ("tick all that apply"). A required group is checked by the
    server, with its message beside the fieldset: ``required`` on each box would make the
    browser demand every one of them ticked (issue 18, item 7)."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("required", False)
        return super().__call__(field, **kwargs)
