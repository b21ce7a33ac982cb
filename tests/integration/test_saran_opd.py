"""`POST /pengaduan/saran-opd` (issue 18): the top 3 OPDs for what the citizen typed, as JSON; nothing
stored, no text in any log, rate-limited, no CSRF token needed, every refusal a clear JSON 4xx."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditLog, Complaint
from tests.conftest import PASSWORD

URL = "/pengaduan/saran-opd"


@pytest.fixture(autouse=True)
def _fresh_model(app):
    app.extensions.pop("routing_model", None)
    yield


def test_the_answer_is_the_top_three_best_first(client):
    response = client.post(URL, json={"teks": "Jalan berlubang di desa. Sudah lama tidak diperbaiki."})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    saran = response.get_json()["saran"]
    assert len(saran) == 3
    assert saran[0]["kode"] == "DPUTR" and "Pekerjaan Umum" in saran[0]["nama"]
    assert all(set(s) == {"kode", "nama", "skor"} for s in saran)
    scores = [s["skor"] for s in saran]
    assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
    assert len({s["kode"] for s in saran}) == 3


def test_potholes_in_a_village_suggest_public_works_first(client):
    assert client.post(URL, json={"teks": "jalan berlubang di desa"}).get_json()["saran"][0]["kode"] == "DPUTR"
    ktp = client.post(URL, json={"teks": "KTP elektronik saya belum jadi sudah tiga bulan"}).get_json()
    assert ktp["saran"][0]["kode"] == "DISPENDUKCAPIL"


def test_words_the_model_does_not_know_give_an_empty_list(client):
    response = client.post(URL, json={"teks": "qwxz zzkq"})
    assert response.status_code == 200 and response.get_json() == {"saran": []}


@pytest.mark.parametrize("send, status, code", [
    (dict(data="teks=jalan rusak", content_type="application/x-www-form-urlencoded"), 415, "not_json"),
    (dict(data="{teks: jalan", content_type="application/json"), 400, "json"),
    (dict(json=["jalan rusak"]), 400, "json"),
    (dict(json={}), 400, "required"),
    (dict(json={"teks": ""}), 400, "required"),
    (dict(json={"teks": "   \u200b\u200b\u2060  "}), 400, "required"),
    (dict(json={"teks": 42}), 400, "type"),
    (dict(json={"teks": ["jalan"]}), 400, "type"),
    (dict(json={"teks": "jalan\x00rusak"}), 400, "control"),
    (dict(json={"teks": "jalan " * 200_000}), 400, "too_long"),  # 1.2 MB
])
def test_bad_input_is_a_clear_json_refusal(client, send, status, code):
    response = client.post(URL, **send)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["code"] == code and body["message"]
    if code in ("required", "type", "control", "too_long"):
        assert body["errors"]["teks"] == body["message"]


def test_another_method_is_refused_in_json_too(client):
    response = client.put(URL, json={"teks": "jalan rusak"})
    assert response.status_code == 405 and response.get_json()["code"] == "method"


def test_it_stores_nothing_and_logs_no_text(app, client, caplog):
    secret = "Gorong-gorong Zebrakuda mampet di depan rumah Pak Sukardjo"
    complaints = db.session.scalar(sa.select(sa.func.count()).select_from(Complaint))
    rows = db.session.scalar(sa.select(sa.func.max(AuditLog.id))) or 0
    staff = app.test_client()  # a signed-in staff member's requests are in the history log: path only
    staff.post("/login/", data={"username": "validator", "password": PASSWORD})
    with caplog.at_level(logging.DEBUG):
        for each in (client, staff):
            assert each.post(URL, json={"teks": secret}).status_code == 200
            assert each.post(URL, json={"teks": secret + "\x00"}).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == complaints
    written = db.session.scalars(sa.select(AuditLog).where(AuditLog.id > rows)).all()
    assert any(r.path == URL for r in written)  # the staff member's requests were recorded …
    for row in written:  # … without the text
        assert all("Zebrakuda" not in str(value) for value in row.__dict__.values())
    assert caplog.records and all("Zebrakuda" not in r.getMessage() and "Zebrakuda" not in str(r.__dict__)
                                  for r in caplog.records)


@pytest.fixture(scope="module")
def _limited_app(app, database_url):
    from app.extensions import limiter

    from tests.conftest import build_app

    was_enabled = limiter.enabled
    yield build_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                    SUGGEST_RATE_LIMIT="3 per minute", WTF_CSRF_ENABLED=True)
    limiter.enabled = was_enabled


def test_it_is_rate_limited_per_address_and_needs_no_csrf_token(_limited_app):
    from tests.limits_support import limits_on

    with limits_on():
        client = _limited_app.test_client()
        statuses = [client.post(URL, json={"teks": f"jalan rusak nomor {i}"}).status_code for i in range(3)]
        assert statuses == [200, 200, 200]  # CSRF on, no token: it changes nothing
        refused = client.post(URL, json={"teks": "jalan rusak lagi"})
        assert refused.status_code == 429
        assert refused.get_json()["code"] == "rate_limited" and "Coba lagi" in refused.get_json()["message"]
        assert int(refused.headers["Retry-After"]) > 0
        other = _limited_app.test_client()
        assert other.post(URL, json={"teks": "jalan rusak"}, environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
        # The form itself still needs its token: the exemption is this endpoint's only.
        assert client.post("/pengaduan/baru", data={"title": "x"}).status_code == 400
