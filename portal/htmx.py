"""htmx request detection and response-header helpers."""

from __future__ import annotations

import json

from flask import Response, request
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_partial() -> bool:
    """A fragment is wanted only for a plain htmx request: not boosted, not a history restore."""
    return (
        is_htmx()
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(template: str, block: str | None = None, **context) -> str:
    """Render the whole page, or just one of its blocks for an htmx request."""
    from flask import render_template

    if block and wants_partial():
        return render_block(template, block, **context)
    return render_template(template, **context)


def hx_redirect(response: Response, url: str) -> Response:
    response.headers["HX-Redirect"] = url
    return response


def hx_trigger(response: Response, events: dict | str) -> Response:
    response.headers["HX-Trigger"] = events if isinstance(events, str) else json.dumps(events)
    return response


def add_vary(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response
