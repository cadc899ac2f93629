"""UK postcodes: the shape Royal Mail uses (outward code, a space, inward code)."""

from __future__ import annotations

import re

# outward: A9, A99, AA9, AA99, A9A, AA9A (letters not used in each place left out); inward: 9AA
_POSTCODE = re.compile(
    r"(GIR0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]"
    r"|[A-HK-Y][0-9][ABEHMNPRVWXY])[0-9][ABD-HJLNP-UW-Z]{2})")

INVALID = "Enter a UK postcode, for example BN7 1UE."


def normalise(text: str) -> str | None:
    """``"bn71ue"`` -> ``"BN7 1UE"``; ``""`` -> ``""`` (no postcode); None if it is not a
    UK postcode."""
    compact = re.sub(r"\s+", "", text or "").upper()
    if not compact:
        return ""
    if not _POSTCODE.fullmatch(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"
