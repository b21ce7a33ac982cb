"""Hostile input on every REST endpoint of ours: list parameters, the validator's decision, the OPD's
answer and return, the re-route; every field with the text corpus and with values of the wrong JSON
type; bodies that are not objects, too deep, too big, or carry unknown keys."""

from __future__ import annotations

import json
from urllib.parse import quote

import sqlalchemy as sa

from app import inputs

from tests.integration.opd_support import api_headers

from .corpus import INTEGERS, SHORT, TEXT, WRONG_TYPES, json_body, text_values, url

ENDPOINTS = {"ComplaintApi.get_list", "ComplaintApi.get", "ComplaintApi.decision", "ComplaintDeskApi.answer",
             "ComplaintDeskApi.return_complaint", "ComplaintDeskApi.reroute", "ComplaintDeskApi.edit_answer",
             "ComplaintDeskApi.add_note", "ComplaintApi.claim", "ComplaintApi.attachment", "OpdApi.get_list",
             "RecapApi.get", "HistoryLogApi.get_list", "DashboardApi.get", "ValidatorQueueApi.get_list",
             "OpdQueueApi.get_list", "DispatchQueueApi.get_list", "DisputeApi.get_list", "DisputeApi.decide"}
# Each queue and the parameters its screen offers (app/api/queues.py), with a role that may read it.
QUEUES = {"/api/v1/queue/validator/": ("validator", ("saring", "setelah", "per_halaman")),
          "/api/v1/queue/opd/": ("opd.dinkes", ("tab", "terlambat", "tenggat", "dialihkan", "q", "opd", "setelah",
                                                "per_halaman")),
          "/api/v1/queue/dispatch/": ("admin", ("setelah", "per_halaman")),
          "/api/v1/queue/disputes/": ("pimpinan", ("setelah", "per_halaman"))}

REFUSED = ("nul", "nul_only", "controls", "c1", "rtl_override", "rtl_isolate", "noncharacter", "lone_surrogate")
# Nothing visible: missing, which only a required field refuses (an optional one is simply not given).
BLANK = ("blank", "zero_width_only", "invisible_only", "type empty")
BODIES = {
    "array": b"[1, 2]", "string": b'"teks"', "number": b"12", "null": b"null", "broken": b'{"text": ',
    "deep": b"[" * 5000 + b"]" * 5000, "deep object": b'{"a": ' * 3000 + b"1" + b"}" * 3000,
    "not utf-8": b'{"text": "\xff\xfe"}', "bom": b'\xef\xbb\xbf{"text": "x"}',
    "duplicate keys": b'{"text": "a", "text": "b"}',
    "huge": b'{"text": "' + b"a" * 3_000_000 + b'"}', "nan": b'{"version": NaN, "text": "x"}',
}


def _state(complaint_id: int):
    from app.extensions import db
    from app.models import Complaint

    state = db.session.scalar(sa.select(Complaint.state).where(Complaint.id == complaint_id))
    db.session.rollback()
    return state


def _sweep(probe, client, headers, *, make, path, base, fields, label, required=()):
    """Each field of a JSON body with every text value and every wrong type; a success that moved the
    complaint on uses it up."""
    target = make()
    start = _state(target.id)
    values = [*text_values(TEXT), *((f"type {k}", v) for k, v in WRONG_TYPES.items())]
    for field in fields:
        for name, value in values:
            response = probe.call(client, "POST", path(target), label=f"{label} {field}={name}",
                                  **json_body({**base(target), field: value}, headers))
            if response is None:
                continue
            wrong_type = name.startswith("type ") and name not in ("type string", "type null", "type empty")
            fits = (field == "version" and name in ("type int", "type negative")) or (field == "valid"
                                                                                      and name == "type true")
            refused = name in REFUSED or (wrong_type and not fits)
            if field in required and (name == "type null" or name in BLANK):
                refused = True
            if refused and response.status_code != 400:
                probe.fail(f"{label} {field}={name}: expected 400, got {response.status_code}")
            if refused and response.status_code == 400:
                body = response.get_json(silent=True) or {}
                if field not in (body.get("errors") or {}) and name != "type object":
                    probe.fail(f"{label} {field}={name}: 400 without a message for the field: {body}")
            if _state(target.id) != start:
                target = make()
                start = _state(target.id)
    for name, raw in BODIES.items():
        probe.call(client, "POST", path(target), label=f"{label} body {name}", data=raw,
                   content_type="application/json", headers=headers)
    probe.call(client, "POST", path(target), label=f"{label} unknown key",
               **json_body({**base(target), "nik": "3508011203900001", "state": "selesai"}, headers))
    probe.call(client, "POST", path(target), label=f"{label} form instead of JSON", data={"text": "x"},
               headers=headers)


