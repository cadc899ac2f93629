"""Form validators shared by every area of the portal."""

from __future__ import annotations

from decimal import Decimal

from wtforms.validators import StopValidation


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
        try:
            ok = Decimal(value).is_finite() and abs(Decimal(value)) <= self.limit
        except ArithmeticError:
            ok = False
        if not ok:
            field.errors[:] = []
            raise StopValidation(self.message)
