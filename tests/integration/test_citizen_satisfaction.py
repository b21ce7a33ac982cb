"""Issue 17 item 4: satisfaction per OPD in the recap (screen, XLSX, CSV): accepted, disputed, closed by
silence, the mean rating and its count, against a seeded set (run on SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest
import time_machine
from openpyxl import load_workbook

from app import services
from app.reports import recap
from app.services import citizen
from app.timeutil import from_wib

JUNE = recap.make_period("bulan", date(2026, 6, 1))


def _at(*args):
    return from_wib(datetime(*args)).replace(tzinfo=timezone.utc)


@pytest.fixture
def seeded(published, actor):
    """DINKES: accepted 5, accepted 4, disputed 1 (then re-opened: a second answer accepted 2 in July);
    DPUTR: accepted 3 and one answer left silent, closed by the scheduler in June."""
    def answered(opd, user, when):
        with time_machine.travel(when, tick=False):
            c = published(opd_code=opd)
            services.answer(c.id, actor(user), "Sudah ditangani.")
        return c

    d1, d2, d3 = (answered("DINKESP2KB", "opd.dinkes", _at(2026, 6, 1, 9)) for _ in range(3))
    p1 = answered("DPUTR", "opd.dputr", _at(2026, 6, 1, 9))
    silent = answered("DPUTR", "opd.dputr", _at(2026, 5, 20, 10))
    with time_machine.travel(_at(2026, 6, 3, 9), tick=False):
        citizen.reply(d1.id, citizen.ReplyInput(accepted=True, rating="5"))
        citizen.reply(d2.id, citizen.ReplyInput(accepted=True, rating="4", comment="Bagus."))
        citizen.reply(d3.id, citizen.ReplyInput(accepted=False, rating="1", reason="Belum."))
        citizen.reply(p1.id, citizen.ReplyInput(accepted=True, rating="3"))
        citizen.decide_dispute(d3.id, actor("pimpinan"), "reopen")
    with time_machine.travel(_at(2026, 7, 1, 9), tick=False):
        services.answer(d3.id, actor("opd.dinkes"), "Sudah ditangani ulang.")
        citizen.reply(d3.id, citizen.ReplyInput(accepted=True, rating="2"))
    assert citizen.close_silent(from_wib(datetime(2026, 6, 6, 0, 0, 1))) == 1
    return silent


def test_recap_by_opd_counts_replies_ratings_and_silence(seeded):
    rows = {r.key: r for r in recap.build(JUNE, "opd").rows}
    by_code = {r.label: r for r in rows.values()}
    dinkes = next(r for label, r in by_code.items() if "Kesehatan" in label)
    dputr = next(r for label, r in by_code.items() if "Pekerjaan Umum" in label)
    assert (dinkes.accepted, dinkes.disputed, dinkes.closed_silent, dinkes.ratings, dinkes.rating_mean) == (
        2, 1, 0, 3, round(10 / 3, 2))
    assert (dputr.accepted, dputr.disputed, dputr.closed_silent, dputr.ratings, dputr.rating_mean) == (
        1, 0, 1, 1, 3.0)
    total = recap.build(JUNE, "opd").total
    assert (total.accepted, total.disputed, total.closed_silent, total.ratings, total.rating_mean) == (
        3, 1, 1, 4, round(13 / 4, 2))
    july = recap.build(recap.make_period("bulan", date(2026, 7, 1)), "opd").total
    assert (july.accepted, july.ratings, july.rating_mean) == (1, 1, 2.0)
    by_state = {r.key: r for r in recap.build(JUNE, "state").rows}
    # By the complaint's current state: the disputed one was re-opened and accepted in July.
    assert by_state["selesai"].closed_silent == 1 and by_state["selesai"].ratings == 4


def test_recap_exports_carry_the_satisfaction_columns(client, auth, seeded):
    auth.login("pimpinan")
    page = client.get("/rekap/?periode=bulan&tanggal=2026-06-01&kelompok=opd").get_data(as_text=True)
    assert "Rata-rata kepuasan (1–5)" in page and "3,3" in page  # 3.33 with one decimal
    body = client.get("/rekap/csv?periode=bulan&tanggal=2026-06-01&kelompok=opd").get_data(as_text=True)
    table = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    header = next(r for r in table if "Jumlah penilaian" in r)
    total = table[-1]
    assert total[header.index("Jumlah penilaian")] == "4" and total[header.index("Selesai tanpa tanggapan")] == "1"
    sheet = load_workbook(io.BytesIO(client.get("/rekap/xlsx?periode=bulan&tanggal=2026-06-01&kelompok=opd").data)).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    head = next(r for r in cells if "Jumlah penilaian" in r)
    last = [r for r in cells if r and r[0] == "Jumlah"][-1]
    assert last[head.index("Jumlah penilaian")] == 4 and last[head.index("Rata-rata kepuasan (1–5)")] == 3.25


def test_public_statistics_show_each_opds_mean_rating(client, seeded):
    from app.services.portal import clear_statistics_cache
    from tests.conftest import text_of

    clear_statistics_cache()
    with time_machine.travel(_at(2026, 12, 1, 9), tick=False):  # the page shows the current year
        text = text_of(client.get("/statistik"))
    clear_statistics_cache()
    assert "Kepuasan pelapor" in text
    # DINKES: 5, 4, 1 in June and 2 in July -> 3,0 of 4 ratings; DPUTR: 3 of 1; all: 15 / 5 = 3,0.
    assert "(4 penilaian)" in text and "(1 penilaian)" in text and "(5 penilaian)" in text
    assert "3,0  / 5" in text or "3,0 / 5" in text


def test_dashboard_shows_each_opds_replies_and_mean_rating(client, auth, seeded):
    from app.reports import dashboard

    june = dashboard.Filters(date(2026, 6, 1), date(2026, 6, 30))
    rows = {r.code: r for r in dashboard.per_opd(june, from_wib(datetime(2026, 6, 30, 12)))}
    assert (rows["DINKESP2KB"].accepted, rows["DINKESP2KB"].disputed, rows["DINKESP2KB"].ratings,
            rows["DINKESP2KB"].rating_mean) == (2, 1, 3, round(10 / 3, 2))
    assert (rows["DPUTR"].accepted, rows["DPUTR"].ratings, rows["DPUTR"].rating_mean) == (1, 1, 3.0)
    auth.login("pimpinan")
    page = client.get("/staf/kendali/?dari=2026-06-01&sampai=2026-06-30").get_data(as_text=True)
    assert "Rata-rata kepuasan (1–5)" in page and "3.3 (3)" in page
