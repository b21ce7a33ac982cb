"""A deliberate override (issue 16, item 7): marking a NIK valid when SIAK said "not found" or "mismatch"
asks for a reason (desk and API, through the input boundary), which is stored with the decision, enforced by
the database, and shown on the dashboard's validator figures. Any other verdict, and "Tidak valid", need none."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app import services
from app.extensions import db
from app.models import AuditLog, Complaint, NikCheck
from app.services import Invalid
from app.workflow import State
from tests.conftest import PASSWORD, text_of

DESK = "/staf/validasi/"
API = "/api/v1/complaint/"
REASON = "KTP asli diperiksa di loket; data SIAK belum diperbarui."


def _waiting(submission, verdict: str | None) -> int:
    cid = services.submit(submission()).complaint.id
    db.session.execute(sa.update(Complaint).where(Complaint.id == cid).values(siak_verdict=verdict)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    return cid


def _state(cid: int) -> State:
    db.session.expire_all()
    return db.session.get(Complaint, cid).state


def _check(cid: int) -> NikCheck | None:
    return db.session.scalar(sa.select(NikCheck).where(NikCheck.complaint_id == cid))


def _signed_in(app, username):
    client = app.test_client()
    assert client.post("/login/", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


@pytest.mark.parametrize("verdict", ["NOT_FOUND", "MISMATCH"])
def test_valid_against_siak_needs_a_reason_and_stores_it(submission, actor, verdict):
    cid = _waiting(submission, verdict)
    for blank in (None, "", "   \n "):
        with pytest.raises(Invalid) as refused:
            services.decide_nik(cid, actor("validator"), valid=True, override_reason=blank)
        assert "override_reason" in refused.value.errors
        assert _state(cid) is State.MENUNGGU_VERIFIKASI and _check(cid) is None
    services.decide_nik(cid, actor("validator"), valid=True, override_reason=REASON)
    assert _state(cid) is State.DITERUSKAN
    check = _check(cid)
    assert check.override_reason == REASON and check.siak_verdict == verdict
    decided = db.session.scalar(sa.select(AuditLog).where(AuditLog.complaint_id == cid,
                                                          AuditLog.action == "complaint.decide"))
    assert json.loads(decided.detail)["override"] is True


@pytest.mark.parametrize("verdict", [None, "MATCH", "UNAVAILABLE", "DECEASED"])
def test_other_verdicts_need_no_reason_and_store_none(submission, actor, verdict):
    cid = _waiting(submission, verdict)
    services.decide_nik(cid, actor("validator"), valid=True, override_reason="tidak perlu")
    assert _state(cid) is State.DITERUSKAN and _check(cid).override_reason is None


def test_tidak_valid_against_siak_needs_no_override_reason(submission, actor):
    cid = _waiting(submission, "NOT_FOUND")
    services.decide_nik(cid, actor("validator"), valid=False, remark="NIK tidak terdaftar.")
    assert _state(cid) is State.TIDAK_VALID and _check(cid).override_reason is None


def test_the_database_refuses_an_override_without_reason(submission, actor):
    cid = _waiting(submission, "NOT_FOUND")
    validator = actor("validator")
    row = db.session.get(Complaint, cid)
    db.session.add(NikCheck(complaint_id=cid, validator_id=validator.user_id, opened_at=row.submitted_at,
                            decided_at=row.submitted_at, structural_ok=True, siak_verdict="NOT_FOUND",
                            result="valid", remark=None))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_control_character_in_the_reason_is_refused_by_the_boundary(submission, actor):
    cid = _waiting(submission, "NOT_FOUND")
    with pytest.raises(Invalid) as refused:
        services.decide_nik(cid, actor("validator"), valid=True, override_reason="alasan\x00palsu")
    assert "override_reason" in refused.value.errors and _check(cid) is None


def test_the_desk_asks_for_the_reason_and_refuses_without_it(app, submission):
    cid = _waiting(submission, "NOT_FOUND")
    client = _signed_in(app, "validator")
    page = client.get(f"{DESK}{cid}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="alasan-penyimpangan"' in html and 'name="override_reason"' in html
    assert "SIAK menyatakan: NIK tidak ditemukan." in text_of(page)
    version = db.session.get(Complaint, cid).version
    refused = client.post(f"{DESK}{cid}/keputusan", data={"version": version, "decision": "valid"})
    assert refused.status_code == 400
    assert "Untuk tetap menandai NIK valid, tulis alasannya." in text_of(refused)
    assert _state(cid) is State.MENUNGGU_VERIFIKASI and _check(cid) is None
    done = client.post(f"{DESK}{cid}/keputusan", data={"version": db.session.get(Complaint, cid).version,
                                                       "decision": "valid", "override_reason": REASON})
    assert done.status_code == 302
    assert _check(cid).override_reason == REASON


def test_the_desk_shows_no_reason_field_when_siak_matched(app, submission):
    cid = _waiting(submission, "MATCH")
    html = _signed_in(app, "validator").get(f"{DESK}{cid}").get_data(as_text=True)
    assert 'id="alasan-penyimpangan"' not in html


def test_the_api_asks_for_the_reason(client, submission):
    cid = _waiting(submission, "MISMATCH")
    login = client.post("/api/v1/security/login", json={"username": "validator", "password": PASSWORD,
                                                         "provider": "db"})
    headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    refused = client.post(f"{API}{cid}/decision", headers=headers, json={"valid": True})
    assert refused.status_code == 400
    assert refused.get_json()["code"] == "override_reason" and "override_reason" in refused.get_json()["errors"]
    assert _check(cid) is None
    done = client.post(f"{API}{cid}/decision", headers=headers, json={"valid": True, "override_reason": REASON})
    assert done.status_code == 200
    assert _check(cid).override_reason == REASON


def test_the_dashboard_counts_overrides_per_validator_with_their_reasons(app, submission, actor):
    plain = _waiting(submission, "MATCH")
    services.decide_nik(plain, actor("validator"), valid=True)
    for verdict in ("NOT_FOUND", "MISMATCH"):
        services.decide_nik(_waiting(submission, verdict), actor("validator"), valid=True,
                            override_reason=f"{REASON} ({verdict})")
    services.decide_nik(_waiting(submission, "NOT_FOUND"), actor("validator2"), valid=False, remark="Tidak ada.")
    client = _signed_in(app, "pimpinan")
    page = client.get("/staf/kendali/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    cells = dict(re.findall(r'<tr data-validator="([^"]+)">.*?data-overrides="(\d+)"', html, re.S))
    assert cells == {"validator": "2", "validator2": "0"}
    listed = text_of(page)
    assert f"{REASON} (NOT_FOUND)" in listed and f"{REASON} (MISMATCH)" in listed
    assert "Data tidak sesuai" in listed and "NIK tidak ditemukan" in listed
