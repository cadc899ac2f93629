"""'Your data' (UK GDPR subject access) at any size: the CSV streams from one statement a
section, whatever the person holds, and each section is found from an index on the person
(issue 20: a leader's or director's download read whole tables and built an ORM object for each
of thousands of records)."""

from __future__ import annotations

import csv
import io
import json

from portal.domain import subject_access
from portal.extensions import db
from portal.models import Notification, OutboxEmail
from tests.querycount import index_plan, request_queries


def _csv(client) -> list[list[str]]:
    response = client.get("/account/data.csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.data.decode())))


def _pile_up(user, n: int) -> None:
    db.session.add_all([Notification(user_id=user.id, message=f"Note {i}")
                        for i in range(n)])
    db.session.add_all([OutboxEmail(to=user.email, subject=f"Email {i}", body="Hello")
                        for i in range(n)])
    db.session.commit()


def test_a_leaders_csv_streams_their_profile_and_deployments(world, client_for):
    """The profile's specialisms and the deployments are read after the view has returned
    (the body streams): they must not lazy-load from the request's closed session."""
    leader = world.a.leader
    client = client_for(leader)
    response = client.get("/account/data.csv")
    assert response.is_streamed
    rows = list(csv.reader(io.StringIO(response.data.decode())))
    assert rows[0] == ["section", "record", "field", "value"]
    fields = {(r[0], r[2]): r[3] for r in rows[1:]}
    assert fields[("account", "email")] == leader.email
    assert fields[("leader_profile", "designation")] == leader.profile.designation
    assert ("leader_profile", "specialisms") in fields
    assert fields[("deployments_as_leader", "reference")] == world.a.deployment.reference
    assert not any(r[2] in subject_access.SECRET_COLUMNS for r in rows[1:])


def test_the_csv_and_json_hold_the_same_records(world, client_for):
    head = world.a.users["headteacher"]
    _pile_up(head, 3)
    client = client_for(head)
    data = json.loads(client.get("/account/data.json").data)
    rows = _csv(client)
    subjects = [r[3] for r in rows if r[0] == "emails" and r[2] == "subject"]
    assert subjects == [e["subject"] for e in data["emails"]]
    assert subjects[-3:] == ["Email 0", "Email 1", "Email 2"]
    notes = [r for r in rows if r[0] == "notifications" and r[2] == "message"]
    assert [int(r[1]) for r in notes] == list(range(1, len(data["notifications"]) + 1))
    # the streamed CSV is the CSV of the whole export, written a part at a time
    assert "".join(subject_access.csv_lines(head)) == subject_access.to_csv(
        subject_access.export(head))


def test_the_csv_costs_the_same_queries_however_much_a_person_holds(world, client_for):
    head = world.a.users["headteacher"]
    client = client_for(head)
    few = request_queries(client, "/account/data.csv")
    _pile_up(head, subject_access.BATCH * 2 + 7)  # more than one part of every section
    many = request_queries(client, "/account/data.csv")
    assert len(many) == len(few), (few, many)
    assert len([r for r in _csv(client) if r[0] == "emails" and r[2] == "subject"]) \
        >= subject_access.BATCH * 2 + 7


def test_each_section_is_found_from_an_index_on_the_person(world):
    """Without these indexes each section read its whole table (the outbox, every signature,
    answer and evaluation in the country) to find one person's records."""
    # found and walked in order from one index
    ordered = {"emails": "ix_outbox_email_to_id", "signatures": "ix_signature_user_id_id",
               "deployment_responses": "ix_deployment_response_user_id_id",
               "evaluations_written": "ix_evaluation_author_id_id"}
    # found from an index (the rows are then sorted: a person's share of the table)
    found = {"notifications": "ix_notification_user_read_at",
             "sign_in_sessions": "ix_login_session_user_ended",
             "deployments_as_leader": "ix_deployment_leader"}
    stmts = subject_access.statements(world.a.leader)
    for section, index in ordered.items():
        plan = index_plan(stmts[section])
        assert index in plan, (section, plan)
    for section, index in found.items():
        plan = index_plan(stmts[section].order_by(None))
        assert index in plan, (section, plan)
