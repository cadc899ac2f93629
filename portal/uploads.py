"""Large uploads: one request class that lets only the GIAS import send a big body.

Every request body is limited to ``MAX_CONTENT_LENGTH`` (``MAX_REQUEST_MB``); the routes in
:data:`LARGE_UPLOADS` may send up to ``IMPORT_MAX_BYTES`` (``IMPORT_MAX_MB``). The limit has to
be known before anything reads the form (CSRF protection does, before the view), so it is
chosen from the matched endpoint here rather than in the view. Werkzeug writes a file part
over 500 kB to a temporary file as it arrives, so the national GIAS file (about 61 MB) is
never held in memory; ``domain/gias.Reader`` then reads it as a stream.
"""

from __future__ import annotations

from flask import current_app
from flask.wrappers import Request

LARGE_UPLOADS = frozenset({"admin.school_import"})


class PortalRequest(Request):
    @property  # type: ignore[misc]
    def max_content_length(self) -> int | None:  # type: ignore[override]
        if self.endpoint in LARGE_UPLOADS:
            return int(current_app.config["IMPORT_MAX_BYTES"])
        return super().max_content_length
