"""The portal's structure rules (issue 14): one command boundary, explicit wiring."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import portal

PORTAL = Path(portal.__file__).parent
FEATURES = portal.FEATURES


def _calls(path: Path, names: set[str]) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    return [f"{path.relative_to(PORTAL.parent)}:{node.lineno} {node.func.attr}()"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in names]


def test_no_feature_module_commits_or_rolls_back():
    """The request's unit of work commits once; a feature package never does it itself."""
    found = []
    for name in FEATURES:
        for path in sorted((PORTAL / name).rglob("*.py")):
            if path.name != "demo_data.py":  # demo steps run inside `flask demo`, which commits
                found += _calls(path, {"commit", "rollback", "commit_or_conflict"})
    assert not found, "\n".join(found)


def test_the_check_sees_a_commit(tmp_path):
    sample = PORTAL / "_sample_for_test.py"
    try:
        sample.write_text("from .extensions import db\n\ndef f():\n    db.session.commit()\n")
        assert _calls(sample, {"commit"})
    finally:
        sample.unlink()


def test_every_feature_has_one_init_app():
    for name in FEATURES:
        package = __import__(f"portal.{name}", fromlist=["init_app"])
        assert callable(getattr(package, "init_app", None)), name


def test_importing_the_domain_alone_registers_every_workflow_hook():
    """No route module is needed for the rules to be whole (a fresh interpreter)."""
    code = (
        "import portal.domain\n"
        "from portal.domain import workflow\n"
        "from portal.models import Deployment\n"
        "import sys\n"
        "hooks = {s: [h.__module__ + '.' + h.__name__ for h in workflow._HOOKS[(Deployment, s)]]"
        " for s in ('agreement', 'active', 'completed', 'ended_early')}\n"
        "assert not [m for m in sys.modules if m.endswith('.routes')], 'a route module loaded'\n"
        "print(hooks)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=PORTAL.parent).stdout
    hooks = ast.literal_eval(out)
    assert "portal.domain.plans._create_plan" in hooks["active"]
    assert any(h.startswith("portal.domain.agreements.") for h in hooks["agreement"])
    assert any(h.startswith("portal.domain.finance.") for h in hooks["completed"])
    assert any(h.startswith("portal.domain.finance.") for h in hooks["ended_early"])


def test_no_panel_reads_request_environ():
    found = [str(p) for p in PORTAL.rglob("*.py") if "request.environ" in p.read_text()
             and p.name != "panels.py"]
    assert not found


def test_every_route_and_panel_is_typed(app):
    import inspect

    from portal.panels import deployment_panels, home_panels, request_panels

    missing = []
    for endpoint, view in app.view_functions.items():
        if endpoint == "static":
            continue
        fn = inspect.unwrap(view)
        if "return" not in fn.__annotations__:
            missing.append(endpoint)
    for panels in (deployment_panels, home_panels, request_panels):
        for _order, name, _template, fn in panels._items:
            if "return" not in inspect.unwrap(fn).__annotations__ or "ctx" not in \
                    inspect.unwrap(fn).__annotations__:
                missing.append(f"panel {name}")
    assert not missing, missing


# ------------------------------------------------------------ templates ask the policy

TEMPLATES = PORTAL.parent / "templates"
# A status, role or kind compared with a literal ("what to offer or say" decided in the page):
# ``req.status == 'draft'``, ``current_user.role in ('admin', ...)``, ``'draft' == req.status``.
LITERAL_COMPARISON = re.compile(
    r"""(\b(status|role|kind)\s*(==|!=|\bin\b)\s*['"(\[])"""
    r"""|(['"]\w+['"]\s*(==|!=)\s*[\w.]*\b(status|role|kind)\b)""")


def _literal_comparisons(text: str) -> list[tuple[int, str]]:
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)
            if LITERAL_COMPARISON.search(line)]


def test_no_template_compares_a_status_or_role_literal():
    """A page offers and says what the policy and the domain computed (``can.edit``,
    ``panel.next_step``); it never decides by comparing a status, role or kind itself."""
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        found += [f"templates/{name}:{n} {line}"
                  for n, line in _literal_comparisons(path.read_text())]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("line", [
    "{% if req.status == 'draft' %}", '{% if d.status in ("active", "evaluation") %}',
    "{% if current_user.role in ['admin'] %}", "{{ 7 if kind == 'action' else 3 }}",
    "{% if existing.status != \"returned\" %}", "{% if 'admin' == current_user.role %}",
])
def test_the_template_check_sees_a_comparison(line):
    assert _literal_comparisons(line)


@pytest.mark.parametrize("line", [
    "{% if can.edit.allowed %}", "{{ status(req) }}", "{{ panel.next_step }}",
    "{{ AGREEMENT_STATUSES[agreement.status] }}", "role=\"alert\"",
])
def test_the_template_check_lets_the_policy_through(line):
    assert not _literal_comparisons(line)
