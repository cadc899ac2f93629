"""The national GIAS file: import time and peak memory for a file shaped like it.

``python -m bench.gias [--database-url URL] [--rows 50000] [--columns 100]``: writes a
Windows-1252 CSV of ``--rows`` establishments with ``--columns`` columns (the real
"establishment fields" file: about 50,000 rows, 130 columns, 61 MB; a closed school in every
five, a trust in every third), then times reading it alone and importing it into a fresh
alliance (every row new), and reports Python's peak memory (``tracemalloc``, a separate run, as
tracing slows the code) and the process's maximum resident size. The schools and trusts are
deleted afterwards (the bench alliance and its audit events stay). Default database:
``bench/data/gias.db``; results go to ``bench/results-gias.md``.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
OUTPUT = ROOT / "bench" / "results-gias.md"
NAMED = ["URN", "LA (code)", "LA (name)", "EstablishmentNumber", "EstablishmentName",
         "TypeOfEstablishment (name)", "EstablishmentStatus (name)", "PhaseOfEducation (name)",
         "Trusts (code)", "Trusts (name)", "Street", "Town", "Postcode"]


@dataclass
class GiasResult:
    rows: int
    megabytes: float
    read_seconds: float
    import_seconds: float
    peak_mb: float
    max_rss_mb: float
    database: str


def write_file(path: Path, rows: int, columns: int) -> float:
    extra = [f"Field{i}" for i in range(columns - len(NAMED))]
    filler = ",".join("Not applicable" if i % 2 else "12-09-2024" for i in range(len(extra)))
    with open(path, "wb") as f:
        f.write((",".join(NAMED + extra) + "\r\n").encode("cp1252"))
        for i in range(rows):
            trust = (str(10000 + i % 2500), f"The St Mary’s Trust {i % 2500}") if i % 3 == 0 \
                else ("", "")
            values = [str(3_000_000 + i), str(800 + i % 152), f"Authority {i % 152}", "2001",
                      f"St Mary’s Church of England School {i}", "Academy converter",
                      "Closed" if i % 5 == 0 else "Open",
                      ("Primary", "Secondary", "Nursery", "Not applicable")[i % 4],
                      trust[0], trust[1], "1 Church Road", "Bootle", "L20 1AA"]
            f.write((",".join(values) + "," + filler + "\r\n").encode("cp1252"))
    return path.stat().st_size / 1e6


def run(database_url: str, rows: int = 50_000, columns: int = 100) -> GiasResult:
    from sqlalchemy import delete, select

    from portal import create_app
    from portal.domain import admin as commands
    from portal.domain import gias
    from portal.extensions import db
    from portal.models import Alliance, School, Trust, User

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / "gias-national.csv"
    megabytes = write_file(path, rows, columns)
    url = database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    app = create_app({"PORTAL_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url,
                      "SECRET_KEY": "bench-only", "RATELIMIT_STORAGE_URI": "memory://",
                      "SQLALCHEMY_RECORD_QUERIES": False})
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        with open(path, "rb") as stream:
            sum(1 for _ in gias.Reader(stream))
        read_seconds = time.perf_counter() - started
        tracemalloc.start()
        with open(path, "rb") as stream:
            sum(1 for _ in gias.Reader(stream))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        tag = f"{time.time_ns() % 10**12}"
        alliance = Alliance(name=f"GIAS bench {tag}", short_name=f"GB{tag}",
                            charging_model="sefton")
        db.session.add(alliance)
        db.session.flush()
        admin = User(email=f"gias-bench-{tag}@bench.example.org", name="Bench", role="admin",
                     alliance_id=alliance.id)
        admin.set_password("bench-Portal-2026")
        db.session.add(admin)
        db.session.commit()
        try:
            started = time.perf_counter()
            with open(path, "rb") as stream:
                commands.import_schools(admin, stream, filename=path.name)
            db.session.commit()
            import_seconds = time.perf_counter() - started
        finally:
            db.session.rollback()
            db.session.execute(delete(School).where(School.alliance_id == alliance.id))
            db.session.execute(delete(Trust).where(Trust.code.in_(
                select(Trust.code).where(Trust.name.like("The St Mary’s Trust %")))))
            db.session.commit()  # the alliance and its admin stay (their audit events do)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return GiasResult(rows, megabytes, read_seconds, import_seconds, peak / 1e6, rss,
                      url.split(":", 1)[0])


def markdown(r: GiasResult) -> str:
    return "\n".join([
        "# GIAS import (bench/gias.py)", "",
        "| Rows | File | Database | Read only | Read and import | Peak Python memory "
        "(reading) | Max resident size |",
        "|---:|---:|---|---:|---:|---:|---:|",
        f"| {r.rows:,} | {r.megabytes:.0f} MB | {r.database} | {r.read_seconds:.1f} s "
        f"| {r.import_seconds:.1f} s | {r.peak_mb:.1f} MB | {r.max_rss_mb:.0f} MB |", ""])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=f"sqlite:///{DATA / 'gias.db'}")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--columns", type=int, default=100)
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args(argv)
    text = markdown(run(args.database_url, args.rows, args.columns))
    Path(args.output).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
