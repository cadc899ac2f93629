"""Every route declares who may use it, and every object is scoped to its school or alliance."""

from __future__ import annotations

import pytest

from portal.security import PUBLIC

ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board"]
EXEMPT = {"static"}


def test_every_route_declares_its_roles(app):
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXEMPT:
            continue
        view = app.view_functions[rule.endpoint]
        if not getattr(view, "allowed_roles", None):
            missing.append(f"{rule.rule} ({rule.endpoint})")
    assert missing == [], f"routes without an access rule: {missing}"


def test_public_routes_are_only_the_ones_we_mean(app):
    public = {rule.endpoint for rule in app.url_map.iter_rules()
              if getattr(app.view_functions[rule.endpoint], "allowed_roles", None) == PUBLIC}
    # set-password works with an invite token only; verify with an unguessable token only
    # "Forgot your password?" answers the same for every address (issue 13)
    # /healthz answers a load balancer with numbers only (issue 17)
    # signing in with the school's account: its start page, the redirect to the provider and
    # the provider's callback, and the two-factor code page between password and session
    # (issue 21); the calendar feed works with its unguessable token only (issue 21)
    assert public == {"auth.login", "agreements.verify", "account.set_password",
                      "account.forgot", "health.healthz", "auth.school_login",
                      "auth.school_start", "auth.school_callback", "auth.code",
                      "account.calendar_feed"}


LIST_PAGES = ["/", "/requests/", "/deployments/"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", LIST_PAGES)
def test_every_role_can_open_its_list_pages(world, client_for, role, url):
    assert client_for(world.user("a", role)).get(url).status_code == 200


@pytest.mark.parametrize("url", LIST_PAGES)
def test_strangers_are_sent_to_sign_in(db, anon, url):
    assert anon.get(url).status_code == 302


# Who may open the request and deployment of alliance A (the headteacher's school asked).
SEES_OWN = {
    "headteacher": True, "sle": True, "home_school": True, "director": True, "admin": True,
    "board": False, "other_head": False,
}


@pytest.mark.parametrize(("role", "allowed"), SEES_OWN.items())
def test_request_and_deployment_are_scoped(world, client_for, role, allowed):
    c = client_for(world.user("a", role))
    expected = 200 if allowed else 404
    assert c.get(f"/requests/{world.a.request.id}").status_code == expected
    assert c.get(f"/deployments/{world.a.deployment.id}").status_code == expected


@pytest.mark.parametrize("role", [*ROLES, "other_head"])
def test_nobody_sees_another_alliances_objects(world, client_for, role):
    c = client_for(world.user("a", role))
    assert c.get(f"/requests/{world.b.request.id}").status_code == 404
    assert c.get(f"/deployments/{world.b.deployment.id}").status_code == 404
    assert c.get(f"/requests/{world.b.draft.id}").status_code == 404


@pytest.mark.parametrize("role", ["director", "admin", "sle", "home_school", "other_head"])
def test_drafts_are_private_to_their_school(world, client_for, role):
    assert client_for(world.user("a", role)).get(
        f"/requests/{world.a.draft.id}").status_code == 404


def test_headteacher_sees_own_draft(world, client_for):
    r = client_for(world.user("a", "headteacher")).get(f"/requests/{world.a.draft.id}")
    assert r.status_code == 200 and b"Alpha draft request" in r.data


def test_missing_ids_answer_404_like_forbidden_ones(world, client_for):
    c = client_for(world.user("a", "admin"))
    assert c.get("/requests/999999").status_code == 404
    assert c.get("/deployments/999999").status_code == 404


@pytest.mark.parametrize("role", [*ROLES, "other_head"])
def test_lists_show_only_what_the_user_may_see(world, client_for, role):
    body = client_for(world.user("a", role)).get("/requests/").data
    assert b"Beta" not in body
    if SEES_OWN[role]:
        assert b"Alpha maths reasoning" in body
    else:
        assert b"Alpha maths reasoning" not in body
    deployments = client_for(world.user("a", role)).get("/deployments/").data
    assert (world.b.deployment.reference.encode() in deployments) is False
    assert (world.a.deployment.reference.encode() in deployments) is SEES_OWN[role]
