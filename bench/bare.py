"""The floor to compare the portal with: bare Flask + Jinja rendering the same rows from memory.

The deployments list's first page (25 rows: reference, title, leader, home school, days, status)
is read from ``DATABASE_URL`` once at start-up; every request then only renders a template.
Served by the same gunicorn settings as the portal: ``gunicorn -c gunicorn.conf.py bench.bare:app``.
"""

from __future__ import annotations

import os

from flask import Flask, render_template_string
from sqlalchemy import create_engine, text

TEMPLATE = """<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>Deployments</title>
<link rel="stylesheet" href="/static/css/portal.css"></head>
<body><main id="main"><h1>Deployments</h1>
<table><thead><tr><th scope="col">Deployment</th><th scope="col">System leader</th>
<th scope="col">Home school</th><th scope="col">Days used / agreed</th>
<th scope="col">Status</th></tr></thead><tbody>
{% for r in rows %}<tr>
<td><a href="/deployments/{{ r.id }}">{{ r.reference }}</a> {{ r.title }}</td>
<td>{{ r.leader }}</td><td>{{ r.school }}</td>
<td>{{ r.delivered / 2 }} of {{ r.agreed / 2 }}</td>
<td><span class="badge badge-status-{{ r.status }}">{{ r.status }}</span></td></tr>
{% endfor %}</tbody></table></main></body></html>"""

QUERY = text("""
SELECT d.id, d.reference, r.title, u.name AS leader, s.name AS school,
       d.half_days_delivered AS delivered, d.half_days_agreed AS agreed, d.status
FROM deployment d
JOIN support_request r ON r.id = d.request_id
JOIN user_account u ON u.id = d.leader_id
JOIN school s ON s.id = d.home_school_id
WHERE d.alliance_id = 1
ORDER BY d.proposed_at DESC, d.id DESC
LIMIT 25
""")


def _url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def load_rows() -> list[dict]:
    engine = create_engine(_url())
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(QUERY)]
    engine.dispose()
    return rows


app = Flask(__name__)
ROWS = load_rows() if os.environ.get("DATABASE_URL") else []


@app.get("/bare")
def bare():
    return render_template_string(TEMPLATE, rows=ROWS)
