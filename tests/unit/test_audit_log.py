"""The per-alliance audit logs and their checkpoints: each forgery of issue 19, tried as
someone with write access to the database would, is reported by name by flask verify-audit;
and writes on different alliances never wait for each other (PostgreSQL)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading

import pytest
from sqlalchemy import delete, func, select, text, update

from portal.domain import agreements as service
from portal.domain import audit, checkpoints, evidence, merkle, signing
from portal.models import (
    Agreement,
    AuditCheckpoint,
    AuditEvent,
    AuditLogHead,
    OutboxEmail,
    Signature,
)
from tests.factories import agreements as fa


@pytest.fixture
def w(db):
    return fa.ready_world()


@pytest.fixture
def signed(w, db):
    """Side a's agreement signed by all four parties (which signs a checkpoint), then a few
    more events in the alliance's log after it."""
    ag = service.current(w.a.deployment.id)
    for user in fa.signers(w):
        fa.sign(ag, user)
    db.session.commit()
    for i in range(3):
        audit.record(None, "test.later", alliance_id=w.a.alliance.id, detail={"i": i})
    db.session.commit()
    return service.current(w.a.deployment.id)


def run(app, *args):
    return app.test_cli_runner().invoke(args=["verify-audit", *args])


def forgeries(app, *args) -> str:
    out = run(app, *args)
    assert out.exit_code != 0, out.output
    return out.output


def log_of(w) -> str:
    return audit.log_name(w.a.alliance.id)


# ------------------------------------------------------------------------------- the log


def test_each_alliance_has_its_own_log_counted_from_one(w, db):
    a = audit.record(None, "test.a", alliance_id=w.a.alliance.id)
    b = audit.record(None, "test.b", alliance_id=w.b.alliance.id)
    a2 = audit.record(None, "test.a2", alliance_id=w.a.alliance.id)
    p = audit.record(None, "test.portal")
    db.session.commit()
    assert (a.log, b.log, p.log) == (f"alliance:{w.a.alliance.id}",
                                     f"alliance:{w.b.alliance.id}", "portal")
    assert a2.seq == a.seq + 1 and a2.prev_hash == a.hash
    assert a.hash == hmac.new(b"testing-only-audit-key", (a.prev_hash + a.digest).encode(),
                              hashlib.sha256).hexdigest()
    assert a.digest == hashlib.sha256(
        signing.canonical_json(audit.payload(a)).encode()).hexdigest()
    head = db.session.get(AuditLogHead, a.log)
    assert (head.size, head.head_hash) == (a2.seq, a2.hash)
    leaves = audit.leaves(a.log)
    assert merkle.Frontier.from_json(head.frontier).root() == merkle.root(leaves)
    assert audit.verify() == []


def test_an_intact_log_verifies(app, signed, db):
    out = run(app)
    assert out.exit_code == 0 and "Audit logs intact" in out.output, out.output


def test_a_fully_signed_agreement_signs_a_checkpoint_and_emails_the_directors(w, signed, db):
    cp = checkpoints.latest(log_of(w))
    assert cp is not None and "signed by all" in cp.reason
    assert checkpoints.verify_signature(checkpoints.as_json(cp))
    director = w.user("a", "director")
    mail = db.session.scalars(select(OutboxEmail).where(
        OutboxEmail.to == director.email,
        OutboxEmail.subject == "Audit checkpoint of your alliance's log")).all()
    assert mail and checkpoints.statement(checkpoints.as_json(cp)) in mail[-1].body
    assert cp.signature in mail[-1].body
    # nobody outside the alliance is told
    assert not db.session.scalar(select(func.count()).select_from(OutboxEmail).where(
        OutboxEmail.to == w.user("b", "director").email,
        OutboxEmail.subject.like("Audit checkpoint%")))


def test_flask_checkpoint_signs_every_log_that_grew(app, w, signed, db):
    out = app.test_cli_runner().invoke(args=["checkpoint"])
    assert out.exit_code == 0 and "Signed " in out.output
    head = db.session.get(AuditLogHead, log_of(w))
    assert checkpoints.latest(log_of(w)).size == head.size
    again = app.test_cli_runner().invoke(args=["checkpoint"])
    assert "Signed 0 checkpoint(s)" in again.output


