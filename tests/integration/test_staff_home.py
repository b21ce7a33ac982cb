"""The staff home /staf/ (issue 16, item 4): per role the counts that matter now, each a link to the filtered
list, and each equal to the length of that list. Counted on a seeded set under frozen time: the validator's
waiting / late / due within 2 h / held by me, the Admin OPD's to answer / late / due today / re-routed to it,
and for Pimpinan and Admin Sistem what is late per desk and the outbox's dead notices."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import sqlalchemy as sa
import time_machine

from app import services
from app.extensions import db
from app.models import Complaint, Outbox
from tests.conftest import text_of

# 10 March 2026, 10:00 WIB (03:00 UTC): the WIB day ends at 17:00 UTC.
NOW = datetime(2026, 3, 10, 3, 0)


def _set(complaint_id: int, **values) -> None:
    db.session.execute(sa.update(Complaint).where(Complaint.id == complaint_id).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def _seed(submission, actor) -> dict:
    """Waiting for the NIK check: 2 late, 1 due in 90 min, 1 due in 3 h (held by validator), 1 held by
    validator2. At DINKESP2KB: 1 late, 2 due today (14:00 and 23:30 WIB), 1 due tomorrow, 1 re-routed from
    DPUTR; 1 answered late (not to answer). At DPUTR: 2 late. One complaint waiting for dispatch; 3 notices,
    2 of them dead."""
    validator, validator2 = actor("validator"), actor("validator2")
    dinkes, dputr, admin = actor("opd.dinkes"), actor("opd.dputr"), actor("admin")

    def new(opd="DINKESP2KB", n=[0]):
        n[0] += 1
        return services.submit(submission(opd_code=opd, title=f"Uji beranda {n[0]}")).complaint.id

    def routed(opd, deadline):
        cid = new(opd)
        services.decide_nik(cid, validator, valid=True)
        _set(cid, answer_deadline=deadline)
        return cid

    with time_machine.travel(NOW - timedelta(hours=30), tick=False):
        for _ in range(2):
            new()  # deadline NOW - 6 h: late
        routed("DINKESP2KB", NOW - timedelta(hours=1))  # late at the OPD
        for _ in range(2):
            routed("DPUTR", NOW - timedelta(days=1))
        answered = routed("DINKESP2KB", NOW - timedelta(days=2))
        services.answer(answered, dinkes, "Sudah ditangani.")  # answered late: not "to answer"
        returned = routed("DPUTR", NOW + timedelta(days=3))
        services.return_to_dispatch(returned, dputr, "Bukan wewenang kami.")
        services.reroute(returned, admin, "DINKESP2KB")  # now waiting at DINKESP2KB, came back via dispatch
        _set(returned, answer_deadline=NOW + timedelta(days=5))
        waiting_dispatch = routed("DPUTR", NOW + timedelta(days=3))
        services.return_to_dispatch(waiting_dispatch, dputr, "Bukan wewenang.")
    soon = new()
    later = new()
    held = new()
    _set(soon, validation_deadline=NOW + timedelta(minutes=90))
    _set(later, validation_deadline=NOW + timedelta(hours=3))
    _set(held, validation_deadline=NOW + timedelta(hours=20))
    routed("DINKESP2KB", NOW + timedelta(hours=4))  # 14:00 WIB today
    routed("DINKESP2KB", NOW + timedelta(hours=13, minutes=30))  # 23:30 WIB today
    routed("DINKESP2KB", NOW + timedelta(hours=14, minutes=30))  # 00:30 WIB tomorrow
    with time_machine.travel(NOW - timedelta(minutes=5), tick=False):
        services.claim(later, validator)
        services.claim(held, validator2)
    for status in ("dead", "dead", "sent"):
        db.session.add(Outbox(channel="email", recipient="x@uji.go.id", template="t", subject="s", body="b",
                              status=status, sent_at=NOW if status == "sent" else None))
    db.session.commit()
    return {}


def _figures(page) -> dict[str, int]:
    return {m.group(1): int(m.group(2)) for m in re.finditer(r'id="(?:angka|meja)-([\w.-]+)"\s+data-count="(\d+)"',
                                                             page)}


def _links(page) -> dict[str, str]:
    return {m.group(2): m.group(1).replace("&amp;", "&")
            for m in re.finditer(r'<a class="list-group-item[^"]*" href="([^"]+)"\s+id="(?:angka|meja)-([\w.-]+)"',
                                 page)}


def _rows(client, url) -> int:
    """How many complaints the linked list shows (the validator's and the OPD desk's tables)."""
    page = client.get(url)
    assert page.status_code == 200, url
    return len(re.findall(r'<tr[^>]*\sdata-ticket=', page.get_data(as_text=True)))


def _as(app, username):
    from tests.integration.opd_support import login

    return login(app, username, "uji-coba-kata-sandi-2026")


def test_validator_home_counts_and_links(app, submission, actor):
    _seed(submission, actor)
    with time_machine.travel(NOW, tick=False):
        client = _as(app, "validator")
        page = client.get("/staf/").get_data(as_text=True)
        figures = _figures(page)
        assert figures == {"menunggu": 5, "terlambat": 2, "segera": 1, "saya": 1}
        links = _links(page)
        assert links["terlambat"] == "/staf/validasi/?saring=terlambat"
        for key, n in figures.items():
            assert _rows(client, links[key]) == n, key
    assert "Terlambat (lewat tenggat 1 x 24 jam)" in text_of_page(page)
    assert 'id="kerja-opd"' not in page and 'id="kerja-pengawasan"' not in page


def test_admin_opd_home_counts_and_links(app, submission, actor):
    _seed(submission, actor)
    with time_machine.travel(NOW, tick=False):
        client = _as(app, "opd.dinkes")
        page = client.get("/staf/").get_data(as_text=True)
        figures = _figures(page)
        # to answer: late 1 + today 2 + tomorrow 1 + re-routed 1; the answered one is not counted
        assert figures == {"menunggu": 5, "terlambat": 1, "hari-ini": 2, "dialihkan": 1}
        links = _links(page)
        assert links["hari-ini"] == "/staf/opd/?tenggat=hari-ini"
        for key, n in figures.items():
            assert _rows(client, links[key]) == n, key
        # The other OPD counts its own rows only.
        other = _figures(_as(app, "opd.dputr").get("/staf/").get_data(as_text=True))
        assert other == {"menunggu": 2, "terlambat": 2, "hari-ini": 0, "dialihkan": 0}
    assert 'id="kerja-validator"' not in page


def test_supervisor_home_late_per_desk_and_dead_notices(app, submission, actor):
    _seed(submission, actor)
    with time_machine.travel(NOW, tick=False):
        for username in ("pimpinan", "admin"):
            client = _as(app, username)
            page = client.get("/staf/").get_data(as_text=True)
            figures = _figures(page)
            assert figures == {"validasi": 2, "disposisi": 1, "DPUTR": 2, "DINKESP2KB": 1, "mati": 2}, username
            links = _links(page)
            assert links["DPUTR"] == "/staf/opd/?opd=DPUTR&terlambat=1"
            assert _rows(client, links["DPUTR"]) == 2
            # Each link opens for this role (a Pimpinan has no validator desk: the dashboard instead).
            for key, url in links.items():
                assert client.get(url).status_code == 200, (username, key, url)
            if username == "admin":
                assert links["mati"] == "/staf/kotak-keluar/?status=dead"
                assert links["validasi"] == "/staf/validasi/?saring=terlambat"
                assert _rows(client, links["validasi"]) == 2
            else:
                assert "mati" not in links  # the outbox is Admin Sistem's screen: a figure, no link


def test_home_figures_are_english_after_lang_en(app, client, auth, submission, actor):
    _seed(submission, actor)
    with time_machine.travel(NOW, tick=False):
        auth.login("validator")
        client.get("/lang/en")
        page = text_of(client.get("/staf/"))
    assert "Due within 2 hours" in page and "Tenggat dalam 2 jam" not in page


def test_an_unknown_queue_filter_shows_the_whole_queue(app, submission, actor):
    _seed(submission, actor)
    with time_machine.travel(NOW, tick=False):
        client = _as(app, "validator")
        assert _rows(client, "/staf/validasi/?saring=apa-saja") == 5


def text_of_page(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())
