"""Keep set-password tokens (and the school sign-in callback's code) out of the logs.

A set-password link is a path (``/account/set-password/<token>``), so the request line that
gunicorn's access log and the development server write for it would hold a usable token until
it is spent. :class:`RedactLinks` rewrites any such path in a log record to
``/account/set-password/[redacted]``; :func:`install` puts it on the loggers that write request
lines (``create_app`` calls it, so every gunicorn worker has it).
"""

from __future__ import annotations

import logging
import re

TOKEN_IN_PATH = re.compile(r"(/account/set-password/)[^\s?#\"'/\\]+")
# the school sign-in callback's authorisation code and state (single use and PKCE-bound, but
# nobody reading the logs needs them)
CODE_IN_QUERY = re.compile(r"(/login/school/callback\?)[^\s#\"']+")
REQUEST_LOGGERS = ("gunicorn.access", "gunicorn.error", "werkzeug", "portal", "portal.mail")


def redact(text: str) -> str:
    return CODE_IN_QUERY.sub(r"\1[redacted]", TOKEN_IN_PATH.sub(r"\1[redacted]", text))


class RedactLinks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = RedactLinks()


def install() -> None:
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