def test_export_checkpoints_gives_every_checkpoint_with_the_key(app, signed, db, tmp_path):
    out = app.test_cli_runner().invoke(args=["export-checkpoints", str(tmp_path / "c.json")])
    assert out.exit_code == 0
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["public_key"] == checkpoints.public_key_b64()
    assert len(data["checkpoints"]) == db.session.scalar(
        select(func.count()).select_from(AuditCheckpoint))
    assert all(checkpoints.verify_signature(cp) for cp in data["checkpoints"])


# ------------------------------------------------------------------------------- forgeries


def test_terms_changed_and_content_hash_recomputed(app, signed, db):
    content = dict(signed.content, terms="1. The receiving school pays double.")
    db.session.execute(update(Agreement).where(Agreement.id == signed.id).values(
        content=content, content_hash=signing.content_hash(content)))
    db.session.commit()
    assert service.TERMS_CHANGED in forgeries(app)


def test_content_hash_emptied(app, signed, db):
    db.session.execute(update(Agreement).where(Agreement.id == signed.id)
                       .values(content_hash=""))
    db.session.commit()
    assert service.HASH_EMPTIED in forgeries(app)


def test_a_signature_row_deleted(app, signed, db):
    db.session.execute(delete(Signature).where(Signature.agreement_id == signed.id,
                                               Signature.party == "director"))
    db.session.commit()
    output = forgeries(app)
    assert service.SIGNATURE_DELETED in output and service.STATUS_FORGED in output


def _events(log: str) -> list[AuditEvent]:
    from portal.extensions import db

    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.log == log)
                                   .order_by(AuditEvent.seq)))


def _rewrite_head(log: str, key: bytes | None = None) -> None:
    """What an attacker does after changing a log: recompute every digest and hash (with the
    key they guess) and the head row, so the chain is a chain again."""
    from portal.extensions import db

    prev, frontier = signing.GENESIS, merkle.Frontier()
    for event in _events(log):
        event.prev_hash = prev
        event.digest = audit.event_digest(audit.payload(event))
        if key is not None:
            event.hash = hmac.new(key, (prev + event.digest).encode(),
                                  hashlib.sha256).hexdigest()
        frontier.append(bytes.fromhex(event.digest))
        prev = event.hash
    head = db.session.get(AuditLogHead, log)
    head.size, head.head_hash, head.frontier = frontier.size, prev, frontier.to_json()
    db.session.commit()


def test_the_last_events_deleted(app, w, signed, db):
    log = log_of(w)
    last = _events(log)[-5:]  # the three later events and two of the agreement's
    db.session.execute(delete(AuditEvent).where(AuditEvent.id.in_([e.id for e in last])))
    db.session.commit()
    assert audit.EVENTS_TRUNCATED in forgeries(app)  # the head row says more
    _rewrite_head(log, key=b"testing-only-audit-key")  # even with the head put right ...
    output = forgeries(app)
    assert audit.EVENTS_TRUNCATED in output  # ... the signed checkpoint covers more
    assert "covers" in output


def test_an_event_edited_and_the_chain_recomputed_without_the_key(app, w, signed, db):
    log = log_of(w)
    event = next(e for e in _events(log) if e.action == "agreement.signed")
    detail = dict(event.detail)
    detail["evidence"] = dict(detail["evidence"], ip_address="10.0.0.1")
    event.detail = detail
    db.session.commit()
    _rewrite_head(log, key=b"a guess at the key")
    output = forgeries(app)
    assert audit.KEYED_HASH_WRONG in output and audit.LOG_REWRITTEN in output


def test_an_event_edited_and_the_chain_recomputed_with_the_key(app, w, signed, db):
    """Even someone holding AUDIT_KEY cannot rewrite what a signed checkpoint covers."""
    log = log_of(w)
    event = _events(log)[0]
    event.detail = {**event.detail, "forged": True}
    db.session.commit()
    _rewrite_head(log, key=b"testing-only-audit-key")
    output = forgeries(app)
    assert audit.LOG_REWRITTEN in output and audit.KEYED_HASH_WRONG not in output


