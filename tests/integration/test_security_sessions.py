"""Sessions end when they should, and pages with personal data are not cached (issue 11, items 7-8).

A signed cookie cannot be deleted on the server; what ends it is the account's session version (and,
for a lockout, the address it signed in from). Each test copies a signed-in browser's cookie to a
second browser, as someone who stole it would, then checks that the copy stops working."""

from __future__ import annotations

import sqlalchemy as sa

from app import services
from app.extensions import db
from app.models import Staff
from tests.conftest import PASSWORD
from flask.testing import FlaskClient

from tests.integration.opd_support import routed

VALIDATOR_PAGE = "/staf/validasi/"
NEW_PASSWORD = "kopi-tubruk-senduro-77"


def _browser(app, address="127.0.0.1") -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _sign_in(app, username, address="127.0.0.1", password=PASSWORD) -> FlaskClient:
    client = _browser(app, address)
    response = client.post("/login/", data={"username": username, "password": password})
    assert response.status_code == 302 and "/login/" not in response.headers["Location"], username
    return client


def _copy(app, client, address=None) -> FlaskClient:
    """A second browser holding a copy of `client`'s session cookie."""
    name = app.config["SESSION_COOKIE_NAME"]
    other = _browser(app, address or client.environ_base["REMOTE_ADDR"])
    other.set_cookie(name, client.get_cookie(name).value)
    return other


def _at_login(response) -> bool:
    return response.status_code == 302 and "/login/" in response.headers["Location"]


def _user(username) -> Staff:
    db.session.expire_all()
    return db.session.scalar(sa.select(Staff).where(Staff.username == username))


def _token(app, username, address="127.0.0.1", password=PASSWORD, refresh=False) -> dict:
    body = {"username": username, "password": password, "provider": "db", "refresh": refresh}
    answer = _browser(app, address).post("/api/v1/security/login", json=body).get_json()
    return answer


def _throwaway(username, role="Validator") -> str:
    """An account of its own for a test that changes a password: the seeded ones keep PASSWORD."""
    from app.services.accounts import create_staff

    create_staff(username=username, email=f"{username}@uji.go.id", first_name="Sementara", last_name="Uji",
                 role=role, password=PASSWORD)
    return username


def _bearer(token) -> dict:
    return {"Authorization": f"Bearer {token}"}


# --------------------------------------------------------------------------- item 8: sessions end


def test_sign_out_ends_a_copied_session_and_the_accounts_api_tokens(app):
    first = _sign_in(app, "validator")
    copy = _copy(app, first)
    assert copy.get(VALIDATOR_PAGE).status_code == 200  # the copy works like the original…
    token = _token(app, "validator")["access_token"]
    api = _browser(app)
    assert api.get("/api/v1/complaint/", headers=_bearer(token)).status_code == 200

    first.post("/logout/")
    assert _at_login(first.get(VALIDATOR_PAGE))
    assert _at_login(copy.get(VALIDATOR_PAGE))  # …until the owner signs out
    assert api.get("/api/v1/complaint/", headers=_bearer(token)).status_code == 401
    # Signing in again gives a new, working session.
    again = _sign_in(app, "validator")
    assert again.get(VALIDATOR_PAGE).status_code == 200
    assert _at_login(copy.get(VALIDATOR_PAGE))


