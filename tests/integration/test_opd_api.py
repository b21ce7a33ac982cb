"""REST for the desk: answer, return and re-route, JWT-authenticated, scoped like the desk, documented."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Answer, Complaint, Outbox, Routing
from app.services.complaints import compute_answer_deadline
from app.workflow import State
from tests.integration.opd_support import api_headers, routed


def _api(app):
    return app.test_client()


def _fresh(complaint_id) -> Complaint:
    db.session.expire_all()
    return db.session.get(Complaint, complaint_id)


def test_answer_by_api(app, submission, actor):
    c = routed(submission, actor, email="warga@contoh.id")
    client, headers = _api(app), api_headers("opd.dinkes")
    assert client.post(f"/api/v1/complaint/{c.id}/answer", json={"text": "x"}).status_code == 401
    for body, field in (({}, "text"), ({"text": "   "}, "text"), ({"text": 42}, "text"), ({"text": "x" * 10_001}, "text")):
        response = client.post(f"/api/v1/complaint/{c.id}/answer", json=body, headers=headers)
        assert response.status_code == 400 and field in response.get_json()["errors"], body
    not_json = client.post(f"/api/v1/complaint/{c.id}/answer", data="text=x", headers=headers)
    assert not_json.status_code == 400
    assert _fresh(c.id).state is State.DITERUSKAN
    response = client.post(f"/api/v1/complaint/{c.id}/answer", json={"text": "Sudah ditangani."}, headers=headers)
    assert response.status_code == 200
    data = response.get_json()
    assert data["state"] == "dijawab" and data["ticket"] == c.ticket and data["answer_id"]
    assert _fresh(c.id).current_answer.text == "Sudah ditangani."
    assert db.session.scalar(sa.select(Outbox.template).where(Outbox.complaint_id == c.id)
                             .order_by(Outbox.id.desc())) == "answered"
    again = client.post(f"/api/v1/complaint/{c.id}/answer", json={"text": "Lagi."}, headers=headers)
    assert again.status_code == 409 and again.get_json()["code"] == "invalid_state"
    # Pimpinan reads but may not answer: no permission at all.
    other = routed(submission, actor)
    boss = client.post(f"/api/v1/complaint/{other.id}/answer", json={"text": "x"}, headers=api_headers("pimpinan"))
    assert boss.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 1


def test_return_and_reroute_by_api(app, submission, actor):
    c = routed(submission, actor)
    client = _api(app)
    missing = client.post(f"/api/v1/complaint/{c.id}/return", json={}, headers=api_headers("opd.dinkes"))
    assert missing.status_code == 400 and "reason" in missing.get_json()["errors"]
    done = client.post(f"/api/v1/complaint/{c.id}/return", json={"reason": "Kewenangan DPUTR."},
                       headers=api_headers("opd.dinkes"))
    assert done.status_code == 200 and done.get_json()["state"] == "perlu_disposisi"
    validator = api_headers("validator")
    bad = client.post(f"/api/v1/complaint/{c.id}/reroute", json={"opd": "NOPE"}, headers=validator)
    assert bad.status_code == 400 and "opd" in bad.get_json()["errors"]
    moved = client.post(f"/api/v1/complaint/{c.id}/reroute", json={"opd": "DPUTR"}, headers=validator)
    assert moved.status_code == 200
    data = moved.get_json()
    assert data["state"] == "diteruskan" and data["opd"] == "DPUTR"
    fresh = _fresh(c.id)
    assert fresh.answer_deadline == compute_answer_deadline(fresh.routed_at)
    assert data["answer_deadline"] == fresh.answer_deadline.isoformat() + "Z"
    hops = db.session.scalars(sa.select(Routing).where(Routing.complaint_id == c.id).order_by(Routing.id)).all()
    assert [(h.opd.code, h.outcome) for h in hops] == [("DINKESP2KB", "returned"), ("DPUTR", None)]
    # A validator may not move a complaint that is routed (only Admin Sistem may).
    refused = client.post(f"/api/v1/complaint/{c.id}/reroute", json={"opd": "DINKESP2KB"}, headers=validator)
    assert refused.status_code == 403 and refused.get_json()["code"] == "forbidden"
    assert _fresh(c.id).opd.code == "DPUTR"
    admin = client.post(f"/api/v1/complaint/{c.id}/reroute", json={"opd": "DINKESP2KB"}, headers=api_headers("admin"))
    assert admin.status_code == 200 and _fresh(c.id).opd.code == "DINKESP2KB"


def test_the_three_endpoints_are_in_the_openapi_document(app):
    response = _api(app).get("/api/v1/_openapi", headers=api_headers("admin"))
    assert response.status_code == 200
    paths = response.get_json()["paths"]
    for suffix in ("answer", "return", "reroute"):
        operation = paths[f"/api/v1/complaint/{{pk}}/{suffix}"]["post"]
        assert operation["requestBody"]["required"] is True
        assert {"200", "400", "404"} <= set(operation["responses"])
