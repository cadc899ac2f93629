"""Bad input, found by crawling: every form any role can reach is filled with markup and with
random values.

* Markup and htmx attributes typed into any text field come back escaped on every page and
  partial (never live HTML).
* Random values (hypothesis) never cause a server error, and a refused submission (4xx) saves
  nothing.

The forms are discovered from the pages themselves, so a new form is covered without listing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.security import PUBLIC

from .test_access_matrix import _fingerprint, _rules, _url

ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board"]
PAYLOAD = '<script>alert("xss")</script><b hx-get="/logout" hx-trigger="load">bold</b>'
LIVE_MARKERS = ('<script>alert("xss")', 'hx-trigger="load">bold')
SKIP_ACTIONS = ("/logout", "/logout/everywhere")  # would end the crawler's own session


@dataclass
class Form:
    action: str
    page: str
    fields: list[tuple[str, str, str, list[str]]] = field(default_factory=list)
    # (name, kind, value, options) kind: text | hidden | select | checkbox | radio | date | number


class _FormParser(HTMLParser):
    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: tuple[str, list[str]] | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "get").lower() == "post":
            self._form = Form(urljoin(self.page, a.get("action") or self.page), self.page)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("text", "search", "email", "tel", "url", "password"):
                kind = "text" if kind != "email" else "email"
            self._form.fields.append((a["name"], kind, a.get("value") or "", []))
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form.fields.append((a["name"], "text", "", []))
        elif tag == "select" and a.get("name"):
            self._select = (a["name"], [])
        elif tag == "option" and self._select is not None:
            self._select[1].append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, options = self._select
            self._form.fields.append((name, "select", options[0] if options else "", options))
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _pages(app, world, role):
    """Every GET page of the user's own alliance that the role may open."""
    for rule, method, allowed in _rules(app):
        if method != "GET" or allowed == PUBLIC or role not in allowed:
            continue
        yield _url(rule, world, "a")


def _body(r) -> str:
    """The response as text, draining a streamed one so its context ends; a binary download
    (a PDF) is read and answers "" (it is not HTML, so no markup in it can run)."""
    data = r.get_data()
    return "" if r.mimetype == "application/pdf" else data.decode()


def _forms(client, urls) -> list[Form]:
    seen: dict[tuple, Form] = {}
    for url in urls:
        r = client.get(url)
        body = _body(r)  # drains streamed responses (CSV) so their context ends
        r.close()
        if r.status_code != 200 or "text/html" not in r.content_type:
            continue
        parser = _FormParser(url)
        parser.feed(body)
        for form in parser.forms:
            path = urlsplit(form.action).path
            if path.endswith(SKIP_ACTIONS):
                continue
            key = (path, tuple(sorted(f[0] for f in form.fields)))
            seen.setdefault(key, form)
    return list(seen.values())


def _fill(form: Form, text_value) -> dict:
    data: dict[str, object] = {}
    for name, kind, value, options in form.fields:
        if name == "csrf_token":
            continue
        if kind == "hidden":
            data[name] = value
        elif kind in ("text", "email"):
            data[name] = text_value(name)
        elif kind == "select":
            choices = [o for o in options if o] or options
            data[name] = choices[0] if choices else ""
        elif kind in ("checkbox", "radio"):
            data.setdefault(name, value or "y")
        elif kind == "date":
            data[name] = "2026-12-01"
        elif kind == "number":
            data[name] = "2"
        else:
            data[name] = value
    return data


@pytest.mark.parametrize("role", ROLES)
def test_markup_typed_into_any_field_comes_back_escaped(app, world, client_for, role):
    client = client_for(world.user("a", role))
    urls = list(_pages(app, world, role))
    for form in _forms(client, urls):
        r = client.post(form.action, data=_fill(form, lambda _n: PAYLOAD))
        assert r.status_code < 500, f"{form.action}: {r.status_code}"
        body = r.get_data(as_text=True)
        assert not any(m in body for m in LIVE_MARKERS), f"unescaped echo from {form.action}"
    urls = list(_pages(app, world, role))  # objects created above have pages now
    for url in urls:
        for fetch in (client.get, client.htmx_get):  # one at a time: streamed bodies hold a context
            r = fetch(url)
            body = _body(r)
            r.close()
            assert not any(m in body for m in LIVE_MARKERS), f"unescaped markup on {url}"


