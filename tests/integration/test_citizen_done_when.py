"""Issue 17's "Done when", at HTTP level: a citizen who lost the PIN gets a new one by e-mail (the outbox; in
demo mode visible to Admin Sistem on the outbox screen), disputes the answer, the Pimpinan re-opens it to the
OPD, the OPD answers again, the citizen accepts, and the recap shows the rating."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import sqlalchemy as sa
import time_machine

from app.extensions import db
from app.models import Complaint, Outbox
from app.reports import recap
from app.workflow import State
from tests.conftest import PASSWORD, text_of
from tests.integration.opd_support import login

T0 = datetime(2026, 6, 8, 2, 0, tzinfo=timezone.utc)  # Monday 09:00 WIB


def _fresh(cid) -> Complaint:
    db.session.expire_all()
    return db.session.get(Complaint, cid)


def test_lost_pin_recovery_dispute_reopen_answer_again_accept_and_the_recap_shows_the_rating(app, client,
                                                                                            complaint_form,
                                                                                            monkeypatch):
    monkeypatch.setitem(app.config, "APP_MODE", "demo")  # the outbox screen shows the PIN to Admin Sistem
    with time_machine.travel(T0, tick=False):
        sent = client.post("/pengaduan/baru", data={**complaint_form(email="siti@contoh.id"), "notify_form": "1",
                                                    "notify": "email"})
        assert sent.status_code == 303
        c = db.session.scalar(sa.select(Complaint).order_by(Complaint.id.desc()).limit(1))
        lost_pin = re.search(r'id="pin">([A-Z0-9]+)<', client.get("/pengaduan/terkirim").get_data(as_text=True))
        assert lost_pin is not None
        validator = login(app, "validator", PASSWORD)
        validator.get(f"/staf/validasi/{c.id}")
        decided = validator.post(f"/staf/validasi/{c.id}/keputusan",
                                 data={"decision": "valid", "version": _fresh(c.id).version})
        assert decided.status_code in (302, 303), text_of(decided)[:400]
        assert _fresh(c.id).state is State.DITERUSKAN
        dinkes = login(app, "opd.dinkes", PASSWORD)
        assert dinkes.post(f"/staf/opd/{c.id}/jawab", data={"text": "Antrean ditambah satu loket."}).status_code in (
            302, 303)
        assert _fresh(c.id).state is State.DIJAWAB

        # 1. The PIN is lost: recovery by e-mail; the new PIN waits sealed in the outbox, and the demo's outbox
        #    screen shows it to Admin Sistem.
        citizen = app.test_client()
        assert citizen.post("/lacak/lupa-pin", data={"ticket": c.ticket, "contact": "siti@contoh.id"}).status_code == 200
        row = db.session.scalar(sa.select(Outbox).where(Outbox.complaint_id == c.id,
                                                        Outbox.template == "pin_recovered"))
        screen = text_of(login(app, "admin", PASSWORD).get("/staf/kotak-keluar/"))
        new_pin = re.search(r"PIN baru: (\S+) \(hanya mode demo\)", screen).group(1)
        assert new_pin not in row.body
        assert citizen.post("/lacak", data={"ticket": c.ticket, "pin": lost_pin.group(1)}).status_code == 400

        # 2. With the new PIN: "belum selesai".
        assert citizen.post("/lacak", data={"ticket": c.ticket, "pin": new_pin}).status_code == 303
        assert citizen.post("/lacak/tanggapan", data={"accepted": "tidak", "rating": "2",
                                                      "reason": "Loket baru belum buka."}).status_code == 303
        assert _fresh(c.id).state is State.DISANGGAH

        # 3. The Pimpinan re-opens it to the same OPD; 4. the OPD answers again.
        pimpinan = login(app, "pimpinan", PASSWORD)
        assert "Loket baru belum buka." in text_of(pimpinan.get("/staf/sanggahan/"))
        assert pimpinan.post(f"/staf/sanggahan/{c.id}/putuskan", data={"outcome": "reopen"}).status_code == 303
        assert _fresh(c.id).state is State.DITERUSKAN and _fresh(c.id).opd.code == "DINKESP2KB"
        assert dinkes.post(f"/staf/opd/{c.id}/jawab", data={"text": "Loket baru buka sejak hari ini."}).status_code in (
            302, 303)
        assert _fresh(c.id).state is State.DIJAWAB

        # 5. The citizen accepts, with a rating.
        assert citizen.post("/lacak", data={"ticket": c.ticket, "pin": new_pin}).status_code == 303
        assert citizen.post("/lacak/tanggapan", data={"accepted": "ya", "rating": "5"}).status_code == 303
        assert _fresh(c.id).state is State.SELESAI

        # 6. The recap shows the ratings (the dispute's 2 and the acceptance's 5) for the OPD.
        june = recap.make_period("bulan", T0.date())
        [dinkes_row] = [r for r in recap.build(june, "opd").rows if "Kesehatan" in r.label]
        assert (dinkes_row.accepted, dinkes_row.disputed, dinkes_row.ratings, dinkes_row.rating_mean) == (1, 1, 2, 3.5)
        page = text_of(pimpinan.get("/rekap/?periode=bulan&tanggal=2026-06-08&kelompok=opd"))
        assert "Rata-rata kepuasan" in page and "3,5" in page
    notices = [n.template for n in db.session.scalars(sa.select(Outbox).where(Outbox.complaint_id == c.id)
                                                       .order_by(Outbox.id))]
    assert notices == ["submitted", "routed", "answered", "pin_recovered", "routed", "answered", "closed"]