def test_list_parameters(app, clients, probe, world):
    world.routed()
    world.waiting()
    for role in ("admin", "validator", "pimpinan", "opd.dinkes"):
        headers = api_headers(role)
        client = clients["anon"]
        for label, value in text_values(SHORT):
            probe.call(client, "GET", url("/api/v1/complaint/", {"state": value}), label=f"{role} state={label}",
                       headers=headers)
        # The paging names (services/cursor.py): an id cursor (old `before`) is a positive id an INTEGER column holds; a page
        # size (`per_halaman`, old `limit`) is a positive integer, larger ones taken as the maximum.
        for name in ("before", "limit", "per_halaman"):
            for value in INTEGERS:
                response = probe.call(client, "GET", url("/api/v1/complaint/", {name: value}),
                                      label=f"{role} {name}={value[:12]!r}", headers=headers)
                digits = value.strip()
                bound = inputs.ID_MAX if name == "before" else 2**63 - 1
                good = value.isascii() and digits.isdigit() and len(digits) <= 19 and 0 < int(digits) <= bound
                if response is not None and not good and value.strip() and response.status_code != 400:
                    probe.fail(f"{role} {name}={value[:12]!r}: expected 400, got {response.status_code}")
    probe.assert_clean()


def test_validator_decision_api(app, clients, probe, world):
    headers = api_headers("validator")

    def base(complaint):
        return {"valid": True, "remark": "Cocok.", "public_title": "Jalan berlubang",
                "public_text": "Mohon diperbaiki.", "public_edit_reason": "Merapikan."}

    _sweep(probe, clients["anon"], headers, make=world.waiting, path=lambda c: f"/api/v1/complaint/{c.id}/decision",
           base=base, fields=("valid", "remark", "version", "public_title", "public_text", "public_edit_reason"),
           label="decision", required=("valid",))
    probe.assert_clean()


def test_opd_answer_return_and_reroute_api(app, clients, probe, world):
    opd = api_headers("opd.dinkes")
    _sweep(probe, clients["anon"], opd, make=world.routed, path=lambda c: f"/api/v1/complaint/{c.id}/answer",
           base=lambda c: {"text": "Sudah diperbaiki."}, fields=("text",), label="answer", required=("text",))
    _sweep(probe, clients["anon"], opd, make=world.routed, path=lambda c: f"/api/v1/complaint/{c.id}/return",
           base=lambda c: {"reason": "Bukan wewenang."}, fields=("reason",), label="return", required=("reason",))
    _sweep(probe, clients["anon"], api_headers("admin"), make=world.returned,
           path=lambda c: f"/api/v1/complaint/{c.id}/reroute", base=lambda c: {"opd": "DPUTR", "note": "Jalan."},
           fields=("opd", "note"), label="reroute", required=("opd",))
    probe.assert_clean()


def test_blank_api_answer_leaves_the_complaint_unanswered(app, clients, probe, world):
    """The reported bug: POST …/answer with a zero-width space made the complaint dijawab, empty."""
    from app.workflow import State

    complaint = world.routed()
    for label in ("zero_width_only", "nul_only", "blank", "invisible_only"):
        response = probe.call(clients["anon"], "POST", f"/api/v1/complaint/{complaint.id}/answer",
                              label=f"answer {label}", **json_body({"text": TEXT[label]}, api_headers("opd.dinkes")))
        assert response is not None and response.status_code == 400
        assert response.get_json()["errors"]["text"]
    assert _state(complaint.id) is State.DITERUSKAN
    probe.assert_clean()


