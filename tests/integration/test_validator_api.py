"""REST for integrations: JWT from POST /api/v1/security/login, complaints scoped by role with the fields
each role may read, and the validator's decision; all of it in the OpenAPI document."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app import services
from app.extensions import db
from app.services import cursor
from app.models import AuditLog, Complaint, NikCheck
from app.workflow import State
from tests.conftest import PASSWORD, VALID_NIK, VALID_NIK_F

API = "/api/v1/complaint/"


@pytest.fixture
def token(client):
    def login(username: str) -> dict:
        response = client.post("/api/v1/security/login", json={"username": username, "password": PASSWORD,
                                                               "provider": "db"})
        assert response.status_code == 200, response.get_data(as_text=True)
        return {"Authorization": f"Bearer {response.get_json()['access_token']}"}

    return login


def submit(submission, **kw) -> Complaint:
    return services.submit(submission(**kw)).complaint


def raw(response) -> str:
    return response.get_data(as_text=True)


def test_no_token_is_401_and_nothing_changes(client, submission):
    c = submit(submission)
    assert client.get(API).status_code == 401
    assert client.get(f"{API}{c.id}").status_code == 401
    assert client.post(f"{API}{c.id}/decision", json={"valid": True}).status_code == 401
    assert db.session.get(Complaint, c.id).state is State.MENUNGGU_VERIFIKASI


def test_validator_decides_through_the_api(client, token, submission):
    c = submit(submission)
    headers = token("validator")
    listed = client.get(API, headers=headers)
    assert listed.status_code == 200
    assert [row["ticket"] for row in listed.get_json()["result"]] == [c.ticket]
    detail = client.get(f"{API}{c.id}", headers=headers).get_json()["result"]
    assert detail["nik_masked"] == "3508••••••••0001" and VALID_NIK not in json.dumps(detail)
    assert detail["complainant"] == {"name": "Budi Santoso"}  # no contact data for the validator
    assert detail["nik_check"]["structural_ok"] is True
    decided = client.post(f"{API}{c.id}/decision", headers=headers,
                          json={"valid": True, "remark": "Sesuai SIAK.", "version": detail["version"]})
    assert decided.status_code == 200, raw(decided)
    assert decided.get_json()["result"]["state"] == "diteruskan"
    row = db.session.get(Complaint, c.id)
    assert row.state is State.DITERUSKAN and row.published_at is not None
    check = db.session.scalar(sa.select(NikCheck).where(NikCheck.complaint_id == c.id))
    assert (check.result, check.remark) == ("valid", "Sesuai SIAK.")
    again = client.post(f"{API}{c.id}/decision", headers=headers, json={"valid": False, "remark": "x"})
    assert again.status_code == 409 and again.get_json()["message"]
    assert db.session.scalar(sa.select(sa.func.count(NikCheck.id))) == 1


def test_bad_decisions_get_400_with_the_field_and_change_nothing(client, token, submission):
    c = submit(submission)
    headers = token("validator")
    cases = [
        ({"valid": False}, "remark"),
        ({"valid": False, "remark": "   "}, "remark"),
        ({"valid": "mungkin"}, "valid"),
        ({"remark": "tanpa keputusan"}, "valid"),
        ({"valid": True, "public_text": "Disunting tanpa alasan."}, "public_edit_reason"),
    ]
    for body, field in cases:
        response = client.post(f"{API}{c.id}/decision", headers=headers, json=body)
        assert response.status_code == 400, (body, raw(response))
        assert field in response.get_json()["errors"], (body, response.get_json())
    not_json = client.post(f"{API}{c.id}/decision", headers=headers, data="valid=1",
                           content_type="application/x-www-form-urlencoded")
    assert not_json.status_code == 400 and "JSON" in not_json.get_json()["message"]
    stale = client.post(f"{API}{c.id}/decision", headers=headers, json={"valid": True, "version": 999})
    assert stale.status_code == 409 and stale.get_json()["code"] == "stale"
    assert client.post(f"{API}999999/decision", headers=headers, json={"valid": True}).status_code == 404
    assert db.session.get(Complaint, c.id).state is State.MENUNGGU_VERIFIKASI
    assert db.session.scalar(sa.select(sa.func.count(NikCheck.id))) == 0


@pytest.mark.parametrize("username", ["opd.dinkes", "pimpinan"])
def test_only_validators_may_decide(client, token, submission, username):
    c = submit(submission)
    response = client.post(f"{API}{c.id}/decision", headers=token(username), json={"valid": True})
    assert response.status_code == 403
    assert db.session.get(Complaint, c.id).state is State.MENUNGGU_VERIFIKASI


def test_admin_sistem_may_not_decide_either(client, token, submission):
    c = submit(submission)
    response = client.post(f"{API}{c.id}/decision", headers=token("admin"), json={"valid": True})
    assert response.status_code == 403 and "tidak berwenang" in response.get_json()["message"]
    assert db.session.get(Complaint, c.id).state is State.MENUNGGU_VERIFIKASI


def test_an_opd_sees_only_its_routed_complaints_without_nik_or_anonim_identity(client, token, submission, actor):
    validator = actor("validator")
    anonim = submit(submission, visibility="anonim", text="Hubungi saya di 0812-9999-8888 ya.")
    publik = submit(submission, visibility="publik", nik=VALID_NIK_F, name="Siti Aminah", email="siti@contoh.id")
    other_opd = submit(submission, opd_code="DPUTR")
    waiting = submit(submission, text="Masih menunggu validasi.")
    for c in (anonim, publik, other_opd):
        services.decide_nik(c.id, validator, valid=True)
    headers = token("opd.dinkes")
    listed = client.get(API, headers=headers).get_json()["result"]
    assert sorted(row["id"] for row in listed) == sorted([anonim.id, publik.id])
    assert client.get(f"{API}{other_opd.id}", headers=headers).status_code == 404
    assert client.get(f"{API}{waiting.id}", headers=headers).status_code == 404
    hidden = client.get(f"{API}{anonim.id}", headers=headers)
    body = raw(hidden)
    assert hidden.get_json()["result"]["complainant"] is None
    assert "Budi" not in body and "0812-9999-8888" not in body and "0812-3456-7890" not in body
    assert "[nomor telepon disembunyikan]" in hidden.get_json()["result"]["text"]
    shown = client.get(f"{API}{publik.id}", headers=headers).get_json()["result"]
    assert shown["complainant"]["name"] == "Siti Aminah" and shown["complainant"]["email"] == "siti@contoh.id"
    for response_body in (body, json.dumps(shown), json.dumps(listed)):
        assert VALID_NIK not in response_body and VALID_NIK_F not in response_body and "nik_masked" not in response_body
    views = db.session.scalars(sa.select(AuditLog).where(AuditLog.kind == "pii",
                                                         AuditLog.action == "complaint.personal.view")).all()
    assert [v.complaint_id for v in views] == [publik.id]  # the anonim read returned no personal data


def test_pimpinan_reads_everything_except_the_nik(client, token, submission):
    c = submit(submission, email="budi@contoh.id")
    result = client.get(f"{API}{c.id}", headers=token("pimpinan")).get_json()["result"]
    assert result["complainant"]["phone"] == "0812-3456-7890"
    assert "nik_masked" not in result and VALID_NIK not in json.dumps(result)
    assert result["nik_check"]["structural_ok"] is True


def test_list_pages_by_keyset_and_filters_by_state(client, token, submission, actor):
    made = [submit(submission) for _ in range(5)]
    services.decide_nik(made[0].id, actor("validator"), valid=True)
    headers = token("pimpinan")
    first = client.get(f"{API}?{cursor.PER_PAGE}=2", headers=headers).get_json()
    assert [r["id"] for r in first["result"]] == [made[4].id, made[3].id]
    second = client.get(f"{API}?{cursor.PER_PAGE}=2&{cursor.NEXT}={first[cursor.NEXT]}", headers=headers).get_json()
    third = client.get(f"{API}?{cursor.PER_PAGE}=2&{cursor.NEXT}={second[cursor.NEXT]}", headers=headers).get_json()
    assert [r["id"] for r in second["result"] + third["result"]] == [made[2].id, made[1].id, made[0].id]
    assert third[cursor.NEXT] is None
    routed = client.get(f"{API}?state=diteruskan", headers=headers).get_json()["result"]
    assert [r["id"] for r in routed] == [made[0].id]
    bad = client.get(f"{API}?state=entah", headers=headers)
    assert bad.status_code == 400 and "state" in bad.get_json()["errors"]


def test_the_endpoints_are_in_the_openapi_document(client, token):
    response = client.get("/api/v1/_openapi", headers=token("admin"))
    assert response.status_code == 200
    spec = response.get_json()
    paths = spec["paths"]
    assert {f"{API}", f"{API}{{pk}}", f"{API}{{pk}}/decision"} <= set(paths)
    decision = paths[f"{API}{{pk}}/decision"]["post"]
    assert decision["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/Decision")
    assert {"valid", "remark", "version"} <= set(spec["components"]["schemas"]["Decision"]["properties"])
