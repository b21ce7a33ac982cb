"""Error pages (issue 16, item 3): 400, 403, 404, 405, 413, 429, 500 and 503, on staff screens in the staff
layout and on public pages in the portal's layout, in the chosen language, saying what happened and where to
go; never a stack trace nor Werkzeug's English page; the 429 page says when to try again.

Each status is reached the way a person reaches it (a control character in a query, a desk of another role,
an unknown address, a GET on a POST-only form, a too large body, too many sign-ins); 500 and 503 come from a
route of this module's own app that fails (an error in the code, the database gone)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import time_machine
from flask import abort

from tests.conftest import PASSWORD, build_app, text_of
from tests.limits_support import limits_on

# Werkzeug's and FAB's own English pages, and what a stack trace looks like.
RAW = ("Forbidden", "Not Found", "Method Not Allowed", "Request Entity Too Large", "Too Many Requests",
       "Internal Server Error", "Service Unavailable", "Bad Request", "Traceback", "sqlalchemy", "RuntimeError",
       "The requested URL", "Access is Denied")

# status -> (Indonesian title, English title)
TITLES = {
    400: ("Permintaan tidak dapat diproses", "The request cannot be processed"),
    403: ("Akses ditolak", "Access denied"),
    404: ("Halaman tidak ditemukan", "Page not found"),
    405: ("Cara permintaan tidak diterima", "Request method not accepted"),
    413: ("Kiriman terlalu besar", "Submission too large"),
    429: ("Terlalu banyak permintaan", "Too many requests"),
    500: ("Terjadi kesalahan pada sistem", "Something went wrong in the system"),
    503: ("Layanan sedang tidak tersedia", "The service is temporarily unavailable"),
}
MOMENT = datetime(2026, 3, 10, 2, 0, 30, tzinfo=timezone.utc)  # 09:00:30 WIB


@pytest.fixture(scope="module")
def errors_app(app, database_url):
    """An app as in production for failures (exceptions are not propagated to the test), with the rate
    limits on, and two routes that fail: one on the staff side (/staf/…), one elsewhere."""
    from app.extensions import limiter

    was_enabled = limiter.enabled
    built = build_app(database_url, PROPAGATE_EXCEPTIONS=False, RATELIMIT_ENABLED=True,
                      RATELIMIT_STORAGE_URI="memory://", AUTH_RATE_LIMIT="2 per minute",
                      MAX_CONTENT_LENGTH=64 * 1024, UPLOAD_MAX_BYTES=32 * 1024)

    def fail(how: str):
        if how == "kode":
            raise RuntimeError("a bug with a secret in its message: 3508011203900001")
        if how == "basis-data":
            import sqlalchemy.exc

            raise sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("could not connect to server"))
        abort(503)

    built.add_url_rule("/staf/uji-galat/<how>", "staff_fail", fail)
    built.add_url_rule("/uji-galat/<how>", "public_fail", fail)
    limiter.enabled = was_enabled
    return built


@pytest.fixture
def limited(errors_app):
    with limits_on():
        yield errors_app


_ADDRESSES = iter(range(1, 250))
_HERE: dict = {}


def _client(application, lang: str, staff: str | None):
    client = application.test_client()
    # An address of its own: the sign-in limit counts per address (and the limiter's counters are shared).
    client.environ_base["REMOTE_ADDR"] = f"10.8.0.{next(_ADDRESSES)}"
    if lang == "en":
        assert client.get("/bahasa/en").status_code in (302, 303)
    if staff:
        assert client.post("/login/", data={"username": staff, "password": PASSWORD}).status_code == 302
    return client


def _reach(client, status: int, side: str):
    """The request that gives `status` on the `side` ("staff" or "public")."""
    staff = side == "staff"
    if status == 400:
        return client.get("/staf/?cari=a%01b" if staff else "/pengaduan/?q=a%01b")
    if status == 403:
        return client.get("/staf/validasi/")  # a Pimpinan on the validator's desk
    if status == 404:
        return client.get("/staf/tidak-ada" if staff else "/pengaduan/TIDAK-ADA-1")
    if status == 405:
        return client.delete("/staf/") if staff else client.get("/lacak/keluar")  # POST-only
    if status == 413:
        return client.post("/login/" if staff else "/pengaduan/baru", data={"text": "x" * (70 * 1024)})
    if status == 429:
        _HERE.update(REMOTE_ADDR=f"10.9.0.{next(_ADDRESSES)}")
        codes = [client.post("/login/", data={"username": f"tak-ada-{i}", "password": "salah-kata-sandi"},
                             environ_base=_HERE).status_code for i in range(2)]
        assert codes == [302, 302]
        return client.post("/login/", data={"username": "tak-ada-x", "password": "salah-kata-sandi"},
                           environ_base=_HERE)
    if status == 500:
        return client.get("/staf/uji-galat/kode" if staff else "/uji-galat/kode")
    if status == 503:
        return client.get("/staf/uji-galat/basis-data" if staff else "/uji-galat/layanan")
    raise AssertionError(status)


SIDES = [(status, side) for status in TITLES for side in ("staff", "public")
         if not (status == 429 and side == "public")  # the portal's 429s: test_portal_abuse.py and below
         and not (status == 403 and side == "public")]  # no public page refuses by role


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("status,side", SIDES)
def test_each_status_has_its_page_in_the_layout_and_language(limited, status, side, lang):
    with time_machine.travel(MOMENT, tick=False):
        client = _client(limited, lang, "pimpinan" if side == "staff" and status not in (413, 429) else None)
        response = _reach(client, status, side)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    page = text_of(response)
    title = TITLES[status][0 if lang == "id" else 1]
    assert re.search(r"<h[12]>\s*" + re.escape(title) + r"\s*</h[12]>", html), page[:400]
    if side == "staff":
        assert 'id="galat"' in html and "navbar" in html  # the staff layout, with its menu
        assert ("Ke beranda petugas" if lang == "id" else "To the staff home") in page
    else:
        assert "brand-name" in html and 'id="galat"' not in html  # the portal's layout
        assert ("Ke beranda" if lang == "id" else "To the home page") in page
    assert ("Kode galat: %d" if lang == "id" else "Error code: %d") % status in page
    for raw in RAW:
        assert raw not in page, raw
    assert "3508011203900001" not in html
    other = TITLES[status][1 if lang == "id" else 0]
    if other != title:
        assert other not in page


@pytest.mark.parametrize("lang", ["id", "en"])
def test_429_says_when_to_try_again(limited, lang):
    with time_machine.travel(MOMENT, tick=False):
        client = _client(limited, lang, None)
        response = _reach(client, 429, "staff")
    assert response.status_code == 429
    # The window is one minute from the first attempt at 09:00:30 WIB (Flask-Limiter puts its end 1 s later).
    assert response.headers["Retry-After"] == "61"
    page = " ".join(text_of(response).split())
    if lang == "id":
        assert "Coba lagi setelah 10-03-2026 09:01 WIB (1 menit lagi)." in page
    else:
        assert "Try again after 10-03-2026 09:01 WIB (in 1 min)." in page


def test_429_on_the_portal_says_when_to_try_again(database_url, app):
    portal = build_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                       TRACK_RATE_LIMIT="1 per 10 minutes")
    with limits_on(), time_machine.travel(MOMENT, tick=False):
        client = portal.test_client()
        here = {"REMOTE_ADDR": "10.9.1.1"}
        assert client.post("/lacak", data={"ticket": "X", "pin": "Y"}, environ_base=here).status_code == 400
        blocked = client.post("/lacak", data={"ticket": "X", "pin": "Y"}, environ_base=here)
    assert blocked.status_code == 429
    assert blocked.headers["Retry-After"] == "601"
    page = " ".join(text_of(blocked).split())
    assert "Terlalu banyak permintaan dari alamat Anda. Coba lagi setelah 10-03-2026 09:10 WIB (10 menit lagi)." \
        in page
    assert "brand-name" in blocked.get_data(as_text=True)


def test_an_error_in_the_code_is_logged_for_the_operator_not_shown(limited, caplog):
    client = _client(limited, "id", "admin")
    with caplog.at_level("ERROR"):
        response = client.get("/staf/uji-galat/kode")
    assert response.status_code == 500
    assert "RuntimeError" not in response.get_data(as_text=True)
    assert any(r.exc_info and r.exc_info[0] is RuntimeError for r in caplog.records)


def test_api_errors_stay_json(limited):
    response = limited.test_client().get("/api/v1/tidak-ada")
    assert response.status_code == 404
    assert response.is_json and response.json["code"] == "not_found"


def test_an_answer_already_made_stays_when_the_connection_dies_at_the_end(app, client, monkeypatch, caplog):
    # The database went away between the commit and the end of the request (seen under load, issue 14): the
    # session's closing rollback fails on the dead connection. The answer made stays the answer sent (here
    # the portal's list; on a desk, the redirect of a decision already saved), never a 500.
    import sqlalchemy.exc

    from app.extensions import db

    real_close, calls = db.session.close, []

    def dying_close():
        calls.append(1)
        if len(calls) == 1:
            raise sqlalchemy.exc.OperationalError("ROLLBACK", {}, Exception("server closed the connection"))
        real_close()

    monkeypatch.setattr(db.session, "close", dying_close)
    with caplog.at_level("WARNING"):
        response = client.get("/pengaduan/")
    assert response.status_code == 200 and calls
    assert any("database connection lost; session invalidated" in r.getMessage() for r in caplog.records)
    monkeypatch.undo()
    assert client.get("/pengaduan/").status_code == 200  # the next request has a working connection
