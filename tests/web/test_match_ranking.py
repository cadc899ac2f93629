"""Issue 20: the match page's ranking reads the directory in a fixed number of queries and gives
exactly the order, reasons and exclusions it gave when it loaded every profile as ORM objects
(the old loader is kept below as the oracle). bench/match.py times it at 333 leaders."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import event, func, select
from sqlalchemy.orm import joinedload, selectinload

from portal.domain import brokering
from portal.domain.matching import Candidate, rank
from portal.domain.policy import commissions as commission_policy
from portal.extensions import db
from portal.models import (
    LIVE_STATUSES,
    Deployment,
    LeaderProfile,
    SupportRequest,
    Unavailability,
    standards_to_mask,
)
from tests import factories
from tests.factories.requests import specialism
from tests.querycount import counted

DESIGNATIONS = ("sle", "sle", "nle", "lle", "slt", "non_sle")
PHASES = ("primary", "secondary", "special", "all_through", "early_years", "post_16")
STANDARDS = ("TS1", "TS2", "TS3", "TS4", "TS5", "TS6", "TS7", "TS8", "PART2")


def old_candidates_for(alliance_id, start, end) -> list[Candidate]:
    """brokering.candidates_for before issue 20: ORM profiles, users, schools, specialisms and
    unavailability (selectinload), then the same load query."""
    profiles = db.session.scalars(
        select(LeaderProfile)
        .where(LeaderProfile.alliance_id == alliance_id)
        .options(joinedload(LeaderProfile.user), joinedload(LeaderProfile.home_school),
                 selectinload(LeaderProfile.specialisms), selectinload(LeaderProfile.unavailable))
    ).unique().all()
    load = {
        leader_id: (count, half_days or 0)
        for leader_id, count, half_days in db.session.execute(
            select(Deployment.leader_id, func.count(Deployment.id),
                   func.sum(Deployment.half_days_agreed - Deployment.half_days_delivered))
            .where(Deployment.alliance_id == alliance_id, Deployment.status.in_(LIVE_STATUSES))
            .group_by(Deployment.leader_id)).all()}
    out = []
    for p in profiles:
        count, committed = load.get(p.user_id, (0, 0))
        days = p.capacity_days
        if p.release_approved_days is not None:
            days = min(days, p.release_approved_days)
        out.append(Candidate(
            leader_id=p.user_id, name=p.user.name, designation=p.designation,
            home_school_id=p.home_school_id, local_authority_id=p.home_school.local_authority_id,
            specialisms=frozenset(s.code for s in p.specialisms),
            phases=frozenset(p.phase_list), standards=frozenset(p.standards),
            capacity_half_days=2 * days, committed_half_days=max(0, int(committed)),
            active_deployments=count,
            unavailable=tuple((u.start, u.end) for u in p.unavailable
                              if u.start <= end and u.end >= start),
            active=p.user.active and p.accepting, role=p.user.role))
    return out


def _leaders(w, n: int, rng: random.Random, tag: str = "") -> None:
    """``n`` leaders in side a's alliance, as varied as a directory is."""
    side = w.a
    las = [factories.local_authority(f"Match LA {k}{tag}") for k in range(3)]
    specs = [specialism(code, code.title()) for code in ("maths", "english", "send", "science")]
    req = side.request
    for i in range(n):
        home = side.receiving if i == 0 else factories.school(
            side.alliance, f"Home {i}{tag}", la=rng.choice([*las, None]))
        u = factories.leader(
            side.alliance, home, designation=rng.choice(DESIGNATIONS),
            name=rng.choice(["Ann Lee", "ann lee", "Bob Ray", f"Cy {i}{tag}"]),
            specialisms=rng.sample(specs, rng.randint(0, 3)),
            phases=",".join(rng.sample(PHASES, rng.randint(1, 3))),
            standards=rng.sample(STANDARDS, rng.randint(0, 6)),
            capacity_days=rng.choice([0, 2, 5, 10, 30]))
        p = u.profile
        p.release_approved_days = rng.choice([None, None, 1, 4])
        p.accepting = rng.random() > 0.15
        u.active = rng.random() > 0.1
        for _k in range(rng.randint(0, 3)):
            first = req.start_date + timedelta(days=rng.randint(-30, 60))
            db.session.add(Unavailability(profile_id=p.id, start=first,
                                          end=first + timedelta(days=rng.randint(0, 20))))
        for _k in range(rng.randint(0, 3)):
            other = factories.support_request(side.alliance, side.users["headteacher"],
                                              [side.other], title=f"Other {i}{tag}")
            d = factories.deployment(other, u, half_days=rng.randint(1, 12))
            d.status = rng.choice([*LIVE_STATUSES, "completed", "cancelled"])
            d.half_days_delivered = rng.randint(0, d.half_days_agreed)
    db.session.flush()


def _prepare(world):
    req = world.a.request
    req.specialism_id = specialism("maths", "Maths").id
    req.standards_mask = standards_to_mask(["TS1", "TS2", "TS6"])
    req.half_days_wanted = 9
    db.session.commit()
    return req


def _ranking_queries(request_id: int) -> tuple[brokering.Ranking, int]:
    db.session.expire_all()
    req = db.session.get(SupportRequest, request_id)
    req.specialism  # noqa: B018 -- loaded before counting, as the match page has it
    seen = []

    def count(_c, _cur, statement, *_a):
        if counted(statement):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = brokering.ranking(req)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return result, len(seen)


def test_the_ranking_is_the_old_ranking_on_a_varied_directory(world):
    req = _prepare(world)
    _leaders(world, 40, random.Random(333))
    db.session.commit()
    need = brokering.need_for(req)
    new = brokering.candidates_for(req.alliance_id, need.start, need.end)
    old = old_candidates_for(req.alliance_id, need.start, need.end)
    assert sorted(new, key=lambda c: c.leader_id) == sorted(old, key=lambda c: c.leader_id)
    first = None
    for kind in ("sle_deployment", "commission"):
        req.kind = kind
        got = brokering.ranking(req)
        matches, exclusions = rank(need, old)
        want_matches = [m for m in matches if kind != "commission"
                        or commission_policy.may_lead(m.candidate.designation,
                                                      m.candidate.role)]
        assert [(m.candidate.leader_id, m.score, m.reasons, m.warnings, m.free_half_days)
                for m in got.matches] == [
            (m.candidate.leader_id, m.score, m.reasons, m.warnings, m.free_half_days)
            for m in want_matches]
        if kind == "sle_deployment":
            assert got.exclusions == exclusions
            first = got
    # the directory is as varied as it claims: something ranked, something excluded, warnings
    assert first is not None and len(first.matches) > 3 and len(first.exclusions) > 3
    assert any(m.warnings for m in first.matches) and any(c.unavailable for c in new)
    reasons = {e.reason.split(":")[0] for e in first.exclusions}
    assert {"Works at a receiving school", "Not active in the directory"} <= reasons


def test_the_ranking_costs_the_same_queries_with_3_and_30_leaders(world):
    req = _prepare(world)
    rng = random.Random(3)
    _leaders(world, 3, rng)
    db.session.commit()
    small_result, small = _ranking_queries(req.id)
    _leaders(world, 27, rng, tag=" more")
    db.session.commit()
    large_result, large = _ranking_queries(req.id)
    assert len(large_result.matches) + len(large_result.exclusions) >= 30 > len(
        small_result.matches) + len(small_result.exclusions)
    # the receiving schools' local authorities, then the four directory queries
    assert large == small == 5, (small, large)
