"""flask commands: demo data and the audit chain check."""

from __future__ import annotations

from sqlalchemy import func, select, update

from portal.models import Alliance, AuditEvent, RateCard, SupportRequest, User


def test_demo_loads_both_networks_and_prints_logins(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "demo-Portal-2026" in result.output
    names = set(db.session.scalars(select(Alliance.short_name)))
    assert names == {"ESTSN", "Holy Rosary TSA", "CAPITAL TSA", "North Sefton Coastal TSA",
                     "Merseyside SEN TSA"}
    holy = db.session.scalar(select(Alliance).where(Alliance.short_name == "Holy Rosary TSA"))
    assert holy.phone == "0151 288 6563" and holy.postcode == "L10 6NJ"
    for role in ("admin", "director", "headteacher", "home_school", "sle"):
        assert db.session.scalar(select(func.count()).select_from(User).where(
            User.role == role, User.alliance_id == holy.id)) >= 1
        assert f"{role}" in result.output
    statuses = set(db.session.scalars(select(SupportRequest.status)))
    assert {"draft", "submitted", "matched"} <= statuses
    models = dict(db.session.execute(select(Alliance.short_name, RateCard.model)
                                     .join(RateCard, RateCard.alliance_id == Alliance.id)).all())
    assert models["ESTSN"] == "east_sussex" and models["CAPITAL TSA"] == "sefton"
    # a second run with --if-empty leaves the data alone
    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0 and "already loaded" in again.output
    assert runner.invoke(args=["demo"]).exit_code != 0


def test_demo_logins_work(app, db, anon):
    app.test_cli_runner().invoke(args=["demo"])
    r = anon.post("/login", {"email": "admin@estsn.example.org", "password": "demo-Portal-2026"})
    assert r.status_code == 302
    assert b"Requests to triage and match" in anon.get("/").data


def test_verify_audit_finds_tampering(app, db):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo"])
    ok = runner.invoke(args=["verify-audit"])
    total = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert total >= 5  # demo steps of later areas audit their records too
    assert ok.exit_code == 0 and f"Audit logs intact: {total} events" in ok.output
    third = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()[2]
    where = f"log {third.log}, event {third.seq}"
    db.session.execute(update(AuditEvent).where(AuditEvent.id == third.id)
                       .values(action="demo.something_else"))
    db.session.commit()
    bad = runner.invoke(args=["verify-audit"])
    assert bad.exit_code != 0
    assert f"event edited: {where}: demo.something_else" in bad.output


def test_create_user(app, db):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo"])
    result = runner.invoke(args=["create-user", "--email", "new@capital.example.org",
                                 "--name", "New Admin", "--role", "admin",
                                 "--alliance", "CAPITAL TSA"],
                           input="a-long-password\na-long-password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "new@capital.example.org"))
    assert user.check_password("a-long-password") and user.role == "admin"
    dup = runner.invoke(args=["create-user", "--email", "NEW@capital.example.org", "--name", "X",
                              "--role", "admin", "--alliance", "CAPITAL TSA"],
                        input="pw-pw-pw-pw\npw-pw-pw-pw\n")
    assert dup.exit_code != 0 and "already exists" in dup.output


def test_demo_references_follow_the_one_scheme_real_requests_use(app, db):
    """Issue 15, item 12: demo rows were numbered R-2026-S0001, D-2026-M013 ... beside the
    portal's own R-2026-00005 and D-2026-00005-1; now every demo request is numbered by its
    id and every deployment after its request, as brokering numbers real ones."""
    import re

    from sqlalchemy import select

    from portal.extensions import db as _db
    from portal.models import Deployment, SupportRequest

    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    requests = _db.session.scalars(select(SupportRequest)).all()
    deployments = _db.session.scalars(select(Deployment)).all()
    assert requests and deployments
    for r in requests:
        assert re.fullmatch(rf"R-\d{{4}}-{r.id:05d}", r.reference), r.reference
    for d in deployments:
        assert re.fullmatch(rf"D-\d{{4}}-{d.request_id:05d}-\d+", d.reference), d.reference


def test_every_login_the_readme_lists_exists_and_signs_in(app, db, client_for):
    """Issue 15, item 12: the README lists every demo login needed to walk each journey, and
    each of them works (the LLE and NLE leaders' logins were missing)."""
    import re
    from pathlib import Path

    from portal.extensions import db as _db

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme[readme.index("## Demo logins"):readme.index("### Walking the journey")]
    logins = set(re.findall(r"`([a-z0-9]+@estsn\.example\.org)`", table))
    assert {"leader1@estsn.example.org", "leader2@estsn.example.org",
            "board@estsn.example.org"} <= logins
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0
    for email in sorted(logins):
        assert email in result.output, email  # the demo prints it too
        user = _db.session.scalar(select(User).where(User.email == email))
        assert user is not None and user.active, email
        r = client_for(None).post("/login", {"email": email, "password": "demo-Portal-2026"})
        assert r.status_code == 302, email
