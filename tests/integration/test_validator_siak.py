"""The SIAK pre-check job: verdicts fetched in the background (never in the citizen's request), stored
as verdict, score, reason and time only, and shown on the desk; a SIAK that times out never breaks it."""

from __future__ import annotations

import importlib
import time
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from app import services, siak
from app.extensions import db
from app.jobs import JOBS
from app.models import AuditLog, Complaint, RegistryEntry
from app.services import validation
from app.siak import Verdict
from app.workflow import State
from tests.conftest import PASSWORD, VALID_NIK, VALID_NIK_F, text_of

OTHER_NIK = "3508150101800003"  # Lumajang, male, born 01-01-1980


def submit(submission, **kw) -> Complaint:
    return services.submit(submission(**kw)).complaint


def fresh(complaint_id) -> Complaint:
    db.session.expire_all()
    return db.session.get(Complaint, complaint_id)


def desk_page(app, complaint_id) -> str:
    client = app.test_client()
    client.post("/login/", data={"username": "validator", "password": PASSWORD})
    response = client.get(f"/staf/validasi/{complaint_id}")
    assert response.status_code == 200
    return " ".join(text_of(response).split())


def test_submission_stores_the_structural_result_but_never_calls_siak(submission, monkeypatch):
    def refuse(*args, **kwargs):  # the citizen's request must not wait for SIAK
        raise AssertionError("SIAK called during submission")

    monkeypatch.setattr(validation, "build_adapter", refuse)
    c = submit(submission)
    assert c.nik_structural_ok is True and c.nik_findings is not None
    assert c.siak_verdict is None and c.siak_checked_at is None


def test_precheck_with_the_fake_adapter_stores_verdict_score_and_time_only(submission, actor):
    match = submit(submission, nik=VALID_NIK, name="Budi Santoso")
    missing = submit(submission, nik=VALID_NIK_F, name="Siti Aminah")
    decided = submit(submission, nik=OTHER_NIK, name="Ahmad Fauzi")
    services.decide_nik(decided.id, actor("validator"), valid=True)
    versions = {c.id: fresh(c.id).version for c in (match, missing)}
    fake = siak.FakeSiakAdapter({VALID_NIK: Verdict.MATCH})

    counts = validation.precheck_pending(adapter=fake)

    assert counts == {"MATCH": 1, "NOT_FOUND": 1}
    assert sorted(call[0] for call in fake.calls) == sorted([VALID_NIK, VALID_NIK_F])  # not the decided one
    first, second = fresh(match.id), fresh(missing.id)
    assert (first.siak_verdict, first.siak_score) == ("MATCH", 100) and first.siak_checked_at is not None
    assert (second.siak_verdict, second.siak_score) == ("NOT_FOUND", None)
    assert fresh(decided.id).siak_verdict is None
    # Advice does not bump the version: a validator who already opened the complaint can still decide.
    assert {c.id: c.version for c in (first, second)} == versions
    assert db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action == "siak.precheck")) == 2
    # A second run has nothing left to ask.
    assert validation.precheck_pending(adapter=fake) == {} and len(fake.calls) == 2


def test_precheck_through_the_offline_registry_from_app_config(app, submission, actor, monkeypatch):
    monkeypatch.setitem(app.config, "SIAK_MODE", "offline")
    admin = actor("admin")
    validation.import_registry(f"nik,nama,tanggal_lahir,status\n{VALID_NIK},BUDI SANTOSO,1990-03-12,aktif\n"
                               f"{VALID_NIK_F},Siti Aminah,1985-07-12,meninggal\n"
                               f"{OTHER_NIK},Ahmad Fauzi,,aktif\n", admin)
    assert db.session.scalar(sa.select(sa.func.count(RegistryEntry.id))) == 3
    budi = submit(submission, nik=VALID_NIK, name="Budi Santoso")
    siti = submit(submission, nik=VALID_NIK_F, name="Siti Aminah")
    wrong = submit(submission, nik=OTHER_NIK, name="Bambang Pamungkas")

    assert validation.precheck_job() == {"MATCH": 1, "DECEASED": 1, "MISMATCH": 1}
    assert fresh(budi.id).siak_verdict == "MATCH" and fresh(budi.id).siak_score == 100
    assert fresh(siti.id).siak_verdict == "DECEASED"
    row = fresh(wrong.id)
    assert row.siak_verdict == "MISMATCH" and "NAMA_LGKP" in row.siak_reason and row.siak_score < 90
    text = desk_page(app, wrong.id)
    assert "Data tidak sesuai" in text and "Tidak sesuai: NAMA_LGKP" in text


def _http_settings(app, monkeypatch, httpserver, **extra):
    settings = {"SIAK_MODE": "http", "SIAK_BASE_URL": httpserver.url_for("/"), "SIAK_METHOD_PATH": "/CALL_NIK",
                "SIAK_USER_ID": "pemda-lumajang", "SIAK_PASSWORD": "rahasia-uji", "SIAK_IP_USER": "10.0.0.5",
                "SIAK_ALLOW_INSECURE": True, "SIAK_TIMEOUT": 0.3, "SIAK_RETRIES": 0, **extra}
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)


