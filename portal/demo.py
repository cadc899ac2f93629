"""Demo data for both networks in the seeds: East Sussex (ESTSN) and the four Sefton alliances.

Every demo login shares one password, printed by ``flask --app portal demo`` and listed in the
README. School names other than the alliances' lead schools are invented; email addresses are on
example.org so no demo mail can reach a real person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from .domain import audit, brokering
from .extensions import db
from .models import (
    EIP,
    Agreement,
    Alliance,
    Board,
    Deployment,
    DeploymentResponse,
    LeaderProfile,
    LocalAuthority,
    RateCard,
    RequestSchool,
    School,
    SchoolNetwork,
    Specialism,
    SupportRequest,
    User,
    standards_to_mask,
    utcnow,
)

DEMO_PASSWORD = "demo-Portal-2026"

SPECIALISMS = [
    ("maths", "Mathematics"), ("english", "English"), ("phonics", "Early reading and phonics"),
    ("science", "Science"), ("send", "SEND"), ("early_years", "Early years"),
    ("behaviour", "Behaviour and attendance"), ("assessment", "Assessment"),
    ("leadership", "School leadership"), ("computing", "Computing"), ("history", "History"),
    ("geography", "Geography"), ("mfl", "Modern foreign languages"), ("pe", "Physical education"),
    ("music", "Music"), ("art", "Art and design"), ("itt", "Initial teacher training and ECTs"),
]

# Learn and Lead partnership local authorities (Sefton seed) and East Sussex, with their LA codes.
LOCAL_AUTHORITIES = [
    ("East Sussex", "845"), ("Sefton", "343"), ("Liverpool", "341"), ("Wirral", "344"),
    ("Cheshire West and Chester", "896"), ("Cheshire East", "895"), ("Halton", "876"),
    ("Warrington", "877"), ("St Helens", "342"), ("Knowsley", "340"),
]

TERMS = (
    "1. The system leader will deliver the support described in this agreement on the dates "
    "agreed with the receiving school.\n"
    "2. Charges are as set out above, agreed in advance and invoiced after the work is done.\n"
    "3. Should the system leader be unable to complete the deployment, all outstanding funds are "
    "returned to the receiving school and, where relevant, the Board.\n"
    "4. All parties will keep information about staff and pupils confidential and handle "
    "personal data in line with UK GDPR.\n"
    "5. Exit arrangements: at the final visit the system leader and the receiving school agree "
    "how improvements will be sustained, and the final evaluation records them."
)


@dataclass
class AllianceSeed:
    slug: str
    name: str
    short: str
    model: str
    lead_school: str
    address: str
    postcode: str
    phone: str
    email: str
    la: str
    schools: list[tuple[str, str]]  # (name, phase)


ALLIANCES = [
    AllianceSeed(
        "estsn", "East Sussex Teaching School Network", "ESTSN", "east_sussex",
        "East Sussex Teaching School Network", "County Hall, St Anne's Crescent, Lewes",
        "BN7 1UE", "01273 481000", "estsn@example.org", "East Sussex",
        [("Downland Primary School", "primary"), ("Castle Hill Primary Academy", "primary"),
         ("Seaview Community Primary School", "primary"), ("Ouse Valley Primary School", "primary"),
         ("Beacon Ridge Academy", "secondary"), ("Harbour Side College", "secondary"),
         ("Weald Oak School", "secondary"), ("Marshlands Special School", "special")],
    ),
    AllianceSeed(
        "holyrosary", "Holy Rosary Teaching School Alliance", "Holy Rosary TSA", "sefton",
        "Holy Rosary Catholic Primary School", "Oriel Drive, Aintree, Liverpool", "L10 6NJ",
        "0151 288 6563", "ts.holyrosary@schools.sefton.gov.uk", "Sefton",
        [("Holy Rosary Catholic Primary School", "primary"),
         ("St Oswin's Catholic Primary School", "primary"),
         ("Aintree Park Primary School", "primary"), ("Netherton Brook High School", "secondary")],
    ),
    AllianceSeed(
        "capital", "CAPITAL Teaching School Alliance", "CAPITAL TSA", "sefton",
        "St Nicholas CE Primary School", "Nicholas Road, Blundellsands, Liverpool", "L23 6TS",
        "0151 924 5751", "admin@capitalteachingschool.com", "Sefton",
        [("St Nicholas CE Primary School", "primary"), ("Crosby Shore Primary School", "primary"),
         ("Waterloo Park Primary School", "primary"), ("Seaforth Vale High School", "secondary")],
    ),
    AllianceSeed(
        "coastal", "North Sefton Coastal Teaching Schools Alliance", "North Sefton Coastal TSA",
        "sefton", "Range High School", "Stapleton Road, Formby, Liverpool, Merseyside",
        "L37 2YN", "01704 879315 ext. 279", "sk@range.sefton.sch.uk", "Sefton",
        [("Range High School", "secondary"), ("Meols Cop High School", "secondary"),
         ("Formby Dunes Primary School", "primary"), ("Ainsdale Pines Primary School", "primary")],
    ),
    AllianceSeed(
        "mersen", "Merseyside SEN Teaching Schools Alliance", "Merseyside SEN TSA", "sefton",
        "Rowan Park School", "Sterrix Lane, Litherland, Merseyside", "L21 0DB",
        "0151 222 4894", "admin.rowanpark@schools.sefton.gov.uk", "Sefton",
        [("Rowan Park School", "special"), ("Litherland Moss Primary School", "primary"),
         ("Bootle Bridge Primary School", "primary"), ("Orrell Mount High School", "secondary")],
    ),
]

# (designation, name, specialism codes, phases, standards, capacity days)
LEADERS = [
    ("sle", "{first} Okafor", ["maths", "assessment"], ["primary"], ["TS2", "TS3", "TS6"], 20),
    ("lle", "Dr Ruth Haldane", ["leadership", "english"], ["primary", "secondary"],
     ["TS1", "TS4", "TS8"], 15),
    ("nle", "Graham Whitlock", ["leadership", "send"], ["secondary", "special"],
     ["TS1", "TS5", "TS7", "TS8"], 10),
    ("non_sle", "Priya Raman", ["phonics", "early_years"], ["early_years", "primary"],
     ["TS3", "TS4", "TS5"], 12),
    ("slt", "Tomasz Nowak", ["behaviour", "science"], ["secondary"], ["TS7", "TS2", "TS4"], 8),
]

STREETS = ("Church Lane", "School Road", "Park Avenue", "Mill Lane", "Station Road",
           "Green Lane", "Victoria Road", "Orchard Way")
# (network, network): the first network's receiving school is a member of the second too
SHARED = ("estsn", "holyrosary")

FIRST_NAMES = {"estsn": "Amara", "holyrosary": "Chidi", "capital": "Bola", "coastal": "Ife",
               "mersen": "Ngozi"}


def _rate_card(alliance: Alliance) -> RateCard:
    common = {"alliance_id": alliance.id, "model": alliance.charging_model,
              "effective_from": date(2026, 9, 1)}
    if alliance.charging_model == "east_sussex":
        return RateCard(**common, nle_day_pence=35000, lle_day_pence=35000, slt_day_pence=35000,
                        sle_day_pence=35000, non_sle_day_pence=35000, brokerage_bp=0,
                        board_grant_day_pence=20000, board_school_day_pence=15000)
    return RateCard(**common, nle_day_pence=50000, lle_day_pence=45000, slt_day_pence=40000,
                    sle_day_pence=35000, non_sle_day_pence=30000, brokerage_bp=1000,
                    gpv_half_day_pence=10000, gpv_free_per_year=1, consult_hour_pence=7000,
                    consult_free_hours=1)


# Later parts of the portal add their own demo data (agreements, plans, invoices ...) after the
# base data above, registered by each feature's ``init_app``: ``demo.add_step(fn, order=30)``.
# Each step queries what it needs by alliance and adds to the same transaction.
_STEPS: list[tuple[int, str, Callable[[date, datetime], None]]] = []


def add_step(fn: Callable[[date, datetime], None], *, order: int = 50) -> None:
    """Register a feature's demo step (called from the feature's ``init_app``)."""
    step(order)(fn)


def step(order: int = 50):
    def register(fn: Callable[[date, datetime], None]):
        name = f"{fn.__module__}.{fn.__qualname__}"
        _STEPS[:] = [s for s in _STEPS if s[1] != name]
        _STEPS.append((order, name, fn))
        _STEPS.sort(key=lambda s: (s[0], s[1]))
        return fn

    return register


def is_loaded() -> bool:
    return (db.session.scalar(select(func.count()).select_from(Alliance)) or 0) > 0


def load(today: date | None = None) -> list[tuple[str, str, str]]:
    """Create the demo data; return (alliance, role, email) for every demo login."""
    now = utcnow()
    today = today or now.date()
    hasher = User()
    hasher.set_password(DEMO_PASSWORD)  # scrypt is slow by design: hash the shared password once
    logins: list[tuple[str, str, str]] = []
    specialisms = {code: Specialism(code=code, name=name) for code, name in SPECIALISMS}
    db.session.add_all(specialisms.values())
    las = {name: LocalAuthority(name=name, code=code) for name, code in LOCAL_AUTHORITIES}
    db.session.add_all(las.values())
    db.session.flush()

    urn = 900100
    seq = 0
    network_schools: dict[str, list[School]] = {}
    for a_index, seed in enumerate(ALLIANCES):
        alliance = Alliance(
            name=seed.name, short_name=seed.short, charging_model=seed.model,
            lead_school=seed.lead_school, address=seed.address, postcode=seed.postcode,
            phone=seed.phone, email=seed.email, agreement_terms=TERMS,
        )
        db.session.add(alliance)
        db.session.flush()
        db.session.add(_rate_card(alliance))
        eip = EIP(alliance_id=alliance.id, name=f"{seed.la} Central EIP")
        db.session.add(eip)
        db.session.flush()
        schools = []
        for i, (name, phase) in enumerate(seed.schools):
            urn += 1
            la_name = seed.la if i < 3 or seed.la == "East Sussex" else "Liverpool"
            school = School(urn=str(urn), name=name, phase=phase, alliance_id=alliance.id,
                            local_authority_id=las[la_name].id, eip_id=eip.id,
                            address_line1=f"{12 + 7 * i} {STREETS[i % len(STREETS)]}",
                            town=seed.address.rsplit(",", 1)[-1].strip(),
                            postcode=seed.postcode)
            db.session.add(school)
            schools.append(school)
        db.session.flush()
        db.session.add_all(SchoolNetwork(school_id=s.id, alliance_id=alliance.id)
                           for s in schools)
        network_schools[seed.slug] = schools
        boards = []
        if seed.model == "east_sussex":
            boards = [
                Board(alliance_id=alliance.id, name="ESTSN Primary Board", phase="primary",
                      budget_pence=2_000_000),
                Board(alliance_id=alliance.id, name="ESTSN Secondary Board", phase="secondary",
                      budget_pence=1_500_000),
            ]
            db.session.add_all(boards)
            db.session.flush()

        def user(role: str, local: str, name: str, school: School | None, title: str,
                 board: Board | None = None, *, login: bool = True, eip_id: int | None = None,
                 la_id: int | None = None,
                 _seed: AllianceSeed = seed, _alliance: Alliance = alliance) -> User:
            u = User(email=f"{local}@{_seed.slug}.example.org", name=name, role=role,
                     school_id=school.id if school else None, alliance_id=_alliance.id,
                     board_id=board.id if board else None, job_title=title, eip_id=eip_id,
                     local_authority_id=la_id)
            u.password_hash = hasher.password_hash
            db.session.add(u)
            if login:
                logins.append((_seed.short, role, u.email))
            return u

        receiving, home = schools[0] if a_index else schools[2], schools[1]
        if a_index == 0:
            receiving = schools[2]
        admin = user("admin", "admin", "Sam Whitfield", None, "School Support Co-ordinator")
        user("director", "director", "Helen Marsh", schools[0] if a_index else None,
             "Teaching School Director")
        head = user("headteacher", "head", "Mark Ellison", receiving, "Headteacher")
        home_head = user("home_school", "homeschool", "Janet Price", home, "Headteacher")
        if boards:
            user("board", "board", "Cllr Anne Fairley", None, "Primary Board member", boards[0])
            user("board", "board2", "Cllr Tom Hurst", None, "Secondary Board member", boards[1])
        # officers who ask for support for a group of schools (Sefton A.1, East Sussex step 2)
        eip_officer = user("officer", "eip", "Priya Natarajan", None, "EIP co-ordinator",
                           eip_id=eip.id)
        la_officer = user("officer", "la", "Ian Fenwick", None,
                          "School Improvement Adviser", la_id=las[seed.la].id)
        db.session.flush()

        leaders = []
        profiles: list[LeaderProfile] = []  # leaders[i]'s profile
        for l_index, (designation, name, specs, phases, standards, capacity) in enumerate(LEADERS):
            home_school = home if l_index == 0 else schools[(l_index + 2) % len(schools)]
            if home_school.id == receiving.id:
                home_school = schools[-1]
            local = "sle" if l_index == 0 else f"leader{l_index}"
            leader = user("sle", local, name.format(first=FIRST_NAMES[seed.slug]), home_school,
                          DESIGNATION_TITLES[designation])
            db.session.flush()
            profile = LeaderProfile(
                user_id=leader.id, alliance_id=alliance.id, home_school_id=home_school.id,
                designation=designation, phases=",".join(phases),
                standards_mask=standards_to_mask(standards), capacity_days=capacity,
                bio=f"{leader.name} has led {specialisms[specs[0]].name.lower()} across "
                    f"{len(phases)} phase{'s' if len(phases) > 1 else ''} and supports "
                    "colleagues through coaching, joint planning and lesson study.",
            )
            profile.specialisms = [specialisms[c] for c in specs]
            db.session.add(profile)
            leaders.append(leader)
            profiles.append(profile)
        db.session.flush()

        def request(title: str, status: str, hours_ago: float | None, *, kind="sle_deployment",
                    route="school", standards=("TS2", "TS6"), spec="maths", half_days=8,
                    board=None, school: School = receiving, _alliance: Alliance = alliance,
                    _head: User = head, by: User | None = None,
                    group: list[School] | None = None) -> SupportRequest:
            nonlocal seq
            seq += 1
            submitted = now - timedelta(hours=hours_ago) if hours_ago is not None else None
            r = SupportRequest(
                reference=brokering.provisional_reference(), alliance_id=_alliance.id,
                requested_by_id=(by or _head).id, status=status, kind=kind, route=route,
                title=title,
                standards_mask=standards_to_mask(standards), phase=school.phase,
                specialism_id=specialisms[spec].id, board_id=board.id if board else None,
                staff_involved="Two class teachers in Years 4 and 5 (one early career teacher).",
                priorities="Secure accurate assessment of reasoning; raise expectations in "
                           "lessons.",
                desired_outcomes="Teachers plan sequences that build reasoning; assessment "
                                 "judgements are moderated and accurate.",
                measures_of_success="Moderated judgements agree with the network's; pupil "
                                    "progress data improves by the spring data drop.",
                start_date=today + timedelta(days=7), end_date=today + timedelta(days=90),
                half_days_wanted=half_days, submitted_at=submitted,
                created_at=(submitted or now) - timedelta(hours=1),
            )
            r.schools = [RequestSchool(school_id=s.id, position=i)
                         for i, s in enumerate(group or [school])]
            db.session.add(r)
            db.session.flush()
            r.reference = brokering.new_reference("R", r.id)  # as a real request is numbered
            return r

        request("Year 6 writing moderation", "draft", None, standards=("TS3", "TS6"),
                spec="english")
        request("Maths reasoning in upper Key Stage 2", "submitted", 6)
        request("Behaviour routines for a new Year 7 team", "submitted", 60,
                standards=("TS7", "TS1"), spec="behaviour")
        matched = request("Phonics catch-up in Key Stage 1", "matched", 120,
                          standards=("TS3", "TS4", "TS5"), spec="phonics", half_days=6,
                          route="board" if boards else "school",
                          board=boards[0] if boards else None)
        active = request("Assessment in mathematics", "matched", 24 * 40, half_days=8)
        # the EIP asks for its schools together; the LA for the schools of the authority
        la_schools = [x for x in schools if x.local_authority_id == las[seed.la].id]
        request("Early reading across the EIP", "submitted", 10, standards=("TS3", "TS4"),
                spec="phonics", route="eip", by=eip_officer, half_days=12,
                group=[receiving, *[x for x in schools if x.id not in (receiving.id, home.id)]
                       ][:3])
        request("Moderating writing across the authority's schools", "submitted", 30,
                standards=("TS6",), spec="english", route="la", by=la_officer, half_days=10,
                group=([receiving] if receiving in la_schools else [])
                + [x for x in la_schools if x.id not in (receiving.id, home.id)][:2])
        db.session.flush()
        matched.matched_at = matched.submitted_at + timedelta(hours=20)
        active.matched_at = active.submitted_at + timedelta(hours=30)

        proposed = Deployment(
            reference=brokering.deployment_reference(matched), request_id=matched.id,
            alliance_id=alliance.id, leader_id=leaders[3].id,
            home_school_id=profiles[3].home_school_id, designation="non_sle",
            half_days_agreed=6, targeted=bool(boards), proposed_by_id=admin.id,
            proposed_at=matched.matched_at, status="proposed",
        )
        live = Deployment(
            reference=brokering.deployment_reference(active), request_id=active.id,
            alliance_id=alliance.id, leader_id=leaders[0].id, home_school_id=home.id,
            designation=profiles[0].designation, half_days_agreed=8, half_days_delivered=3,
            proposed_by_id=admin.id, proposed_at=active.matched_at, status="active",
            confirmed_at=active.matched_at + timedelta(days=2),
            active_at=active.matched_at + timedelta(days=4),
            first_contact_at=active.matched_at + timedelta(days=5),
        )
        db.session.add_all([proposed, live])
        db.session.flush()
        proposed.responses.append(DeploymentResponse(
            party="receiving", school_id=receiving.id, user_id=head.id, decision="accepted",
            decided_at=matched.matched_at + timedelta(hours=3)))
        for party, school_id, who in (("receiving", receiving.id, head),
                                      ("home_school", home.id, home_head),
                                      ("leader", home.id, leaders[0])):
            live.responses.append(DeploymentResponse(
                party=party, school_id=school_id, user_id=who.id, decision="accepted",
                decided_at=live.proposed_at + timedelta(hours=12)))
        db.session.add(Agreement(deployment_id=live.id, version=1, status="signed",
                                 content={"title": active.title}, verify_token=f"demo-{seq}",
                                 created_by_id=admin.id, signed_at=live.active_at))
        audit.record(admin, "demo.loaded", alliance, detail={"alliance": alliance.short_name})
    db.session.flush()
    # a school in two networks: ESTSN's Seaview (Mark Ellison's) is in Holy Rosary TSA too
    shared_school, second = network_schools[SHARED[0]][2], network_schools[SHARED[1]][0]
    db.session.add(SchoolNetwork(school_id=shared_school.id, alliance_id=second.alliance_id))
    db.session.flush()
    for _order, _name, fn in _STEPS:
        fn(today, now)
        db.session.flush()
    from .domain import checkpoints

    # every log's head signed, so the demo's signed agreements carry their proofs
    for log in checkpoints.grown_logs():
        checkpoints.checkpoint(log, reason="demo data loaded", notify_directors=False)
    db.session.commit()
    return logins


DESIGNATION_TITLES = {
    "nle": "National Leader of Education", "lle": "Local Leader of Education",
    "sle": "Specialist Leader of Education", "slt": "Deputy headteacher",
    "non_sle": "Early reading lead",
}