junk = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["", " ", "0", "-1", "99999999999999999999", "1e309", "NaN", "2026-02-30",
                     "31/12/2026", "£1,000.00", "null", "\x00", "' OR 1=1 --", "../../etc",
                     "1,5", "1.5.0", "zzz", "0001-01-01", "9999-12-31", "2147483648"]),
)


@pytest.mark.parametrize("role", ROLES)
def test_random_values_never_cause_a_server_error_or_a_partial_save(app, world, client_for,
                                                                    role):
    client = client_for(world.user("a", role))
    forms = _forms(client, list(_pages(app, world, role)))

    @settings(max_examples=15, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data):
        for form in forms:
            values = {}
            for name, kind, value, _options in form.fields:
                if name == "csrf_token":
                    continue
                if kind == "hidden" and not data.draw(st.booleans(), label=f"tamper {name}"):
                    values[name] = value
                else:
                    values[name] = data.draw(junk, label=name)
            before = _fingerprint()
            r = client.post(form.action, data=values)
            assert r.status_code < 500, f"{form.action} {values!r}: {r.status_code}"
            if 400 <= r.status_code < 500:
                assert _fingerprint() == before, f"{form.action} saved part of a refused form"

    check()


def test_the_form_parser_sees_every_kind_of_field():
    parser = _FormParser("/x/1")
    parser.feed('<form method="get"><input name="q"></form>'
                '<form method="post" action="save"><input type="hidden" name="v" value="3">'
                '<input name="title"><textarea name="notes">n</textarea>'
                '<select name="phase"><option value="">Choose</option><option value="primary">'
                'P</option></select><input type="checkbox" name="ts" value="TS1">'
                '<input type="date" name="on"><button type="submit">Save</button></form>')
    [form] = parser.forms
    assert form.action == "/x/save"
    assert [(n, k) for n, k, _v, _o in form.fields] == [
        ("v", "hidden"), ("title", "text"), ("notes", "text"), ("phase", "select"),
        ("ts", "checkbox"), ("on", "date")]
    filled = _fill(form, lambda n: f"<{n}>")
    assert filled == {"v": "3", "title": "<title>", "notes": "<notes>", "phase": "primary",
                      "ts": "TS1", "on": "2026-12-01"}


@pytest.mark.parametrize(("role", "at_least"), [("admin", 10), ("headteacher", 2), ("sle", 3)])
def test_the_crawler_reaches_the_forms_it_claims_to_test(app, world, client_for, role, at_least):
    forms = _forms(client_for(world.user("a", role)), list(_pages(app, world, role)))
    assert len(forms) >= at_least, [f.action for f in forms]


def _title(body: str) -> str:
    start = body.index("<title>") + len("<title>")
    return body[start:body.index("</title>", start)]


@pytest.mark.parametrize("role", ROLES)
def test_a_refused_form_page_title_starts_with_error(app, world, client_for, role):
    """GOV.UK: after a failed submit the title starts with "Error: " (issue 18, item 7), on
    every form page; a page that shows no error summary keeps its plain title."""
    client = client_for(world.user("a", role))
    refused = 0
    for form in _forms(client, list(_pages(app, world, role))):
        data = {n: v for n, k, v, _o in form.fields  # everything but hidden fields left empty
                if k == "hidden" and n != "csrf_token"}
        r = client.post(form.action, data=data)
        body = r.get_data(as_text=True)
        if "<title>" not in body:
            continue
        if 400 <= r.status_code < 500 and ('class="error-summary"' in body
                                           or 'class="error-message"' in body):
            refused += 1
            assert _title(body).startswith("Error: "), form.action
            assert not _title(body).startswith("Error: Error: ")
        else:
            assert not _title(body).startswith("Error: "), form.action
    page = client.get("/")
    assert not _title(page.get_data(as_text=True)).startswith("Error")
    if role in ("headteacher", "admin", "coordinator"):
        assert refused, "no form was refused: the test proved nothing"
