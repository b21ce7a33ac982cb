"""The desk actions added to the staff REST API (issue 15 item 3): claim, internal note, answer edit with
reason, attachment download after the access check, OPD list. Each as each role, scoped exactly like the
screen: the same services, the same disclosure policy, the same OPD scope; refused outside it and nothing
changed then."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Answer, Attachment, Complaint, InternalNote
from app.storage import get_storage
from app.workflow import State
from tests.conftest import VALID_NIK_F
from tests.integration.opd_support import api_headers, routed

ROLES = ("validator", "validator2", "pimpinan", "opd.dinkes", "opd.dputr", "admin")


@pytest.fixture
def api(app):
    client = app.test_client()

    def call(method, path, role=None, **kwargs):
        headers = api_headers(role) if role else {}
        return client.open(path, method=method, headers=headers, **kwargs)

    return call


def _reload(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


# --------------------------------------------------------------------------- claim


def test_claim_is_the_validators_and_holds_the_complaint(api, submission):
    from app.services import submit

    waiting = submit(submission(nik=VALID_NIK_F)).complaint
    for role, status in (("opd.dinkes", 403), ("opd.dputr", 403), ("pimpinan", 403), ("admin", 403)):
        assert api("POST", f"/api/v1/complaint/{waiting.id}/claim", role).status_code == status, role
    assert _reload(Complaint, waiting.id).claimed_by_id is None  # the refusals held nothing
    assert api("POST", f"/api/v1/complaint/{waiting.id}/claim").status_code == 401

    taken = api("POST", f"/api/v1/complaint/{waiting.id}/claim", "validator")
    assert taken.status_code == 200
    result = taken.get_json()["result"]
    complaint = _reload(Complaint, waiting.id)
    assert result["id"] == waiting.id and result["version"] == complaint.version
    assert result["claimed_until"] == complaint.claim_expires_at.replace(microsecond=0).isoformat() + "Z"
    assert "nik" not in str(result).lower()  # the API never shows the full NIK

    other = api("POST", f"/api/v1/complaint/{waiting.id}/claim", "validator2")
    assert other.status_code == 409 and other.get_json()["code"] == "claimed"
    assert api("POST", f"/api/v1/complaint/{waiting.id}/claim", "validator").status_code == 200  # renewed


def test_claim_of_a_decided_complaint_is_a_conflict(api, submission, actor):
    complaint = routed(submission, actor)
    response = api("POST", f"/api/v1/complaint/{complaint.id}/claim", "validator")
    assert response.status_code == 409 and response.get_json()["code"] == "decided"
    assert api("POST", "/api/v1/complaint/999999/claim", "validator").status_code == 404


# --------------------------------------------------------------------------- internal notes


@pytest.mark.parametrize("role, status", [("opd.dinkes", 200), ("pimpinan", 200), ("admin", 200),
                                          ("opd.dputr", 404), ("validator", 403)])
def test_internal_note_as_each_role(api, submission, actor, role, status):
    complaint = routed(submission, actor)  # at DINKESP2KB
    response = api("POST", f"/api/v1/complaint/{complaint.id}/note", role, json={"text": f"Catatan {role}."})
    assert response.status_code == status, response.get_json()
    db.session.expire_all()
    notes = db.session.scalars(sa.select(InternalNote.text).where(InternalNote.complaint_id == complaint.id)).all()
    assert notes == ([f"Catatan {role}."] if status == 200 else [])
    if status == 200:
        body = response.get_json()
        assert body["complaint_id"] == complaint.id and body["created_at"].endswith("Z")


def test_a_note_is_never_public(api, app, submission, actor):
    complaint = routed(submission, actor, visibility="publik")
    assert api("POST", f"/api/v1/complaint/{complaint.id}/note", "opd.dinkes",
               json={"text": "Rahasia internal 42."}).status_code == 200
    page = app.test_client().get(f"/pengaduan/{complaint.ticket}")
    assert page.status_code == 200 and "Rahasia internal 42" not in page.get_data(as_text=True)


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "\u200b"}, {"text": 5}, {"text": "x" * 2001}])
def test_a_bad_note_is_refused_with_its_field(api, submission, actor, body):
    complaint = routed(submission, actor)
    response = api("POST", f"/api/v1/complaint/{complaint.id}/note", "opd.dinkes", json=body)
    assert response.status_code == 400 and "text" in response.get_json()["errors"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InternalNote)) == 0


# --------------------------------------------------------------------------- answer edit


def _answered(submission, actor):
    from app.services import answer

    complaint = routed(submission, actor)
    answer(complaint.id, actor("opd.dinkes"), "Jawaban pertama.")
    return complaint


@pytest.mark.parametrize("role, status", [("opd.dinkes", 200), ("opd.dputr", 404), ("pimpinan", 403),
                                          ("validator", 403), ("admin", 403)])
def test_answer_edit_as_each_role(api, submission, actor, role, status):
    complaint = _answered(submission, actor)
    response = api("POST", f"/api/v1/complaint/{complaint.id}/answer/edit", role,
                   json={"text": "Jawaban yang diperbaiki.", "reason": "Salah tanggal."})
    assert response.status_code == status, response.get_json()
    reply = db.session.scalar(sa.select(Answer).where(Answer.complaint_id == complaint.id))
    db.session.refresh(reply)
    if status == 200:
        assert (reply.text, reply.edit_reason) == ("Jawaban yang diperbaiki.", "Salah tanggal.")
        assert response.get_json()["answer_id"] == reply.id
    else:
        assert (reply.text, reply.edit_reason) == ("Jawaban pertama.", None)


def test_answer_edit_needs_a_reason_and_an_answer(api, submission, actor):
    complaint = _answered(submission, actor)
    missing = api("POST", f"/api/v1/complaint/{complaint.id}/answer/edit", "opd.dinkes", json={"text": "Baru."})
    assert missing.status_code == 400 and "reason" in missing.get_json()["errors"]
    unanswered = routed(submission, actor)
    refused = api("POST", f"/api/v1/complaint/{unanswered.id}/answer/edit", "opd.dinkes",
                  json={"text": "Baru.", "reason": "Alasan."})
    assert refused.status_code == 403
    assert _reload(Complaint, unanswered.id).state is State.DITERUSKAN


# --------------------------------------------------------------------------- attachments


@pytest.fixture
def with_file(submission, actor):
    complaint = routed(submission, actor)
    name = "fedcba9876543210fedcba9876543210.pdf"
    get_storage().put(name, b"%PDF-1.4 bukti api")
    found = Attachment(complaint_id=complaint.id, original_name="bukti.pdf", stored_name=name,
                       content_type="application/pdf", size=18, sha256="0" * 64)
    db.session.add(found)
    db.session.commit()
    return complaint, found.id


@pytest.mark.parametrize("role, status", [("opd.dinkes", 200), ("pimpinan", 200), ("admin", 200),
                                          ("validator", 200), ("opd.dputr", 404)])
def test_attachment_download_after_the_access_check(api, with_file, role, status):
    complaint, file_id = with_file
    response = api("GET", f"/api/v1/complaint/{complaint.id}/attachment/{file_id}", role)
    assert response.status_code == status
    if status == 200:
        assert response.data == b"%PDF-1.4 bukti api"
        assert "attachment" in response.headers["Content-Disposition"]
    else:
        assert b"PDF" not in response.data


def test_a_file_only_through_its_own_complaint(api, with_file, submission, actor):
    _complaint, file_id = with_file
    other = routed(submission, actor, title="Pengaduan lain")
    assert api("GET", f"/api/v1/complaint/{other.id}/attachment/{file_id}", "opd.dinkes").status_code == 404
    assert api("GET", f"/api/v1/complaint/{other.id}/attachment/{file_id}").status_code == 401


def test_a_download_is_in_the_history_log(api, with_file):
    from app.models import AuditLog

    complaint, file_id = with_file
    api("GET", f"/api/v1/complaint/{complaint.id}/attachment/{file_id}", "pimpinan")
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.action == "attachment.download", AuditLog.complaint_id == complaint.id)) == 1


# --------------------------------------------------------------------------- OPD list


def test_opd_list_for_every_staff_role(api):
    from app.models import Opd

    active = set(db.session.scalars(sa.select(Opd.code).where(Opd.active.is_(True))))
    for role in ROLES:
        response = api("GET", "/api/v1/opd/", role)
        assert response.status_code == 200, role
        assert {o["code"] for o in response.get_json()["result"]} == active
    assert api("GET", "/api/v1/opd/").status_code == 401


# --------------------------------------------------------------------------- recap and history log


@pytest.mark.parametrize("role, status", [("pimpinan", 200), ("admin", 200), ("validator", 403),
                                          ("opd.dinkes", 403)])
def test_recap_figures_as_each_role(api, submission, actor, role, status):
    import time_machine
    from datetime import datetime, timezone

    with time_machine.travel(datetime(2026, 3, 10, 3, 0, tzinfo=timezone.utc), tick=False):
        routed(submission, actor)
        response = api("GET", "/api/v1/recap/?periode=bulan&tanggal=2026-03-01&kelompok=opd", role)
    assert response.status_code == status
    if status == 200:
        result = response.get_json()["result"]
        assert result["period"] == {"kind": "bulan", "start": "2026-03-01", "last_day": "2026-03-31",
                                    "label": "Maret 2026"}
        assert result["total"]["figures"]["received"] == 1 and result["total"]["figures"]["validated"] == 1
        [row] = [r for r in result["rows"] if r["figures"]["received"]]
        assert row["label"].startswith("Dinas Kesehatan")


def test_recap_refuses_what_it_cannot_read(api):
    response = api("GET", "/api/v1/recap/?periode=rentang&dari=2026-03-05&sampai=2026-03-01", "pimpinan")
    assert response.status_code == 400 and "sampai" in response.get_json()["errors"]
    assert api("GET", "/api/v1/recap/?kelompok=warna", "pimpinan").get_json()["errors"].keys() == {"kelompok"}


@pytest.mark.parametrize("role, status", [("pimpinan", 200), ("admin", 200), ("validator", 403),
                                          ("opd.dinkes", 403), ("opd.dputr", 403)])
def test_history_log_as_each_role(api, submission, actor, role, status):
    complaint = routed(submission, actor)
    response = api("GET", f"/api/v1/history/?tiket={complaint.ticket}", role)
    assert response.status_code == status
    if status == 200:
        body = response.get_json()
        actions = [r["action"] for r in body["result"]]
        assert actions[:2] == ["complaint.decide", "complaint.submit"]  # newest first
        assert all(r["ticket"] == complaint.ticket for r in body["result"])
        assert "setelah" in body


def test_history_log_pages_and_refuses_a_bad_filter(api, submission, actor):
    from app.services import records

    for _ in range(3):
        routed(submission, actor)
    seen, token, pages = [], None, 0
    original = records.HISTORY_PAGE
    records.HISTORY_PAGE = 2
    try:
        while True:
            path = "/api/v1/history/?aksi=complaint.submit" + (f"&setelah={token}" if token else "")
            body = api("GET", path, "pimpinan").get_json()
            seen += [r["id"] for r in body["result"]]
            token, pages = body["setelah"], pages + 1
            if not token:
                break
    finally:
        records.HISTORY_PAGE = original
    assert len(seen) == len(set(seen)) == 3 and pages == 2
    bad = api("GET", "/api/v1/history/?dari=2026-02-30", "pimpinan")
    assert bad.status_code == 400 and "dari" in bad.get_json()["errors"]


@pytest.mark.parametrize("role, status", [("pimpinan", 200), ("admin", 200), ("validator", 403),
                                          ("opd.dinkes", 403)])
def test_dashboard_figures_as_each_role(api, submission, actor, role, status):
    import time_machine
    from datetime import datetime, timezone

    from app.services import submit

    with time_machine.travel(datetime(2026, 3, 10, 3, 0, tzinfo=timezone.utc), tick=False):
        routed(submission, actor)
        submit(submission(nik=VALID_NIK_F))
        response = api("GET", "/api/v1/dashboard/?dari=2026-03-01&sampai=2026-03-10", role)
    assert response.status_code == status
    if status == 200:
        result = response.get_json()["result"]
        assert result["period"] == {"date_from": "2026-03-01", "date_to": "2026-03-10", "opd": None}
        assert result["states"]["diteruskan"] == 1 and result["states"]["menunggu_verifikasi"] == 1
        assert (result["overdue_validation"], result["overdue_answer"]) == (0, 0)
        dinkes = next(o for o in result["per_opd"] if o["code"] == "DINKESP2KB")
        assert dinkes["received"] == 1 and dinkes["answered"] == 0
        assert result["months"][-1] == {"month": "2026-03", "received": 2, "answered": 0, "overdue": 0}


def test_dashboard_refuses_bad_filters_instead_of_guessing(api):
    for query in ("dari=2026-02-30", "dari=2026-03-10&sampai=2026-03-01", "opd=TIDAKADA"):
        response = api("GET", f"/api/v1/dashboard/?{query}", "pimpinan")
        assert response.status_code == 400 and response.get_json()["errors"]["filters"], query


# --------------------------------------------------------------------------- the spec


def test_every_new_action_is_in_the_openapi_spec_with_its_schemas(api):
    spec = api("GET", "/api/v1/_openapi", "admin").get_json()
    paths = spec["paths"]
    for path, method in (("/api/v1/complaint/{pk}/claim", "post"), ("/api/v1/complaint/{pk}/note", "post"),
                         ("/api/v1/complaint/{pk}/answer/edit", "post"),
                         ("/api/v1/complaint/{pk}/attachment/{attachment_id}", "get"), ("/api/v1/opd/", "get"),
                         ("/api/v1/recap/", "get"), ("/api/v1/history/", "get"), ("/api/v1/dashboard/", "get")):
        operation = paths[path][method]
        assert "200" in operation["responses"] and "401" in operation["responses"], path
    schemas = spec["components"]["schemas"]
    assert {"Claim", "InternalNote", "AnswerEdit", "NoteResult", "OpdList", "OpdItem", "Recap", "HistoryPage"} \
        <= set(schemas)
    assert {p["name"] for p in paths["/api/v1/history/"]["get"]["parameters"]} >= {"aksi", "tiket", "setelah"}
    assert paths["/api/v1/complaint/{pk}/note"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/InternalNote"}
