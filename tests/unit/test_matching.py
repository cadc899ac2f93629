"""Unit tests for portal.domain.matching (journey step 2, "Match")."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, timedelta

import pytest

from portal.domain import matching as m
from portal.domain.matching import (
    STANDARDS,
    Candidate,
    Exclusion,
    Match,
    Need,
    Reason,
    format_date,
    format_days,
    free_half_days,
    rank,
    working_days,
)

# Mon 23 Nov 2026 to Fri 4 Dec 2026: ten working days, twenty half days.
MON = date(2026, 11, 23)
FRI = date(2026, 12, 4)
SAT = date(2026, 11, 28)
SUN = date(2026, 11, 29)

NEED = Need(
    standards=frozenset({"TS1", "TS4", "TS6"}),
    phase="primary",
    specialism="maths",
    start=MON,
    end=FRI,
    half_days=10,
    receiving_school_ids=frozenset({100}),
    local_authority_ids=frozenset({1}),
)

# A plain leader: nothing in common with NEED, plenty of time, no load, another LA.
# Score: availability 15 + load 10 = 25.
PLAIN = Candidate(
    leader_id=1,
    name="Alice Adams",
    designation="sle",
    home_school_id=200,
    local_authority_id=2,
    specialisms=frozenset(),
    phases=frozenset(),
    standards=frozenset(),
    capacity_half_days=40,
    committed_half_days=0,
    active_deployments=0,
)
PLAIN_SCORE = m.AVAILABILITY_POINTS + m.LOAD_MAX_POINTS


def need(**changes: object) -> Need:
    return replace(NEED, **changes)


def cand(**changes: object) -> Candidate:
    return replace(PLAIN, **changes)


def only_match(n: Need, c: Candidate) -> Match:
    matches, exclusions = rank(n, [c])
    assert exclusions == []
    assert len(matches) == 1
    return matches[0]


def only_exclusion(n: Need, c: Candidate) -> Exclusion:
    matches, exclusions = rank(n, [c])
    assert matches == []
    assert len(exclusions) == 1
    return exclusions[0]


def reason(match: Match, kind: str) -> Reason:
    found = [r for r in match.reasons if r.kind == kind]
    assert len(found) == 1, f"expected one {kind} reason in {match.reasons}"
    return found[0]


def ids(matches: list[Match]) -> list[int]:
    return [x.candidate.leader_id for x in matches]


# --------------------------------------------------------------------------- weights


def test_weights_are_integers_and_specialism_is_strongest() -> None:
    weights = [
        m.SPECIALISM_POINTS,
        m.STANDARD_POINTS,
        m.PHASE_POINTS,
        m.AVAILABILITY_POINTS,
        m.LOAD_MAX_POINTS,
        m.LOAD_STEP_POINTS,
        m.LOCALITY_POINTS,
        m.DESIGNATION_POINTS,
    ]
    assert all(type(w) is int and w >= 0 for w in weights)
    assert m.SPECIALISM_POINTS > m.STANDARD_POINTS * len(STANDARDS)
    others = [m.PHASE_POINTS, m.AVAILABILITY_POINTS, m.LOAD_MAX_POINTS, m.LOCALITY_POINTS]
    assert m.SPECIALISM_POINTS > max(others)
    assert m.DESIGNATION_POINTS == 0


def test_specialism_alone_beats_every_standard_covered() -> None:
    specialist = cand(leader_id=1, name="Zoe", specialisms=frozenset({"maths"}))
    all_round = cand(leader_id=2, name="Amy", standards=frozenset(STANDARDS))
    n = need(standards=frozenset(STANDARDS))
    matches, _ = rank(n, [all_round, specialist])
    assert ids(matches) == [1, 2]
    assert [x.score for x in matches] == [PLAIN_SCORE + 40, PLAIN_SCORE + 36]


# --------------------------------------------------------------------------- exclusions


def test_excludes_leader_from_a_receiving_school_even_when_perfect() -> None:
    perfect = cand(
        home_school_id=101,
        local_authority_id=1,
        specialisms=frozenset({"maths"}),
        phases=frozenset({"primary"}),
        standards=frozenset({"TS1", "TS4", "TS6"}),
    )
    n = need(receiving_school_ids=frozenset({100, 101}))
    assert only_exclusion(n, perfect) == Exclusion(perfect, "Works at a receiving school")


def test_excludes_inactive_leader() -> None:
    c = cand(active=False)
    assert only_exclusion(NEED, c).reason == "Not active in the directory"


def test_excludes_leader_with_no_free_days_in_window_with_exact_text() -> None:
    c = cand(capacity_half_days=12, committed_half_days=12)
    n = need(start=date(2026, 12, 1), end=date(2027, 1, 31))
    assert only_exclusion(n, c).reason == "No free days between 1 Dec 2026 and 31 Jan 2027"


def test_excludes_leader_whose_capacity_is_overcommitted() -> None:
    c = cand(capacity_half_days=4, committed_half_days=9)
    assert free_half_days(c, MON, FRI) == 0
    assert only_exclusion(NEED, c).reason == "No free days between 23 Nov 2026 and 4 Dec 2026"


def test_excludes_leader_whose_designation_is_not_acceptable() -> None:
    n = need(designations=frozenset({"nle", "lle"}))
    c = cand(designation="sle")
    assert (
        only_exclusion(n, c).reason
        == "Designation not accepted: SLE (the request asks for NLE or LLE)"
    )
    assert only_match(n, cand(designation="lle")).candidate.designation == "lle"


def test_any_designation_is_acceptable_when_none_named() -> None:
    leaders = [cand(leader_id=i, designation=d) for i, d in enumerate(m.DESIGNATIONS)]
    matches, exclusions = rank(NEED, leaders)
    assert exclusions == []
    assert len(matches) == len(m.DESIGNATIONS)


def test_first_applicable_exclusion_is_the_reason_given() -> None:
    n = need(designations=frozenset({"nle"}))
    everything_wrong = cand(home_school_id=100, active=False, capacity_half_days=0)
    assert only_exclusion(n, everything_wrong).reason == "Works at a receiving school"
    inactive = cand(active=False, capacity_half_days=0)
    assert only_exclusion(n, inactive).reason == "Not active in the directory"
    no_days = cand(designation="nle", capacity_half_days=0)
    assert only_exclusion(n, no_days).reason.startswith("No free days between")


def test_exclusions_are_ordered_by_name_then_id_and_every_leader_is_listed_once() -> None:
    leaders = [
        cand(leader_id=5, name="Cara", active=False),
        cand(leader_id=4, name="bea", home_school_id=100),
        cand(leader_id=3, name="Bea", capacity_half_days=0),
        cand(leader_id=9, name="Dan"),
        cand(leader_id=2, name="Bea", active=False),
    ]
    matches, exclusions = rank(NEED, leaders)
    assert ids(matches) == [9]
    assert [e.candidate.leader_id for e in exclusions] == [2, 3, 4, 5]


# --------------------------------------------------------------------------- specialism


def test_specialism_match_scores_specialism_points() -> None:
    x = only_match(NEED, cand(specialisms=frozenset({"english", "maths"})))
    assert reason(x, "specialism") == Reason("specialism", "Specialises in maths", 40)
    assert x.score == PLAIN_SCORE + 40


def test_specialism_miss_scores_nothing_and_says_so() -> None:
    x = only_match(need(specialism="send"), cand(specialisms=frozenset({"maths"})))
    assert reason(x, "specialism") == Reason("specialism", "No specialism in SEND", 0)
    assert x.score == PLAIN_SCORE


def test_unknown_specialism_code_is_shown_readably() -> None:
    x = only_match(need(specialism="design_technology"), PLAIN)
    assert reason(x, "specialism").text == "No specialism in design technology"


def test_no_specialism_reason_when_request_names_none() -> None:
    x = only_match(need(specialism=None), cand(specialisms=frozenset({"maths"})))
    assert [r.kind for r in x.reasons] == [
        "standards",
        "phase",
        "availability",
        "load",
        "locality",
        "designation",
    ]


# --------------------------------------------------------------------------- standards


def test_partial_standards_say_which_are_covered() -> None:
    x = only_match(NEED, cand(standards=frozenset({"TS4", "TS1", "TS8"})))
    assert reason(x, "standards") == Reason("standards", "Covers TS1, TS4 of TS1, TS4, TS6", 8)
    assert x.score == PLAIN_SCORE + 8


def test_all_standards_covered() -> None:
    x = only_match(NEED, cand(standards=frozenset(STANDARDS)))
    assert reason(x, "standards") == Reason("standards", "Covers all of TS1, TS4, TS6", 12)


def test_no_standards_covered() -> None:
    x = only_match(NEED, cand(standards=frozenset({"TS2"})))
    assert reason(x, "standards") == Reason("standards", "Covers none of TS1, TS4, TS6", 0)


def test_standards_are_listed_in_order_with_part_two_last() -> None:
    n = need(standards=frozenset({"PART2", "TS8", "TS2"}))
    x = only_match(n, cand(standards=frozenset({"PART2", "TS2"})))
    assert reason(x, "standards") == Reason(
        "standards", "Covers TS2, Part Two of TS2, TS8, Part Two", 8
    )


def test_no_standards_reason_when_request_names_none() -> None:
    x = only_match(need(standards=frozenset()), cand(standards=frozenset({"TS1"})))
    assert "standards" not in [r.kind for r in x.reasons]
    assert x.score == PLAIN_SCORE


# --------------------------------------------------------------------------- phase


def test_phase_match() -> None:
    x = only_match(NEED, cand(phases=frozenset({"primary", "early_years"})))
    assert reason(x, "phase") == Reason("phase", "Experience in primary", 20)
    assert x.score == PLAIN_SCORE + 20


def test_phase_miss() -> None:
    x = only_match(need(phase="special"), cand(phases=frozenset({"primary"})))
    assert reason(x, "phase") == Reason("phase", "No experience in special schools listed", 0)
    x = only_match(need(phase="post_16"), PLAIN)
    assert reason(x, "phase").text == "No experience in post-16 listed"


def test_all_through_experience_counts_for_primary_and_secondary() -> None:
    leader = cand(phases=frozenset({"all_through"}))
    assert reason(only_match(need(phase="secondary"), leader), "phase").points == 20
    assert reason(only_match(need(phase="primary"), leader), "phase").points == 20
    assert reason(only_match(need(phase="early_years"), leader), "phase").points == 0


def test_primary_and_secondary_together_count_for_all_through() -> None:
    n = need(phase="all_through")
    both = only_match(n, cand(phases=frozenset({"primary", "secondary"})))
    assert reason(both, "phase") == Reason("phase", "Experience in all-through schools", 20)
    one = only_match(n, cand(phases=frozenset({"primary"})))
    assert reason(one, "phase").points == 0


# --------------------------------------------------------------------------- availability


def test_enough_free_days_for_the_whole_request() -> None:
    x = only_match(NEED, PLAIN)
    assert x.free_half_days == 20
    assert reason(x, "availability") == Reason(
        "availability", "10 days free for the 5 days asked", 15
    )
    assert x.warnings == ()


def test_exactly_enough_free_days_still_counts() -> None:
    x = only_match(NEED, cand(capacity_half_days=30, committed_half_days=20))
    assert x.free_half_days == 10
    assert reason(x, "availability") == Reason(
        "availability", "5 days free for the 5 days asked", 15
    )


def test_half_days_are_shown_with_point_five() -> None:
    x = only_match(need(half_days=1), cand(capacity_half_days=3))
    assert reason(x, "availability").text == "1½ days free for the half a day asked"
    x = only_match(need(half_days=2), cand(capacity_half_days=2))
    assert reason(x, "availability").text == "1 day free for the 1 day asked"


def test_too_few_free_days_warns_but_still_ranks_lower() -> None:
    short = cand(leader_id=1, name="Aaron", capacity_half_days=6)
    full = cand(leader_id=2, name="Zara")
    matches, exclusions = rank(NEED, [short, full])
    assert exclusions == []
    assert ids(matches) == [2, 1]
    x = matches[1]
    assert x.warnings == ("Only 3 of 5 days free",)
    assert reason(x, "availability") == Reason("availability", "Only 3 of 5 days free", 0)
    assert x.score == m.LOAD_MAX_POINTS
    assert x.free_half_days == 6


def test_too_few_free_days_with_an_odd_number_of_half_days() -> None:
    x = only_match(NEED, cand(capacity_half_days=5))
    assert x.warnings == ("Only 2½ of 5 days free",)
    x = only_match(need(half_days=2), cand(capacity_half_days=1))
    assert x.warnings == ("Only ½ of 1 day free",)


# --------------------------------------------------------------------------- load


@pytest.mark.parametrize(
    ("load", "text", "points"),
    [
        (0, "No live deployments", 10),
        (1, "1 live deployment", 8),
        (2, "2 live deployments", 6),
        (5, "5 live deployments", 0),
        (7, "7 live deployments", 0),
    ],
)
def test_lower_load_scores_higher(load: int, text: str, points: int) -> None:
    x = only_match(NEED, cand(active_deployments=load))
    assert reason(x, "load") == Reason("load", text, points)
    assert x.score == m.AVAILABILITY_POINTS + points


# --------------------------------------------------------------------------- locality


def test_same_local_authority_as_the_receiving_school() -> None:
    x = only_match(NEED, cand(local_authority_id=1))
    assert reason(x, "locality") == Reason(
        "locality", "Same local authority as the receiving school", 5
    )
    assert x.score == PLAIN_SCORE + 5


def test_same_local_authority_as_one_of_several_receiving_schools() -> None:
    n = need(receiving_school_ids=frozenset({100, 101}), local_authority_ids=frozenset({1, 3}))
    x = only_match(n, cand(local_authority_id=3))
    assert reason(x, "locality") == Reason(
        "locality", "Same local authority as a receiving school", 5
    )


def test_different_or_unknown_local_authority_scores_nothing() -> None:
    x = only_match(NEED, PLAIN)
    assert reason(x, "locality") == Reason(
        "locality", "Different local authority from the receiving school", 0
    )
    n = need(receiving_school_ids=frozenset({100, 101}))
    x = only_match(n, PLAIN)
    assert reason(x, "locality").text == "Different local authority from the receiving schools"
    x = only_match(NEED, cand(local_authority_id=None))
    assert reason(x, "locality") == Reason("locality", "Local authority not recorded", 0)


# --------------------------------------------------------------------------- designation


def test_designation_reason_is_informative_and_scores_nothing() -> None:
    x = only_match(NEED, cand(designation="nle"))
    assert reason(x, "designation") == Reason(
        "designation", "National Leader in Education (NLE)", 0
    )
    x = only_match(NEED, cand(designation="non_sle"))
    assert reason(x, "designation").text == "Non-accredited colleague working as SLE"
    assert x.score == PLAIN_SCORE


# --------------------------------------------------------------------------- whole match


def test_perfect_candidate_full_reasons_and_score() -> None:
    perfect = cand(
        local_authority_id=1,
        specialisms=frozenset({"maths"}),
        phases=frozenset({"primary"}),
        standards=frozenset({"TS1", "TS4", "TS6"}),
        active_deployments=1,
    )
    x = only_match(NEED, perfect)
    assert x == Match(
        candidate=perfect,
        score=100,
        reasons=(
            Reason("specialism", "Specialises in maths", 40),
            Reason("standards", "Covers all of TS1, TS4, TS6", 12),
            Reason("phase", "Experience in primary", 20),
            Reason("availability", "10 days free for the 5 days asked", 15),
            Reason("load", "1 live deployment", 8),
            Reason("locality", "Same local authority as the receiving school", 5),
            Reason("designation", "Specialist Leader of Education (SLE)", 0),
        ),
        free_half_days=20,
        warnings=(),
    )


def test_score_is_always_the_sum_of_the_reason_points() -> None:
    leaders = [
        cand(
            leader_id=i,
            name=f"Leader {i}",
            specialisms=frozenset({"maths"} if i % 2 else ()),
            standards=frozenset(STANDARDS[: i % 5]),
            phases=frozenset({"primary"} if i % 3 else ()),
            capacity_half_days=i,
            active_deployments=i % 4,
            local_authority_id=i % 3,
        )
        for i in range(1, 30)
    ]
    matches, exclusions = rank(NEED, leaders)
    assert len(matches) + len(exclusions) == len(leaders)
    for x in matches:
        assert type(x.score) is int
        assert x.score == sum(r.points for r in x.reasons)


# --------------------------------------------------------------------------- ordering


def test_orders_by_score_descending() -> None:
    low = cand(leader_id=1, name="Ann")
    mid = cand(leader_id=2, name="Ben", phases=frozenset({"primary"}))
    high = cand(leader_id=3, name="Cat", specialisms=frozenset({"maths"}))
    matches, _ = rank(NEED, [low, mid, high])
    assert ids(matches) == [3, 2, 1]
    assert [x.score for x in matches] == [65, 45, 25]


def test_score_tie_is_broken_by_fewer_active_deployments() -> None:
    # Ann: 2 deployments (6) + TS1 (4) = 10; Ben: no deployments (10).  Both score 25.
    ann = cand(leader_id=1, name="Ann", active_deployments=2, standards=frozenset({"TS1"}))
    ben = cand(leader_id=2, name="Ben")
    matches, _ = rank(NEED, [ann, ben])
    assert [x.score for x in matches] == [25, 25]
    assert ids(matches) == [2, 1]


def test_then_by_more_free_days() -> None:
    ann = cand(leader_id=1, name="Ann", capacity_half_days=12)
    ben = cand(leader_id=2, name="Ben", capacity_half_days=14)
    matches, _ = rank(NEED, [ann, ben])
    assert [x.score for x in matches] == [25, 25]
    assert ids(matches) == [2, 1]
    assert [x.free_half_days for x in matches] == [14, 12]


def test_then_by_name_case_insensitively() -> None:
    leaders = [
        cand(leader_id=1, name="charlie"),
        cand(leader_id=2, name="Bea"),
        cand(leader_id=3, name="alf"),
    ]
    matches, _ = rank(NEED, leaders)
    assert [x.candidate.name for x in matches] == ["alf", "Bea", "charlie"]


def test_then_by_leader_id() -> None:
    leaders = [cand(leader_id=i, name="Sam Smith") for i in (7, 3, 5)]
    matches, _ = rank(NEED, leaders)
    assert ids(matches) == [3, 5, 7]


def test_ordering_does_not_depend_on_input_order() -> None:
    leaders = [
        cand(leader_id=1, name="Ann", capacity_half_days=12),
        cand(leader_id=2, name="Ben", capacity_half_days=14),
        cand(leader_id=3, name="Ann", capacity_half_days=12),
        cand(leader_id=4, name="Cat", active_deployments=2, standards=frozenset({"TS1"})),
        cand(leader_id=5, name="Dan", specialisms=frozenset({"maths"})),
    ]
    expected = [5, 2, 1, 3, 4]
    for perm in itertools.permutations(leaders):
        matches, _ = rank(NEED, perm)
        assert ids(matches) == expected


# --------------------------------------------------------------------------- empty input


def test_no_candidates() -> None:
    assert rank(NEED, []) == ([], [])
    assert rank(NEED, iter(())) == ([], [])


def test_accepts_any_iterable_of_candidates() -> None:
    matches, _ = rank(NEED, (cand(leader_id=i, name=str(i)) for i in (2, 1)))
    assert ids(matches) == [1, 2]


# --------------------------------------------------------------------------- date windows


def test_working_days_matches_a_day_by_day_count() -> None:
    base = date(2026, 11, 20)
    for offset in range(14):
        start = base + timedelta(days=offset)
        for length in range(22):
            end = start + timedelta(days=length)
            slow = sum(1 for i in range(length + 1) if (start + timedelta(days=i)).weekday() < 5)
            assert working_days(start, end) == slow, (start, end)
    assert working_days(FRI, MON) == 0


def test_free_days_are_capped_by_working_days_times_two() -> None:
    assert free_half_days(PLAIN, MON, FRI) == 20
    assert free_half_days(cand(capacity_half_days=1000), MON, FRI) == 20


def test_free_days_are_capped_by_capacity_less_commitments() -> None:
    assert free_half_days(cand(capacity_half_days=40, committed_half_days=33), MON, FRI) == 7


def test_weekend_only_window_has_no_free_days() -> None:
    assert free_half_days(PLAIN, SAT, SUN) == 0
    n = need(start=SAT, end=SUN, half_days=2)
    assert only_exclusion(n, PLAIN).reason == "No free days between 28 Nov 2026 and 29 Nov 2026"


def test_window_spanning_a_weekend_counts_only_weekdays() -> None:
    friday, monday = date(2026, 11, 27), date(2026, 11, 30)
    assert free_half_days(PLAIN, friday, monday) == 4


def test_single_day_window() -> None:
    assert free_half_days(PLAIN, MON, MON) == 2
    assert free_half_days(cand(capacity_half_days=1), MON, MON) == 1
    assert free_half_days(PLAIN, SAT, SAT) == 0
    x = only_match(need(start=MON, end=MON, half_days=2), PLAIN)
    assert reason(x, "availability").text == "1 day free for the 1 day asked"
    x = only_match(need(start=MON, end=MON, half_days=4), PLAIN)
    assert x.warnings == ("Only 1 of 2 days free",)


def test_single_day_window_on_an_unavailable_day() -> None:
    c = cand(unavailable=((MON, MON),))
    assert free_half_days(c, MON, MON) == 0
    n = need(start=MON, end=MON, half_days=1)
    assert only_exclusion(n, c).reason == "No free days between 23 Nov 2026 and 23 Nov 2026"


def test_unavailable_range_overlapping_the_start_of_the_window() -> None:
    # Fri 20 Nov to Tue 24 Nov: only Mon 23 and Tue 24 are inside the window.
    c = cand(unavailable=((date(2026, 11, 20), date(2026, 11, 24)),))
    assert free_half_days(c, MON, FRI) == 16


def test_unavailable_range_overlapping_the_end_of_the_window() -> None:
    # Thu 3 Dec to Thu 10 Dec: only Thu 3 and Fri 4 are inside the window.
    c = cand(unavailable=((date(2026, 12, 3), date(2026, 12, 10)),))
    assert free_half_days(c, MON, FRI) == 16


def test_unavailable_ranges_are_inclusive_at_both_ends() -> None:
    c = cand(unavailable=((FRI, FRI), (MON, MON)))
    assert free_half_days(c, MON, FRI) == 16


def test_unavailable_range_covering_the_whole_window_excludes() -> None:
    c = cand(unavailable=((date(2026, 11, 1), date(2026, 12, 31)),))
    assert free_half_days(c, MON, FRI) == 0
    assert only_exclusion(NEED, c).reason == "No free days between 23 Nov 2026 and 4 Dec 2026"


def test_overlapping_and_adjacent_unavailable_ranges_are_not_counted_twice() -> None:
    overlapping = cand(
        unavailable=(
            (date(2026, 11, 23), date(2026, 11, 25)),
            (date(2026, 11, 24), date(2026, 11, 26)),
            (date(2026, 11, 24), date(2026, 11, 24)),
        )
    )
    assert free_half_days(overlapping, MON, FRI) == 12  # Mon-Thu blocked: 6 days left
    adjacent = cand(
        unavailable=(
            (date(2026, 11, 26), date(2026, 11, 30)),
            (date(2026, 11, 23), date(2026, 11, 25)),
        )
    )
    assert free_half_days(adjacent, MON, FRI) == 8  # Mon 23 to Mon 30 blocked: 4 days left


def test_unavailable_ranges_outside_the_window_or_on_weekends_change_nothing() -> None:
    c = cand(
        unavailable=(
            (date(2026, 11, 1), date(2026, 11, 22)),
            (SAT, SUN),
            (date(2026, 12, 5), date(2027, 1, 31)),
        )
    )
    assert free_half_days(c, MON, FRI) == 20


def test_unavailability_reduces_free_days_below_capacity_and_warns() -> None:
    c = cand(unavailable=((MON, date(2026, 12, 1)),))  # Mon 23 to Tue 1: 7 working days
    x = only_match(NEED, c)
    assert x.free_half_days == 6
    assert x.warnings == ("Only 3 of 5 days free",)


def test_free_half_days_rejects_window_ending_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        free_half_days(PLAIN, FRI, MON)


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("half_days", "text"),
    [
        (0, "0 days"),
        (1, "half a day"),
        (2, "1 day"),
        (3, "1½ days"),
        (5, "2½ days"),
        (10, "5 days"),
    ],
)
def test_format_days(half_days: int, text: str) -> None:
    assert format_days(half_days) == text


def test_format_date() -> None:
    assert format_date(date(2026, 11, 23)) == "23 Nov 2026"
    assert format_date(date(2027, 1, 1)) == "1 Jan 2027"
    assert format_date(date(2026, 9, 30)) == "30 Sep 2026"


# --------------------------------------------------------------------------- bad input


def test_need_rejects_end_before_start() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        need(start=FRI, end=MON)


@pytest.mark.parametrize("half_days", [0, -1])
def test_need_rejects_non_positive_half_days(half_days: int) -> None:
    with pytest.raises(ValueError, match="half_days"):
        need(half_days=half_days)


def test_need_rejects_unknown_standard() -> None:
    with pytest.raises(ValueError, match="Unknown Teachers' Standard: TS9"):
        need(standards=frozenset({"TS1", "TS9"}))
    with pytest.raises(ValueError, match="Unknown Teachers' Standard"):
        need(standards=frozenset({"ts1"}))


@pytest.mark.parametrize(
    "changes",
    [
        {"phase": "nursery"},
        {"receiving_school_ids": frozenset()},
        {"designations": frozenset()},
        {"designations": frozenset({"headteacher"})},
        {"half_days": 2.5},
        {"half_days": True},
        {"start": "2026-11-23"},
    ],
)
def test_need_rejects_other_bad_input(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        need(**changes)


@pytest.mark.parametrize(
    "changes",
    [
        {"designation": "teacher"},
        {"standards": frozenset({"TS10"})},
        {"phases": frozenset({"nursery"})},
        {"capacity_half_days": -1},
        {"committed_half_days": -2},
        {"active_deployments": -1},
        {"unavailable": ((FRI, MON),)},
        {"unavailable": ((MON,),)},
    ],
)
def test_candidate_rejects_bad_input(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        cand(**changes)


def test_plain_collections_are_stored_as_frozen_values() -> None:
    n = Need(
        standards={"TS1"},  # type: ignore[arg-type]
        phase="secondary",
        specialism=None,
        start=MON,
        end=FRI,
        half_days=4,
        receiving_school_ids=[100],  # type: ignore[arg-type]
        local_authority_ids=set(),  # type: ignore[arg-type]
        designations=["sle"],  # type: ignore[arg-type]
    )
    assert n.standards == frozenset({"TS1"})
    assert n.receiving_school_ids == frozenset({100})
    assert n.designations == frozenset({"sle"})
    c = cand(unavailable=[[MON, MON]], phases={"secondary"})  # type: ignore[arg-type]
    assert c.unavailable == ((MON, MON),)
    assert c.phases == frozenset({"secondary"})
    assert hash(n) == hash(replace(n))
    assert hash(c) == hash(replace(c))
