"""Sessions and requests (issue 6, item 3): CSRF refusal, no state change by GET, security headers."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD, build_app



@pytest.fixture(scope="module")
def csrf_app(database_url):
    return build_app(database_url, WTF_CSRF_ENABLED=True)


def _token(client, url="/login/"):
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _count(table):
    from app.extensions import db

    return db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))


def _signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def _login_with_token(client, username="admin"):
    token = _token(client)
    client.post("/login/", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert _signed_in(client)


def test_sign_in_without_a_token_is_refused(csrf_app):
    client = csrf_app.test_client()
    response = client.post("/login/", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 400
    assert not _signed_in(client)


def test_a_post_without_a_token_is_refused_and_changes_nothing(csrf_app):
    client = csrf_app.test_client()
    _login_with_token(client)
    before = _count("opd")
    response = client.post("/opdview/add", data={"code": "CSRF", "name": "Serangan", "kind": "dinas",
                                                 "active": "y"})
    assert response.status_code == 400
    assert _count("opd") == before
    # With the page's token the same form works: the refusal was the token, nothing else.
    token = _token(client, "/opdview/add")
    client.post("/opdview/add", data={"code": "CSRF", "name": "Dengan token", "kind": "dinas", "active": "y",
                                      "csrf_token": token})
    assert _count("opd") == before + 1


def test_sign_out_without_a_token_is_refused(csrf_app):
    client = csrf_app.test_client()
    _login_with_token(client, "validator")
    assert client.post("/logout/").status_code == 400
    assert _signed_in(client)
    assert client.get("/logout/").status_code == 200  # a confirmation page, not a sign-out
    assert _signed_in(client)
    client.post("/logout/", data={"csrf_token": _token(client, "/logout/")})
    assert not _signed_in(client)


@pytest.mark.parametrize("use_csrf_app", [True, False], ids=["csrf-app", "test-app"])
def test_delete_and_actions_by_get_no_longer_work(use_csrf_app, csrf_app, app, auth):
    """FAB serves /<view>/delete/<pk> and /<view>/action/<name>/<pk> on GET too (FAB-NOTES #1)."""
    from datetime import date

    from app.extensions import db
    from app.models import NonWorkingDay, Staff

    db.session.add(NonWorkingDay(day=date(2026, 12, 24), description="Cuti bersama"))
    db.session.commit()
    row_id = db.session.scalar(sa.select(NonWorkingDay.id))
    client = (csrf_app if use_csrf_app else app).test_client()
    if use_csrf_app:
        _login_with_token(client)
    else:
        auth_client = auth._client
        auth.login("admin")
        client = auth_client
    client.get(f"/nonworkingdayview/delete/{row_id}")
    assert _count("non_working_day") == 1

    from datetime import datetime

    from app.models import SignInThrottle

    target = db.session.scalar(sa.select(Staff.id).where(Staff.username == "validator2"))
    db.session.add(SignInThrottle(user_id=target, ip="10.9.9.9", failures=0, locked_until=datetime(2099, 1, 1)))
    db.session.commit()
    client.get(f"/users/action/unlock/{target}")
    db.session.expire_all()
    assert db.session.get(SignInThrottle, (target, "10.9.9.9")).locked_until is not None


def test_api_sign_in_needs_no_csrf_token(csrf_app):
    """FAB's JSON API authenticates by JWT and is exempt from CSRF (FAB-NOTES #1)."""
    response = csrf_app.test_client().post("/api/v1/security/login", json={
        "username": "pimpinan", "password": PASSWORD, "provider": "db"})
    assert response.status_code == 200 and "access_token" in response.get_json()


# --------------------------------------------------------------------------- headers

ALLOWED_SOURCES = {"'self'", "'none'", "data:"}


def _check_headers(response, url):
    response.get_data()  # consume streamed exports (CSV) so their context closes in order
    response.close()
    assert response.headers.get("X-Content-Type-Options") == "nosniff", url
    assert response.headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", url
    assert response.headers.get("X-Frame-Options") == "DENY", url
    csp = response.headers.get("Content-Security-Policy", "")
    directives = dict((part.split()[0], part.split()[1:]) for part in csp.split(";") if part.strip())
    assert directives.get("frame-ancestors") == ["'none'"], (url, csp)
    assert directives.get("default-src") == ["'self'"], (url, csp)
    for name, sources in directives.items():
        for source in sources:
            ok = source in ALLOWED_SOURCES or source.startswith("'nonce-") or (
                name == "style-src" and source == "'unsafe-inline'")
            assert ok, f"{url}: {name} allows {source} (only our own origin may serve content)"
    assert "'unsafe-inline'" not in directives.get("script-src", []), url


def _plain_get_urls(app):
    """Every GET route without URL parameters: public pages, staff pages, APIs."""
    return sorted({r.rule for r in app.url_map.iter_rules()
                   if "GET" in r.methods and not r.arguments and not r.rule.startswith("/static")})


def test_security_headers_on_every_public_page(app):
    client = app.test_client()
    urls = _plain_get_urls(app)
    assert "/login/" in urls and "/health" in urls
    for url in urls:
        _check_headers(client.get(url), url)


def test_security_headers_on_every_staff_page(app, client, auth):
    auth.login("admin")
    for url in _plain_get_urls(app):
        if url == "/logout/":
            continue
        _check_headers(client.get(url), url)
    for url in ("/staf/", "/users/list/"):
        page = client.get(url)
        nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"]).group(1)
        # Every script tag on the page carries the nonce of this response (else the browser drops it).
        scripts = re.findall(r"<script\b([^>]*)>", page.get_data(as_text=True))
        assert scripts and all(f'nonce="{nonce}"' in attrs for attrs in scripts), url


def test_session_cookie_flags(app, client):
    response = client.post("/login/", data={"username": "validator", "password": PASSWORD})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.permanent_session_lifetime.total_seconds() == 8 * 3600


@pytest.fixture
def https_app(database_url):
    # The Talisman object is shared by every app (app/extensions.py) and keeps the options of the last
    # init_app: give the session app its own options back afterwards.
    from app.extensions import talisman

    saved = dict(vars(talisman))
    yield build_app(database_url, HTTPS=True, SESSION_COOKIE_SECURE=True)
    vars(talisman).clear()
    vars(talisman).update(saved)


def test_secure_cookies_and_https_redirect_when_configured(https_app, app):
    client = https_app.test_client()
    response = client.get("/login/")
    assert response.status_code == 302 and response.headers["Location"].startswith("https://")
    response = client.get("/login/", base_url="https://localhost")
    assert "max-age" in response.headers.get("Strict-Transport-Security", "")
    response = client.post("/login/", base_url="https://localhost",
                           data={"username": "validator", "password": PASSWORD})
    assert "Secure" in response.headers.get("Set-Cookie", "")
