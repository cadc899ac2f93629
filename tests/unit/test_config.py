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


def test_production_cookies_are_secure(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
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
