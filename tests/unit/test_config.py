import base64
from pathlib import Path

import pytest

from portal.config import ConfigError, load


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PORTAL_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load(tmp_path)


def test_development_makes_and_keeps_a_random_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PORTAL_ENV", "development")
    first = load(tmp_path)["SECRET_KEY"]
    assert len(first) > 40
    assert load(tmp_path)["SECRET_KEY"] == first
    assert (Path(tmp_path) / "dev-secret-key").stat().st_mode & 0o077 == 0


def _keys(monkeypatch):
    monkeypatch.setenv("AUDIT_KEY", "a" * 32)
    monkeypatch.setenv("CHECKPOINT_KEY", base64.b64encode(b"s" * 32).decode())
    monkeypatch.delenv("CHECKPOINT_KEY_FILE", raising=False)


def test_production_cookies_are_secure(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    _keys(monkeypatch)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    cfg = load(tmp_path)
    assert cfg["SESSION_COOKIE_SECURE"] is True
    assert cfg["SESSION_COOKIE_HTTPONLY"] is True
    assert cfg["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_database_urls_get_the_psycopg_driver(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    assert load(tmp_path)["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    monkeypatch.delenv("DATABASE_URL")
    assert load(tmp_path)["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def test_unknown_mode_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "staging")
    with pytest.raises(ConfigError):
        load(tmp_path)


def _production(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    _keys(monkeypatch)
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("RATELIMIT_ALLOW_MEMORY", raising=False)


def test_production_refuses_to_count_sign_ins_per_worker(monkeypatch, tmp_path):
    """With the in-process counter and four workers, 33 of 40 guesses got through."""
    _production(monkeypatch)
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        load(tmp_path)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        load(tmp_path)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://redis.internal:6379/0")
    assert load(tmp_path)["RATELIMIT_STORAGE_URI"] == "redis://redis.internal:6379/0"


def test_a_single_worker_may_choose_memory_and_is_warned_at_start_up(monkeypatch, tmp_path,
                                                                    caplog):
    from portal import create_app

    _production(monkeypatch)
    monkeypatch.setenv("RATELIMIT_ALLOW_MEMORY", "1")
    assert load(tmp_path)["RATELIMIT_STORAGE_URI"] == "memory://"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    caplog.set_level("WARNING", logger="portal")
    create_app()
    assert "RATELIMIT_STORAGE_URI" in caplog.text and "each worker" in caplog.text


def test_development_and_testing_may_count_in_memory(monkeypatch, tmp_path):
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.setenv("PORTAL_ENV", "development")
    assert load(tmp_path)["RATELIMIT_STORAGE_URI"] == "memory://"


def _production_with_store(monkeypatch):
    _production(monkeypatch)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")


def test_production_refuses_to_start_without_an_audit_key(monkeypatch, tmp_path):
    _production_with_store(monkeypatch)
    monkeypatch.delenv("AUDIT_KEY")
    with pytest.raises(ConfigError, match="AUDIT_KEY"):
        load(tmp_path)
    monkeypatch.setenv("AUDIT_KEY", "short")
    with pytest.raises(ConfigError, match="AUDIT_KEY"):
        load(tmp_path)


def test_production_refuses_to_start_without_a_checkpoint_key(monkeypatch, tmp_path):
    _production_with_store(monkeypatch)
    monkeypatch.delenv("CHECKPOINT_KEY")
    with pytest.raises(ConfigError, match="CHECKPOINT_KEY"):
        load(tmp_path)
    monkeypatch.setenv("CHECKPOINT_KEY", "not a key")
    with pytest.raises(ConfigError, match="not an Ed25519 private key"):
        load(tmp_path)
    monkeypatch.setenv("CHECKPOINT_KEY", base64.b64encode(b"short").decode())
    with pytest.raises(ConfigError, match="32 bytes"):
        load(tmp_path)


def test_the_checkpoint_key_may_be_a_pem_file(monkeypatch, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _production_with_store(monkeypatch)
    monkeypatch.delenv("CHECKPOINT_KEY")
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    (tmp_path / "cp.pem").write_bytes(pem)
    monkeypatch.setenv("CHECKPOINT_KEY_FILE", str(tmp_path / "cp.pem"))
    assert load(tmp_path)["CHECKPOINT_KEY"] == pem.decode()
    monkeypatch.setenv("CHECKPOINT_KEY_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigError, match="cannot be read"):
        load(tmp_path)


def test_development_makes_and_keeps_its_audit_keys(monkeypatch, tmp_path):
    for name in ("AUDIT_KEY", "CHECKPOINT_KEY", "CHECKPOINT_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_ENV", "development")
    first = load(tmp_path)
    again = load(tmp_path)
    assert first["AUDIT_KEY"] == again["AUDIT_KEY"] and len(first["AUDIT_KEY"]) > 30
    assert first["CHECKPOINT_KEY"] == again["CHECKPOINT_KEY"]
    assert "PRIVATE KEY" in first["CHECKPOINT_KEY"]
    for name in ("dev-audit-key", "dev-checkpoint-key.pem"):
        assert (tmp_path / name).stat().st_mode & 0o077 == 0


def test_postgresql_connections_switch_off_jit(monkeypatch, tmp_path):
    """JIT compiling cost the leader's home 5.3 s at national scale for 0.1 s of work."""
    monkeypatch.setenv("PORTAL_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    options = load(tmp_path)["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True
    assert "-c jit=off" in options["connect_args"]["options"]
    assert "-c random_page_cost=1.1" in options["connect_args"]["options"]
    monkeypatch.delenv("DATABASE_URL")
    assert "options" not in load(tmp_path)["SQLALCHEMY_ENGINE_OPTIONS"].get("connect_args", {})


def test_the_portals_postgresql_sessions_run_without_jit(app):
    from sqlalchemy import text

    from portal.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL only")
        assert db.session.execute(text("SHOW jit")).scalar() == "off"
        assert db.session.execute(text("SHOW random_page_cost")).scalar() == "1.1"
