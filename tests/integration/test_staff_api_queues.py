"""The desks' queues in the staff REST API (issue 15 item 3) and the Pimpinan's dispute decision: each the
screen's own list (same service, scope, disclosure view, order, filters, keyset cursor), walked beyond the
first page with each filter the screen offers; refused to the roles the screen refuses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine

from app import services
from app.extensions import db
from app.models import Complaint, Routing
from app.services import citizen
from app.workflow import State
from tests.integration.opd_support import api_headers, routed

NOW = datetime(2026, 3, 4, 3, 0, tzinfo=timezone.utc)  # Wednesday 10:00 WIB
NAIVE = NOW.replace(tzinfo=None)


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def api(app):
    client = app.test_client()

    def call(method, path, role=None, **kwargs):
        return client.open(path, method=method, headers=api_headers(role) if role else {}, **kwargs)

    return call


def walk(api, path, role, **params) -> tuple[list[int], int]:
    """Every id of a queue, two per page, following the cursor; and how many pages it took."""
    ids, pages, cursor = [], 0, None
    while True:
        query = {**params, "per_halaman": 2, **({"setelah": cursor} if cursor else {})}
        response = api("GET", path, role, query_string=query)
        assert response.status_code == 200, response.get_json()
        data = response.get_json()
        ids += [row["id"] for row in data["result"]]
        pages += 1
        cursor = data["setelah"]
        if cursor is None:
            return ids, pages
        assert pages < 50


def _set(complaint_id: int, **values) -> None:
    db.session.execute(sa.update(Complaint).where(Complaint.id == complaint_id).values(**values))
    db.session.commit()


# --------------------------------------------------------------------------- validator queue


def test_validator_queue_pages_and_filters_like_the_desk(api, submission, at_now):
    waiting = [services.submit(submission()).complaint.id for _ in range(5)]
    _set(waiting[0], validation_deadline=NAIVE - timedelta(hours=3))  # late
    _set(waiting[1], validation_deadline=NAIVE - timedelta(minutes=5))  # late
    _set(waiting[2], validation_deadline=NAIVE + timedelta(minutes=30))  # due soon
    routed(submission, lambda name: services.Actor.from_user(_staff(name)))  # decided: in no queue

    ids, pages = walk(api, "/api/v1/queue/validator/", "validator")
    assert ids == waiting and pages == 3  # oldest deadline first, each row once, beyond the first page
    assert walk(api, "/api/v1/queue/validator/", "validator", saring="terlambat") == (waiting[:2], 1)
    assert walk(api, "/api/v1/queue/validator/", "validator", saring="segera")[0] == [waiting[2]]

    assert api("POST", f"/api/v1/complaint/{waiting[3]}/claim", "validator").status_code == 200
    assert api("POST", f"/api/v1/complaint/{waiting[4]}/claim", "validator2").status_code == 200
    assert walk(api, "/api/v1/queue/validator/", "validator", saring="saya")[0] == [waiting[3]]
    assert walk(api, "/api/v1/queue/validator/", "validator2", saring="saya")[0] == [waiting[4]]
    first = api("GET", "/api/v1/queue/validator/", "validator").get_json()
    assert first["total"] == 5 and first["total_capped"] is False
    held = {row["id"]: row for row in first["result"]}
    assert held[waiting[3]]["held_by_me"] and held[waiting[4]]["holder"] and not held[waiting[4]]["held_by_me"]
    assert held[waiting[0]]["overdue"] and held[waiting[0]]["seconds_left"] < 0
    assert "nik" not in str(first).lower()  # the queue shows no NIK


def _staff(username):
    from app.models import Staff

    return db.session.scalar(sa.select(Staff).where(Staff.username == username))


@pytest.mark.parametrize("query, field", [({"saring": "semua"}, "saring"), ({"setelah": "bukan-kursor"}, "setelah"),
                                          ({"per_halaman": "0"}, "per_halaman"), ({"per_halaman": "x"}, "per_halaman")])
def test_a_queue_refuses_a_filter_or_cursor_it_does_not_know(api, query, field):
    response = api("GET", "/api/v1/queue/validator/", "validator", query_string=query)
    assert response.status_code == 400 and field in response.get_json()["errors"]


def test_a_cursor_of_another_queue_is_refused(api, submission, actor, at_now):
    for _ in range(3):
        routed(submission, actor)
    token = api("GET", "/api/v1/queue/opd/", "opd.dinkes", query_string={"per_halaman": 1}).get_json()["setelah"]
    assert token
    # A desk token carries a deadline; the complaint list is ordered by id alone: not its cursor, a 400.
    assert api("GET", "/api/v1/complaint/", "opd.dinkes", query_string={"setelah": token}).status_code == 400


# --------------------------------------------------------------------------- OPD queue


def test_opd_queue_is_the_desks_with_its_filters_and_scope(api, submission, actor, at_now):
    mine = [routed(submission, actor).id for _ in range(5)]
    other = routed(submission, actor, opd_code="DPUTR").id
    _set(mine[0], answer_deadline=NAIVE - timedelta(days=1))  # late
    _set(mine[1], answer_deadline=NAIVE + timedelta(hours=2))  # due today (before midnight WIB), not late
    answered = mine[4]
    services.answer(answered, actor("opd.dinkes"), "Sudah ditangani.")
    # One came back to DINKES after another OPD returned it (bukan wewenang) and dispatch re-routed it.
    back = routed(submission, actor, opd_code="DPUTR").id
    services.return_to_dispatch(back, actor("opd.dputr"), "Bukan wewenang DPUTR.")
    services.reroute(back, actor("validator"), "DINKESP2KB", None)

    ids, pages = walk(api, "/api/v1/queue/opd/", "opd.dinkes")
    assert sorted(ids) == sorted([*mine[:4], back]) and pages == 3 and len(set(ids)) == len(ids)
    deadlines = [db.session.get(Complaint, i).answer_deadline for i in ids]
    assert deadlines == sorted(deadlines)  # nearest deadline first, as on the desk
    assert walk(api, "/api/v1/queue/opd/", "opd.dinkes", terlambat="1")[0] == [mine[0]]
    assert walk(api, "/api/v1/queue/opd/", "opd.dinkes", tenggat="hari-ini")[0] == [mine[1]]
    assert walk(api, "/api/v1/queue/opd/", "opd.dinkes", dialihkan="1")[0] == [back]
    assert walk(api, "/api/v1/queue/opd/", "opd.dinkes", tab="dijawab")[0] == [answered]
    # Held to its own OPD whatever it asks for; Pimpinan chooses.
    assert other not in walk(api, "/api/v1/queue/opd/", "opd.dinkes", opd="DPUTR")[0]
    assert walk(api, "/api/v1/queue/opd/", "opd.dputr")[0] == [other]
    assert walk(api, "/api/v1/queue/opd/", "pimpinan", opd="DPUTR")[0] == [other]
    assert api("GET", "/api/v1/queue/opd/", "opd.dinkes", query_string={"tab": "semua"}).status_code == 400
    assert api("GET", "/api/v1/queue/opd/", "opd.dinkes", query_string={"terlambat": "ya"}).status_code == 400


def test_an_anonim_complaint_in_the_opd_queue_is_masked_as_on_the_desk(api, submission, actor):
    complaint = routed(submission, actor, visibility="anonim", title="Antrean lama, saya Budi Santoso")
    [row] = api("GET", "/api/v1/queue/opd/", "opd.dinkes").get_json()["result"]
    assert row["id"] == complaint.id and "Budi Santoso" not in str(row)


# --------------------------------------------------------------------------- dispatch queue


def test_dispatch_queue_pages_with_the_opds_reason(api, submission, actor, at_now):
    returned = []
    for n in range(3):
        c = routed(submission, actor)
        services.return_to_dispatch(c.id, actor("opd.dinkes"), f"Bukan wewenang kami ({n}).")
        returned.append(c.id)
    routed(submission, actor)  # still at its OPD: not in dispatch
    ids, pages = walk(api, "/api/v1/queue/dispatch/", "validator")
    assert sorted(ids) == sorted(returned) and pages == 2
    rows = api("GET", "/api/v1/queue/dispatch/", "admin").get_json()["result"]
    assert {r["return_reason"] for r in rows} == {f"Bukan wewenang kami ({n})." for n in range(3)}
    assert {r["returned_by"]["code"] for r in rows} == {"DINKESP2KB"}
    for role in ("opd.dinkes", "pimpinan"):
        assert api("GET", "/api/v1/queue/dispatch/", role).status_code == 403


# --------------------------------------------------------------------------- disputes


def _dispute(published, actor, reason="Petugas belum datang."):
    c = published()
    services.answer(c.id, actor("opd.dinkes"), "Petugas dikirim.")
    citizen.reply(c.id, citizen.ReplyInput(accepted=False, rating="2", reason=reason))
    return c


def test_dispute_queue_pages_beyond_the_first(api, published, actor):
    disputed = [_dispute(published, actor, f"Belum selesai ({n}), hubungi 0812-9999-8888.").id for n in range(3)]
    ids, pages = walk(api, "/api/v1/queue/disputes/", "pimpinan")
    assert ids == disputed and pages == 2  # oldest dispute first
    row = api("GET", "/api/v1/queue/disputes/", "pimpinan").get_json()["result"][0]
    assert row["answer"] == "Petugas dikirim." and row["rating"] == 2
    assert "0812-9999-8888" not in row["dispute_reason"]  # the masked reason, as on the screen
    # The screen pages the same way.
    from tests.integration.opd_support import login
    from tests.conftest import PASSWORD
    from flask import current_app

    screen = login(current_app, "pimpinan", PASSWORD)
    first = screen.get("/staf/sanggahan/").get_data(as_text=True)
    assert first.count('class="panel panel-warning dispute-row"') == 3 and 'rel="next"' not in first


@pytest.mark.parametrize("role", ["opd.dinkes", "validator", "opd.dputr"])
def test_disputes_are_the_pimpinans(api, published, actor, role):
    c = _dispute(published, actor)
    assert api("GET", "/api/v1/queue/disputes/", role).status_code == 403
    refused = api("POST", f"/api/v1/complaint/{c.id}/dispute", role, json={"outcome": "close", "reason": "x"})
    assert refused.status_code == 403
    db.session.expire_all()
    assert db.session.get(Complaint, c.id).state is State.DISANGGAH


def test_pimpinan_reopens_to_the_same_opd_with_a_new_deadline(api, published, actor):
    c = _dispute(published, actor)
    before = db.session.get(Complaint, c.id).answer_deadline
    response = api("POST", f"/api/v1/complaint/{c.id}/dispute", "pimpinan", json={"outcome": "reopen"})
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert (result["state"], result["opd"]) == ("diteruskan", "DINKESP2KB")
    db.session.expire_all()
    assert db.session.get(Complaint, c.id).answer_deadline >= before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Routing).where(Routing.complaint_id == c.id)) == 2
    again = api("POST", f"/api/v1/complaint/{c.id}/dispute", "pimpinan", json={"outcome": "close", "reason": "x"})
    assert again.status_code == 409  # no longer disputed


def test_pimpinan_reroutes_or_closes_with_a_reason(api, published, actor):
    first, second = _dispute(published, actor), _dispute(published, actor)
    rerouted = api("POST", f"/api/v1/complaint/{first.id}/dispute", "pimpinan",
                   json={"outcome": "reroute", "opd": "DPUTR", "reason": "Ranah pekerjaan umum."})
    assert rerouted.status_code == 200 and rerouted.get_json()["opd"] == "DPUTR"
    no_reason = api("POST", f"/api/v1/complaint/{second.id}/dispute", "pimpinan", json={"outcome": "close"})
    assert no_reason.status_code == 400 and "reason" in no_reason.get_json()["errors"]
    unknown = api("POST", f"/api/v1/complaint/{second.id}/dispute", "pimpinan", json={"outcome": "hapus"})
    assert unknown.status_code == 400 and "outcome" in unknown.get_json()["errors"]
    db.session.expire_all()
    assert db.session.get(Complaint, second.id).state is State.DISANGGAH  # the refusals changed nothing
    closed = api("POST", f"/api/v1/complaint/{second.id}/dispute", "pimpinan",
                 json={"outcome": "close", "reason": "Sesuai standar pelayanan."})
    assert closed.status_code == 200 and closed.get_json()["state"] == "selesai"
    assert api("POST", "/api/v1/complaint/999999/dispute", "pimpinan",
               json={"outcome": "reopen"}).status_code == 404
