"""Form validators shared by every area of the portal."""

from __future__ import annotations

from decimal import Decimal

from wtforms.validators import StopValidation


def is_amount(value, limit: int = 10**9) -> bool:
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
