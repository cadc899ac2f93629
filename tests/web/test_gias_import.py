"""The national GIAS file: streamed (bounded memory), Windows-1252, closed schools, trusts,
bad rows reported (never a 500), the CLI, and the upload limit raised only for the import."""

from __future__ import annotations

import io
import tracemalloc

import pytest
from flask_sqlalchemy import record_queries
from sqlalchemy import event, func, select

from portal.domain import admin as commands
from portal.domain import gias
from portal.extensions import db
from portal.models import AuditEvent, School, SchoolNetwork, Trust

# The real file's columns, in its order (a selection: the real one has about 130).
HEADER = ["URN", "LA (code)", "LA (name)", "EstablishmentNumber", "EstablishmentName",
          "TypeOfEstablishment (name)", "EstablishmentStatus (name)",
          "PhaseOfEducation (name)", "StatutoryLowAge", "StatutoryHighAge", "Trusts (code)",
          "Trusts (name)", "Street", "Locality", "Address3", "Town", "Postcode", "SchoolWebsite",
          "TelephoneNum", "HeadFirstName", "HeadLastName", "OfstedRating (name)", "LastChangedDate"]


def gias_line(urn, name, *, status="Open", phase="Primary", la="Sefton", la_code="343",
              trust_code="", trust_name="", postcode="L20 1AA", street="1 Church Road",
              locality="", address3="", town="Bootle") -> str:
    values = [str(urn), la_code, la, "2001", name, "Academy converter", status, phase, "4",
              "11", trust_code, trust_name, street, locality, address3, town, postcode,
              "www.example.sch.uk", "0151 000 0000", "Ann", "O’Neill", "Good", "01-09-2025"]
    return ",".join(f'"{v}"' if "," in v else v for v in values) + "\r\n"


def gias_file(*lines: str) -> bytes:
    return (",".join(HEADER) + "\r\n" + "".join(lines)).encode("cp1252")


def _upload(client, data: bytes, name="edubasealldata.csv"):
    return client.post("/admin/schools/import", {"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_the_real_columns_in_windows_1252_import_with_trusts(world, client_for):
    c = client_for(world.user("a", "admin"))
    data = gias_file(
        gias_line(300001, "St Mary’s Catholic Primary School", trust_code="16001",
                  trust_name="Our Lady’s Catholic Academy Trust"),
        gias_line(300002, "Crosby High, A Specialist School", phase="Secondary",
                  trust_code="16001", trust_name="Our Lady’s Catholic Academy Trust"),
        gias_line(300003, "Bootle Nursery", phase="Nursery"))
    assert b"\x92" in data  # the curly apostrophe, as Windows-1252 writes it
    r = _upload(c, data)
    assert r.status_code == 303, r.get_data(as_text=True)
    schools = {s.urn: s for s in db.session.scalars(
        select(School).where(School.urn.in_(["300001", "300002", "300003"])))}
    assert schools["300001"].name == "St Mary’s Catholic Primary School"
    assert schools["300002"].name == "Crosby High, A Specialist School"
    trust = schools["300001"].trust
    assert trust is not None and trust.code == "16001"
    assert trust.name == "Our Lady’s Catholic Academy Trust"
    assert schools["300002"].trust_id == trust.id and schools["300003"].trust_id is None
    assert not any(s.closed for s in schools.values())
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "school.import"))
    assert ev.detail["created"] == 3 and ev.detail["trusts"] == 1


def test_closed_schools_are_not_added_and_known_ones_are_marked_closed(world, client_for):
    c = client_for(world.user("a", "admin"))
    known = world.a.other
    data = gias_file(gias_line(300011, "Still Open Primary"),
                     gias_line(300012, "Long Gone Primary", status="Closed"),
                     gias_line(known.urn, known.name, status="Closed"),
                     gias_line(300013, "Closing Soon Primary",
                               status="Open, but proposed to close"))
    r = _upload(c, data)
    assert r.status_code == 303
    urns = set(db.session.scalars(select(School.urn).where(
        School.urn.in_(["300011", "300012", "300013"]))))
    assert urns == {"300011", "300013"}
    db.session.expire_all()
    assert db.session.get(School, known.id).closed is True
    page = c.get("/admin/schools").get_data(as_text=True)
    assert "closed in GIAS (1 marked closed, 1 not added)" in page
    assert '<span class="badge">Closed</span>' in page


