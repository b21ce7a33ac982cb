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


def test_views_sharing_a_resource_sync_without_fab_deleting_each_others_permissions(app, runner, caplog):
    """The desk screens and their REST API share resources ("can_decide on Complaint"): a sync registers
    the union for each, so FAB neither tries to delete the other's permissions nor logs that it refused."""
    import logging

    from app.extensions import db

    with caplog.at_level(logging.WARNING, logger="flask_appbuilder"):
        result = runner.invoke(args=["roles", "sync"])
    assert result.exit_code == 0, result.output
    assert not [r for r in caplog.records if "Refused to delete permission view" in r.getMessage()]
    sm = app.appbuilder.sm
    for permission, resource in (("can_decide", "Complaint"), ("can_export", "Recap"), ("can_export", "HistoryLog")):
        assert sm.find_permission_view_menu(permission, resource) is not None, (permission, resource)
    db.session.rollback()


def test_opd_import_is_idempotent(runner):
    result = runner.invoke(args=["opd", "import"])
    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated" in result.output


def test_times_are_shown_in_wib():
    from datetime import datetime

    from app.timeutil import format_wib

    assert format_wib(datetime(2026, 11, 28, 17, 30)) == "29-11-2026 00:30 WIB"


# --------------------------------------------------------------------------- the test harness itself


def test_each_request_runs_in_its_own_context_so_two_clients_are_two_people(app, client, auth):
    """What production does (one app context per request) holds in tests too: nothing a request caches
    in `g` (Flask-Login's user, FAB's g.user) survives it, and a second client is not signed in."""
    from flask import g

    auth.login("admin")
    assert client.get("/riwayat/").status_code == 200
    assert "_login_user" not in g and "user" not in g
    stranger = app.test_client()
    refused = stranger.get("/riwayat/")
    assert refused.status_code == 302 and "/login/" in refused.headers["Location"]


def test_an_object_the_test_holds_is_read_again_after_a_request(app, client, auth, submission):
    from app.extensions import db
    from app.models import Complaint
    from app.services import submit

    complaint = submit(submission()).complaint
    assert complaint.state.value == "menunggu_verifikasi"
    auth.login("validator")
    client.get(f"/staf/validasi/{complaint.id}")
    decided = client.post(f"/staf/validasi/{complaint.id}/keputusan",
                          data={"decision": "tidak_valid", "remark": "NIK tidak terdaftar.",
                                "version": db.session.get(Complaint, complaint.id).version})
    assert decided.status_code == 302
    # The request committed in a session of its own; the test's copy is not left stale.
    assert complaint.state.value == "tidak_valid"


def test_with_client_keeps_the_last_request_for_inspection(client):
    from flask import request

    with client:
        client.get("/health")
        assert request.path == "/health"
        client.get("/login/")
        assert request.path == "/login/"
