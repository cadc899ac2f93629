"""gunicorn settings, each overridable from the environment (see README, Production)."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# JSON logs (LOG_FORMAT=json, the default in production): the portal writes one JSON access line
# per request itself (portal/logs.py, with the request id), so gunicorn's text access log is
# off, and gunicorn's own messages go out as JSON lines too.
if os.environ.get("LOG_FORMAT", "json" if os.environ.get("PORTAL_ENV", "production")
                  == "production" else "text") == "json":
    accesslog = None
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "portal.logs.JsonFormatter"}},
        "filters": {"request_id": {"()": "portal.logs.RequestId"},
                    "redact": {"()": "portal.logredact.RedactLinks"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json",
                                 "filters": ["request_id", "redact"],
                                 "stream": "ext://sys.stderr"}},
        "root": {"level": "INFO", "handlers": ["console"]},
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["console"],
                                       "propagate": False}},
    }
