"""gunicorn entry point: `gunicorn wsgi:app`. Production is the default mode here."""

import os

os.environ.setdefault("PORTAL_ENV", "production")

from portal import create_app  # noqa: E402

app = create_app()
