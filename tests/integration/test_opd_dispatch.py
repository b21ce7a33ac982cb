"""Bukan wewenang and disposisi: the OPD returns with a reason, the dispatch queue shows it, Admin
Sistem or a validator re-routes; the new OPD's deadline starts at the new routing, every hop is on the
timeline, and the time each OPD held the complaint is kept for the recap."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
import time_machine

from app import services
from app.extensions import db
from app.models import Complaint, Routing, StatusEvent
from app.services import desk
from app.services.complaints import compute_answer_deadline
from app.workflow import State
from tests.conftest import PASSWORD, text_of
from tests.integration.opd_support import login, routed

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)  # Monday 09:00 WIB


def _fresh(complaint_id) -> Complaint:
    db.session.expire_all()
    return db.session.get(Complaint, complaint_id)


def _hops(complaint_id):
    return db.session.scalars(sa.select(Routing).where(Routing.complaint_id == complaint_id)
                              .order_by(Routing.id)).all()


def test_return_then_reroute_recomputes_the_deadline_and_keeps_time_per_opd(app, submission, actor):
    with time_machine.travel(T0, tick=False):
        c = routed(submission, actor, title="Saluran air tersumbat")
    first = _fresh(c.id)
    first_deadline = first.answer_deadline
    assert first_deadline == compute_answer_deadline(first.routed_at)

    # Sessions expire when idle: each actor signs in at the moment it acts.
    with time_machine.travel(T0 + timedelta(days=1, hours=3), tick=False):
        dinkes = login(app, "opd.dinkes", PASSWORD)
        refused = dinkes.post(f"/staf/opd/{c.id}/kembalikan", data={"reason": "  "})
        assert refused.status_code == 400 and "Alasan wajib diisi." in refused.get_data(as_text=True)
        assert _fresh(c.id).state is State.DITERUSKAN
        done = dinkes.post(f"/staf/opd/{c.id}/kembalikan", data={"reason": "Saluran air kewenangan DPUTR."})
        assert done.status_code == 302 and done.headers["Location"].endswith("/staf/opd/")
        assert dinkes.get(f"/staf/opd/{c.id}").status_code == 404  # it has left the Dinkes desk
    assert _fresh(c.id).state is State.PERLU_DISPOSISI

    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        validator = login(app, "validator", PASSWORD)
        queue = text_of(validator.get("/staf/disposisi/"))
        assert c.ticket in queue and "Saluran air kewenangan DPUTR." in queue
        assert "Dinas Kesehatan" in queue  # who returned it
        bad = validator.post(f"/staf/disposisi/{c.id}/teruskan", data={"opd": "TIDAKADA"}, follow_redirects=True)
        assert "OPD tujuan tidak dikenal" in bad.get_data(as_text=True)
        assert _fresh(c.id).state is State.PERLU_DISPOSISI
        moved = validator.post(f"/staf/disposisi/{c.id}/teruskan", data={"opd": "DPUTR", "note": "Drainase."})
        assert moved.status_code == 302
    c2 = _fresh(c.id)
    assert c2.state is State.DITERUSKAN and c2.opd.code == "DPUTR"
    assert c2.routed_at == (T0 + timedelta(days=2)).replace(tzinfo=None)
    assert c2.answer_deadline == compute_answer_deadline(c2.routed_at) and c2.answer_deadline > first_deadline
    assert c.ticket not in text_of(login(app, "validator", PASSWORD).get("/staf/disposisi/"))

    hops = _hops(c.id)
    assert [(h.opd.code, h.outcome, h.reason) for h in hops] == [
        ("DINKESP2KB", "returned", "Saluran air kewenangan DPUTR."), ("DPUTR", None, None)]
    assert hops[0].ended_at - hops[0].routed_at == timedelta(days=1, hours=3)
    assert hops[1].deadline == c2.answer_deadline
    events = db.session.scalars(sa.select(StatusEvent).where(StatusEvent.complaint_id == c.id)
                                .order_by(StatusEvent.id)).all()
    assert [e.to_state for e in events][-3:] == [State.DITERUSKAN, State.PERLU_DISPOSISI, State.DITERUSKAN]
    assert "bukan wewenang" in events[-2].note and "Dinas Pekerjaan Umum" in events[-1].note

    # DPUTR answers a day later; the recap has each OPD's held time from the Routing table.
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        services.answer(c.id, actor("opd.dputr"), "Drainase dibersihkan.")
        recap = {row["opd"]: row for row in desk.opd_time_recap(actor("pimpinan"))}
    assert recap["DINKESP2KB"]["returned"] == 1 and recap["DINKESP2KB"]["hops"] == 1
    assert abs(recap["DINKESP2KB"]["total_seconds"] - timedelta(days=1, hours=3).total_seconds()) < 1
    assert recap["DPUTR"]["answered"] == 1 and recap["DPUTR"]["open"] == 0
    assert abs(recap["DPUTR"]["total_seconds"] - timedelta(days=1).total_seconds()) < 1
    # An OPD sees its own line of the recap only.
    assert [r["opd"] for r in desk.opd_time_recap(actor("opd.dputr"))] == ["DPUTR"]
    # The new OPD's desk page shows every hop with the time spent.
    page = text_of(login(app, "opd.dputr", PASSWORD).get(f"/staf/opd/{c.id}"))
    assert "Dinas Kesehatan" in page and "1 hari 3 jam" in page and "dikembalikan" in page


def test_admin_sistem_reroutes_a_routed_complaint_from_its_page(app, submission, actor):
    c = routed(submission, actor)
    admin = login(app, "admin", PASSWORD)
    page = admin.get(f"/staf/opd/{c.id}").get_data(as_text=True)
    assert 'id="reroute-form"' in page
    response = admin.post(f"/staf/disposisi/{c.id}/teruskan", data={"opd": "DPUTR", "back": "detail"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/staf/opd/{c.id}")
    c2 = _fresh(c.id)
    assert c2.state is State.DITERUSKAN and c2.opd.code == "DPUTR"
    assert [(h.opd.code, h.outcome) for h in _hops(c.id)] == [("DINKESP2KB", "rerouted"), ("DPUTR", None)]
    # Same OPD again is refused with a message, nothing changes.
    again = admin.post(f"/staf/disposisi/{c.id}/teruskan", data={"opd": "DPUTR", "back": "detail"},
                       follow_redirects=True)
    assert "Pengaduan sudah berada di OPD tersebut." in again.get_data(as_text=True)
    assert len(_hops(c.id)) == 2


def test_a_validator_dispatches_only_returned_complaints(app, submission, actor):
    c = routed(submission, actor)
    validator = login(app, "validator", PASSWORD)
    # A routed complaint is not a validator's to move (nor even to see on the dispatch queue).
    response = validator.post(f"/staf/disposisi/{c.id}/teruskan", data={"opd": "DPUTR"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/staf/disposisi/")
    assert "Peran Anda tidak berwenang melakukan tindakan" in text_of(validator.get("/staf/disposisi/"))
    assert _fresh(c.id).opd.code == "DINKESP2KB" and len(_hops(c.id)) == 1
    # An Admin OPD has no dispatch rights at all.
    assert login(app, "opd.dinkes", PASSWORD).post(
        f"/staf/disposisi/{c.id}/teruskan", data={"opd": "DPUTR"}).status_code == 403


def test_dispatch_queue_pages_oldest_first(app, submission, actor, monkeypatch):
    made = []
    for i in range(3):
        with time_machine.travel(T0 + timedelta(days=i), tick=False):
            c = routed(submission, actor, title=f"Kembali {i}")
            services.return_to_dispatch(c.id, actor("opd.dinkes"), f"Alasan {i}.")
            made.append(c)
    page = desk.dispatch_page(actor("admin"), page_size=2)
    assert [r.complaint.id for r in page.rows] == [made[0].id, made[1].id]
    assert [r.reason for r in page.rows] == ["Alasan 0.", "Alasan 1."] and page.count == 3
    rest = desk.dispatch_page(actor("admin"), page.next_cursor, page_size=2)
    assert [r.complaint.id for r in rest.rows] == [made[2].id] and rest.next_cursor is None