def test_an_event_edited_in_place(app, w, signed, db):
    event = _events(log_of(w))[1]
    db.session.execute(update(AuditEvent).where(AuditEvent.id == event.id)
                       .values(action="deployment.forged"))
    db.session.commit()
    assert audit.EVENT_EDITED in forgeries(app)


def test_an_event_removed_from_the_middle(app, w, signed, db):
    event = _events(log_of(w))[2]
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == event.id))
    db.session.commit()
    assert audit.EVENT_REMOVED in forgeries(app)


def test_one_of_four_signatures_and_status_set_to_signed(app, w, db):
    ag = service.current(w.a.deployment.id)
    fa.sign(ag, w.user("a", "sle"))
    db.session.commit()
    db.session.execute(update(Agreement).where(Agreement.id == ag.id).values(status="signed"))
    db.session.commit()
    output = forgeries(app)
    assert service.STATUS_FORGED in output and "1 of 4 signatories" in output


def test_a_checkpoint_edited(app, w, signed, db):
    cp = checkpoints.latest(log_of(w))
    db.session.execute(update(AuditCheckpoint).where(AuditCheckpoint.id == cp.id)
                       .values(size=cp.size - 1))
    db.session.commit()
    assert audit.CHECKPOINT_FORGED in forgeries(app)


def test_checkpoints_exported_earlier_catch_a_rewrite_that_deleted_the_stored_ones(
        app, w, signed, db, tmp_path):
    app.test_cli_runner().invoke(args=["export-checkpoints", str(tmp_path / "c.json")])
    log = log_of(w)
    last = _events(log)[-4:]
    db.session.execute(delete(AuditEvent).where(AuditEvent.id.in_([e.id for e in last])))
    db.session.execute(delete(AuditCheckpoint))
    db.session.commit()
    _rewrite_head(log, key=b"testing-only-audit-key")
    assert run(app).exit_code == 0  # the database alone now looks consistent ...
    assert audit.EVENTS_TRUNCATED in forgeries(app, "--checkpoints", str(tmp_path / "c.json"))


# ------------------------------------------------------------------------------- evidence


def test_the_evidence_bundle_verifies_offline_and_every_change_to_it_fails(
        app, signed, db, tmp_path):
    path = tmp_path / "evidence.json"
    out = app.test_cli_runner().invoke(args=["export-evidence", signed.verify_token, str(path)])
    assert out.exit_code == 0, out.output
    key = checkpoints.public_key_b64()
    ok = app.test_cli_runner().invoke(args=["verify-agreement", str(path), "--public-key", key])
    assert ok.exit_code == 0 and "Fully signed" in ok.output, ok.output
    bundle = json.loads(path.read_text())
    assert evidence.fully_signed(evidence.verify_bundle(bundle))

    def failed(change) -> set[str]:
        copy = json.loads(path.read_text())
        change(copy)
        return {c.name for c in evidence.verify_bundle(copy) if not c.ok}

    def terms(b):
        b["agreement"]["content"]["terms"] = "Changed"
        b["agreement"]["content_hash"] = signing.content_hash(b["agreement"]["content"])

    assert evidence.SAME_TERMS in failed(terms)
    assert evidence.FINGERPRINT in failed(lambda b: b["agreement"].update(content_hash=""))
    assert evidence.EVERY_PARTY in failed(lambda b: b["signatures"].pop())
    assert evidence.IN_THE_LOG in failed(
        lambda b: b["signatures"][0]["evidence"].update(ip_address="10.9.9.9"))

    def event(b):
        b["signatures"][0]["event"]["detail"]["evidence"]["ip_address"] = "10.9.9.9"
        b["signatures"][0]["evidence"]["ip_address"] = "10.9.9.9"

    assert failed(event) == {evidence.PROOFS}
    assert evidence.CHECKPOINT in failed(lambda b: b["checkpoint"].update(size=1))
    assert evidence.PROOFS in failed(lambda b: b["signatures"][1].update(leaf_index=0))
    other = checkpoints.load_private_key(
        __import__("base64").b64encode(b"o" * 32).decode()).public_key().public_bytes_raw()
    assert evidence.CHECKPOINT in {c.name for c in evidence.verify_bundle(bundle, other)
                                   if not c.ok}
    assert not evidence.fully_signed(evidence.verify_bundle({"format": "nonsense"}))
    assert not evidence.fully_signed(evidence.verify_bundle({**bundle, "signatures": None}))


