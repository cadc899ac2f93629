"""Importing schools from a Get Information About Schools (GIAS) extract.

The extract is a CSV with columns such as ``URN``, ``EstablishmentName``,
``EstablishmentStatus (name)``, ``PhaseOfEducation (name)``, ``LA (code)``, ``LA (name)``,
``Trusts (code)``, ``Trusts (name)``, the address (``Street``, ``Locality``, ``Address3``,
``Town``) and ``Postcode``. The national "establishment fields"
file is about 61 MB, Windows-1252 encoded, with some 130 columns; it is read as a stream
(:class:`Reader`), a row at a time, so memory stays the same whatever the file's size: the
only thing that grows is a bitmap of the URNs seen (one bit per possible URN, at most
12.5 MB for eight-digit URNs, 125 kB for today's six-digit ones) that finds repeated rows.

Every row is checked; the importer (``domain/admin.import_schools``) writes in chunks inside
one transaction and, if any row is rejected, raises so that the transaction rolls back:
nothing is half-imported. Closed establishments (``EstablishmentStatus (name)`` "Closed")
are never added; a school the portal already has is marked closed.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

REQUIRED = ("URN", "EstablishmentName", "PhaseOfEducation (name)", "LA (name)")
REPORT_LIMIT = 500  # rejected rows kept for the report; the rest are counted
CHUNK = 1000  # rows written per statement

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
ADDRESS_COLUMNS = ("Street", "Locality", "Address3", "Town")
ADDRESS_MAX = 100  # each line, as the school table holds it
FOREIGN = "URN belongs to a school of another alliance"
CLOSED = "closed"  # EstablishmentStatus (name); "Open, but proposed to close" is still open


@dataclass(frozen=True)
class Row:
    line: int
    urn: str
    name: str
    phase: str
    la_name: str
    la_code: str
    postcode: str
    trust_code: str = ""
    trust_name: str = ""
    closed: bool = False
    street: str = ""
    locality: str = ""
    address3: str = ""
    town: str = ""

    @property
    def address(self) -> dict[str, str]:
        """The school's columns for its street address."""
        return {"address_line1": self.street, "address_line2": self.locality,
                "address_line3": self.address3, "town": self.town, "postcode": self.postcode}