def test_the_national_file_can_be_narrowed_to_the_alliances_authorities(world, client_for):
    c = client_for(world.user("a", "admin"))
    theirs = world.b.home  # another alliance's school, in an authority not asked for
    data = gias_file(gias_line(300021, "Sefton Primary", la="Sefton"),
                     gias_line(300022, "Liverpool Primary", la="Liverpool", la_code="341"),
                     gias_line(300023, "Wirral Primary", la="Wirral", la_code="344"),
                     gias_line(theirs.urn, "Theirs", la="Elsewhere", la_code="999"))
    r = c.post("/admin/schools/import", {"file": (io.BytesIO(data), "all.csv"),
                                         "local_authorities": "sefton,\n Liverpool"},
               content_type="multipart/form-data")
    assert r.status_code == 303, r.get_data(as_text=True)
    assert set(db.session.scalars(select(School.urn).where(
        School.urn.in_(["300021", "300022", "300023"])))) == {"300021", "300022"}
    assert db.session.get(School, theirs.id).name != "Theirs"


def test_bad_rows_are_listed_with_their_lines_and_nothing_is_kept(world, client_for):
    c = client_for(world.user("a", "admin"))
    n = db.session.scalar(select(func.count(School.id)))
    good = [gias_line(310000 + i, f"Good {i} Primary") for i in range(2500)]
    data = gias_file(*good[:1200], gias_line("12", "Short"), *good[1200:],
                     gias_line(310005, "Again Primary"), '"unterminated,\r\n')
    r = _upload(c, data)
    body = r.get_data(as_text=True)
    assert r.status_code == 422, body
    assert "URN must be 5 to 8 digits" in body and "URN repeats an earlier line" in body
    assert "<td>1202</td>" in body  # the header is line 1
    assert db.session.scalar(select(func.count(School.id))) == n  # not even the first chunks
    assert db.session.scalar(select(func.count(Trust.id))) == 0


@pytest.mark.parametrize("data", [
    b"\xff\xfe\x00\x00garbage", b"URN;EstablishmentName\r\n1;x\r\n", b"",
    ",".join(HEADER).encode() + b"\r\n" + b'"' + b"x" * 200_000 + b'"\r\n',
])
def test_files_that_are_not_gias_extracts_get_a_message_not_a_500(world, client_for, data):
    r = _upload(client_for(world.user("a", "admin")), data)
    assert r.status_code == 422
    assert "Nothing was imported" in r.get_data(as_text=True) \
        or "missing the column" in r.get_data(as_text=True) \
        or "no rows" in r.get_data(as_text=True) \
        or "rejected" in r.get_data(as_text=True)


def test_only_the_import_may_send_a_large_body(world, client_for, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1024 * 1024)
    c = client_for(world.user("a", "admin"))
    big = gias_file(*[gias_line(320000 + i, f"School {i} Primary") for i in range(2000)])
    assert 64 * 1024 < len(big) < 1024 * 1024
    assert _upload(c, big).status_code == 303
    elsewhere = c.post("/admin/boards/new", {"name": "x" * (100 * 1024), "phase": "primary",
                                            "budget": "0"})
    assert elsewhere.status_code == 413
    assert "too large" in elsewhere.get_data(as_text=True)
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 64 * 1024)
    too_big = _upload(c, big)
    assert too_big.status_code == 413 and "At most 64 kB" in too_big.get_data(as_text=True)


