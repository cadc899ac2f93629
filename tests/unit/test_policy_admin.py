"""The administration policy: every action's decision for every role and account state, and
the commands that require it."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from portal.domain import admin as commands
from portal.domain.errors import Forbidden, Invalid, NotNow
from portal.domain.policy import admin as policy
from portal.extensions import db
from portal.models import EIP, ROLES, AuditEvent, Board, School, User
from tests import factories

# The managed account's state: (active, has a password)
ACCOUNTS = {"active": (True, True), "invited": (True, False), "deactivated": (False, True),
            "deactivated_invited": (False, False)}


def _actor(role: str) -> User:
    return User(id=1, name="Actor", role=role, alliance_id=1, active=True, password_hash="x")


def _target(state: str, *, own: bool) -> User:
    active, password = ACCOUNTS[state]
    return User(id=1 if own else 2, name="Pat Example", role="headteacher", alliance_id=1,
                active=active, password_hash="x" if password else "")


def _expect(decision, *, allowed: bool, forbidden: bool):
    assert decision.allowed is allowed, decision
    assert decision.forbidden is (forbidden and not allowed), decision
    assert allowed or decision.reason


# (a deactivated account is never signed in to ask about itself)
@pytest.mark.parametrize(("role", "state", "own"), [
    (r, s, own) for r, s, own in itertools.product(ROLES, ACCOUNTS, (False, True))
    if ACCOUNTS[s][0] or not own])
def test_account_actions_for_every_role_and_state(role, state, own):
    can = policy.actions(_target(state, own=own), _actor(role))
    assert set(can) == set(policy.USER_ACTIONS)
    admin = role == "admin"
    active, password = ACCOUNTS[state]
    refused_self = admin and own
    _expect(can["edit"], allowed=admin, forbidden=True)
    _expect(can["change_role"], allowed=admin and not own, forbidden=True)
    _expect(can["deactivate"], allowed=admin and not own and active,
            forbidden=not admin or refused_self)
    _expect(can["reactivate"], allowed=admin and not own and not active,
            forbidden=not admin or refused_self)
    _expect(can["reinvite"], allowed=admin and not own and active and not password,
            forbidden=not admin or refused_self)
    _expect(can["end_sessions"], allowed=admin and not own and active,
            forbidden=not admin or refused_self)


@pytest.mark.parametrize(("role", "kind"), list(itertools.product(ROLES, (School, Board, EIP))))
def test_schools_boards_and_eips_are_the_admins_to_edit(role, kind):
    can = policy.actions(kind(id=1, alliance_id=1), _actor(role))
    assert set(can) == set(policy.OBJECT_ACTIONS)
    _expect(can["edit"], allowed=role == "admin", forbidden=True)


@pytest.mark.parametrize("role", ROLES)
def test_a_school_whose_home_is_another_network_is_nobodys_to_edit(role):
    """A member school (home: network 2) of the actor's network 1 is its home's to edit."""
    can = policy.actions(School(id=1, alliance_id=2), _actor(role))
    _expect(can["edit"], allowed=False, forbidden=True)
    if role == "admin":
        assert can["edit"].reason == policy.NOT_HOME


@pytest.mark.parametrize("role", ROLES)
def test_alliance_settings_for_every_role(role):
    can = policy.actions(None, _actor(role))
    assert set(can) == set(policy.GENERAL_ACTIONS)
    for name in set(policy.GENERAL_ACTIONS) - {"view_audit"}:
        _expect(can[name], allowed=role == "admin", forbidden=True)
    _expect(can["view_audit"], allowed=role in ("admin", "director"), forbidden=True)


# ------------------------------------------------------------------ the commands require it


def test_account_commands_refuse_with_the_policys_reason(world):
    admin, director = world.user("a", "admin"), world.user("a", "director")
    head = world.user("a", "headteacher")
    with pytest.raises(Forbidden) as refused:
        commands.deactivate_user(director, head)
    assert str(refused.value) == policy.deactivate(head, director).reason
    with pytest.raises(Forbidden, match="your own account"):
        commands.deactivate_user(admin, admin)
    commands.deactivate_user(admin, head)
    assert not head.active
    with pytest.raises(NotNow, match="already deactivated"):
        commands.deactivate_user(admin, head)
    with pytest.raises(NotNow, match="signed out everywhere when deactivated"):
        commands.end_sessions(admin, head)
    with pytest.raises(NotNow, match="Reactivate the account"):
        commands.reinvite_user(admin, head)
    commands.reactivate_user(admin, head)
    with pytest.raises(NotNow, match="already set a password"):
        commands.reinvite_user(admin, head)
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "User", AuditEvent.object_id == head.id)).all()
    assert actions == ["user.deactivate", "user.reactivate"]


def test_an_admin_cannot_change_their_own_role_beside_the_field(world):
    admin = world.user("a", "admin")
    with pytest.raises(Invalid, match="cannot change your own role") as refused:
        commands.update_user(admin, admin, name=admin.name, role="director")
    assert refused.value.field == "role" and admin.role == "admin"


def test_commands_check_what_only_the_forms_choices_checked(world):
    """The CLI or an API gets no further than the form: another alliance's school or Board is
    refused beside its field, as is a role without the school it needs."""
    admin = world.user("a", "admin")
    with pytest.raises(Invalid) as foreign:
        commands.invite_user(admin, email="new@example.org", name="New", role="headteacher",
                             school_id=world.b.receiving.id)
    assert foreign.value.field == "school_id"
    with pytest.raises(Invalid) as missing:
        commands.invite_user(admin, email="new@example.org", name="New", role="headteacher")
    assert missing.value.field == "school_id"
    other_board = factories.board(world.b.alliance)
    with pytest.raises(Invalid) as board:
        commands.invite_user(admin, email="new@example.org", name="New", role="board",
                             board_id=other_board.id)
    assert board.value.field == "board_id"
    with pytest.raises(Invalid) as eip:
        commands.save_school(admin, None, urn="123456", name="New Primary", phase="primary",
                             eip_id=factories.eip(world.b.alliance).id)
    assert eip.value.field == "eip_id"
    with pytest.raises(Invalid) as taken:
        commands.invite_user(admin, email=world.user("b", "admin").email.upper(), name="Dup",
                             role="director")
    assert taken.value.field == "email"
    assert not db.session.scalar(select(User.id).where(User.email == "new@example.org"))


@pytest.mark.parametrize("command", ["school", "board", "eip", "specialism", "terms", "import"])
def test_only_the_admin_writes_the_alliances_settings(world, command):
    director = world.user("a", "director")
    calls = {
        "school": lambda: commands.save_school(director, None, urn="123456", name="X",
                                               phase="primary"),
        "board": lambda: commands.save_board(director, None, name="X", phase="primary",
                                             budget_pence=0),
        "eip": lambda: commands.save_eip(director, None, name="X"),
        "specialism": lambda: commands.add_specialism(director, "Phonics"),
        "terms": lambda: commands.save_agreement_terms(director, "Mine", seen_hash=""),
        "import": lambda: commands.import_schools(director, b"URN\n"),
    }
    with pytest.raises(Forbidden, match="Only the School Support Co-ordinator"):
        calls[command]()
