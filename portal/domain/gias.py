"""Importing schools from a Get Information About Schools (GIAS) extract.

The extract is a CSV with columns such as ``URN``, ``EstablishmentName``,
``PhaseOfEducation (name)``, ``LA (code)``, ``LA (name)`` and ``Postcode``. Every row is checked
first; only a file with no rejected rows is imported, in one transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass, field

REQUIRED = ("URN", "EstablishmentName", "PhaseOfEducation (name)", "LA (name)")
MAX_ROWS = 30_000

# GIAS phase names -> the portal's phase codes
PHASE_NAMES = {
    "nursery": "early_years",
    "primary": "primary",
    "middle deemed primary": "primary",
    "secondary": "secondary",
    "middle deemed secondary": "secondary",
    "all-through": "all_through",
    "all through": "all_through",
    "16 plus": "post_16",
    "not applicable": "special",
}


@dataclass(frozen=True)
class Row:
    line: int
    urn: str
    name: str
    phase: str
    la_name: str
    la_code: str
    postcode: str


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # line, URN, reason
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and not self.rejected and bool(self.rows)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def parse(data: bytes, *, foreign_urns: Collection[str] = frozenset()) -> Parsed:
    """Check every row. ``foreign_urns``: URNs already held by another alliance (rejected)."""
    out = Parsed()
    text = _decode(data)
    if "\x00" in text:  # PostgreSQL cannot store it; a GIAS CSV never has one
        line = text.count("\n", 0, text.index("\x00")) + 1
        out.error = (f"Line {line} of the file contains a NUL character (a zero byte), so it "
                     "is not a plain CSV extract. Download the CSV from GIAS again, or save it "
                     "as \"CSV UTF-8\", and try again. Nothing was imported.")
        return out
    reader = csv.DictReader(io.StringIO(text, newline=""))
    headers = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in headers]
    if missing:
        out.error = "The file is missing the column(s): " + ", ".join(missing) + "."
        return out
    reader.fieldnames = headers
    seen: dict[str, int] = {}
    for index, raw in enumerate(reader):
        line = index + 2  # the header is line 1
        if index >= MAX_ROWS:
            out.error = f"The file has more than {MAX_ROWS:,} rows; split it."
            return out
        def get(col: str, raw=raw) -> str:
            return (raw.get(col) or "").strip()

        urn, name = get("URN"), get("EstablishmentName")
        phase_name, la_name = get("PhaseOfEducation (name)"), get("LA (name)")
        reasons = []
        if not urn.isdigit() or not 5 <= len(urn) <= 8:
            reasons.append("URN must be 5 to 8 digits")
        elif urn in seen:
            reasons.append(f"URN repeats line {seen[urn]}")
        elif urn in foreign_urns:
            reasons.append("URN belongs to a school of another alliance")
        if not name:
            reasons.append("EstablishmentName is empty")
        elif len(name) > 200:
            reasons.append("EstablishmentName is longer than 200 characters")
        phase = PHASE_NAMES.get(phase_name.lower())
        if phase is None:
            reasons.append(f"PhaseOfEducation '{phase_name}' is not a known phase")
        if not la_name:
            reasons.append("LA (name) is empty")
        elif len(la_name) > 120:
            reasons.append("LA (name) is too long")
        postcode = get("Postcode").upper()
        if len(postcode) > 10:
            reasons.append("Postcode is too long")
        la_code = get("LA (code)")
        if len(la_code) > 10:
            reasons.append("LA (code) is too long")
        if urn and urn not in seen:
            seen[urn] = line
        if reasons or phase is None:  # an unknown phase always gave a reason
            out.rejected.append((line, urn, "; ".join(reasons)))
        else:
            out.rows.append(Row(line, urn, name, phase, la_name, la_code, postcode))
    if not out.rows and not out.rejected:
        out.error = "The file has no rows."
    return out
