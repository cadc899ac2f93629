"""UK GDPR subject access: everything the portal holds about one person, as JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect, or_, select

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


def _value(v):
    if isinstance(v, datetime | date):
        return v.isoformat()
    return v


def _row(obj) -> dict:
    return {c.key: _value(getattr(obj, c.key)) for c in inspect(obj).mapper.column_attrs
            if c.key not in SECRET_COLUMNS}


def export(user: User) -> dict:
    def rows(stmt):
        return [_row(o) for o in db.session.scalars(stmt).all()]

    data: dict[str, Any] = {"account": _row(user)}
    data["account"]["role_label"] = user.role_label
    data["account"]["school"] = user.school.name if user.school else None
    data["account"]["alliance"] = user.alliance.name
    profile = user.profile
    if profile is not None:
        p = _row(profile)
        p["specialisms"] = [s.name for s in profile.specialisms]
        p["unavailable"] = [_row(u) for u in profile.unavailable]
        data["leader_profile"] = p
    else:
        data["leader_profile"] = None
    data["notifications"] = rows(select(Notification).where(Notification.user_id == user.id)
                                 .order_by(Notification.id))
    data["emails"] = rows(select(OutboxEmail).where(OutboxEmail.to == user.email)
                          .order_by(OutboxEmail.id))
    data["invitations"] = rows(select(InviteToken).where(InviteToken.user_id == user.id)
                               .order_by(InviteToken.id))
    data["sign_in_sessions"] = rows(select(LoginSession).where(LoginSession.user_id == user.id)
                                    .order_by(LoginSession.id))
    data["signatures"] = rows(select(Signature).where(Signature.user_id == user.id)
                              .order_by(Signature.id))
    data["deployments_as_leader"] = [
        {"reference": d.reference, "status": d.status, "designation": d.designation,
         "half_days_agreed": d.half_days_agreed, "half_days_delivered": d.half_days_delivered,
         "proposed_at": _value(d.proposed_at), "closed_at": _value(d.closed_at)}
        for d in db.session.scalars(select(Deployment).where(Deployment.leader_id == user.id)
                                    .order_by(Deployment.id)).all()]
    data["deployment_responses"] = rows(
        select(DeploymentResponse).where(DeploymentResponse.user_id == user.id)
        .order_by(DeploymentResponse.id))
    data["evaluations_written"] = rows(select(Evaluation).where(Evaluation.author_id == user.id)
                                       .order_by(Evaluation.id))
    data["audit_events"] = rows(
        select(AuditEvent).where(or_(
            AuditEvent.actor_id == user.id,
            (AuditEvent.object_type == "User") & (AuditEvent.object_id == user.id),
        )).order_by(AuditEvent.id))
    return data


def to_json(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def _cell(value) -> str:
    """A spreadsheet must not run a cell as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(data: dict) -> str:
    """One line per value: section, record number, field, value (nested lists flattened)."""
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

    for section, content in data.items():
        if isinstance(content, list):
            for i, item in enumerate(content, 1):
                emit(section, i, item)
        elif isinstance(content, dict):
            emit(section, 1, content)
    return out.getvalue()
