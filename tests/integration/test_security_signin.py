"""Sign-in hardening (issue 6, item 2): lockout (per account and client address, issue 11) with timed
and admin unlock, rate limits on the form and the API sign-in, the password policy on every path,
deactivated accounts, POST-only sign-out. The stranger who cannot lock a validator out, and sessions
that end, are in test_security_lockout.py and test_security_sessions.py."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine

from tests.conftest import PASSWORD, build_app



def _user(username):
    from app.extensions import db
    from app.models import Staff

    db.session.expire_all()
    return db.session.scalar(sa.select(Staff).where(Staff.username == username))


def _audit(kind, action, username=None):
    from app.extensions import db
    from app.models import AuditLog

    query = sa.select(AuditLog).where(AuditLog.kind == kind, AuditLog.action == action)
    if username:
        query = query.where(AuditLog.username == username)
    return db.session.scalars(query.order_by(AuditLog.id)).all()


def _locked(username, address="127.0.0.1") -> bool:
    from app.services.security import is_locked

    return is_locked(_user(username), address)


def _signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def _login(client, username, password=PASSWORD, **kw):
    return client.post("/login/", data={"username": username, "password": password}, **kw)


# --------------------------------------------------------------------------- lockout


def test_lockout_after_max_failures_then_timed_unlock(app, client):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit - 1):
        _login(client, "validator", "salah-kata-sandi-123")
    assert not _locked("validator")
    response = _login(client, "validator", "salah-kata-sandi-123", follow_redirects=True)
    assert "akun sedang terkunci" in response.get_data(as_text=True)  # one message for every refusal
    assert _locked("validator")
    rows = _audit("auth", "lockout", "validator")
    assert len(rows) == 1 and f'"failures": {limit}' in rows[0].detail and rows[0].ip == "127.0.0.1"

    # The right password does not open a locked account, and the attempt is logged.
    _login(client, "validator")
    assert not _signed_in(client)
    assert len(_audit("auth", "login.locked", "validator")) == 1
    # …nor does the API.
    assert client.post("/api/v1/security/login", json={"username": "validator", "password": PASSWORD,
                                                       "provider": "db"}).status_code == 401

    later = datetime.now(timezone.utc) + timedelta(minutes=app.config["LOGIN_LOCKOUT_MINUTES"] + 1)
    with time_machine.travel(later, tick=False):
        _login(client, "validator")
        assert _signed_in(client)


def test_a_timed_unlock_gives_a_fresh_set_of_tries(app, client):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        _login(client, "pimpinan", "salah-kata-sandi-123")
    later = datetime.now(timezone.utc) + timedelta(minutes=app.config["LOGIN_LOCKOUT_MINUTES"] + 1)
    with time_machine.travel(later, tick=False):
        _login(client, "pimpinan", "salah-kata-sandi-123")  # one more failure does not re-lock at once
        _login(client, "pimpinan")
        assert _signed_in(client)


def test_admin_unlocks_from_the_user_screen(app, client, auth):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _login(client, "opd.dinkes", "salah-kata-sandi-123")
    target = _user("opd.dinkes")
    assert _locked("opd.dinkes")

    auth.login("admin")
    page = client.get(f"/users/show/{target.id}")
    assert page.status_code == 200 and "Buka kunci akun" in page.get_data(as_text=True)
    response = client.post(f"/users/action/unlock/{target.id}", follow_redirects=True)
    assert response.status_code == 200
    assert not _locked("opd.dinkes")
    row = _audit("auth", "unlock")[-1]
    assert row.username == "admin" and '"username": "opd.dinkes"' in row.detail

    other = app.test_client()
    _login(other, "opd.dinkes")
    assert _signed_in(other)


def test_only_admin_may_unlock(app, client, auth):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _login(app.test_client(), "validator2", "salah-kata-sandi-123")
    target = _user("validator2")
    auth.login("pimpinan")
    client.post(f"/users/action/unlock/{target.id}")
    assert _locked("validator2")


# --------------------------------------------------------------------------- rate limits


@pytest.fixture(scope="module")
def limited_app(database_url):
    # The shared Flask-Limiter object (app/extensions.py) takes `enabled` from the last app it was
    # initialised with: give the session app its setting back afterwards.
    from app.extensions import limiter

    was_enabled = limiter.enabled
    yield build_app(database_url, RATELIMIT_ENABLED=True, AUTH_RATE_LIMIT="3 per minute")
    limiter.enabled = was_enabled


def test_form_sign_in_is_limited_per_address(limited_app):
    client = limited_app.test_client()
    codes = [_login(client, f"tidak-ada-{i}", "salah-kata-sandi-123",
                    environ_base={"REMOTE_ADDR": "10.1.0.1"}).status_code for i in range(4)]
    assert codes[:3] == [302, 302, 302] and codes[3] == 429
    # Another address is not affected.
    assert _login(client, "tidak-ada-x", "salah", environ_base={"REMOTE_ADDR": "10.1.0.2"}).status_code == 302


def test_there_is_no_limit_per_username_that_a_stranger_could_use(limited_app):
    """A limit per username would refuse the account holder everywhere once strangers used it up."""
    client = limited_app.test_client()
    codes = [_login(client, "validator", "salah-kata-sandi-123",
                    environ_base={"REMOTE_ADDR": f"10.2.0.{i}"}).status_code for i in range(4)]
    assert codes == [302, 302, 302, 302]
    assert _login(client, "validator", environ_base={"REMOTE_ADDR": "10.2.0.99"}).status_code == 302
    with client.session_transaction() as session:
        assert "_user_id" in session


def test_api_sign_in_is_limited_per_address(limited_app):
    client = limited_app.test_client()

    def api(username, ip):
        return client.post("/api/v1/security/login", environ_base={"REMOTE_ADDR": ip},
                           json={"username": username, "password": "salah-kata-sandi-123", "provider": "db"})

    assert [api(f"nobody-{i}", "10.3.0.1").status_code for i in range(4)] == [401, 401, 401, 429]
    assert [api("someone", f"10.4.0.{i}").status_code for i in range(4)] == [401, 401, 401, 401]


# --------------------------------------------------------------------------- password policy


def test_staff_create_on_the_command_line_refuses_a_weak_password(runner):
    result = runner.invoke(args=["staff", "create", "--username", "budi.admin", "--email", "budi@uji.go.id",
                                 "--password", "budi.admin1"])
    assert result.exit_code != 0
    assert "minimal 12 karakter" in result.output
    assert "nama pengguna" in result.output
    result = runner.invoke(args=["staff", "create", "--username", "budi.admin", "--email", "budi@uji.go.id",
                                 "--password", "indonesia123"])
    assert result.exit_code != 0 and "terlalu umum" in result.output
    assert _user("budi.admin") is None
    result = runner.invoke(args=["staff", "create", "--username", "budi.admin", "--email", "budi@uji.go.id",
                                 "--password", "kopi-tubruk-senduro-77"])
    assert result.exit_code == 0, result.output
    assert _user("budi.admin") is not None


def _role_pk(name):
    from app.extensions import db

    return str(db.session.scalar(sa.text("SELECT id FROM ab_role WHERE name = :n"), {"n": name}))


def _opd_pk(code):
    from app.extensions import db

    return str(db.session.scalar(sa.text("SELECT id FROM opd WHERE code = :c"), {"c": code}))


def _add_user(client, **changes):
    data = {"first_name": "Rina", "last_name": "Uji", "username": "rina.opd", "active": "y",
            "email": "rina@uji.go.id", "roles": [_role_pk("Admin OPD")], "opd": _opd_pk("DPUTR"),
            "password": "kopi-tubruk-senduro-77", "conf_password": "kopi-tubruk-senduro-77"}
    data.update(changes)
    return client.post("/users/add", data=data, follow_redirects=True)


def test_add_user_form_applies_the_password_policy_including_the_username(client, auth):
    auth.login("admin")
    page = _add_user(client, password="rina.opd-2026-lumajang", conf_password="rina.opd-2026-lumajang")
    assert "tidak boleh memuat nama pengguna" in page.get_data(as_text=True)
    page = _add_user(client, password="pendek", conf_password="pendek")
    assert "minimal 12 karakter" in page.get_data(as_text=True)
    assert _user("rina.opd") is None
    _add_user(client)
    assert _user("rina.opd") is not None


def test_an_admin_opd_account_cannot_be_saved_without_an_opd(client, auth):
    auth.login("admin")
    page = _add_user(client, opd="")
    assert "Akun Admin OPD wajib memiliki OPD" in page.get_data(as_text=True)
    assert _user("rina.opd") is None
    target = _user("opd.dputr")
    page = client.post(f"/users/edit/{target.id}", follow_redirects=True, data={
        "first_name": "Dputr", "last_name": "Uji", "username": "opd.dputr", "active": "y",
        "email": "opd.dputr@uji.go.id", "roles": [_role_pk("Admin OPD")], "opd": ""})
    assert "Akun Admin OPD wajib memiliki OPD" in page.get_data(as_text=True)
    assert _user("opd.dputr").opd_id is not None
    # Other roles need no OPD.
    _add_user(client, username="rina.val", email="rinav@uji.go.id", roles=[_role_pk("Validator")], opd="")
    assert _user("rina.val") is not None


@pytest.mark.parametrize("changes,message", [
    ({"roles": ["999999"]}, "Pilihan tidak sah"),  # FAB dropped it and saved an account without a role
    ({"roles": [None, "999999"]}, "Pilihan tidak sah"),  # a real role beside it: still refused, whole
    ({"opd": "999999"}, "Pilihan tidak sah"),  # FAB saved the account without its OPD
    ({"roles": []}, "Pilih minimal satu peran"),
])
def test_the_user_form_refuses_unknown_choices_and_an_account_without_a_role(client, auth, changes, message):
    auth.login("admin")
    changes = {k: [_role_pk("Validator") if v is None else v for v in vs] if k == "roles" else vs
               for k, vs in changes.items()}
    page = _add_user(client, **changes)
    assert message in page.get_data(as_text=True)
    assert _user("rina.opd") is None
    target = _user("opd.dputr")
    roles_before, opd_before = sorted(r.name for r in target.roles), target.opd_id
    page = client.post(f"/users/edit/{target.id}", follow_redirects=True, data={
        "first_name": "Dputr", "last_name": "Uji", "username": "opd.dputr", "active": "y",
        "email": "opd.dputr@uji.go.id", "roles": [_role_pk("Admin OPD")], "opd": _opd_pk("DPUTR"), **changes})
    assert message in page.get_data(as_text=True)
    target = _user("opd.dputr")
    assert sorted(r.name for r in target.roles) == roles_before and target.opd_id == opd_before


def test_reset_password_forms_apply_the_policy(app, client, auth):
    from app.services.accounts import create_staff

    # A throw-away account: the seeded ones keep PASSWORD for the tests that follow.
    create_staff(username="sementara", email="sementara@uji.go.id", first_name="Semen", last_name="Tara",
                 role="Validator", password=PASSWORD)
    auth.login("admin")
    target = _user("sementara")
    page = client.post(f"/resetpassword/form?pk={target.id}", follow_redirects=True,
                       data={"password": "sementara-lumajang", "conf_password": "sementara-lumajang"})
    assert "tidak boleh memuat nama pengguna" in page.get_data(as_text=True)
    before = _user("sementara").password
    assert before == target.password
    client.post(f"/resetpassword/form?pk={target.id}",
                data={"password": "kopi-tubruk-senduro-77", "conf_password": "kopi-tubruk-senduro-77"})
    assert _user("sementara").password != before

    own = app.test_client()
    _login(own, "pimpinan")
    page = own.post("/resetmypassword/form", follow_redirects=True,
                    data={"password": "pimpinan-kabupaten", "conf_password": "pimpinan-kabupaten"})
    assert "tidak boleh memuat nama pengguna" in page.get_data(as_text=True)
    page = own.post("/resetmypassword/form", follow_redirects=True,
                    data={"password": "password1234", "conf_password": "password1234"})
    assert "terlalu umum" in page.get_data(as_text=True)


# --------------------------------------------------------------------------- sessions


def test_a_deactivated_account_loses_access_at_its_next_request(app, client, auth):
    from app.extensions import db

    auth.login("admin")
    assert client.get("/opdview/list/").status_code == 200
    api = app.test_client()
    token = api.post("/api/v1/security/login", json={"username": "admin", "password": PASSWORD,
                                                      "provider": "db"}).get_json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/menu/", headers=bearer).status_code == 200

    db.session.execute(sa.text("UPDATE ab_user SET active = :f WHERE username = 'admin'"), {"f": False})
    db.session.commit()

    response = client.get("/opdview/list/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert api.get("/api/v1/menu/", headers=bearer).status_code == 401


def test_sign_out_is_a_post_never_a_get(client, auth):
    auth.login("validator")
    page = client.get("/logout/")
    assert page.status_code == 200 and 'method="post"' in page.get_data(as_text=True)
    assert _signed_in(client)
    client.post("/logout/")
    assert not _signed_in(client)
    # The navbar offers a form, not a link.
    auth.login("validator")
    home = client.get("/staf/").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/logout/"', home)
    assert 'href="/logout/"' not in home