def test_http_siak_that_times_out_is_unavailable_on_the_desk_and_never_raises(app, submission, monkeypatch,
                                                                              httpserver, caplog):
    def slow(request):
        time.sleep(0.6)  # longer than SIAK_TIMEOUT

        from werkzeug import Response

        return Response('{"content": [{"RESPONSE_CODE": "01", "NAMA_LGKP": "Sesuai (100)"}]}',
                        content_type="application/json")

    httpserver.expect_request("/CALL_NIK", method="POST").respond_with_handler(slow)
    _http_settings(app, monkeypatch, httpserver)
    c = submit(submission)

    assert validation.precheck_pending() == {"UNAVAILABLE": 1}

    row = fresh(c.id)
    assert row.siak_verdict == "UNAVAILABLE" and row.siak_score is None
    assert row.siak_reason == "Waktu tunggu SIAK habis setelah 1 percobaan"
    text = desk_page(app, c.id)
    assert "SIAK tidak tersedia" in text and "Keterangan: Waktu tunggu SIAK habis setelah 1 percobaan" in text
    assert "rahasia-uji" not in caplog.text  # credentials never reach the log


def test_http_siak_500_is_unavailable_and_asked_again_later(app, submission, monkeypatch, httpserver):
    httpserver.expect_request("/CALL_NIK", method="POST").respond_with_data("galat", status=500)
    _http_settings(app, monkeypatch, httpserver)
    c = submit(submission)
    start = datetime.now().astimezone()
    with time_machine.travel(start, tick=False) as clock:
        assert validation.precheck_pending() == {"UNAVAILABLE": 1}
        assert fresh(c.id).siak_reason == "SIAK galat server (HTTP 500) setelah 1 percobaan"
        assert validation.precheck_pending() == {}  # not hammered every minute
        httpserver.clear()
        httpserver.expect_request("/CALL_NIK", method="POST").respond_with_json(
            {"content": [{"RESPONSE_CODE": "01", "NIK": "Sesuai", "NAMA_LGKP": "Sesuai (97)"}]})
        clock.shift(validation.siak_retry_delay(1) + timedelta(seconds=1))
        assert validation.precheck_pending() == {"MATCH": 1}
    row = fresh(c.id)
    assert (row.siak_verdict, row.siak_score) == ("MATCH", 97)


def test_precheck_survives_an_adapter_bug_and_a_decision_made_meanwhile(submission, actor):
    class Broken:
        def verify(self, nik, name, birth_date=None):
            raise RuntimeError("bug")

    c = submit(submission)
    assert validation.precheck_pending(adapter=Broken()) == {"UNAVAILABLE": 1}
    assert fresh(c.id).siak_reason == "Kesalahan internal adapter SIAK"

    later = submit(submission, nik=VALID_NIK_F)

    class DecidesFirst:
        """SIAK answers after a validator already decided: the verdict is not written over the decision."""

        def verify(self, nik, name, birth_date=None):
            services.decide_nik(later.id, actor("validator"), valid=False, remark="NIK milik orang lain.")
            return siak.FakeSiakAdapter(default=Verdict.MATCH).verify(nik, name)

    assert validation.precheck_pending(adapter=DecidesFirst()) == {}
    row = fresh(later.id)
    assert row.state is State.TIDAK_VALID and row.siak_verdict is None


def test_precheck_stops_at_its_time_budget(submission):
    for nik in (VALID_NIK, VALID_NIK_F, OTHER_NIK):
        submit(submission, nik=nik)
    ticks = iter([0.0, 1.0, 100.0, 100.0, 100.0])
    fake = siak.FakeSiakAdapter(default=Verdict.MATCH)
    assert validation.precheck_pending(adapter=fake, budget_seconds=10, clock=lambda: next(ticks)) == {"MATCH": 1}
    assert len(fake.calls) == 1


def test_the_precheck_job_is_registered_for_the_scheduler():
    spec = next(job for job in JOBS if job.id == "siak_precheck")
    assert spec.trigger == "interval" and spec.trigger_args == {"minutes": 1}
    module, _, name = spec.func.partition(":")
    assert getattr(importlib.import_module(module), name) is validation.precheck_job


@pytest.mark.parametrize("mode, label", [("off", "SIAK belum dikonfigurasi"),
                                         ("http", "Kesalahan konfigurasi/akses SIAK")])
def test_siak_not_configured_or_misconfigured_is_stated_plainly(app, submission, monkeypatch, mode, label):
    monkeypatch.setitem(app.config, "SIAK_MODE", mode)
    monkeypatch.setitem(app.config, "SIAK_BASE_URL", None)
    c = submit(submission)
    validation.precheck_pending()
    assert label in desk_page(app, c.id)
