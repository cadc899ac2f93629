"""Check that a policy's SQL "waiting for me" twins and its Python predicates agree.

Use it for every aggregate's policy (``portal/domain/policy/<aggregate>.py``)::

    assert_twins_agree(users, Deployment, visible=access.deployments_visible_to,
                       python=evaluations.waiting, sql=evaluations.WAITING_SQL)

For every user and every object the user may see, each SQL twin selects the object exactly when
the Python form says it is waiting for that user; a mismatch names the user, object and entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import select

from portal.extensions import db


def assert_twins_agree(users: Iterable[Any], model: type, *, visible: Callable[[Any], Any],
                       python: Callable[[Any, Any], Mapping[str, bool]],
                       sql: Mapping[str, Callable[[Any], Any]]) -> int:
    """Compare both forms for every (user, visible object, entry); returns how many checked."""
    checked = 0
    problems = []
    for user in users:
        objects = db.session.scalars(select(model).where(visible(user))).all()
        by_python = {name: set() for name in sql}
        for obj in objects:
            answers = python(obj, user)
            assert set(answers) == set(sql), "the Python and SQL forms name different entries"
            for name, yes in answers.items():
                if yes:
                    by_python[name].add(obj.id)
        for name, twin in sql.items():
            by_sql = set(db.session.scalars(
                select(model.id).where(visible(user), twin(user))).all())
            checked += len(objects)
            if by_sql != by_python[name]:
                problems.append(f"{user.role} {user.name}: {name}: SQL {sorted(by_sql)} "
                                f"v Python {sorted(by_python[name])}")
    assert not problems, "\n".join(problems)
    return checked
