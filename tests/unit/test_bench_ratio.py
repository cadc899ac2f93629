"""The benchmark's own arithmetic (issue 20): which pages miss their target, where a profile's
time is put, and how the flat-as-the-data-grows table compares two sizes."""

from __future__ import annotations

import pytest

from bench import ratio
from bench.ratio import OTHER, Ratio
from portal import formatting


def _r(page: str, page_ms: float, floor_ms: float, *, status: int = 200, sql_ms: float = 0.0,
       queries: int = 4, role: str = "admin") -> Ratio:
    return Ratio(role, page, status, queries, 1000, page_ms, floor_ms, sql_ms)


@pytest.mark.parametrize(("func", "area"), [
    (("/v/lib/python3.11/site-packages/psycopg/cursor.py", 100, "execute"), "Database"),
    (("~", 0, "<method 'execute' of 'sqlite3.Cursor' objects>"), "Database"),
    (("~", 0, "<method 'recv_into' of '_socket.socket' objects>"), "Database"),
    (("/v/site-packages/sqlalchemy/orm/loading.py", 1, "_instance"), "SQLAlchemy"),
    (("/v/site-packages/flask_sqlalchemy/session.py", 1, "get_bind"), "SQLAlchemy"),
    (("/v/site-packages/jinja2/runtime.py", 262, "call"), "Templates"),
    (("/work/main/templates/base.html", 4, "root"), "Templates"),
    (("/v/site-packages/markupsafe/__init__.py", 24, "escape"), "Templates"),
    (("/v/site-packages/werkzeug/routing/map.py", 828, "build"), "Flask & extensions"),
    (("/v/site-packages/flask_login/utils.py", 367, "_get_user"), "Flask & extensions"),
    (("/v/site-packages/wtforms/fields/core.py", 1, "process"), "Flask & extensions"),
    (("/work/main/portal/dashboard/actions.py", 311, "_count"), "Portal"),
    (("/root/.pyenv/versions/3.11.7/lib/python3.11/collections/__init__.py", 1, "get"), OTHER),
    (("~", 0, "<built-in method builtins.isinstance>"), OTHER),
])
def test_each_function_goes_to_the_area_its_code_lives_in(func, area):
    assert ratio._area(func) == area


def test_a_profile_shares_out_the_whole_time_and_finds_the_portal_code():
    shares = ratio.profile_areas(
        lambda _n: [formatting.money(p) for p in range(20_000)], rounds=2)
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["Portal"] > 0.3  # money() is the loop's work
    assert shares["Portal"] == max(shares.values())


@pytest.mark.parametrize(("page", "page_ms", "floor_ms", "status", "missed"), [
    ("home", 10.0, 5.0, 200, False),   # exactly half: the target is met
    ("home", 10.1, 5.0, 200, True),
    ("plan poll (unchanged)", 5.0, 4.0, 204, False),  # the poll's target is 0.8
    ("plan poll (unchanged)", 5.0, 3.9, 204, True),
    ("match", 100.0, 1.0, 403, False),  # a refusal is no page to speed up
])
def test_a_page_misses_when_below_its_target(page, page_ms, floor_ms, status, missed):
    assert _r(page, page_ms, floor_ms, status=status).missed is missed


def test_the_table_marks_the_misses_and_says_why_with_the_profile():
    slow = _r("home", 20.0, 2.0, sql_ms=8.0)
    slow.areas = {"Database": 0.4, "SQLAlchemy": 0.35, "Templates": 0.1, "Portal": 0.15}
    fast = _r("plan row (htmx)", 3.0, 2.0, sql_ms=1.0)
    text = ratio.markdown([slow, fast])
    assert "| admin | home | 200 | 4 | 1,000 | 20.0 | 8.0 | 2.00 | 0.10 ✗ |" in text
    assert "| admin | plan row (htmx) | 200 | 4 | 1,000 | 3.0 | 1.0 | 2.00 | 0.67 |" in text
    assert "below its target (1 of 2 pages)" in text
    # beyond the floor 18.0 ms, SQL 40 % of the page, ceiling floor ÷ SQL = 0.25
    assert "| admin | home | 18.0 | 40% | 0.25 | 40% | 35% | 10% | 0% | 15% | 0% |" in text
    assert "| admin | plan row (htmx) | 1.0 |" not in text  # met: not profiled


def test_the_flat_table_compares_each_page_at_the_two_sizes():
    small = [_r("home", 10.0, 2.0, queries=6), _r("requests", 8.0, 2.0)]
    large = [_r("home", 12.0, 2.0, queries=6), _r("requests", 16.0, 2.0),
             _r("reports", 50.0, 2.0)]  # measured only at the large size: left out
    text = ratio.flat_markdown(small, large, "1", "10")
    assert "| admin | home | 6 | 6 | 10.0 | 12.0 | 0.20 | 0.17 | 1.20 |" in text
    assert "| admin | requests | 4 | 4 | 8.0 | 16.0 | 0.25 | 0.12 | 2.00 |" in text
    assert "reports" not in text
