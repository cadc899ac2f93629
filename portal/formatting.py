"""Template filters: British dates, pounds and pence, half days."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask

LONDON = ZoneInfo("Europe/London")


def london_today() -> date:
    """Today's date on the London calendar (what "due" and "overdue" are counted in)."""
    return datetime.now(LONDON).date()


def money(pence: int | None) -> str:
    """1980_00 -> "£1,980.00"; negative amounts (refunds) get a minus sign."""
    if pence is None:
        return ""
    if not isinstance(pence, int) or isinstance(pence, bool):
        raise TypeError("money is integer pence")
    sign = "−" if pence < 0 else ""
    pounds, p = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{p:02d}"


def uk_date(value: date | datetime | None) -> str:
    """23 Nov 2026 (a datetime is shown on its London calendar day)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON) if value.tzinfo else value
    return f"{value.day} {value:%b %Y}"


def uk_datetime(value: datetime | None) -> str:
    """23 Nov 2026, 14:05 in London time."""
    if value is None:
        return ""
    local = value.astimezone(LONDON) if value.tzinfo else value
    return f"{local.day} {local:%b %Y}, {local:%H:%M}"


def days(half_days: int | None) -> str:
    """Half days as days, the one way the portal writes them (pages, emails, agreements,
    invoices, matching reasons): 1 -> "half a day", 2 -> "1 day", 5 -> "2½ days"."""
    if half_days is None:
        return ""
    if half_days == 1:
        return "half a day"
    number = half_days_number(half_days)
    return f"{number} day" if half_days == 2 else f"{number} days"


def half_days_number(half_days: int) -> str:
    """Half days as a number of days: 1 -> "½", 3 -> "1½", 8 -> "4"."""
    whole, half = divmod(half_days, 2)
    if half:
        return f"{whole}½" if whole else "½"
    return f"{whole}"


def plural(n: int, word: str, words: str = "") -> str:
    """1 -> "1 minute", 5 -> "5 minutes" (``words`` when the plural is not word + "s")."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def init_app(app: Flask) -> None:
    app.add_template_filter(plural, "plural")
    app.add_template_filter(money, "money")
    app.add_template_filter(uk_date, "date")
    app.add_template_filter(uk_datetime, "datetime")
    app.add_template_filter(days, "days")
