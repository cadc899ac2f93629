"""Role-aware home pages, htmx partials and headers."""

from __future__ import annotations

import pytest

from portal.extensions import db


def test_admin_home_shows_the_inbox_with_the_48_hour_clock(world, client_for):
    body = client_for(world.user("a", "admin")).get("/").data.decode()
    assert "Requests to triage and match" in body
    assert world.a.request.reference in body
    assert "hours left" in body  # submitted five hours ago: 43 hours left
    assert world.a.draft.reference not in body  # drafts are not in anyone's inbox
    assert world.b.request.reference not in body


def test_headteacher_home_lists_own_school_requests_only(world, client_for):
    body = client_for(world.user("a", "headteacher")).get("/").data.decode()
    assert "Your school&#39;s requests" in body or "Your school's requests" in body
    assert world.a.request.reference in body and world.a.draft.reference in body
    assert world.b.request.reference not in body


def test_other_headteacher_in_the_alliance_sees_an_empty_home(world, client_for):
    body = client_for(world.user("a", "other_head")).get("/").data.decode()
    assert "You have no requests yet." in body
    assert world.a.request.reference not in body


def test_leader_home_shows_own_deployment_and_profile(world, client_for):
    body = client_for(world.user("a", "sle")).get("/").data.decode()
    assert world.a.deployment.reference in body
    assert "Your directory profile" in body and "Specialist Leader of Education" in body


def test_home_school_sees_its_staff(world, client_for):
    body = client_for(world.user("a", "home_school")).get("/").data.decode()
    assert "Alpha Leader" in body and world.a.deployment.reference in body
    assert "Beta Leader" not in body


def test_director_sees_alliance_counts(world, client_for):
    body = client_for(world.user("a", "director")).get("/").data.decode()
    assert "Deployments in your alliance" in body
    assert "Proposed, awaiting confirmation" in body


def test_htmx_filter_returns_only_the_results_block(world, client_for):
    c = client_for(world.user("a", "admin"))
    r = c.htmx_get("/requests/?status=submitted")
    assert r.status_code == 200
    body = r.data.decode()
    assert "<html" not in body and "<table>" in body
    assert world.a.request.reference in body
    assert "HX-Request" in r.headers["Vary"]


def test_boosted_or_history_restore_requests_get_the_whole_page(world, client_for):
    c = client_for(world.user("a", "admin"))
    for header in ("HX-Boosted", "HX-History-Restore-Request"):
        r = c.get("/requests/", headers={"HX-Request": "true", header: "true"})
        assert "<html" in r.data.decode()


def test_filter_excludes_other_statuses(world, client_for):
    c = client_for(world.user("a", "admin"))
    body = c.get("/requests/?status=matching").data.decode()
    assert world.a.request.reference not in body and "No requests match." in body


def test_security_headers(world, client_for):
    r = client_for(world.user("a", "admin")).get("/")
    csp = r.headers["Content-Security-Policy"]
    for part in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert part in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_page_carries_csrf_header_for_htmx_and_htmx_with_sri_and_fallback(world, client_for):
    body = client_for(world.user("a", "admin")).get("/").data.decode()
    assert "hx-headers='{\"X-CSRFToken\": \"" in body
    assert 'data-integrity="sha384-' in body and "htmx-loader.js" in body
    assert "<script>" not in body  # no inline scripts


def test_vendored_htmx_matches_the_sri_hash(app):
    import base64
    import hashlib
    from pathlib import Path

    from portal import HTMX_SRI

    data = (Path(app.static_folder) / "vendor" / "htmx.min.js").read_bytes()
    digest = base64.b64encode(hashlib.sha384(data).digest()).decode()
    assert HTMX_SRI == f"sha384-{digest}"
    assert b'version:"2.0.' in data


@pytest.mark.parametrize("page", [2, 99, ""])
def test_pagination_tolerates_pages_past_the_end(world, client_for, page):
    assert client_for(world.user("a", "admin")).get(f"/requests/?page={page}").status_code == 200


@pytest.mark.parametrize("page", ["x", -1, 0, 9223372036854775807])
def test_a_page_number_that_is_not_one_is_refused_with_a_message(world, client_for, page):
    r = client_for(world.user("a", "admin")).get(f"/requests/?page={page}")
    assert r.status_code == 400
    assert "The page number in the web address is not one" in r.get_data(as_text=True)


def test_pagination_splits_long_lists(world, client_for, app):
    from tests import factories

    for i in range(30):
        factories.support_request(world.a.alliance, world.user("a", "headteacher"),
                                  [world.a.receiving], title=f"Extra {i}")
    db.session.commit()
    c = client_for(world.user("a", "admin"))
    first = c.get("/requests/").data.decode()
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = c.get("/requests/?page=2").data.decode()
    assert "Page 2 of 2" in second and 'rel="prev"' in second


@pytest.mark.parametrize("path", ["/requests/", "/deployments/"])
def test_a_list_keeps_the_chosen_status_selected(world, client_for, path):
    """The requests list imported a macro called ``status`` that hid the chosen status, so
    its filter always showed "Any status" after filtering (without JavaScript, or on reload)."""
    import re

    client = client_for(world.user("a", "admin"))
    body = client.get(path).data.decode()
    codes = re.findall(r'<option value="([a-z_]+)"', body)
    assert codes
    chosen = codes[-1]
    body = client.get(f"{path}?status={chosen}").data.decode()
    assert re.search(rf'<option value="{chosen}"\s+selected>', body), chosen
    assert len(re.findall(r"\bselected>", body)) == 1
