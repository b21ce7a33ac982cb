"""Hostile input on linking a complaint to an earlier one as the same problem (issue 18): the OPD desk's
and the validator's link and unlink forms, and the REST link/unlink. Every value of the corpus as the main
complaint's id or ticket: a clean refusal (or a link when it names a real main), never a 5xx, never a
link half made."""

from __future__ import annotations

import sqlalchemy as sa

from tests.integration.opd_support import api_headers

from .corpus import INTEGERS, SHORT, WRONG_TYPES, form, json_body, text_values

ENDPOINTS = {"OpdDeskView.link", "OpdDeskView.unlink", "ValidatorDeskView.link", "ValidatorDeskView.unlink",
             "ComplaintDeskApi.link", "ComplaintDeskApi.unlink"}


def _linked_to(complaint_id: int):
    from app.extensions import db
    from app.models import Complaint

    value = db.session.scalar(sa.select(Complaint.linked_to_id).where(Complaint.id == complaint_id))
    db.session.rollback()
    return value


def _values():
    return [*text_values(SHORT), *((f"int {v[:12]!r}", v) for v in INTEGERS)]


def test_link_forms_of_the_desks(app, clients, probe, world):
    # The validator's check page, shown again with the refusal, renews the validator's claim (a new version):
    # by design, as after a refused decision (test_staff.py).
    for who, make, prefix, ignore in (("opd.dinkes", world.routed, "/staf/opd", ()),
                                      ("validator", world.waiting, "/staf/validasi", ("complaint_version",))):
        client = clients[who]
        main, target = make(), make()
        for field in ("main_id", "ticket"):
            for label, value in _values():
                response = probe.call(client, "POST", f"{prefix}/{target.id}/tautkan", label=f"{who} link {field}={label}",
                                      ignore=ignore, **form({field: value}))
                if response is not None and response.status_code not in (302, 303, 400, 403, 404, 409, 413):
                    probe.fail(f"{who} link {field}={label}: got {response.status_code}")
                linked = _linked_to(target.id)
                named = {main.id} | ({int(value)} if field == "main_id" and value.isdigit() and len(value) < 12 else set())
                if linked is not None and linked not in named:  # "1" names complaint 1, a possible main too
                    probe.fail(f"{who} link {field}={label}: linked to {linked}, which no value named")
                if linked is not None:  # a value that named the main (its id or ticket): undo for the next one
                    probe.call(client, "POST", f"{prefix}/{target.id}/lepas-tautan", label=f"{who} unlink", ignore=ignore, **form({}))
        for label, value in _values():
            probe.call(client, "POST", f"{prefix}/{target.id}/lepas-tautan", label=f"{who} unlink x={label}",
                       ignore=ignore, **form({"x": value}))
        for value in INTEGERS:
            probe.call(client, "POST", f"{prefix}/{value}/tautkan", label=f"{who} link path {value[:12]!r}",
                       **form({"ticket": main.ticket}))
    probe.assert_clean()


def test_link_api(app, clients, probe, world):
    client, headers = clients["anon"], api_headers("opd.dinkes")
    world.routed()  # an earlier complaint of the same OPD: a possible main
    target = world.routed()
    values = [*_values(), *((f"type {k}", v) for k, v in WRONG_TYPES.items())]
    for field in ("main_id", "ticket"):
        for label, value in values:
            response = probe.call(client, "POST", f"/api/v1/complaint/{target.id}/link", label=f"api link {field}={label}",
                                  **json_body({field: value}, headers))
            if response is not None and response.status_code not in (200, 400, 403, 404, 409, 413, 422):
                probe.fail(f"api link {field}={label}: got {response.status_code}")
            if _linked_to(target.id) is not None:
                probe.call(client, "POST", f"/api/v1/complaint/{target.id}/unlink", label="api unlink",
                           **json_body({}, headers))
    for name, raw in {"array": b"[1]", "broken": b'{"ticket": ', "huge": b'{"ticket": "' + b"a" * 2_000_000 + b'"}'}.items():
        probe.call(client, "POST", f"/api/v1/complaint/{target.id}/link", label=f"api link body {name}", data=raw,
                   content_type="application/json", headers=headers)
    for value in INTEGERS:
        probe.call(client, "POST", f"/api/v1/complaint/{value}/unlink", label=f"api unlink path {value[:12]!r}",
                   **json_body({}, headers))
    probe.assert_clean()
