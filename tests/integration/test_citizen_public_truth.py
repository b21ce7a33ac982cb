"""Issue 17 item 6: the public page tells the current truth. After a "bukan wewenang" return the
public page, the list and the complainant's tracking page show "menunggu disposisi" with no OPD and no
deadline; after re-routing the new OPD and its new deadline; every hop stays on the timeline."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine

from app import services
from app.extensions import db
from app.timeutil import format_wib
from app.models import Complaint
from tests.conftest import text_of

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)  # Monday 09:00 WIB


def _fresh(complaint_id) -> Complaint:
    db.session.expire_all()
    return db.session.get(Complaint, complaint_id)


def test_return_and_reroute_as_the_public_sees_them(client, published, actor):
    with time_machine.travel(T0, tick=False):
        c = published(title="Saluran air tersumbat", opd_code="DINKESP2KB")
    first_deadline = format_wib(_fresh(c.id).answer_deadline)
    page = text_of(client.get(f"/pengaduan/{c.ticket}"))
    assert "Dinas Kesehatan" in page and first_deadline in page and "Menunggu disposisi" not in page

    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        services.return_to_dispatch(c.id, actor("opd.dinkes"), "Saluran air kewenangan DPUTR.")
    page = text_of(client.get(f"/pengaduan/{c.ticket}"))
    assert "Menunggu disposisi" in page
    facts = page.split("Pengadu")[0]  # the facts block before the complainant's line
    assert "Dinas Kesehatan" not in facts, "the old OPD is not the current one"
    assert first_deadline not in page and "Tenggat jawaban" not in page
    # The hop stays on the timeline, named by the OPD that returned it; never the reason (a staff note).
    assert "Dikembalikan oleh Dinas Kesehatan" in page and "kewenangan DPUTR" not in page
    # The list says the same and an old-OPD filter no longer finds it.
    listing = text_of(client.get("/pengaduan/"))
    assert c.ticket in listing and "Menunggu disposisi" in listing
    assert c.ticket not in text_of(client.get("/pengaduan/?opd=DINKESP2KB"))

    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        services.reroute(c.id, actor("admin"), "DPUTR")
    now = _fresh(c.id)
    new_deadline = format_wib(now.answer_deadline)
    assert new_deadline != first_deadline
    page = text_of(client.get(f"/pengaduan/{c.ticket}"))
    assert "Menunggu disposisi" not in page and "Dinas Pekerjaan Umum" in page and new_deadline in page
    assert first_deadline not in page
    timeline = page.split("Riwayat")[1]
    hops = ["Pengaduan diterima", "diteruskan ke Dinas Kesehatan", "Dikembalikan oleh Dinas Kesehatan",
            "Diteruskan ke Dinas Pekerjaan Umum"]
    positions = [timeline.find(h) for h in hops]
    assert -1 not in positions and positions == sorted(positions), timeline
    assert c.ticket in text_of(client.get("/pengaduan/?opd=DPUTR"))


def test_tracking_page_shows_waiting_for_dispatch_without_the_old_deadline(client, app, submission, actor):
    with time_machine.travel(T0, tick=False):
        done = services.submit(submission(title="Lampu jalan mati"))
        services.decide_nik(done.complaint.id, actor("validator"), valid=True)
    deadline = format_wib(_fresh(done.complaint.id).answer_deadline)
    services.return_to_dispatch(done.complaint.id, actor("opd.dinkes"), "Bukan urusan kesehatan.")
    client.post("/lacak", data={"ticket": done.complaint.ticket, "pin": done.pin})
    page = text_of(client.get("/lacak/hasil"))
    assert "menunggu disposisi" in page.lower() and deadline not in page
    assert "Bukan urusan kesehatan." in page  # the complainant reads the OPD's reason
