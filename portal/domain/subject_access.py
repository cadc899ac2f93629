"""UK GDPR subject access: everything the portal holds about one person, as JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime

from sqlalchemy import Select, inspect, or_, select

from ..extensions import db
from ..models import (
    AuditEvent,
    Deployment,
    DeploymentResponse,
    Evaluation,
    InviteToken,
    LoginSession,
    Notification,
    OutboxEmail,
    Signature,
    User,
)

# Never handed out, even to the person themselves: secrets, not personal data.
SECRET_COLUMNS = {"password_hash", "token_hash", "session_version", "sid_hash"}

BATCH = 500  # records read, and CSV lines written, at a time


def _value(v):
    if isinstance(v, datetime | date):
        return v.isoformat()
    return v


def _fields(model) -> list:
    """A model's columns, named as its attributes, without the secrets."""
    return [getattr(model, c.key).label(c.key) for c in inspect(model).column_attrs
            if c.key not in SECRET_COLUMNS]


def _row(obj) -> dict:
    return {c.key: _value(getattr(obj, c.key)) for c in inspect(obj).mapper.column_attrs
            if c.key not in SECRET_COLUMNS}


def _records(stmt) -> Iterator[dict]:
    """A section's records as plain rows, a part at a time (``yield_per``): a person with
    thousands of records (a director's signatures, a leader's deployments) costs one
    statement each, and no ORM object is built for any of them (issue 20)."""
    for row in db.session.execute(stmt.execution_options(yield_per=BATCH)).mappings():
        yield {key: _value(value) for key, value in row.items()}


def sections(user: User) -> list[tuple[str, dict | None | Iterator[dict]]]:
    """Everything held about ``user``, section by section. The account and profile are read
    now; a list section is an iterator of records that reads the database only as it is
    consumed (a streamed download consumes it after the view has returned, when ``user`` may
    no longer lazy-load anything)."""
    account = _row(user)
    account["role_label"] = user.role_label
    account["school"] = user.school.name if user.school else None
    account["alliance"] = user.alliance.name
    profile = user.profile
    p = None
    if profile is not None:
        p = _row(profile)
        p["specialisms"] = [s.name for s in profile.specialisms]
        p["unavailable"] = [_row(u) for u in profile.unavailable]

    return [("account", account), ("leader_profile", p),
            *((name, _records(stmt)) for name, stmt in statements(user).items())]


def statements(user: User) -> dict[str, Select]:
    """The statement of each list section, in the export's order: one person's records, each
    found from an index on the person."""
    def of(model, where):
        return select(*_fields(model)).where(where).order_by(model.id)

    return {
        "notifications": of(Notification, Notification.user_id == user.id),
        "emails": of(OutboxEmail, OutboxEmail.to == user.email),
        "invitations": of(InviteToken, InviteToken.user_id == user.id),
        "sign_in_sessions": of(LoginSession, LoginSession.user_id == user.id),
        "signatures": of(Signature, Signature.user_id == user.id),
        "deployments_as_leader": (
            select(Deployment.reference, Deployment.status, Deployment.designation,
                   Deployment.half_days_agreed, Deployment.half_days_delivered,
                   Deployment.proposed_at, Deployment.closed_at)
            .where(Deployment.leader_id == user.id).order_by(Deployment.id)),
        "deployment_responses": of(DeploymentResponse, DeploymentResponse.user_id == user.id),
        "evaluations_written": of(Evaluation, Evaluation.author_id == user.id),
        "audit_events": of(AuditEvent, or_(
            AuditEvent.actor_id == user.id,
            (AuditEvent.object_type == "User") & (AuditEvent.object_id == user.id))),
    }


def export(user: User) -> dict:
    return {name: content if content is None or isinstance(content, dict) else list(content)
            for name, content in sections(user)}


def to_json(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def _cell(value) -> str:
    """A spreadsheet must not run a cell as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_lines(user: User) -> Iterator[str]:
    """The CSV, a part at a time: one line per value (section, record number, field, value;
    nested lists flattened), written as the records are read, so a large export is never
    held whole in memory. What ``user`` itself holds is read at once, before streaming."""
    return _lines(sections(user))


def _lines(parts: list[tuple[str, dict | None | Iterator[dict]]]) -> Iterator[str]:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "record", "field", "value"])

    def emit(section: str, record: int, obj: dict) -> None:
        for key, value in obj.items():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                for i, item in enumerate(value, 1):
                    emit(f"{section}.{key}", i, item)
            elif isinstance(value, dict | list):
                w.writerow([section, record, key, _cell(json.dumps(value, default=str))])
            else:
                w.writerow([section, record, key, _cell(value)])

    def flush() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    for section, content in parts:
        if isinstance(content, dict):
            emit(section, 1, content)
        elif content is not None:
            for i, item in enumerate(content, 1):
                emit(section, i, item)
                if i % BATCH == 0:
                    yield flush()
        yield flush()


def to_csv(data: dict) -> str:
    """The CSV of an :func:`export`, whole."""
    return "".join(_lines(list(data.items())))