def test_a_password_change_ends_the_other_sessions_but_keeps_this_one(app):
    name = _throwaway("ganti.sandi")
    here = _sign_in(app, name)
    copy = _copy(app, here)
    token = _token(app, name)["access_token"]
    page = here.post("/resetmypassword/form", data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert page.status_code == 302
    assert here.get(VALIDATOR_PAGE).status_code == 200  # the browser that changed it stays signed in
    assert _at_login(copy.get(VALIDATOR_PAGE))
    assert _browser(app).get("/api/v1/complaint/", headers=_bearer(token)).status_code == 401
    assert _sign_in(app, name, password=NEW_PASSWORD).get(VALIDATOR_PAGE).status_code == 200


def test_an_admin_password_reset_ends_the_accounts_sessions(app):
    name = _throwaway("reset.admin")
    target = _sign_in(app, name)
    copy = _copy(app, target)
    admin = _sign_in(app, "admin")
    user_id = _user(name).id
    response = admin.post(f"/resetpassword/form?pk={user_id}",
                          data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert _at_login(target.get(VALIDATOR_PAGE)) and _at_login(copy.get(VALIDATOR_PAGE))
    assert admin.get("/users/list/").status_code == 200  # the admin's own session is untouched


def test_a_password_reset_on_the_command_line_ends_the_accounts_sessions(app):
    from flask_appbuilder.cli import fab  # not on app.cli in a test runner (FAB-NOTES #16)

    name = _throwaway("reset.cli")
    browser = _sign_in(app, name)
    copy = _copy(app, browser)
    result = app.test_cli_runner().invoke(fab, ["reset-password", "--username", name,
                                                "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert _at_login(browser.get(VALIDATOR_PAGE)) and _at_login(copy.get(VALIDATOR_PAGE))


def test_deactivation_ends_the_sessions_for_good(app):
    browser = _sign_in(app, "validator")
    copy = _copy(app, browser)
    token = _token(app, "validator")["access_token"]
    admin = _sign_in(app, "admin")
    user = _user("validator")
    form = {"first_name": user.first_name, "last_name": user.last_name, "username": user.username,
            "email": user.email, "roles": [str(r.id) for r in user.roles]}
    assert admin.post(f"/users/edit/{user.id}", data=form).status_code == 302  # "active" left unticked
    assert _user("validator").active is False
    assert _at_login(copy.get(VALIDATOR_PAGE))
    # Reactivated later, the account starts afresh: the old cookie and token stay dead.
    assert admin.post(f"/users/edit/{user.id}", data={**form, "active": "y"}).status_code == 302
    assert _user("validator").active is True
    assert _at_login(browser.get(VALIDATOR_PAGE)) and _at_login(copy.get(VALIDATOR_PAGE))
    assert _browser(app).get("/api/v1/complaint/", headers=_bearer(token)).status_code == 401
    assert _sign_in(app, "validator").get(VALIDATOR_PAGE).status_code == 200


def _fail(app, username, address, times):
    stranger = _browser(app, address)
    for _ in range(times):
        stranger.post("/login/", data={"username": username, "password": "salah-kata-sandi-123"})
    return stranger


def test_a_lockout_ends_the_sessions_opened_from_the_locked_address_only(app):
    here = _sign_in(app, "validator", "10.20.0.1")
    copy = _copy(app, here)
    elsewhere = _sign_in(app, "validator", "10.20.0.2")
    token_here = _token(app, "validator", "10.20.0.1")["access_token"]
    token_elsewhere = _token(app, "validator", "10.20.0.2")["access_token"]

    _fail(app, "validator", "10.20.0.1", app.config["LOGIN_MAX_FAILURES"])
    assert _at_login(here.get(VALIDATOR_PAGE)) and _at_login(copy.get(VALIDATOR_PAGE))
    assert _browser(app).get("/api/v1/complaint/", headers=_bearer(token_here)).status_code == 401
    # Failures from one address cannot throw the validator out everywhere.
    assert elsewhere.get(VALIDATOR_PAGE).status_code == 200
    assert _browser(app).get("/api/v1/complaint/", headers=_bearer(token_elsewhere)).status_code == 200
    # An unlock lets the address sign in again, but the sessions it ended stay ended.
    services_unlock(app)
    assert _at_login(copy.get(VALIDATOR_PAGE))
    assert _sign_in(app, "validator", "10.20.0.1").get(VALIDATOR_PAGE).status_code == 200


def services_unlock(app):
    from app.services import Actor
    from app.services.security import unlock

    with app.test_request_context():
        unlock([_user("validator").id], Actor.from_user(_user("admin")))


def test_a_refresh_token_ends_with_its_sessions(app):
    tokens = _token(app, "validator", refresh=True)
    api = _browser(app)
    refreshed = api.post("/api/v1/security/refresh", headers=_bearer(tokens["refresh_token"]))
    assert refreshed.status_code == 200
    fresh_token = refreshed.get_json()["access_token"]
    assert api.get("/api/v1/complaint/", headers=_bearer(fresh_token)).status_code == 200

    _sign_in(app, "validator").post("/logout/")
    assert api.post("/api/v1/security/refresh", headers=_bearer(tokens["refresh_token"])).status_code == 401
    assert api.get("/api/v1/complaint/", headers=_bearer(fresh_token)).status_code == 401


# --------------------------------------------------------------------------- item 7: no caching


def _no_store(response) -> bool:
    response.get_data()
    return "no-store" in response.headers.get("Cache-Control", "")


def test_staff_pages_and_api_answers_with_personal_data_are_not_cached(app, submission, actor):
    waiting = services.submit(submission()).complaint
    answered = routed(submission, actor)
    validator = _sign_in(app, "validator")
    check = validator.get(f"/staf/validasi/{waiting.id}")
    assert check.status_code == 200 and "3508011203900001" in check.get_data(as_text=True)  # the full NIK…
    assert _no_store(check)  # …is never kept by a browser or proxy cache
    assert _no_store(validator.get(VALIDATOR_PAGE))

    desk = _sign_in(app, "opd.dinkes")
    assert desk.get(f"/staf/opd/{answered.id}").status_code == 200
    assert _no_store(desk.get(f"/staf/opd/{answered.id}"))
    export = desk.get("/staf/opd/ekspor.csv")
    assert export.status_code == 200 and _no_store(export)

    supervisor = _sign_in(app, "pimpinan")
    history = supervisor.get("/riwayat/csv")
    assert history.status_code == 200 and _no_store(history)
    recap = supervisor.get("/rekap/csv")
    assert recap.status_code == 200 and _no_store(recap)

    token = _token(app, "validator")["access_token"]
    detail = _browser(app).get(f"/api/v1/complaint/{waiting.id}", headers=_bearer(token))
    assert detail.status_code == 200 and _no_store(detail)
    assert _no_store(_browser(app).get("/api/v1/complaint/"))  # refused API answers too
    assert _no_store(_browser(app).get("/login/"))


def test_a_signed_in_staff_user_gets_no_cached_pages_anywhere_and_citizens_are_left_alone(app):
    staff = _sign_in(app, "pimpinan")
    assert _no_store(staff.get("/pengaduan/"))
    citizen = _browser(app).get("/pengaduan/")
    assert citizen.status_code == 200 and not _no_store(citizen)  # caching of public pages is the portal's
