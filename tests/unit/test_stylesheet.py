"""The stylesheet is one file many areas append to: a missing brace would silently put every
later rule inside an @media block (it happened once, and the reports lost their layout)."""

from pathlib import Path

CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "portal.css"


def test_every_block_is_closed_and_top_level_rules_stay_top_level():
    depth = 0
    for number, line in enumerate(CSS.read_text().splitlines(), 1):
        if depth == 1 and line and not line[0].isspace() and not line.startswith(("}", "/*")):
            raise AssertionError(f"line {number} is inside an @media block: {line[:60]}")
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"line {number} closes a block that was never opened"
    assert depth == 0, "a block is never closed"