def _write_national(path, rows: int) -> int:
    """A file shaped like the national one (real columns, Windows-1252, a closed school in
    every twenty, a trust in every third), written a line at a time."""
    with open(path, "wb") as f:
        f.write((",".join(HEADER) + "\r\n").encode("cp1252"))
        for i in range(rows):
            trust = (str(20000 + i % 900), f"Trust {i % 900} Academies") if i % 3 == 0 \
                else ("", "")
            f.write(gias_line(400000 + i, f"St Mary’s School {i}",
                              status="Closed" if i % 20 == 0 else "Open",
                              phase=("Primary", "Secondary", "Nursery")[i % 3],
                              la=f"Authority {i % 150}", la_code=str(800 + i % 150),
                              trust_code=trust[0], trust_name=trust[1]).encode("cp1252"))
    return path.stat().st_size


def test_a_200k_row_national_file_is_read_in_bounded_memory(tmp_path):
    rows = 200_000
    size = _write_national(tmp_path / "national.csv", rows)
    assert size > 35 * 1024 * 1024
    tracemalloc.start()
    try:
        with open(tmp_path / "national.csv", "rb") as stream:
            reader = gias.Reader(stream)
            read = sum(1 for _ in reader)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (read, reader.report.closed, reader.report.rejected_count) == (rows, rows // 20, 0)
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.0f} MB file"


@pytest.fixture
def no_query_recording():
    """The tests record every query with its parameters (for the query budgets), which would
    be the only thing to grow with the file; production does not record."""
    engine = db.engine
    event.remove(engine, "after_cursor_execute", record_queries._record_end)
    yield
    event.listen(engine, "after_cursor_execute", record_queries._record_end, named=True)


def test_a_national_shaped_file_imports_in_chunks_in_bounded_memory(world, tmp_path,
                                                                   no_query_recording):
    """Memory is the same for 3,000 rows and 12,000: the chunks are not kept."""
    admin = world.user("a", "admin")
    db.session.commit()
    peaks = []
    for rows in (3_000, 12_000):
        size = _write_national(tmp_path / "national.csv", rows)
        tracemalloc.start()
        try:
            with open(tmp_path / "national.csv", "rb") as stream:
                done = commands.import_schools(admin, stream, filename="national.csv")
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        closed = rows // 20
        assert (done.rows, done.closed_skipped, done.trusts) == (
            rows, closed, 300 if rows == 3_000 else 0)
        db.session.commit()
        assert db.session.scalar(select(func.count(School.id)).where(
            School.name.like("St Mary’s School %"))) == rows - closed
    assert peaks[1] < peaks[0] * 1.5 + 1024 * 1024, (peaks, size)
    assert peaks[1] < 25 * 1024 * 1024, peaks


def test_the_cli_imports_a_file_from_disk(world, app, tmp_path):
    path = tmp_path / "extract.csv"
    path.write_bytes(gias_file(gias_line(330001, "St Anne’s Primary", la="Sefton"),
                               gias_line(330002, "Elsewhere Primary", la="Wirral", la_code="344")))
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-gias", str(path), "--admin",
                                 world.user("a", "admin").email, "--la", "sefton"])
    assert result.exit_code == 0, result.output
    assert "Imported 1 schools: 1 added" in result.output
    assert db.session.scalar(select(School.name).where(School.urn == "330001")) \
        == "St Anne’s Primary"
    assert db.session.scalar(select(School.id).where(School.urn == "330002")) is None
    refused = runner.invoke(args=["import-gias", str(path), "--admin",
                                  world.user("a", "headteacher").email])
    assert refused.exit_code != 0 and "No active administrator" in refused.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(gias_file(gias_line("1", "Short URN")))
    failed = runner.invoke(args=["import-gias", str(bad), "--admin",
                                 world.user("a", "admin").email])
    assert failed.exit_code != 0 and "URN must be 5 to 8 digits" in failed.output