@dataclass
class Report:
    """What a read found: counts, and the first :data:`REPORT_LIMIT` rejected rows."""

    rows: int = 0  # rows accepted (open and closed)
    closed: int = 0  # of which closed
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # line, URN, reason
    rejected_count: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and not self.rejected_count and bool(self.rows)

    def reject(self, line: int, urn: str, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < REPORT_LIMIT:
            self.rejected.append((line, urn, reason))

    def refuse(self, row: Row, reason: str) -> None:
        """Reject a row the reader had accepted (e.g. its URN is another alliance's)."""
        self.rows -= 1
        self.closed -= row.closed
        self.reject(row.line, row.urn, reason)


@dataclass
class Parsed:
    """:func:`parse`'s answer for a small file held in memory: every good row, and the report."""

    rows: list[Row] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and not self.rejected and bool(self.rows)


def encoding_of(stream: IO[bytes]) -> str:
    """UTF-8 (with or without a byte-order mark) if the whole file decodes as UTF-8, else
    Windows-1252 (what GIAS publishes). Reads the stream once in 1 MB pieces, then rewinds."""
    start = stream.tell()
    head = stream.read(3)
    if head == codecs.BOM_UTF8:
        stream.seek(start)
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    chunk = head
    try:
        while chunk:
            decoder.decode(chunk)
            chunk = stream.read(1 << 20)
        decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"
    finally:
        stream.seek(start)


class _Seen:
    """A bitmap of URNs (digits only, up to eight): memory bounded by the largest URN."""

    def __init__(self) -> None:
        self.bits = bytearray()

    def add(self, urn: int) -> bool:
        """Mark ``urn``; False if it was already marked."""
        byte, bit = divmod(urn, 8)
        if byte >= len(self.bits):
            self.bits.extend(bytes(max(byte + 1 - len(self.bits), len(self.bits))))
        if self.bits[byte] & (1 << bit):
            return False
        self.bits[byte] |= 1 << bit
        return True


class Reader:
    """Iterate the good rows of a GIAS extract (a seekable binary stream); rejected rows and
    counts go to :attr:`report`. ``only_las``: if given, rows of other local authorities
    (by ``LA (name)``, any case) are passed over and not counted."""

    def __init__(self, stream: IO[bytes], *, only_las: set[str] | None = None) -> None:
        self.stream = stream
        self.only_las = {la.strip().lower() for la in only_las} if only_las else None
        self.report = Report()

    def __iter__(self) -> Iterator[Row]:
        report = self.report
        encoding = encoding_of(self.stream)
        text = io.TextIOWrapper(self.stream, encoding=encoding, newline="",
                                errors="replace" if encoding == "cp1252" else "strict")
        try:
            yield from self._rows(text)
        except UnicodeDecodeError:
            report.error = "The file is not a CSV text file. Nothing was imported."
        finally:
            text.detach()  # the caller owns the binary stream
        if not report.error and not report.rows and not report.rejected_count:
            report.error = "The file has no rows."

    def _rows(self, text: IO[str]) -> Iterator[Row]:
        report = self.report
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            return
        if any("\x00" in h for h in header):
            report.error = _nul(1)
            return
        headers = [h.strip() for h in header]
        missing = [c for c in REQUIRED if c not in headers]
        if missing:
            report.error = "The file is missing the column(s): " + ", ".join(missing) + "."
            return
        at = {name: i for i, name in reversed(list(enumerate(headers)))}
        width = len(headers)
        seen = _Seen()

        def col(values: list[str], name: str) -> str:
            i = at.get(name)
            return values[i].strip() if i is not None and i < len(values) else ""

        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                report.error = (f"Line {reader.line_num} of the file is not valid CSV ({exc}). "
                                "Download the CSV from GIAS again. Nothing was imported.")
                return
            line = reader.line_num  # physical line (a quoted field may span lines)
            if not values:
                continue
            if any("\x00" in v for v in values):
                report.error = _nul(line)
                return
            if len(values) > width + 1:
                report.reject(line, col(values, "URN"), "The row has more columns than the header")
                continue
            if self.only_las is not None \
                    and col(values, "LA (name)").lower() not in self.only_las:
                continue
            row, reasons = _check(values, col, line, seen)
            if reasons:
                report.reject(line, col(values, "URN"), "; ".join(reasons))
                continue
            report.rows += 1
            report.closed += row.closed
            yield row


def _nul(line: int) -> str:
    return (f"Line {line} of the file contains a NUL character (a zero byte), so it "
            "is not a plain CSV extract. Download the CSV from GIAS again, or save it "
            "as \"CSV UTF-8\", and try again. Nothing was imported.")


def _check(values: list[str], col, line: int, seen: _Seen) -> tuple[Row, list[str]]:
    urn, name = col(values, "URN"), col(values, "EstablishmentName")
    phase_name, la_name = col(values, "PhaseOfEducation (name)"), col(values, "LA (name)")
    reasons = []
    if not urn.isdigit() or not 5 <= len(urn) <= 8:
        reasons.append("URN must be 5 to 8 digits")
    elif not seen.add(int(urn)):
        reasons.append("URN repeats an earlier line")
    if not name:
        reasons.append("EstablishmentName is empty")
    elif len(name) > 200:
        reasons.append("EstablishmentName is longer than 200 characters")
    phase = PHASE_NAMES.get(phase_name.lower())
    if phase is None:
        reasons.append(f"PhaseOfEducation '{phase_name[:60]}' is not a known phase")
    if not la_name:
        reasons.append("LA (name) is empty")
    elif len(la_name) > 120:
        reasons.append("LA (name) is too long")
    postcode = col(values, "Postcode").upper()
    if len(postcode) > 10:
        reasons.append("Postcode is too long")
    la_code = col(values, "LA (code)")
    if len(la_code) > 10:
        reasons.append("LA (code) is too long")
    trust_code, trust_name = col(values, "Trusts (code)"), col(values, "Trusts (name)")
    if len(trust_code) > 20:
        reasons.append("Trusts (code) is too long")
    if len(trust_name) > 200:
        reasons.append("Trusts (name) is too long")
    if trust_code and not trust_name:
        reasons.append("Trusts (name) is empty but Trusts (code) is not")
    address = {column: col(values, column) for column in ADDRESS_COLUMNS}
    reasons += [f"{column} is longer than {ADDRESS_MAX} characters"
                for column, value in address.items() if len(value) > ADDRESS_MAX]
    closed = col(values, "EstablishmentStatus (name)").lower() == CLOSED
    return Row(line, urn, name, phase or "", la_name, la_code, postcode, trust_code,
               trust_name, closed, street=address["Street"], locality=address["Locality"],
               address3=address["Address3"], town=address["Town"]), reasons


def parse(data: bytes, *, foreign_urns: frozenset[str] | set[str] = frozenset()) -> Parsed:
    """Check every row of a small file held in memory; ``foreign_urns``: URNs already held
    by another alliance (rejected)."""
    reader = Reader(io.BytesIO(data))
    out = Parsed()
    for row in reader:
        if row.urn in foreign_urns:
            reader.report.refuse(row, FOREIGN)
        else:
            out.rows.append(row)
    out.rejected, out.error = reader.report.rejected, reader.report.error
    return out
