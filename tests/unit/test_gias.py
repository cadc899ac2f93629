"""GIAS extract parsing: every row checked, reasons given, nothing accepted from a bad file."""

from __future__ import annotations

import pytest

from portal.domain import gias
from tests.factories import directory as fd


def _file(*rows: str) -> bytes:
    return (fd.GIAS_HEADER + "".join(rows)).encode("utf-8")


def test_a_good_file_parses_every_row():
    p = gias.parse(_file(fd.gias_row("100001", "A Primary"),
                         fd.gias_row("100002", "B High", phase="Secondary", postcode="l20 2bb")))
    assert p.ok and [r.urn for r in p.rows] == ["100001", "100002"]
    assert p.rows[1].phase == "secondary" and p.rows[1].postcode == "L20 2BB"
    assert p.rows[0].la_name == "Sefton" and p.rows[0].la_code == "343"


@pytest.mark.parametrize(("name", "code"), [
    ("Nursery", "early_years"), ("Primary", "primary"), ("Middle deemed primary", "primary"),
    ("Secondary", "secondary"), ("Middle deemed secondary", "secondary"),
    ("All-through", "all_through"), ("16 plus", "post_16"), ("Not applicable", "special"),
])
def test_gias_phase_names_map_to_portal_phases(name, code):
    p = gias.parse(_file(fd.gias_row("100001", "X", phase=name)))
    assert p.ok and p.rows[0].phase == code


@pytest.mark.parametrize(("row", "reason"), [
    (fd.gias_row("12", "Short URN"), "URN must be 5 to 8 digits"),
    (fd.gias_row("ABCDEF", "Letters"), "URN must be 5 to 8 digits"),
    (fd.gias_row("100009", ""), "EstablishmentName is empty"),
    (fd.gias_row("100009", "X", phase="Kindergarten"), "not a known phase"),
    (fd.gias_row("100009", "X", la=""), "LA (name) is empty"),
    (fd.gias_row("100009", "X", postcode="TOO LONG POSTCODE"), "Postcode is too long"),
])
def test_bad_rows_are_rejected_with_a_reason(row, reason):
    p = gias.parse(_file(fd.gias_row("100001", "Good"), row))
    assert not p.ok and len(p.rows) == 1
    line, _urn, why = p.rejected[0]
    assert line == 3 and reason in why


def test_repeated_and_foreign_urns_are_rejected():
    p = gias.parse(_file(fd.gias_row("100001", "A"), fd.gias_row("100001", "A again"),
                         fd.gias_row("100002", "Theirs")), foreign_urns={"100002"})
    assert [(r[0], r[2]) for r in p.rejected] == [
        (3, "URN repeats an earlier line"), (4, "URN belongs to a school of another alliance")]


def test_missing_columns_and_empty_files_are_errors():
    assert "missing the column" in gias.parse(b"URN,Name\n1,x\n").error
    assert gias.parse(fd.GIAS_HEADER.encode()).error == "The file has no rows."
    assert not gias.parse(b"").ok


def test_windows_encoded_files_and_bom_are_read():
    text = fd.GIAS_HEADER + fd.gias_row("100001", "St Mary’s Primary")
    p = gias.parse(text.encode("cp1252"))
    assert p.ok and p.rows[0].name == "St Mary’s Primary"
    assert gias.parse(b"\xef\xbb\xbf" + text.encode("utf-8")).ok
