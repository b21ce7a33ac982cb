"""Issue 17, "Saya tidak tahu OPD-nya": the public form offers it; a valid NIK sends such a complaint to the
dispatch queue (not to an OPD desk), where the dispatcher routes it; the time there is the dispatcher's, not
an OPD's (the answer deadline starts at routing); the public page says "menunggu disposisi" until then.
Also the choice of the OPD is refused clearly when it is odd, and DISPATCH_BY chooses the dispatcher."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine

from app import services
from app.extensions import db
from app.models import Complaint, Outbox, Routing, StatusEvent
from app.reports import dashboard
from app.services import Forbidden, desk
from app.services.complaints import NO_OPD, compute_answer_deadline
from app.workflow import State
from tests.conftest import PASSWORD, VALID_NIK, text_of
from tests.integration.opd_support import login

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)  # Monday 09:00 WIB


def _fresh(complaint_id) -> Complaint:
    db.session.expire_all()
    return db.session.get(Complaint, complaint_id)


def _submit_form(client, complaint_form, **changes):
    response = client.post("/pengaduan/baru", data=complaint_form(opd=NO_OPD, **changes))
    assert response.status_code == 303, text_of(response)[:500]
    return db.session.scalar(sa.select(Complaint).order_by(Complaint.id.desc()).limit(1))


def test_the_form_offers_the_choice_beside_the_opd_list(client):
    page = client.get("/pengaduan/baru").get_data(as_text=True)
    assert f'<option value="{NO_OPD}"' in page and "Saya tidak tahu OPD-nya" in page
    # It comes before the OPDs, after the empty "Pilih OPD" choice.
    assert page.index('value=""') < page.index(f'value="{NO_OPD}"') < page.index('value="DINKESP2KB"')


@pytest.mark.parametrize("value,message", [
    ("", "Pilih OPD tujuan"),
    ("TIDAKADA", "OPD tujuan tidak dikenal atau tidak aktif."),
    ("tidak-tahu ", None),  # surrounding spaces: the boundary trims them, the choice stands
    ("TIDAK-TAHU", "OPD tujuan tidak dikenal atau tidak aktif."),
    ("tidak-tahu\x00", "OPD tujuan"),
    ("x" * 33, "OPD tujuan"),
    ("<script>alert(1)</script>", "OPD tujuan"),
])
def test_an_odd_opd_value_is_a_clear_form_error_and_nothing_is_stored(client, complaint_form, value, message):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Complaint))
    response = client.post("/pengaduan/baru", data=complaint_form(opd=value))
    after = db.session.scalar(sa.select(sa.func.count()).select_from(Complaint))
    if message is None:
        assert response.status_code == 303 and after == before + 1
        assert db.session.scalar(sa.select(Complaint.opd_id).order_by(Complaint.id.desc()).limit(1)) is None
        return
    assert response.status_code == 400 and after == before
    body = response.get_data(as_text=True)
    assert 'id="err-opd"' in body
    assert message in text_of(response)
    assert "<script>alert(1)</script>" not in body


def test_no_opd_is_a_web_form_choice_only(submission):
    with pytest.raises(services.Invalid) as refused:
        services.submit(submission(opd_code=NO_OPD, channel="open311"))
    assert "opd" in refused.value.errors


def test_dispatch_path_form_to_valid_nik_to_queue_to_routed_to_answered(app, client, complaint_form, actor):
    with time_machine.travel(T0, tick=False):
        c = _submit_form(client, complaint_form, email="warga@contoh.id", visibility="publik")
        assert c.opd_id is None and c.state is State.MENUNGGU_VERIFIKASI
        receipt = text_of(client.get("/pengaduan/terkirim"))
        assert "Belum dipilih: petugas akan meneruskan ke OPD yang berwenang" in receipt
        # The validator's queue and check page say so; the decision sends it to dispatch, not to a desk.
        validator = login(app, "validator", PASSWORD)
        assert c.ticket in text_of(validator.get("/staf/validasi/"))
        check = validator.get(f"/staf/validasi/{c.id}").get_data(as_text=True)
        assert 'id="valid-to-dispatch"' in check
        services.decide_nik(c.id, actor("validator"), valid=True)
    waiting = _fresh(c.id)
    assert waiting.state is State.PERLU_DISPOSISI and waiting.opd_id is None
    assert waiting.routed_at is None and waiting.answer_deadline is None  # no OPD's clock runs
    assert waiting.validated_at == T0.replace(tzinfo=None) and waiting.published_at is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Routing).where(Routing.complaint_id == c.id)) == 0
    event = db.session.scalars(sa.select(StatusEvent).where(StatusEvent.complaint_id == c.id)
                               .order_by(StatusEvent.id.desc())).first()
    assert (event.action, event.from_state, event.to_state) == ("validate", State.MENUNGGU_VERIFIKASI,
                                                                 State.PERLU_DISPOSISI)

    # The public page: "menunggu disposisi", no OPD and no deadline.
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        public = client.get(f"/pengaduan/{c.ticket}").get_data(as_text=True)
        assert 'id="awaiting-dispatch"' in public and "Tenggat" not in public.split('id="awaiting-dispatch"')[1][:200]
        listed = text_of(client.get("/pengaduan/"))
        assert c.ticket in listed and "Menunggu disposisi" in listed

        # The dispatch queue shows it with its origin and how long it has waited.
        queue = validator.get("/staf/disposisi/")
        page = queue.get_data(as_text=True)
        assert queue.status_code == 200 and f'id="dispatch-{c.id}"' in page
        assert "Pelapor tidak tahu OPD-nya (NIK valid)" in text_of(queue) and "5 jam 0 menit" in text_of(queue)
        rows = desk.dispatch_page(actor("admin")).rows
        [row] = [r for r in rows if r.complaint.id == c.id]
        assert row.unknown_opd and row.waiting_since == T0.replace(tzinfo=None) and row.waited_seconds == 5 * 3600
        # No OPD desk has it.
        assert login(app, "opd.dinkes", PASSWORD).get(f"/staf/opd/{c.id}").status_code == 404

    routed_at = T0 + timedelta(days=1)
    with time_machine.travel(routed_at, tick=False):
        admin = login(app, "admin", PASSWORD)
        moved = admin.post(f"/staf/disposisi/{c.id}/teruskan", data={"opd": "DPUTR", "note": "Jalan desa."})
        assert moved.status_code == 302
    now_routed = _fresh(c.id)
    assert now_routed.state is State.DITERUSKAN and now_routed.opd.code == "DPUTR"
    # The answer deadline starts at the routing, not at the valid NIK: the day in dispatch is not the OPD's.
    assert now_routed.routed_at == routed_at.replace(tzinfo=None)
    assert now_routed.answer_deadline == compute_answer_deadline(routed_at.replace(tzinfo=None))
    [hop] = db.session.scalars(sa.select(Routing).where(Routing.complaint_id == c.id)).all()
    assert hop.routed_at == routed_at.replace(tzinfo=None)

    with time_machine.travel(routed_at + timedelta(hours=1), tick=False):
        public = text_of(client.get(f"/pengaduan/{c.ticket}"))
        assert "Dinas Pekerjaan Umum" in public or "DPUTR" in public
        services.answer(c.id, actor("opd.dputr"), "Jalan desa akan diperbaiki pekan depan.")
        figures = dashboard.dispatch_figures(dashboard.default_filters(routed_at.date()), routed_at.replace(tzinfo=None))
    answered = _fresh(c.id)
    assert answered.state is State.DIJAWAB
    assert "Jalan desa akan diperbaiki" in client.get(f"/pengaduan/{c.ticket}").get_data(as_text=True)
    # The dashboard counts the day in dispatch against the dispatcher (Admin Sistem here), not an OPD.
    assert (figures.entered, figures.routed, figures.waiting_now) == (1, 1, 0)
    assert figures.mean_wait_seconds == pytest.approx(86400, abs=1)
    [who] = figures.per_dispatcher
    assert who.routed == 1 and who.name == "Admin Uji"
    per_opd = {r.code: r for r in dashboard.per_opd(dashboard.default_filters(routed_at.date()),
                                                       routed_at.replace(tzinfo=None))}
    assert per_opd["DPUTR"].received == 1 and per_opd["DPUTR"].within_standard == 1

    # The notices followed the path: received, NIK valid (waiting for dispatch), routed, answered.
    sent = db.session.scalars(sa.select(Outbox).where(Outbox.complaint_id == c.id).order_by(Outbox.id)).all()
    assert [n.template for n in sent] == ["submitted", "dispatch", "routed", "answered"]
    assert all(n.recipient == "warga@contoh.id" for n in sent)


def test_the_dashboard_page_shows_the_dispatch_figures(app, submission, actor):
    with time_machine.travel(T0, tick=False):
        c = services.submit(submission(opd_code=NO_OPD)).complaint
        services.decide_nik(c.id, actor("validator"), valid=True)
        page = login(app, "pimpinan", PASSWORD).get("/staf/kendali/").get_data(as_text=True)
    assert 'id="dispatch-figures"' in page and 'data-waiting="1"' in page and 'data-entered="1"' in page


def test_an_invalid_nik_without_an_opd_is_closed_as_usual(submission, actor):
    c = services.submit(submission(opd_code=NO_OPD)).complaint
    services.decide_nik(c.id, actor("validator"), valid=False, remark="NIK tidak terdaftar.")
    done = _fresh(c.id)
    assert done.state is State.TIDAK_VALID and done.opd_id is None and done.published_at is None


def test_dispatch_by_setting_chooses_the_dispatcher(app, submission, actor, monkeypatch):
    c = services.submit(submission(opd_code=NO_OPD)).complaint
    services.decide_nik(c.id, actor("validator"), valid=True)
    monkeypatch.setitem(app.config, "DISPATCH_BY", "admin")
    with pytest.raises(Forbidden):
        desk.dispatch_page(actor("validator"))
    with pytest.raises(services.ServiceError):
        services.reroute(c.id, actor("validator"), "DPUTR")
    assert _fresh(c.id).state is State.PERLU_DISPOSISI
    services.reroute(c.id, actor("admin"), "DPUTR")
    assert _fresh(c.id).state is State.DITERUSKAN


def test_every_reader_of_the_opd_handles_a_complaint_without_one(app, client, submission, actor):
    """Staff desks, the REST API, the CSV export, Open311 GET, the recap and the statistics."""
    c = services.submit(submission(opd_code=NO_OPD, visibility="publik")).complaint
    services.decide_nik(c.id, actor("validator"), valid=True)
    admin = login(app, "admin", PASSWORD)
    for url in ("/staf/disposisi/", f"/staf/opd/{c.id}", "/staf/kendali/", "/rekap/", "/staf/",
                "/statistik", "/pengaduan/", f"/pengaduan/{c.ticket}"):
        response = admin.get(url)
        assert response.status_code == 200, url
        assert "None" not in text_of(response), url
    export = admin.get("/staf/opd/ekspor.csv").get_data(as_text=True)
    assert c.ticket in export
    detail = admin.get(f"/staf/opd/{c.id}").get_data(as_text=True)
    assert "Belum ada OPD (menunggu disposisi)" in detail
    recap = admin.get("/rekap/?kelompok=opd").get_data(as_text=True)
    assert "Belum ada OPD (menunggu disposisi)" in recap
    stats = text_of(client.get("/statistik"))
    assert "Belum ada OPD (menunggu disposisi)" in stats
    found = client.get(f"/open311/v2/requests/{c.ticket}.json")
    assert found.status_code == 200
    [item] = json.loads(found.get_data(as_text=True))
    assert item["agency_responsible"] == "Menunggu disposisi" and item["service_code"] == ""


def test_the_waits_under_way_are_the_timelines_open_waits(app, submission, actor):
    # The dashboard reads the waits under way from the complaints in the queue now (issue 13: the timeline
    # of every complaint ever dispatched cost 0.7 s at 1,000,000 complaints); they must be exactly the
    # timeline's waits without an end, overall and for each OPD's own view (the returns it made).
    from app.services import reroute, return_to_dispatch

    admin, validator = actor("admin"), actor("validator")
    with time_machine.travel(T0, tick=False):
        unknown = services.submit(submission(opd_code=NO_OPD)).complaint  # waiting, entered with no OPD
        returned = services.submit(submission()).complaint  # returned by Dinkes, waiting
        settled = services.submit(submission()).complaint  # returned, then routed: no wait under way
        twice = services.submit(submission()).complaint  # returned by Dinkes, routed, returned by DPUTR
        for c in (unknown, returned, settled, twice):
            services.decide_nik(c.id, validator, valid=True)
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        for c in (returned, settled, twice):
            return_to_dispatch(c.id, actor("opd.dinkes"), "Bukan wewenang Dinas Kesehatan.")
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        reroute(settled.id, admin, "DPUTR")
        reroute(twice.id, admin, "DPUTR")
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        return_to_dispatch(twice.id, actor("opd.dputr"), "Bukan wewenang DPUTR.")

    def timeline(opd_id=None):
        waits = dashboard._dispatch_waits().subquery()
        where = [waits.c.ended.is_(None)] + ([waits.c.entry_opd == opd_id] if opd_id else [])
        return tuple(db.session.execute(sa.select(sa.func.count(), sa.func.min(waits.c.started)).where(*where)).one())

    def under_way(opd_id=None):
        waits = dashboard._open_waits().subquery()
        where = [waits.c.entry_opd == opd_id] if opd_id else []
        return tuple(db.session.execute(sa.select(sa.func.count(), sa.func.min(waits.c.started)).where(*where)).one())

    opds = dict(db.session.execute(sa.text("SELECT code, id FROM opd")).all())
    assert under_way() == timeline() == (3, T0.replace(tzinfo=None) + timedelta(hours=0))
    assert under_way(opds["DINKESP2KB"]) == timeline(opds["DINKESP2KB"]) == (1, T0.replace(tzinfo=None) + timedelta(hours=2))
    assert under_way(opds["DPUTR"]) == timeline(opds["DPUTR"]) == (1, T0.replace(tzinfo=None) + timedelta(hours=5))
    with time_machine.travel(T0 + timedelta(hours=6), tick=False):
        figures = dashboard.dispatch_figures(dashboard.default_filters(T0.date()), T0.replace(tzinfo=None) + timedelta(hours=6))
    assert figures.waiting_now == 3 and figures.oldest_wait_seconds == 6 * 3600