def test_api_tokens(app, clients, probe):
    for label, value in text_values(SHORT):
        header = f"Bearer {value}"[:8000].replace("\r", "").replace("\n", "")
        response = probe.call(clients["anon"], "GET", "/api/v1/complaint/", label=f"token {label}",
                              headers={"Authorization": header})
        if response is not None:
            assert response.status_code in (401, 422)
            assert set(json.loads(response.get_data(as_text=True))) >= {"message", "code"}
    probe.assert_clean()


def test_note_edit_claim_attachment_and_opd_list_api(app, clients, probe, world):
    opd = api_headers("opd.dinkes")
    _sweep(probe, clients["anon"], opd, make=world.routed, path=lambda c: f"/api/v1/complaint/{c.id}/note",
           base=lambda c: {"text": "Catatan petugas."}, fields=("text",), label="note", required=("text",))
    _sweep(probe, clients["anon"], opd, make=world.answered, path=lambda c: f"/api/v1/complaint/{c.id}/answer/edit",
           base=lambda c: {"text": "Jawaban baru.", "reason": "Salah ketik."}, fields=("text", "reason"),
           label="edit answer", required=("text", "reason"))
    validator = api_headers("validator")
    for name, raw in BODIES.items():  # the claim takes no body: whatever is sent is ignored
        target = world.waiting(claimed=False)
        probe.call(clients["anon"], "POST", f"/api/v1/complaint/{target.id}/claim", label=f"claim body {name}",
                   data=raw, content_type="application/json", headers=validator)
    for value in INTEGERS:
        probe.call(clients["anon"], "GET", f"/api/v1/complaint/1/attachment/{quote(value, safe='')}", label=f"attachment {value[:12]!r}",
                   headers=validator)
        probe.call(clients["anon"], "GET", url("/api/v1/opd/", {"q": value}), label=f"opd list {value[:12]!r}",
                   headers=validator)
    probe.assert_clean()


def test_recap_and_history_parameters(app, clients, probe, world):
    world.routed()
    headers = api_headers("pimpinan")
    for name in ("periode", "tanggal", "dari", "sampai", "kelompok"):
        for label, value in text_values(SHORT):
            probe.call(clients["anon"], "GET", url("/api/v1/recap/", {"periode": "rentang", name: value}),
                       label=f"recap {name}={label}", headers=headers)
    for name in ("dari", "sampai", "opd"):
        for label, value in text_values(SHORT):
            probe.call(clients["anon"], "GET", url("/api/v1/dashboard/", {name: value}),
                       label=f"dashboard {name}={label}", headers=headers)
    for name in ("pengguna", "peran", "aksi", "jenis", "tiket", "dari", "sampai", "setelah"):
        for label, value in text_values(SHORT):
            probe.call(clients["anon"], "GET", url("/api/v1/history/", {name: value}), label=f"history {name}={label}",
                       headers=headers)
    probe.assert_clean()


def test_queue_parameters_and_the_dispute_decision(app, clients, probe, world):
    world.waiting()
    world.routed()
    world.returned()
    world.disputed()
    for path, (role, names) in QUEUES.items():
        headers = api_headers(role)
        for name in names:
            for label, value in text_values(SHORT):
                response = probe.call(clients["anon"], "GET", url(path, {name: value}), label=f"{path} {name}={label}",
                                      headers=headers)
                if response is not None and response.status_code not in (200, 400):
                    probe.fail(f"{path} {name}={label}: {response.status_code}")
    _sweep(probe, clients["anon"], api_headers("pimpinan"), make=world.disputed,
           path=lambda c: f"/api/v1/complaint/{c.id}/dispute", base=lambda c: {"outcome": "close", "reason": "Sesuai."},
           fields=("outcome", "reason", "opd"), label="dispute", required=("outcome",))
    probe.assert_clean()
