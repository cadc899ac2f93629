"""Configuration from the environment.

`PORTAL_ENV` chooses the mode: ``development`` (the default for the flask CLI and `make run`),
``production`` (the default in ``wsgi.py``, so gunicorn never starts in development mode by
accident) or ``testing``. Outside development and testing the portal refuses to start without
``SECRET_KEY``; in development a random key is generated once and kept in ``instance/``.
The same goes for the audit keys: ``AUDIT_KEY`` (the HMAC key of the audit chain) and the
Ed25519 key that signs audit checkpoints (``CHECKPOINT_KEY`` or ``CHECKPOINT_KEY_FILE``).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default  # unset or empty: the default


class ConfigError(RuntimeError):
    """The environment does not describe a safe configuration."""


def _dev_secret(instance_path: Path) -> str:
    path = instance_path / "dev-secret-key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


_TESTING_CHECKPOINT_KEY: list[str] = []  # one generated key per test process, never on disk


def _new_checkpoint_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()


def _checkpoint_key(instance_path: Path, dev: bool, testing: bool, overrides: dict) -> str:
    """The checkpoint signing key as text (PEM, or base64 of the 32-byte Ed25519 seed)."""
    key = overrides.get("CHECKPOINT_KEY") or os.environ.get("CHECKPOINT_KEY", "")
    path = overrides.get("CHECKPOINT_KEY_FILE") or os.environ.get("CHECKPOINT_KEY_FILE", "")
    if key:
        return key
    if path:
        try:
            return Path(path).read_text()
        except OSError as exc:
            raise ConfigError(f"CHECKPOINT_KEY_FILE {path} cannot be read: {exc}") from exc
    if testing:
        if not _TESTING_CHECKPOINT_KEY:
            _TESTING_CHECKPOINT_KEY.append(_new_checkpoint_key())
        return _TESTING_CHECKPOINT_KEY[0]
    if not dev:
        raise ConfigError("CHECKPOINT_KEY or CHECKPOINT_KEY_FILE must be set outside development "
                          "and testing: it signs the audit checkpoints")
    file = instance_path / "dev-checkpoint-key.pem"
    if not file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        file.write_text(_new_checkpoint_key())
        file.chmod(0o600)
    return file.read_text()


def _audit_key(instance_path: Path, dev: bool, testing: bool, overrides: dict) -> str:
    key = overrides.get("AUDIT_KEY") or os.environ.get("AUDIT_KEY", "")
    if key:
        if len(key) < 16 and not (dev or testing):
            raise ConfigError("AUDIT_KEY must be at least 16 characters (32 random bytes, "
                              "base64, is usual)")
        return key
    if testing:
        return "testing-only-audit-key"
    if not dev:
        raise ConfigError("AUDIT_KEY must be set outside development and testing: it keys the "
                          "audit chain, so the chain cannot be recomputed without it")
    file = instance_path / "dev-audit-key"
    if not file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        file.write_text(secrets.token_urlsafe(32))
        file.chmod(0o600)
    return file.read_text().strip()


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{instance_path / 'portal.db'}"
    # Hosting platforms still hand out postgres:// URLs; SQLAlchemy wants a driver name.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


# Failed sign-ins (and every "Forgot your password?") allowed at one account from one address, and
# from one address at any accounts: a school, or a training room of 60, shares one address.
DEFAULT_LOGIN_LIMIT = "10 per minute;50 per hour"
DEFAULT_LOGIN_ADDRESS_LIMIT = "60 per 15 minutes"


def uses_memory_limits(cfg: dict) -> bool:
    return cfg["RATELIMIT_ENABLED"] and cfg["RATELIMIT_STORAGE_URI"].startswith("memory://")


def load(instance_path: Path, overrides: dict | None = None) -> dict:
    """Build the Flask config mapping from the environment (and test overrides)."""
    overrides = dict(overrides or {})
    env = overrides.get("PORTAL_ENV") or os.environ.get("PORTAL_ENV", "development")
    if env not in {"development", "production", "testing"}:
        raise ConfigError(f"PORTAL_ENV must be development, production or testing, not {env!r}")
    dev = env == "development"
    testing = env == "testing"

    secret = overrides.get("SECRET_KEY") or os.environ.get("SECRET_KEY")
    if not secret:
        if dev:
            secret = _dev_secret(instance_path)
        elif not testing:
            raise ConfigError("SECRET_KEY must be set outside development and testing")
        else:
            secret = secrets.token_urlsafe(32)

    cfg: dict = {
        "PORTAL_ENV": env,
        "TESTING": testing,
        "SECRET_KEY": secret,
        # The audit trail (portal/domain/audit.py, checkpoints.py)
        "AUDIT_KEY": _audit_key(instance_path, dev, testing, overrides),
        "CHECKPOINT_KEY": _checkpoint_key(instance_path, dev, testing, overrides),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SQLALCHEMY_RECORD_QUERIES": testing,
        # Sessions and cookies
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", default=not (dev or testing)),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", default=not (dev or testing)),
        # A session ends after this long without activity (portal/security.py slides it on
        # each request). The signed cookie may be older than that by a week, so that a form
        # sent after the session ended still says whose it was (portal/drafts.py); it is never
        # accepted as signed in once idle. Without Expires, it still ends with the browser.
        "SESSION_IDLE": timedelta(hours=_int("SESSION_HOURS", 12)),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("SESSION_HOURS", 12), days=7),
        "PREFERRED_URL_SCHEME": "http" if dev or testing else "https",
        # Forms
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead, so long forms do not expire
        # Behind a reverse proxy: how many proxies set X-Forwarded-* (0 = trust none)
        "PROXY_FIX_HOPS": _int("PROXY_FIX_HOPS", 0),
        # htmx: CDN copy with SRI; the local copy in static/vendor is always the fallback
        "HTMX_CDN": os.environ.get(
            "HTMX_CDN", "https://cdn.jsdelivr.net/npm/htmx.org@2.0.8/dist/htmx.min.js"
        ),
        # Email over SMTP; with no MAIL_SERVER mails are logged and kept in the outbox only
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL"),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_DEFAULT_SENDER": os.environ.get(
            "MAIL_DEFAULT_SENDER", "School Support Portal <no-reply@school-support.invalid>"
        ),
        "MAIL_TIMEOUT": _int("MAIL_TIMEOUT", 10),
        # Delivery by the job worker: tries before an email is failed, the first wait (then
        # four times as long each time), and how long a worker's claim on an email lasts
        "MAIL_MAX_ATTEMPTS": _int("MAIL_MAX_ATTEMPTS", 6),
        "MAIL_RETRY_SECONDS": _int("MAIL_RETRY_SECONDS", 60),
        "MAIL_CLAIM_SECONDS": _int("MAIL_CLAIM_SECONDS", 300),
        # /healthz: unhealthy when the worker's last heartbeat, or the oldest email still
        # waiting to go, is older than this many seconds
        "HEALTH_MAX_HEARTBEAT_SECONDS": _int("HEALTH_MAX_HEARTBEAT_SECONDS", 300),
        "HEALTH_MAX_UNSENT_SECONDS": _int("HEALTH_MAX_UNSENT_SECONDS", 3600),
        # Logs: "json" (one object per line, with the request id) or "text"
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "json" if env == "production" else "text"),
        # The portal's public address, used in links inside emails (e.g. https://portal.example)
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "").rstrip("/"),
        # Request bodies: MAX_REQUEST_MB for every route but the GIAS import, which takes up
        # to IMPORT_MAX_MB (the national file is about 61 MB; it is spooled to a temporary
        # file and read as a stream, never held in memory). See portal/uploads.py.
        "MAX_CONTENT_LENGTH": _int("MAX_REQUEST_MB", 4) * 1024 * 1024,
        "IMPORT_MAX_BYTES": _int("IMPORT_MAX_MB", 100) * 1024 * 1024,
        # Rate limits: memory per process unless a shared store (Redis) is configured. In
        # production memory:// is refused (each worker would count on its own) unless
        # RATELIMIT_ALLOW_MEMORY says a single worker is meant.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ALLOW_MEMORY": _bool("RATELIMIT_ALLOW_MEMORY"),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", default=True),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Sign-in and "Forgot your password?": attempts at one account from one address, and
        # from one address at any accounts (a school's staff may share one address)
        "LOGIN_LIMIT": os.environ.get("LOGIN_LIMIT", DEFAULT_LOGIN_LIMIT),
        "LOGIN_ADDRESS_LIMIT": os.environ.get("LOGIN_ADDRESS_LIMIT",
                                              DEFAULT_LOGIN_ADDRESS_LIMIT),
        # password-reset emails to one account, whoever asks
        "RESET_EMAIL_LIMIT": os.environ.get("RESET_EMAIL_LIMIT", "3 per hour"),
        # Signing needs a password entered within this many minutes
        "FRESH_LOGIN_MINUTES": _int("FRESH_LOGIN_MINUTES", 15),
        # Signing in with the school's Microsoft or Google account (portal/domain/oidc.py). Each
        # alliance's client secret is OIDC_CLIENT_SECRET_<ITS SHORT NAME> (non-alphanumerics
        # as _); the authority and issuer are overridden only by the tests' local provider.
        "OIDC_CLIENT_SECRETS": {k: v for k, v in os.environ.items()
                                if k.startswith("OIDC_CLIENT_SECRET_") and v},
        "OIDC_MICROSOFT_AUTHORITY": os.environ.get("OIDC_MICROSOFT_AUTHORITY",
                                                   "https://login.microsoftonline.com"),
        "OIDC_GOOGLE_ISSUER": os.environ.get("OIDC_GOOGLE_ISSUER", "https://accounts.google.com"),
        "OIDC_TIMEOUT": _int("OIDC_TIMEOUT", 10),
        # Two-factor codes: wrong codes allowed per account before it must wait
        "TWO_FACTOR_LIMIT": os.environ.get("TWO_FACTOR_LIMIT", "5 per 5 minutes;20 per day"),
        # How many rows a list page shows
        "PAGE_SIZE": _int("PAGE_SIZE", 25),
    }
    cfg.update({k: v for k, v in overrides.items()
                if k not in ("AUDIT_KEY", "CHECKPOINT_KEY", "CHECKPOINT_KEY_FILE")})
    from .domain.checkpoints import load_private_key

    try:
        load_private_key(cfg["CHECKPOINT_KEY"])
    except ValueError as exc:
        raise ConfigError(f"CHECKPOINT_KEY is not an Ed25519 private key: {exc}") from exc
    if (env == "production" and uses_memory_limits(cfg)
            and not cfg["RATELIMIT_ALLOW_MEMORY"]):
        raise ConfigError(
            "RATELIMIT_STORAGE_URI must name a store every worker shares in production, e.g. "
            "redis://redis.internal:6379/0. With memory:// each gunicorn worker counts sign-in "
            "attempts on its own, so the limits multiply by the number of workers. If you "
            "really run a single worker, set RATELIMIT_ALLOW_MEMORY=1."
        )
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite locks are handled with a busy timeout; pre-ping is pointless there.
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 15}}
    elif cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # PostgreSQL's JIT compiler starts on queries its planner costs highly; at national
        # scale the leader's home (a UNION of two index walks the planner over-estimates) spent
        # 5.3 s compiling and 0.1 s running. The portal's queries are short index lookups, so
        # compiling never pays: it is switched off for the portal's own connections.
        # random_page_cost=1.1 (the usual setting for SSDs and a cached working set; the
        # default 4 assumes spinning disks): with 4, a school's requests and deployments
        # (a few thousand ids) were hash-joined against every row in the country (88 ms)
        # instead of looked up by index (18 ms).
        options = dict(cfg["SQLALCHEMY_ENGINE_OPTIONS"])
        connect_args = dict(options.get("connect_args", {}))
        connect_args["options"] = (connect_args.get("options", "")
                                   + " -c jit=off -c random_page_cost=1.1").strip()
        options["connect_args"] = connect_args
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = options
    return cfg
