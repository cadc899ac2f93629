"""Logs: JSON lines carrying a request id in production, the same for the web and the worker.

Every log record gets ``request_id``: in a web request, the caller's ``X-Request-ID`` (if it is a
plain token of up to 100 characters) or a fresh one, echoed back in the response's
``X-Request-ID``; in a worker job, the id of the request that queued the job (or a fresh one for
a periodic job). ``LOG_FORMAT=json`` (the default in production) writes one JSON object per
line on stderr: ``time``, ``level``, ``logger``, ``message``, ``request_id``, plus ``exc`` for
an exception. Each request also writes one ``portal.access`` line (method, path, status,
milliseconds), so gunicorn's own access log can be off. Set-password links are redacted from
every line (``portal/logredact.py``), on the handler, so no logger escapes it.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar

from flask import Flask, g, request

from .logredact import RedactLinks, redact

request_id: ContextVar[str] = ContextVar("request_id", default="")
_GOOD_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
access_log = logging.getLogger("portal.access")


def new_id() -> str:
    return uuid.uuid4().hex


def incoming_id(header: str | None) -> str:
    """The caller's request id if it is a plain token, else a fresh one (never a log injection)."""
    return header if header and _GOOD_ID.match(header) else new_id()


class RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", "") or request_id.get(),
        }
        for key in ("method", "path", "status", "ms", "job"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def handler(fmt: str) -> logging.Handler:
    h = logging.StreamHandler()
    h.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    h.addFilter(RequestId())
    h.addFilter(RedactLinks())
    return h


def configure(fmt: str, level: int = logging.INFO) -> None:
    """Send every log record through one handler of this format (``json`` or ``text``)."""
    root = logging.getLogger()
    if fmt == "json" and any(isinstance(h.formatter, JsonFormatter) for h in root.handlers
                             if not getattr(h, "portal_handler", False)):
        return  # already JSON (gunicorn.conf.py configured it): no second copy of each line
    for old in [h for h in root.handlers if getattr(h, "portal_handler", False)]:
        root.removeHandler(old)
    new = handler(fmt)
    new.portal_handler = True  # type: ignore[attr-defined]
    root.addHandler(new)
    root.setLevel(level)


def init_app(app: Flask) -> None:
    @app.before_request
    def _request_id() -> None:
        g.request_started = time.perf_counter()
        g.request_id_token = request_id.set(incoming_id(request.headers.get("X-Request-ID")))

    @app.after_request
    def _echo_and_log(response):
        rid = request_id.get()
        if rid:
            response.headers["X-Request-ID"] = rid
        started = g.get("request_started")
        if started is not None and app.config.get("LOG_FORMAT") == "json":
            access_log.info("%s %s %s", request.method, redact(request.path),
                            response.status_code, extra={
                                "method": request.method, "path": redact(request.path),
                                "status": response.status_code,
                                "ms": round((time.perf_counter() - started) * 1000, 1)})
        return response

    @app.teardown_request
    def _forget(_exc=None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            try:
                request_id.reset(token)
            except ValueError:  # set in another context (a streamed response): just clear it
                request_id.set("")
