"""The app factory, /health, and two apps in one process (FAB-NOTES #3)."""

import pytest

from config import ConfigError, build_config


def test_health_reports_the_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"


def test_login_page_is_served(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.data


def test_a_second_app_in_the_same_process_still_serves_login(app, database_url):
    from tests.conftest import build_app

    second = build_app(database_url)
    assert second is not app
    assert second.appbuilder is not app.appbuilder
    with second.test_client() as c:
        assert c.get("/login/").status_code == 200
        assert c.get("/health").get_json()["database"] == "ok"
    # …and the first one keeps working.
    assert app.test_client().get("/login/").status_code == 200


def test_missing_secret_outside_demo_mode_is_a_clear_startup_error(monkeypatch):
    monkeypatch.setenv("APP_MODE", "production")
    for name in ("SECRET_KEY", "NIK_ENCRYPTION_KEY", "NIK_HMAC_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as err:
        build_config()
    assert "SECRET_KEY" in str(err.value) and "NIK_ENCRYPTION_KEY" in str(err.value)


def test_production_mode_with_secrets_builds(monkeypatch):
    import secrets

    from cryptography.fernet import Fernet

    secret = secrets.token_urlsafe(48)
    monkeypatch.setenv("APP_MODE", "production")
    monkeypatch.setenv("SECRET_KEY", secret)
    monkeypatch.setenv("NIK_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("NIK_HMAC_KEY", secrets.token_urlsafe(48))
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/x")
    settings = build_config()
    assert settings["SECRET_KEY"] == secret
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert settings["SIAK_MODE"] == "off"


def test_roles_are_in_the_database_and_sync_is_idempotent(app, runner):
    from app.extensions import db
    from app.security import ROLE_PERMISSIONS

    sm = app.appbuilder.sm
    for role in ("Admin Sistem", "Validator", "Admin OPD", "Pimpinan", "Publik"):
        assert sm.find_role(role) is not None
    result = runner.invoke(args=["roles", "sync"])
    assert result.exit_code == 0, result.output
    assert "0 permission(s) added, 0 removed" in result.output
    for role, pairs in ROLE_PERMISSIONS.items():
        have = {(p.permission.name, p.view_menu.name) for p in sm.find_role(role.value).permissions}
        assert have == set(pairs)
    db.session.rollback()


def test_opd_import_is_idempotent(runner):
    result = runner.invoke(args=["opd", "import"])
    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated" in result.output


def test_times_are_shown_in_wib():
    from datetime import datetime

    from app.timeutil import format_wib

    assert format_wib(datetime(2026, 11, 28, 17, 30)) == "29-11-2026 00:30 WIB"