# ------------------------------------------------------------------------------- concurrency


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL row locks")
def test_writes_on_different_alliances_never_wait_for_each_other(app, w, db):
    """One transaction holds alliance a's head; alliance b still writes at once, and a second
    writer on alliance a waits (it would time out)."""
    from portal.extensions import db as _db

    a, b = w.a.alliance.id, w.b.alliance.id
    for alliance_id in (a, b):  # make both heads exist
        audit.record(None, "test.first", alliance_id=alliance_id)
    db.session.commit()
    held = threading.Event()
    release = threading.Event()
    results: dict[str, object] = {}

    def holder():
        with app.app_context():
            audit.record(None, "test.holding", alliance_id=a)
            _db.session.flush()
            held.set()
            release.wait(10)
            _db.session.commit()
            _db.session.remove()

    def writer(name, alliance_id):
        with app.app_context():
            try:
                _db.session.execute(text("SET LOCAL lock_timeout = '1s'"))
                audit.record(None, "test.other", alliance_id=alliance_id)
                _db.session.commit()
                results[name] = "written"
            except Exception as exc:  # noqa: BLE001 - the lock timeout is the expected outcome
                results[name] = type(exc).__name__
            finally:
                _db.session.rollback()
                _db.session.remove()

    t = threading.Thread(target=holder)
    t.start()
    assert held.wait(10)
    other = threading.Thread(target=writer, args=("b", b))
    other.start()
    other.join(5)
    same = threading.Thread(target=writer, args=("a", a))
    same.start()
    same.join(5)
    release.set()
    t.join(10)
    assert results["b"] == "written"
    assert results["a"] == "OperationalError"  # lock timeout: it queued behind the holder
    db.session.rollback()
    assert audit.verify() == []


def test_verify_agreement_names_the_failed_check_and_refuses(app, signed, db, tmp_path):
    path = tmp_path / "evidence.json"
    out = app.test_cli_runner().invoke(args=["export-evidence", signed.verify_token, str(path)])
    assert out.exit_code == 0, (out.output, out.exception)
    bundle = json.loads(path.read_text())
    bundle["signatures"].pop()
    path.write_text(json.dumps(bundle))
    out = app.test_cli_runner().invoke(args=["verify-agreement", str(path)])
    assert out.exit_code != 0
    assert f"FAIL  {evidence.EVERY_PARTY}: 3 of 4 signatories have signed" in out.output
    assert "checked against the key inside the bundle" in out.output
    bad = app.test_cli_runner().invoke(args=["export-evidence", "no-such-token"])
    assert bad.exit_code != 0 and "No agreement has that verification code" in bad.output


def test_a_new_verification_code_never_starts_with_a_dash(monkeypatch):
    """A code starting with "-" was read by ``flask export-evidence`` as an option (it failed
    about one run in eight: token_urlsafe starts with "-" one time in 64)."""
    drawn = iter(["-Jdash", "_under", "unused"])
    monkeypatch.setattr(service.secrets, "token_urlsafe", lambda _n: next(drawn))
    assert service.new_token() == "_under"


@pytest.mark.parametrize("given", [
    "{token}", " {token} ", "https://portal.example.org/agreements/verify/{token}",
    "https://portal.example.org/agreements/verify/{token}/?x=1#top"])
def test_token_from_takes_the_code_or_the_public_address(given):
    token = "-Jabc_DEF-123"
    assert service.token_from(given.format(token=token)) == token


def test_an_older_code_that_starts_with_a_dash_exports_by_address_or_after_two_dashes(
        app, signed, db, tmp_path):
    signed.verify_token = "-J" + signed.verify_token[2:]
    db.session.commit()
    for i, args in enumerate((
            [f"https://portal.example.org/agreements/verify/{signed.verify_token}"],
            ["--", signed.verify_token])):
        path = tmp_path / f"evidence-{i}.json"
        out = app.test_cli_runner().invoke(args=["export-evidence", *args, str(path)])
        assert out.exit_code == 0, (out.output, out.exception)
        bundle = json.loads(path.read_text())
        assert bundle["agreement"]["reference"] == service.deployment_of(signed).reference
        assert bundle["agreement"]["version"] == signed.version
