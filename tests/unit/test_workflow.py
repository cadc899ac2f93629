"""Exhaustive tests of the request and deployment state machines in portal.domain.workflow."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from portal.domain import workflow
from portal.domain.workflow import (
    DEPLOYMENT_TRANSITIONS,
    REQUEST_TRANSITIONS,
    SYSTEM,
    IllegalTransition,
    ReasonRequired,
)
from portal.models import (
    DEPLOYMENT_STATUSES,
    REQUEST_STATUSES,
    ROLES,
    AuditEvent,
    Deployment,
    SupportRequest,
    User,
)

ACTORS = [*ROLES, SYSTEM]
MACHINES = {SupportRequest: (REQUEST_STATUSES, REQUEST_TRANSITIONS),
            Deployment: (DEPLOYMENT_STATUSES, DEPLOYMENT_TRANSITIONS)}
PAIRS = [(model, source, target)
         for model, (statuses, _t) in MACHINES.items()
         for source, target in itertools.product(statuses, statuses)]


@pytest.fixture(autouse=True)
def _only_the_machine(monkeypatch):
    """These tests are about the state machine itself: the side effects other areas register
    (drafting the agreement, starting a plan, raising invoices) need whole objects and are
    tested in their own areas, so they are set aside here."""
    from collections import defaultdict

    monkeypatch.setattr(workflow, "_HOOKS", defaultdict(list))


def _actor(role: str) -> User | None:
    return None if role == SYSTEM else User(id=None, role=role, alliance_id=None, name=role,
                                             email=f"{role}@example.org")


def _obj(model, status):
    return model(status=status, alliance_id=None, reference="X-1")


def _allowed(model, source, target):
    for t in MACHINES[model][1]:
        if t.source == source and t.target == target:
            return t
    return None


@pytest.mark.parametrize(("model", "source", "target"), PAIRS,
                         ids=[f"{m.__name__}:{s}->{t}" for m, s, t in PAIRS])
def test_every_move_by_every_role(db, model, source, target):
    t = _allowed(model, source, target)
    for role in ACTORS:
        obj = _obj(model, source)
        actor = _actor(role)
        before = len(db.session.new)
        if t is not None and role in t.roles:
            done = workflow.transition(obj, target, actor, reason="because")
            assert done is t and obj.status == target
            events = [e for e in db.session.new if isinstance(e, AuditEvent)]
            assert events, "an allowed move writes an audit event"
            ev = events[-1]
            assert ev.action == f"{model.__name__.lower()}.{target}"
            assert ev.detail["from"] == source and ev.detail["to"] == target
            assert ev.detail["reason"] == "because"
            assert workflow.can(_obj(model, source), target, actor)
        else:
            with pytest.raises(IllegalTransition) as info:
                workflow.transition(obj, target, actor, reason="because")
            assert info.value.forbidden is (t is not None)
            assert obj.status == source, "a refused move changes nothing"
            assert len(db.session.new) == before, "a refused move writes no audit"
            assert not workflow.can(_obj(model, source), target, actor)
        db.session.rollback()


NEEDS_REASON = [t for m in MACHINES for t in MACHINES[m][1] if t.needs_reason]
NO_REASON = [t for m in MACHINES for t in MACHINES[m][1] if not t.needs_reason]


def _model_of(t):
    return SupportRequest if t in REQUEST_TRANSITIONS else Deployment


@pytest.mark.parametrize("t", NEEDS_REASON, ids=lambda t: f"{t.source}->{t.target}")
@pytest.mark.parametrize("reason", ["", "   ", None])
def test_reason_is_required(db, t, reason):
    obj = _obj(_model_of(t), t.source)
    role = sorted(t.roles)[0]
    with pytest.raises(ReasonRequired):
        workflow.transition(obj, t.target, _actor(role), reason=reason)
    assert obj.status == t.source
    assert not [e for e in db.session.new if isinstance(e, AuditEvent)]


@pytest.mark.parametrize("t", NO_REASON, ids=lambda t: f"{t.source}->{t.target}")
def test_reason_is_optional_elsewhere(db, t):
    obj = _obj(_model_of(t), t.source)
    workflow.transition(obj, t.target, _actor(sorted(t.roles)[0]))
    assert obj.status == t.target
    ev = [e for e in db.session.new if isinstance(e, AuditEvent)][-1]
    assert "reason" not in ev.detail


def test_the_tables_cover_the_journey():
    assert {(t.source, t.target) for t in REQUEST_TRANSITIONS} >= {
        ("draft", "submitted"), ("submitted", "matching"), ("submitted", "more_info"),
        ("submitted", "declined"), ("matching", "matched"), ("matched", "matching"),
        ("draft", "withdrawn"), ("submitted", "withdrawn")}
    assert {(t.source, t.target) for t in DEPLOYMENT_TRANSITIONS} >= {
        ("proposed", "agreement"), ("proposed", "declined")}
    # the machine has no duplicate edges
    for table in (REQUEST_TRANSITIONS, DEPLOYMENT_TRANSITIONS):
        edges = [(t.source, t.target) for t in table]
        assert len(edges) == len(set(edges))


STAMPS = [(SupportRequest, "draft", "submitted", "submitted_at"),
          (SupportRequest, "matching", "matched", "matched_at"),
          (Deployment, "proposed", "agreement", "confirmed_at"),
          (Deployment, "agreement", "active", "active_at"),
          (Deployment, "proposed", "declined", "closed_at"),
          (Deployment, "evaluation", "completed", "closed_at")]


@pytest.mark.parametrize(("model", "source", "target", "column"), STAMPS)
def test_entering_a_status_sets_its_timestamp(db, model, source, target, column):
    obj = _obj(model, source)
    t = _allowed(model, source, target)
    role = SYSTEM if SYSTEM in t.roles else sorted(t.roles)[0]
    workflow.transition(obj, target, _actor(role), reason="r")
    assert getattr(obj, column) is not None


def test_hooks_run_inside_the_transition_with_actor_and_reason(db):
    calls = []

    def hook(obj, actor, reason):
        calls.append((obj.status, actor.role, reason))

    workflow.on_enter(Deployment, "declined")(hook)
    workflow.on_enter(Deployment, "declined")(hook)  # registering twice runs it once
    try:
        d = _obj(Deployment, "proposed")
        workflow.transition(d, "declined", _actor("home_school"), reason="No cover")
        assert calls == [("declined", "home_school", "No cover")]
        # a hook for another status does not run
        workflow.transition(_obj(Deployment, "proposed"), "cancelled", _actor("admin"),
                            reason="x")
        assert len(calls) == 1
    finally:
        workflow._HOOKS[(Deployment, "declined")].remove(hook)


def test_a_refused_move_runs_no_hook(db):
    calls = []
    hook = workflow.on_enter(Deployment, "agreement")(lambda *a: calls.append(a))
    try:
        with pytest.raises(IllegalTransition):
            workflow.transition(_obj(Deployment, "active"), "agreement", _actor("admin"))
        with pytest.raises(IllegalTransition):
            workflow.transition(_obj(Deployment, "proposed"), "agreement", _actor("board"))
        assert calls == []
    finally:
        workflow._HOOKS[(Deployment, "agreement")].remove(hook)


def test_on_enter_refuses_a_status_never_entered():
    with pytest.raises(ValueError):
        workflow.on_enter(Deployment, "proposed")
    with pytest.raises(ValueError):
        workflow.on_enter(SupportRequest, "draft")


def test_available_lists_the_buttons_for_a_role():
    req = _obj(SupportRequest, "submitted")
    admin_moves = {t.target for t in workflow.available(req, _actor("admin"))}
    assert admin_moves == {"matching", "more_info", "declined", "withdrawn"}
    head_moves = {t.target for t in workflow.available(req, _actor("headteacher"))}
    assert head_moves == {"withdrawn"}
    assert workflow.available(req, _actor("sle")) == []


def test_audit_is_committed_with_who_what_when(db, world):
    req = world.a.request
    admin = world.user("a", "admin")
    workflow.transition(req, "matching", admin, ip="203.0.113.9")
    workflow.commit_or_conflict()
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "supportrequest.matching"))
    assert ev.actor_id == admin.id and ev.object_id == req.id and ev.object_type == "SupportRequest"
    assert ev.alliance_id == world.a.alliance.id and ev.at is not None
    assert ev.ip == "203.0.113.9" and ev.hash and ev.prev_hash


def test_commit_or_conflict_turns_a_stale_write_into_conflict(db, world):
    from sqlalchemy import update

    req = world.a.request
    admin = world.user("a", "admin")
    with db.session.no_autoflush:
        # someone else bumps the version behind our back
        db.session.execute(update(SupportRequest).where(SupportRequest.id == req.id)
                           .values(version=SupportRequest.version + 1)
                           .execution_options(synchronize_session=False))
        workflow.transition(req, "matching", admin)
    with pytest.raises(workflow.Conflict):
        workflow.commit_or_conflict()
    db.session.expire_all()
    assert db.session.get(SupportRequest, req.id).status == "submitted"
