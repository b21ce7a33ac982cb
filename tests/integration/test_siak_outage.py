"""SIAK slow or down (issue 14, item 3), against a real HTTP fake (pytest-httpserver): a submission never
waits on SIAK, the desk says "SIAK tidak tersedia" with the reason and when it is asked again, the
validator can still decide, and the background pre-check retries with exponential backoff until SIAK
answers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine

from app.extensions import db
from app.models import Complaint
from app.services import validation
from app.workflow import State
from tests.conftest import PASSWORD, text_of
from tests.integration.test_validator_siak import _http_settings, fresh

MATCH = {"content": [{"RESPONSE_CODE": "01", "NIK": "Sesuai", "NAMA_LGKP": "Sesuai (97)"}]}


def test_a_submission_through_the_form_never_calls_siak(app, client, complaint_form, monkeypatch, httpserver):
    httpserver.expect_request("/CALL_NIK", method="POST").respond_with_json(MATCH)
    _http_settings(app, monkeypatch, httpserver)
    response = client.post("/pengaduan/baru", data=complaint_form())
    assert response.status_code == 303
    assert httpserver.log == []  # SIAK is asked by the scheduler only
    row = db.session.scalar(db.select(Complaint))
    assert row.state == State.MENUNGGU_VERIFIKASI and row.siak_checked_at is None


def test_siak_down_is_retried_with_backoff_shown_on_the_desk_and_does_not_block_the_decision(
        app, submission, monkeypatch, httpserver):
    from app import services

    httpserver.expect_request("/CALL_NIK", method="POST").respond_with_data("galat", status=503)
    _http_settings(app, monkeypatch, httpserver)
    monkeypatch.setitem(app.config, "SIAK_RETRY_SECONDS", 60)
    monkeypatch.setitem(app.config, "SIAK_RETRY_MAX_SECONDS", 300)
    c = services.submit(submission()).complaint
    other = services.submit(submission(nik="3508105207850002")).complaint
    t0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
    with time_machine.travel(t0, tick=False) as clock:
        seen = []
        # Down for five checks: asked after 60, 120, 240, 300 (the cap), 300 s; never in between.
        for expected_wait in (60, 120, 240, 300, 300):
            assert validation.precheck_pending() == {"UNAVAILABLE": 2}
            row = fresh(c.id)
            seen.append(row.siak_attempts)
            now = datetime.now(timezone.utc).replace(tzinfo=None)
            assert row.siak_next_check_at == now + timedelta(seconds=expected_wait)
            clock.shift(timedelta(seconds=expected_wait - 1))
            assert validation.precheck_pending() == {}  # not yet
            clock.shift(timedelta(seconds=1))
        assert seen == [1, 2, 3, 4, 5]
        assert len(httpserver.log) == 10

        # The desk: unavailable, the reason, the next automatic check; the validator decides anyway.
        client = app.test_client()
        client.post("/login/", data={"username": "validator", "password": PASSWORD})
        page = client.get(f"/staf/validasi/{other.id}")
        text = " ".join(text_of(page).split())
        assert "SIAK tidak tersedia" in text
        assert "Keterangan: SIAK galat server (HTTP 503) setelah 1 percobaan" in text
        assert "Diperiksa ulang otomatis" in text and "Anda tetap dapat memutuskan sekarang" in text
        decided = services.decide_nik(other.id, _validator(), valid=True)
        assert decided.state == State.DITERUSKAN

        # SIAK is back: the next due check gets the verdict and the backoff is reset.
        httpserver.clear()
        httpserver.expect_request("/CALL_NIK", method="POST").respond_with_json(MATCH)
        assert validation.precheck_pending() == {"MATCH": 1}  # the decided one is no longer asked
    row = fresh(c.id)
    assert (row.siak_verdict, row.siak_score, row.siak_attempts, row.siak_next_check_at) == ("MATCH", 97, 0, None)


def _validator():
    import sqlalchemy as sa

    from app.models import Staff
    from app.services import Actor

    return Actor.from_user(db.session.scalar(sa.select(Staff).where(Staff.username == "validator")))
