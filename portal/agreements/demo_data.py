"""Demo data: the demo's already-active deployments get a real, fully signed agreement
(content, hash, one signature per signatory with its evidence in the audit chain)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from .. import demo
from ..domain import agreements as service
from ..domain import signing
from ..extensions import db
from ..models import Agreement, Deployment


@demo.step(order=40)
def signed_agreements(today: date, now: datetime) -> None:
    placeholders = db.session.scalars(
        select(Agreement).where(Agreement.content_hash == "").order_by(Agreement.id)).all()
    for agreement in placeholders:
        deployment = db.session.get(Deployment, agreement.deployment_id)
        agreement.content = service.build_content(deployment, today)
        agreement.content_hash = signing.content_hash(agreement.content)
        agreement.verify_token = service.new_token()
        people = service.eligible_users(deployment)
        signed_at = agreement.signed_at or now
        for slot in service.slots(deployment, agreement):
            user = next((u for u in people if service.holds(slot, deployment, u)), None)
            if user is None:
                continue
            service.record_signature(deployment, agreement, slot, user, decision="signed",
                                     typed_name=user.name, signed_at=signed_at,
                                     user_agent="demo data")
        agreement.status = "signed"
        agreement.signed_at = signed_at
