"""The co-ordinator's sign-in settings (issue 21): school accounts (provider, client id,
tenants or domains) and requiring two-factor sign-in; the client secret comes from the
environment and is never shown in full."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AllianceSignIn, AuditEvent

TENANT = "11111111-2222-3333-4444-555555555555"


def form(**over):
    return {"provider": "microsoft", "client_id": "portal-alpha", "tenants": TENANT,
            "domains": "", **over}


def test_the_coordinator_saves_the_settings_and_it_is_audited(world, client_for):
    c = client_for(world.user("a", "admin"))
    assert c.get("/admin/sign-in").status_code == 200
    r = c.post("/admin/sign-in", form(tenants=f" {TENANT.upper()}\n{TENANT} ",
                                      require_two_factor="y"))
    assert r.status_code == 303
    row = db.session.scalar(select(AllianceSignIn))
    assert (row.alliance_id, row.provider, row.client_id, row.tenants, row.require_two_factor) \
        == (world.a.alliance.id, "microsoft", "portal-alpha", TENANT, True)
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "alliance.sign_in_settings_changed"))
    assert event.alliance_id == world.a.alliance.id
    assert event.detail["changed"]["provider"] == ["", "microsoft"]


@pytest.mark.parametrize("over,field,words", [
    ({"tenants": "contoso.onmicrosoft.com"}, "tenants", "is not a tenant id"),
    ({"tenants": ""}, "tenants", "Enter your Microsoft tenant id"),
    ({"client_id": ""}, "client_id", "Enter the client id"),
    ({"client_id": "has space"}, "client_id", "without spaces"),
    ({"provider": "google", "domains": ""}, "domains", "Google Workspace domain"),
    ({"provider": "google", "domains": "not a domain!"}, "domains", "is not a domain name"),
    ({"provider": "yahoo"}, "provider", "Not a valid choice"),
    ({"tenants": "x" * 1001}, "tenants", "At most 1,000 characters"),
])
def test_bad_settings_are_refused_beside_the_field_and_nothing_is_saved(
        world, client_for, over, field, words):
    c = client_for(world.user("a", "admin"))
    r = c.post("/admin/sign-in", form(**over))
    assert r.status_code == 422
    page = r.data.decode()
    assert f'id="{field}-error"' in page and words in page
    assert db.session.scalar(select(func.count()).select_from(AllianceSignIn)) == 0


def test_the_secret_is_never_shown_in_full(app, world, client_for):
    c = client_for(world.user("a", "admin"))
    page = c.get("/admin/sign-in").data.decode()
    assert "not set" in page and "OIDC_CLIENT_SECRET_ALPHA" in page
    saved = app.config["OIDC_CLIENT_SECRETS"]
    app.config["OIDC_CLIENT_SECRETS"] = {"OIDC_CLIENT_SECRET_ALPHA": "very-secret-value-9f3a"}
    try:
        page = c.get("/admin/sign-in").data.decode()
    finally:
        app.config["OIDC_CLIENT_SECRETS"] = saved
    assert "…9f3a" in page and "very-secret-value" not in page


def test_each_alliance_sets_its_own(world, client_for):
    client_for(world.user("a", "admin")).post("/admin/sign-in", form())
    b = client_for(world.user("b", "admin"))
    assert "portal-alpha" not in b.get("/admin/sign-in").data.decode()
    b.post("/admin/sign-in", form(provider="google", client_id="portal-beta",
                                  domains="beta.example.org", tenants=""))
    rows = {r.alliance_id: r.provider for r in db.session.scalars(select(AllianceSignIn))}
    assert rows == {world.a.alliance.id: "microsoft", world.b.alliance.id: "google"}


@pytest.mark.parametrize("role", ["headteacher", "sle", "home_school", "director", "board"])
def test_only_the_coordinator_changes_them(world, client_for, role):
    c = client_for(world.user("a", role))
    assert c.post("/admin/sign-in", form()).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(AllianceSignIn)) == 0


def test_the_form_needs_the_csrf_token(world, client_for):
    c = client_for(world.user("a", "admin"))
    # refused (a signed-in user's form is kept for them to send again: portal/drafts.py)
    assert c.post("/admin/sign-in", form(), csrf=False).status_code in (303, 400)
    assert db.session.scalar(select(func.count()).select_from(AllianceSignIn)) == 0
