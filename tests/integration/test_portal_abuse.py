"""Abuse protection on the public forms: CSRF tokens, and per-address rate limits (Flask-Limiter)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.conftest import build_app, text_of
from tests.limits_support import limits_on


def _complaints() -> int:
    from app.extensions import db
    from app.models import Complaint

    return db.session.scalar(sa.select(sa.func.count()).select_from(Complaint))


def _token(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


@pytest.fixture(scope="module")
def csrf_app(app, database_url):
    return build_app(database_url, WTF_CSRF_ENABLED=True)


@pytest.fixture(scope="module")
def _limited_app(app, database_url):
    from app.extensions import limiter

    was_enabled = limiter.enabled
    yield build_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                    SUBMIT_RATE_LIMIT="2 per hour", TRACK_RATE_LIMIT="3 per minute")
    limiter.enabled = was_enabled


@pytest.fixture
def limited_app(_limited_app):
    """An app with the limits on, empty counters (tests/limits_support.py)."""
    with limits_on():
        yield _limited_app


# --------------------------------------------------------------------------- CSRF


def test_complaint_form_carries_a_token_and_a_post_without_it_is_refused(csrf_app, complaint_form):
    client = csrf_app.test_client()
    page = client.get("/pengaduan/baru")
    token = _token(page)
    refused = client.post("/pengaduan/baru", data=complaint_form())
    assert refused.status_code == 400
    assert "Formulir kedaluwarsa" in text_of(refused)
    forged = client.post("/pengaduan/baru", data={**complaint_form(), "csrf_token": "palsu"})
    assert forged.status_code == 400
    assert _complaints() == 0
    accepted = client.post("/pengaduan/baru", data={**complaint_form(), "csrf_token": token})
    assert accepted.status_code == 303 and _complaints() == 1


def test_the_kept_blank_form_gives_every_visitor_their_own_tokens(csrf_app, complaint_form):
    """The blank form is rendered once per process and language; the CSRF token, the submission key and
    the CSP nonce are each visitor's own, on every visit."""
    def visit(client, path="/pengaduan/baru"):
        page = client.get(path)
        html = page.get_data(as_text=True)
        key = re.search(r'name="submission_key" value="([^"]+)"', html).group(1)
        nonce = re.search(r'nonce="([^"]+)"', html).group(1)
        assert f"'nonce-{nonce}'" in page.headers["Content-Security-Policy"]
        assert "\x00" not in html
        return html, _token(page), key

    first, second = csrf_app.test_client(), csrf_app.test_client()
    pages = [visit(first), visit(first), visit(second)]
    assert len({key for _, _, key in pages}) == 3
    assert pages[2][1] != pages[0][1]  # another session, another CSRF token
    strip = [html.replace(token, "").replace(key, "") for html, token, key in pages]
    assert len({re.sub(r'nonce="[^"]+"', "", html) for html in strip}) == 1
    html, _token_b, _key = visit(second, "/pengaduan/baru?opd=DPUTR")
    assert '<option value="DPUTR" selected>' in html
    refused = second.post("/pengaduan/baru", data={**complaint_form(), "csrf_token": pages[1][1]})
    assert refused.status_code == 400 and _complaints() == 0  # first's token is not second's
    accepted = first.post("/pengaduan/baru", data={**complaint_form(), "csrf_token": pages[1][1],
                                                   "submission_key": pages[1][2]})
    assert accepted.status_code == 303 and _complaints() == 1
    first.get("/bahasa/en")
    english, _t, _k = visit(first)
    assert 'lang="en"' in english and english != pages[0][0]


def test_tracking_form_carries_a_token_and_a_post_without_it_is_refused(csrf_app, submission):
    from app.services import submit

    done = submit(submission())
    client = csrf_app.test_client()
    token = _token(client.get("/lacak"))
    assert client.post("/lacak", data={"ticket": done.complaint.ticket, "pin": done.pin}).status_code == 400
    ok = client.post("/lacak", data={"ticket": done.complaint.ticket, "pin": done.pin, "csrf_token": token})
    assert ok.status_code == 303
    page = client.get("/lacak/hasil")
    # Leaving the tracking page is a POST with its own token too.
    assert client.post("/lacak/keluar").status_code == 400
    assert client.post("/lacak/keluar", data={"csrf_token": _token(page)}).status_code == 303


# --------------------------------------------------------------------------- rate limits


def test_submissions_are_limited_per_client_address(limited_app, complaint_form):
    client = limited_app.test_client()
    here = {"REMOTE_ADDR": "10.3.0.1"}
    # Forms sent back for corrections do not use up the allowance…
    for _ in range(3):
        assert client.post("/pengaduan/baru", data=complaint_form(phone=""), environ_base=here).status_code == 400
    # …stored complaints do.
    assert client.post("/pengaduan/baru", data=complaint_form(), environ_base=here).status_code == 303
    assert client.post("/pengaduan/baru", data=complaint_form(), environ_base=here).status_code == 303
    blocked = client.post("/pengaduan/baru", data=complaint_form(), environ_base=here)
    assert blocked.status_code == 429
    assert "Terlalu banyak permintaan dari alamat Anda" in text_of(blocked)
    assert _complaints() == 2
    # Reading the form is not limited, and another address may still submit.
    assert client.get("/pengaduan/baru", environ_base=here).status_code == 200
    other = client.post("/pengaduan/baru", data=complaint_form(), environ_base={"REMOTE_ADDR": "10.3.0.2"})
    assert other.status_code == 303


def test_honeypot_hits_count_against_the_address(limited_app, complaint_form):
    client = limited_app.test_client()
    here = {"REMOTE_ADDR": "10.3.1.1"}
    for _ in range(2):
        assert client.post("/pengaduan/baru", data=complaint_form(website="x"), environ_base=here).status_code == 400
    assert client.post("/pengaduan/baru", data=complaint_form(), environ_base=here).status_code == 429


def test_tracking_attempts_are_limited_per_client_address(limited_app, submission):
    from app.services import submit

    done = submit(submission())
    client = limited_app.test_client()
    here = {"REMOTE_ADDR": "10.4.0.1"}
    for _ in range(3):
        wrong = client.post("/lacak", data={"ticket": done.complaint.ticket, "pin": "SALAHPIN"}, environ_base=here)
        assert wrong.status_code == 400
    # Even the right PIN is refused once the address is over its limit: guessing gets no further.
    blocked = client.post("/lacak", data={"ticket": done.complaint.ticket, "pin": done.pin}, environ_base=here)
    assert blocked.status_code == 429
    ok = client.post("/lacak", data={"ticket": done.complaint.ticket, "pin": done.pin},
                     environ_base={"REMOTE_ADDR": "10.4.0.2"})
    assert ok.status_code == 303