def test_a_school_already_in_another_network_joins_this_one_too(world, client_for):
    """Issue 21: a school is in more than one network. Its URN in a second network's import
    adds a membership: no duplicate school, no refusal, its home network unchanged."""
    theirs = world.b.home
    n = db.session.scalar(select(func.count(School.id)))
    c = client_for(world.user("a", "admin"))
    data = gias_file(gias_line(340001, "Fine Primary"),
                     gias_line(theirs.urn, theirs.name, la="Sefton"))
    r = _upload(c, data)
    assert r.status_code == 303, r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(School.id))) == n + 1  # only the new one
    db.session.expire_all()
    assert db.session.get(School, theirs.id).alliance_id == world.b.alliance.id  # home kept
    assert {row.alliance_id for row in db.session.scalars(select(SchoolNetwork).where(
        SchoolNetwork.school_id == theirs.id))} == {world.a.alliance.id, world.b.alliance.id}
    page = c.get("/admin/schools").get_data(as_text=True)
    assert "1 already in another network, now in yours too" in page
    assert theirs.name in page  # in network a's list ...
    other = client_for(world.user("b", "admin")).get("/admin/schools").get_data(as_text=True)
    assert theirs.name in other  # ... and still in its home network's
    # the same file again: nothing more joins, nothing is duplicated
    assert _upload(c, data).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(SchoolNetwork).where(
        SchoolNetwork.school_id == theirs.id)) == 2


def test_the_street_address_is_read_from_the_file(world, client_for):
    c = client_for(world.user("a", "admin"))
    r = _upload(c, gias_file(gias_line(340002, "Address Primary", street="12 Mill Lane",
                                       locality="Netherton", address3="Sefton Park",
                                       town="Bootle", postcode="l30 5qb")))
    assert r.status_code == 303, r.get_data(as_text=True)
    school = db.session.scalar(select(School).where(School.urn == "340002"))
    assert (school.address_line1, school.address_line2, school.address_line3, school.town,
            school.postcode) == ("12 Mill Lane", "Netherton", "Sefton Park", "Bootle",
                                 "L30 5QB")
    assert school.address_lines == ["12 Mill Lane", "Netherton", "Sefton Park", "Bootle",
                                    "L30 5QB"]


def _record(school_id: int) -> tuple:
    db.session.expire_all()
    s = db.session.get(School, school_id)
    return (s.name, s.phase, s.postcode, s.address_line1, s.address_line2, s.address_line3,
            s.town, s.local_authority_id, s.trust_id, s.closed, s.alliance_id, s.version)


@pytest.mark.parametrize("status", ["Open", "Closed"])
def test_a_member_networks_import_never_overwrites_the_home_networks_record(world, client_for,
                                                                            status):
    """Only the school's home network changes its record (policy.admin.manages_school): the
    second network's import adds the membership (an open school) and leaves the name,
    address, phase, local authority, trust and closing as the home network keeps them."""
    theirs = world.b.home
    before = _record(theirs.id)
    c = client_for(world.user("a", "admin"))
    r = _upload(c, gias_file(gias_line(theirs.urn, "Renamed By Alpha", status=status,
                                       phase="Secondary", la="Elsewhere", la_code="999",
                                       trust_code="9999", trust_name="Alpha Trust",
                                       street="9 Other Street", town="Otherton",
                                       postcode="L30 5QB")))
    assert r.status_code == 303, r.get_data(as_text=True)
    assert _record(theirs.id) == before
    member = db.session.get(SchoolNetwork, (theirs.id, world.a.alliance.id))
    assert (member is not None) is (status == "Open")  # a closed one does not join
    page = c.get("/admin/schools").get_data(as_text=True)
    assert "0 updated" in page and "1 left as their home network has them" in page
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "school.import")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.detail["updated"] == 0 and event.detail["kept"] == 1
    # the home network's own import still updates it
    home = client_for(world.user("b", "admin"))
    assert _upload(home, gias_file(gias_line(theirs.urn, "Renamed At Home"))).status_code == 303
    assert _record(theirs.id)[0] == "Renamed At Home"
