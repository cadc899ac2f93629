"""The public verify page and the printable agreement after each forgery of issue 19: the page
works every check out itself, derives "fully signed" from the signatures (never the status
column) and says plainly which check failed; the evidence bundle downloads for the parties."""

from __future__ import annotations

import html
import json

import pytest
from sqlalchemy import delete, update

from portal.domain import agreements as service
from portal.domain import checkpoints, evidence, signing
from portal.extensions import db as _db
from portal.models import Agreement, Signature
from tests.factories import agreements as fa
from tests.web.test_agreements import ROLES, Fresh, current


@pytest.fixture
def w(db):
    return fa.ready_world()


@pytest.fixture
def c(client_for):
    return lambda user=None: Fresh(client_for(user))


@pytest.fixture
def signed(w):
    ag = current(w)
    for user in fa.signers(w):
        fa.sign(ag, user)
    _db.session.commit()
    return current(w)


def page(c, ag, fingerprint: str | None = None) -> str:
    query = {"fingerprint": fingerprint} if fingerprint is not None else {}
    r = c().get(f"/agreements/verify/{ag.verify_token}", query_string=query)
    assert r.status_code == 200
    return html.unescape(r.data.decode())


def failed(body: str, name: str) -> bool:
    return f"Failed: {name}." in body


def test_an_intact_agreement_passes_every_check_with_its_checkpoint(c, w, signed):
    body = page(c, signed, signing.fingerprint(signed.content_hash))
    assert "signed by every party" in body and "Failed:" not in body
    for name in (evidence.FINGERPRINT, evidence.SAME_TERMS, evidence.EVERY_PARTY,
                 evidence.CHECKPOINT, evidence.PROOFS):
        assert f"Passed: {name}." in body
    assert "4 of 4 signatories have signed" in body
    cp = checkpoints.latest(f"alliance:{w.a.alliance.id}")
    assert cp.signature in body and checkpoints.public_key_b64() in body
    assert "Yes: this fingerprint matches" in body


def test_terms_changed_and_hash_recomputed_fails_the_same_terms_check(c, signed):
    content = dict(signed.content, terms="1. The school pays double.")
    new_hash = signing.content_hash(content)
    _db.session.execute(update(Agreement).where(Agreement.id == signed.id)
                        .values(content=content, content_hash=new_hash))
    _db.session.commit()
    body = page(c, signed, signing.fingerprint(new_hash))
    assert failed(body, evidence.SAME_TERMS) and "not fully signed" in body
    assert "were made on different terms" in body and "Yes:" not in body


def test_content_hash_emptied_fails_the_fingerprint_check(c, signed):
    fingerprint = signing.fingerprint(signed.content_hash)
    _db.session.execute(update(Agreement).where(Agreement.id == signed.id)
                        .values(content_hash=""))
    _db.session.commit()
    body = page(c, signed, fingerprint)
    assert failed(body, evidence.FINGERPRINT) and "fingerprint has been removed" in body
    assert "Yes:" not in body


def test_a_deleted_signature_row_fails_and_counts_three_of_four(c, signed):
    _db.session.execute(delete(Signature).where(Signature.agreement_id == signed.id,
                                                Signature.party == "director"))
    _db.session.commit()
    body = page(c, signed, signing.fingerprint(signed.content_hash))
    assert failed(body, evidence.NONE_MISSING) and failed(body, evidence.EVERY_PARTY)
    assert "3 of 4 signatories have signed" in body and "Yes:" not in body


def test_one_of_four_signatures_with_status_signed_is_not_fully_signed(c, w):
    ag = current(w)
    fa.sign(ag, w.user("a", "sle"))
    _db.session.commit()
    _db.session.execute(update(Agreement).where(Agreement.id == ag.id).values(status="signed"))
    _db.session.commit()
    body = page(c, ag, signing.fingerprint(ag.content_hash))
    assert failed(body, evidence.EVERY_PARTY) and "1 of 4 signatories have signed" in body
    assert "not fully signed" in body and "Yes:" not in body


def test_a_signature_row_edited_fails_the_log_check(c, signed):
    _db.session.execute(update(Signature).where(Signature.agreement_id == signed.id,
                                                Signature.party == "leader")
                        .values(typed_name="Someone Else"))
    _db.session.commit()
    body = page(c, signed)
    assert failed(body, evidence.IN_THE_LOG) and "differ from what the audit log recorded" in body


def test_the_printable_agreement_carries_fingerprint_checkpoint_and_proofs(c, w, signed):
    r = c(w.user("a", "headteacher")).get(
        f"/deployments/{signed.deployment_id}/agreement/print")
    body = r.data.decode()
    cp = checkpoints.latest(f"alliance:{w.a.alliance.id}")
    assert signing.fingerprint(signed.content_hash) in body and cp.signature in body
    assert body.count("Inclusion proof") == 4 and "watermark" not in body
    bundle = service.evidence_bundle(signed)
    for s in bundle["signatures"]:
        assert all(h in body for h in s["proof"])


def test_the_printable_agreement_of_a_forged_status_says_it_is_not_signed(c, w):
    ag = current(w)
    fa.sign(ag, w.user("a", "sle"))
    _db.session.commit()
    _db.session.execute(update(Agreement).where(Agreement.id == ag.id).values(status="signed"))
    _db.session.commit()
    body = c(w.user("a", "admin")).get(f"/deployments/{ag.deployment_id}/agreement/print")
    assert "Not a fully signed agreement" in body.data.decode()


@pytest.mark.parametrize("role", ROLES)
def test_the_evidence_bundle_downloads_for_the_alliance_and_verifies(c, w, signed, role):
    r = c(w.user("a", role)).get(f"/deployments/{signed.deployment_id}/agreement/evidence.json")
    if role == "board":
        assert r.status_code == 404
        return
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert "attachment" in r.headers["Content-Disposition"]
    checks = evidence.verify_bundle(json.loads(r.data), checkpoints.public_key_bytes())
    assert evidence.fully_signed(checks)


def test_another_alliances_evidence_answers_404(c, w, signed):
    r = c(w.user("b", "admin")).get(f"/deployments/{signed.deployment_id}/agreement/evidence.json")
    assert r.status_code == 404
