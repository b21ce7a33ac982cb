"""Every desk action has its REST counterpart, documented (issue 15 item 3), and each works as each role
exactly as the screen allows (item 4): allowed where the screen allows it, 403 for a role the screen
refuses, and for an Admin OPD of another OPD the same 404 as for a complaint that does not exist (no
leak of existence); a refusal changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app import services
from app.extensions import db
from app.models import Complaint
from app.services import citizen
from tests.integration.opd_support import api_headers, routed

# Each POST action of the desk screens and its API operation (method, path in /api/v1/_openapi).
DESK_ACTIONS = {
    "ValidatorDeskView.decide": ("post", "/api/v1/complaint/{pk}/decision"),
    "OpdDeskView.add_note": ("post", "/api/v1/complaint/{pk}/note"),
    "OpdDeskView.answer": ("post", "/api/v1/complaint/{pk}/answer"),
    "OpdDeskView.edit_answer": ("post", "/api/v1/complaint/{pk}/answer/edit"),
    "OpdDeskView.return_complaint": ("post", "/api/v1/complaint/{pk}/return"),
    "DispatchView.reroute": ("post", "/api/v1/complaint/{pk}/reroute"),
    "DisputeView.decide": ("post", "/api/v1/complaint/{pk}/dispute"),
    "OpdDeskView.link": ("post", "/api/v1/complaint/{pk}/link"),
    "OpdDeskView.unlink": ("post", "/api/v1/complaint/{pk}/unlink"),
    "ValidatorDeskView.link": ("post", "/api/v1/complaint/{pk}/link"),
    "ValidatorDeskView.unlink": ("post", "/api/v1/complaint/{pk}/unlink"),
}
# Desk actions that send nothing but the complaint (no request body to document).
NO_BODY = {"OpdDeskView.unlink", "ValidatorDeskView.unlink"}
# What the desks do by opening a page, and its operation: claim by opening, the queues, the files.
DESK_READS = {
    "ValidatorDeskView.check": ("post", "/api/v1/complaint/{pk}/claim"),  # opening claims the complaint
    "ValidatorDeskView.queue": ("get", "/api/v1/queue/validator/"),
    "ValidatorDeskView.attachment": ("get", "/api/v1/complaint/{pk}/attachment/{attachment_id}"),
    "OpdDeskView.queue": ("get", "/api/v1/queue/opd/"),
    "OpdDeskView.detail": ("get", "/api/v1/complaint/{pk}"),
    "OpdDeskView.attachment": ("get", "/api/v1/complaint/{pk}/attachment/{attachment_id}"),
    "DispatchView.queue": ("get", "/api/v1/queue/dispatch/"),
    "DisputeView.queue": ("get", "/api/v1/queue/disputes/"),
}
# POST routes under /staf/ that are not desk work on a complaint: Admin Sistem's settings and operations.
NOT_DESK_ACTIONS = {
    "RegistryImportView.upload": "Admin Sistem fills the offline SIAK registry from a CSV file (settings)",
    "OutboxView.resend": "Admin Sistem re-queues a dead notice (operations)",
    "Open311KeyView.create": "Admin Sistem issues an Open311 key (settings)",
    "Open311KeyView.revoke": "Admin Sistem revokes an Open311 key (settings)",
}


@pytest.fixture(scope="module")
def spec(app):
    from tests.integration.opd_support import api_headers as headers

    with app.app_context():
        response = app.test_client().get("/api/v1/_openapi", headers=headers("admin"))
    assert response.status_code == 200
    return response.get_json()


def _resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        section = "responses" if "/responses/" in node["$ref"] else "schemas"
        node = spec["components"][section][name]
    return node


def test_every_desk_post_is_declared(app):
    posts = {rule.endpoint for rule in app.url_map.iter_rules()
             if "POST" in rule.methods and rule.rule.startswith("/staf/")}
    undeclared = sorted(posts - set(DESK_ACTIONS) - set(NOT_DESK_ACTIONS))
    assert not undeclared, f"A desk POST without its API operation declared here: {undeclared}"
    assert not (set(DESK_ACTIONS) | set(NOT_DESK_ACTIONS)) - posts, "declared routes that no longer exist"
    gets = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(DESK_READS) <= gets


@pytest.mark.parametrize("endpoint", sorted(DESK_ACTIONS))
def test_each_desk_action_is_documented_with_schemas_and_examples(spec, endpoint):
    method, path = DESK_ACTIONS[endpoint]
    operation = spec["paths"][path][method]
    if endpoint in NO_BODY:
        assert "requestBody" not in operation, f"{endpoint}: takes no body"
    else:
        body = operation["requestBody"]["content"]["application/json"]
        assert _resolve(spec, body["schema"]).get("properties"), f"{endpoint}: request schema"
        assert body.get("example") or body.get("examples"), f"{endpoint}: request example"
    ok = _resolve(spec, operation["responses"]["200"])["content"]["application/json"]
    assert _resolve(spec, ok["schema"]).get("properties"), f"{endpoint}: response schema"
    assert ok.get("example") or ok.get("examples"), f"{endpoint}: response example"
    for status in ("401", "403", "404") if endpoint in NO_BODY else ("400", "401", "403", "404"):
        assert status in operation["responses"], f"{endpoint}: {status} documented"


@pytest.mark.parametrize("endpoint", sorted(DESK_READS))
def test_each_desk_read_has_its_operation(spec, endpoint):
    method, path = DESK_READS[endpoint]
    operation = spec["paths"][path][method]
    assert "200" in operation["responses"] and "403" in operation["responses"]


# --------------------------------------------------------------------------- each action as each role

ROLES = ("validator", "pimpinan", "opd.dinkes", "opd.dputr", "admin", None)


def _waiting(submission, actor):
    return services.submit(submission()).complaint


def _answered(submission, actor):
    c = routed(submission, actor)
    services.answer(c.id, actor("opd.dinkes"), "Sudah ditangani.")
    return c


def _returned(submission, actor):
    c = routed(submission, actor)
    services.return_to_dispatch(c.id, actor("opd.dinkes"), "Bukan wewenang kami.")
    return c


def _disputed(submission, actor):
    c = _answered(submission, actor)
    citizen.reply(c.id, citizen.ReplyInput(accepted=False, rating="1", reason="Belum ada perubahan."))
    return c


# action: (make the complaint, method, path, body, {role: expected status})
ACTIONS = {
    "claim": (_waiting, "POST", "/api/v1/complaint/{pk}/claim", None,
              {"validator": 200, "pimpinan": 403, "opd.dinkes": 403, "opd.dputr": 403, "admin": 403, None: 401}),
    "decision": (_waiting, "POST", "/api/v1/complaint/{pk}/decision", {"valid": True},
                 {"validator": 200, "pimpinan": 403, "opd.dinkes": 403, "opd.dputr": 403, "admin": 403, None: 401}),
    "detail": (routed, "GET", "/api/v1/complaint/{pk}", None,
               {"validator": 200, "pimpinan": 200, "opd.dinkes": 200, "opd.dputr": 404, "admin": 200, None: 401}),
    "answer": (routed, "POST", "/api/v1/complaint/{pk}/answer", {"text": "Dijawab."},
               {"validator": 403, "pimpinan": 403, "opd.dinkes": 200, "opd.dputr": 404, "admin": 403, None: 401}),
    "answer edit": (_answered, "POST", "/api/v1/complaint/{pk}/answer/edit", {"text": "Diubah.", "reason": "Salah tanggal."},
                    {"validator": 403, "pimpinan": 403, "opd.dinkes": 200, "opd.dputr": 404, "admin": 403,
                     None: 401}),
    "note": (routed, "POST", "/api/v1/complaint/{pk}/note", {"text": "Catatan."},
             {"validator": 403, "pimpinan": 200, "opd.dinkes": 200, "opd.dputr": 404, "admin": 200, None: 401}),
    "return": (routed, "POST", "/api/v1/complaint/{pk}/return", {"reason": "Bukan wewenang."},
               {"validator": 403, "pimpinan": 403, "opd.dinkes": 200, "opd.dputr": 404, "admin": 403, None: 401}),
    "reroute": (_returned, "POST", "/api/v1/complaint/{pk}/reroute", {"opd": "DPUTR"},
                {"validator": 200, "pimpinan": 403, "opd.dinkes": 403, "opd.dputr": 403, "admin": 200, None: 401}),
    "dispute": (_disputed, "POST", "/api/v1/complaint/{pk}/dispute", {"outcome": "reopen"},
                {"validator": 403, "pimpinan": 200, "opd.dinkes": 403, "opd.dputr": 403, "admin": 403, None: 401}),
}
QUEUES = {
    "/api/v1/queue/validator/": {"validator": 200, "pimpinan": 403, "opd.dinkes": 403, "opd.dputr": 403,
                                 "admin": 200, None: 401},
    "/api/v1/queue/opd/": {"validator": 403, "pimpinan": 200, "opd.dinkes": 200, "opd.dputr": 200, "admin": 200,
                           None: 401},
    "/api/v1/queue/dispatch/": {"validator": 200, "pimpinan": 403, "opd.dinkes": 403, "opd.dputr": 403,
                                "admin": 200, None: 401},
    "/api/v1/queue/disputes/": {"validator": 403, "pimpinan": 200, "opd.dinkes": 403, "opd.dputr": 403,
                                "admin": 200, None: 401},
}


def _call(app, method, path, role, body):
    headers = api_headers(role) if role else {}
    return app.test_client().open(path, method=method, headers=headers, json=body)


def _row(complaint_id):
    db.session.expire_all()
    c = db.session.get(Complaint, complaint_id)
    return c.state, c.version, c.opd_id, c.claimed_by_id


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_desk_action_as_each_role(app, submission, actor, action, role):
    make, method, path, body, expected = ACTIONS[action]
    complaint = make(submission, actor)
    if action == "decision" and role == "validator":
        assert _call(app, "POST", f"/api/v1/complaint/{complaint.id}/claim", role, None).status_code == 200
    before = _row(complaint.id)
    response = _call(app, method, path.format(pk=complaint.id), role, body)
    assert response.status_code == expected[role], response.get_data(as_text=True)
    if response.status_code != 200:
        assert _row(complaint.id) == before  # refused: nothing changed
    elif action == "answer edit":
        assert db.session.get(Complaint, complaint.id).current_answer.text == "Diubah."
    elif method == "POST" and action != "note":
        assert _row(complaint.id) != before


@pytest.mark.parametrize("action", sorted(a for a, v in ACTIONS.items() if v[4]["opd.dputr"] == 404))
def test_another_opds_complaint_answers_like_one_that_does_not_exist(app, submission, actor, action):
    make, method, path, body, _expected = ACTIONS[action]
    theirs = make(submission, actor)  # at DINKESP2KB
    existing = _call(app, method, path.format(pk=theirs.id), "opd.dputr", body)
    missing = _call(app, method, path.format(pk=2_000_000_000), "opd.dputr", body)
    assert existing.status_code == missing.status_code == 404
    assert existing.get_json() == missing.get_json()


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
@pytest.mark.parametrize("path", sorted(QUEUES))
def test_each_queue_as_each_role(app, path, role):
    assert _call(app, "GET", path, role, None).status_code == QUEUES[path][role]


def test_the_queue_apis_have_their_own_permission_resources(app):
    """FAB strips from every role the permissions of a resource that the last class registered on it does not
    expose: an API sharing a screen's resource would take the screen's permissions away at start-up."""
    from app.api import queues

    from flask_appbuilder.api import BaseApi

    screens = {v.class_permission_name for v in app.appbuilder.baseviews if not isinstance(v, BaseApi)}
    assert {"ValidatorDesk", "OpdDesk", "Dispatch", "Dispute"} <= screens
    for api in (queues.ValidatorQueueApi, queues.OpdQueueApi, queues.DispatchQueueApi, queues.DisputeApi):
        assert api.class_permission_name not in screens
