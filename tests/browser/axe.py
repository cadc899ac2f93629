"""axe-core in the browser tests (issue 18): installed from the npm registry at test time into
tests/browser/.axe (gitignored, pinned here), never committed. ``make axe`` installs it ahead;
without npm or a network the accessibility checks are skipped, saying why.

The page's CSP forbids inline scripts, so axe is not added as a <script>: its source is
evaluated over the DevTools protocol (page.evaluate), which CSP does not govern, and axe.run
is called the same way."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

VERSION = "4.14.1"
HOME = Path(__file__).resolve().parent / ".axe"
SCRIPT = HOME / "node_modules" / "axe-core" / "axe.min.js"

RUN = """async () => {
  const r = await axe.run(document, {
    resultTypes: ["violations", "incomplete"],
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                    "best-practice"]},
  });
  // A cell of a table that scrolls on its own is "partially obscured" while it is scrolled out
  // of sight: check it again as a reader sees it, scrolled into view (then scroll back).
  for (const item of r.incomplete.filter(i => i.id === "color-contrast")) {
    const left = [];
    for (const n of item.nodes) {  // one at a time: axe runs once at a time
      const el = document.querySelector(n.target.join(" "));
      if (!el || !/obscured/.test(n.failureSummary || "")) { left.push(n); continue; }
      const box = el.closest("table");
      const x = box ? box.scrollLeft : 0;
      el.scrollIntoView({block: "nearest", inline: "nearest"});
      const again = await axe.run(el, {runOnly: {type: "rule", values: ["color-contrast"]},
                                       resultTypes: ["violations", "incomplete"]});
      if (box) box.scrollLeft = x;
      if (again.violations.concat(again.incomplete).some(v => v.nodes.length)) left.push(n);
    }
    item.nodes = left;
  }
  const brief = (x) => ({id: x.id, help: x.help,
    nodes: x.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + (n.failureSummary || "")
      .split("\\n").slice(0, 3).join(" "))});
  return {violations: r.violations.map(brief),
          contrast: r.incomplete.filter(i => i.id === "color-contrast" && i.nodes.length)
            .map(brief)};
}"""


def install() -> Path:
    if SCRIPT.exists():
        return SCRIPT
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("the axe-core checks need npm (to install axe-core from the npm registry)")
    HOME.mkdir(exist_ok=True)
    done = subprocess.run([npm, "install", "--prefix", str(HOME), "--no-save", "--no-audit",
                           "--no-fund", "--ignore-scripts", f"axe-core@{VERSION}"],
                          capture_output=True, text=True, timeout=180)
    if done.returncode or not SCRIPT.exists():
        pytest.skip(f"could not install axe-core {VERSION} from npm: {done.stderr[-300:]}")
    return SCRIPT


@cache
def source() -> str:
    return install().read_text(encoding="utf-8")


def check(pg, where: str = "") -> list[str]:
    """axe-core's violations and colour-contrast "needs review" results on the page now, as
    readable lines (empty: none)."""
    if not pg.evaluate("() => typeof window.axe !== 'undefined'"):
        pg.evaluate(source())
    result = pg.evaluate(RUN)
    found = []
    for kind, items in (("violation", result["violations"]), ("contrast review",
                                                              result["contrast"])):
        for item in items:
            found.append(f"{where} {kind} {item['id']}: {item['help']} -> {item['nodes']}")
    return found
