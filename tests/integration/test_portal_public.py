"""Public pages: home, the published list (keyset pages, filters, search, overdue badge), one published
complaint, statistics and the language switch."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
import time_machine

from app.services import cursor
from tests.conftest import text_of


def _tickets(response) -> list[str]:
    return re.findall(r'<span class="ticket">([^<]+)</span>', response.get_data(as_text=True))


def _set(complaint_id, **values):
    """Change stored fields as another part of the system would (the SLA sweep sets the flags)."""
    from app.extensions import db
    from app.models import Complaint

    db.session.execute(sa.update(Complaint).where(Complaint.id == complaint_id).values(**values))
    db.session.commit()


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            if tag in ("script", "link", "img") and a.get(key):
                self.urls.append(a[key])


# --------------------------------------------------------------------------- home


def test_home_explains_the_service_steps_and_time_standards(client):
    page = client.get("/")
    assert page.status_code == 200
    text = text_of(page)
    assert "Verifikasi NIK" in text and "paling lambat 24 jam" in text
    assert "paling lambat 7 hari kerja" in text and "sekitar 5 menit" in text
    assert 'href="/pengaduan/baru"' in page.get_data(as_text=True)
    assert "Belum ada pengaduan yang dijawab." in text


def test_home_lists_the_latest_answered_complaints(client, published, actor):
    from app.services import answer

    waiting = published(title="Belum dijawab")
    done = published(title="Sudah dijawab")
    answer(done.id, actor("opd.dinkes"), "Sudah ditangani.")
    tickets = _tickets(client.get("/"))
    assert done.ticket in tickets and waiting.ticket not in tickets


def test_public_pages_load_only_our_own_assets(client, published):
    complaint = published()
    for url in ("/", "/pengaduan/baru", "/pengaduan/", f"/pengaduan/{complaint.ticket}", "/lacak", "/statistik"):
        parser = _Assets()
        parser.feed(client.get(url).get_data(as_text=True))
        assert parser.urls and all(u.startswith("/") and not u.startswith("//") for u in parser.urls), url


def test_language_switch_to_english_and_back(client):
    response = client.get("/bahasa/en?next=/statistik")
    assert response.status_code == 302 and response.headers["Location"] == "/statistik"
    home = client.get("/")
    assert '<html lang="en">' in home.get_data(as_text=True) and "Submit a complaint" in text_of(home)
    client.get("/bahasa/id?next=/")
    home = client.get("/")
    assert '<html lang="id">' in home.get_data(as_text=True) and "Kirim pengaduan" in text_of(home)


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "lacak"])
def test_language_switch_never_redirects_off_site(client, target):
    response = client.get("/bahasa/en", query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_unknown_language_is_404(client):
    assert client.get("/bahasa/fr").status_code == 404


# --------------------------------------------------------------------------- list


def test_list_shows_only_validated_non_rahasia_complaints(client, submission, published, actor):
    from app.services import decide_nik, submit

    pending = submit(submission(title="Menunggu")).complaint
    invalid = submit(submission(title="Tidak valid")).complaint
    decide_nik(invalid.id, actor("validator"), valid=False, remark="NIK tidak dikenal.")
    secret = published(title="Rahasia", visibility="rahasia")
    anon = published(title="Anonim", visibility="anonim")
    public = published(title="Publik", visibility="publik")
    tickets = _tickets(client.get("/pengaduan/"))
    assert tickets == [public.ticket, anon.ticket]  # newest first
    for hidden in (pending, invalid, secret):
        assert hidden.ticket not in tickets


def test_a_published_flag_alone_never_publishes_a_rahasia_complaint(client, published):
    from sqlalchemy.exc import IntegrityError

    from app.extensions import db

    secret = published(visibility="rahasia")
    with pytest.raises(IntegrityError, match="ck_complaint_rahasia_unpublished"):
        _set(secret.id, published_at=datetime(2026, 1, 1))  # a slip elsewhere: the database refuses it
    db.session.rollback()
    assert secret.ticket not in _tickets(client.get("/pengaduan/"))
    assert client.get(f"/pengaduan/{secret.ticket}").status_code == 404


def test_keyset_pages_walk_every_complaint_once_newest_first(client, published, monkeypatch):
    from app.services import portal

    monkeypatch.setattr(portal, "PAGE_SIZE", 3)
    with time_machine.travel(datetime(2026, 3, 1, 2, 0), tick=False):  # equal published_at: id breaks ties
        made = [published() for _ in range(4)]
    made += [published() for _ in range(3)]
    expected = [c.ticket for c in sorted(made, key=lambda c: (c.published_at, c.id), reverse=True)]
    seen, url, pages = [], "/pengaduan/", 0
    while url:
        page = client.get(url)
        assert page.status_code == 200
        seen += _tickets(page)
        pages += 1
        nxt = re.search(r'<a rel="next" href="([^"]+)"', page.get_data(as_text=True))
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert seen == expected and pages == 3
    first = client.get("/pengaduan/").get_data(as_text=True)
    second = client.get(re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&"))
    assert "Halaman pertama" in text_of(second) and "Halaman pertama" not in first


def test_a_broken_cursor_is_a_message_not_a_500(client):
    response = client.get(f"/pengaduan/?{cursor.NEXT}=bm90LWEtY3Vyc29y")
    assert response.status_code == 400
    assert "Tautan halaman tidak valid" in text_of(response)


def test_filter_by_opd_and_state(client, published, actor):
    from app.services import answer

    health = published(opd_code="DINKESP2KB")
    roads = published(opd_code="DPUTR")
    answer(health.id, actor("opd.dinkes"), "Selesai ditangani.")
    assert _tickets(client.get("/pengaduan/?opd=DPUTR")) == [roads.ticket]
    assert _tickets(client.get("/pengaduan/?status=dijawab")) == [health.ticket]
    assert _tickets(client.get("/pengaduan/?status=diteruskan&opd=DINKESP2KB")) == []
    page = client.get("/pengaduan/?opd=DPUTR&status=diteruskan")
    assert 'value="DPUTR" selected' in page.get_data(as_text=True)


def test_text_search_finds_words_in_the_public_title_and_text(client, published):
    lamp = published(title="Lampu jalan mati hari ini", text="Sudah 1000 jam gelap di Jalan Kenanga.")
    water = published(title="Air PDAM keruh", text="Air keruh 100% setiap pagi_hari.")
    assert _tickets(client.get("/pengaduan/?q=kenanga")) == [lamp.ticket]
    assert _tickets(client.get("/pengaduan/?q=LAMPU")) == [lamp.ticket]
    # % and _ are literal characters, not wildcards ("1000" and "mati hari" would match them).
    assert _tickets(client.get("/pengaduan/?q=100%25")) == [water.ticket]
    assert _tickets(client.get("/pengaduan/?q=i_h")) == [water.ticket]
    assert 'value="kenanga"' in client.get("/pengaduan/?q=kenanga").get_data(as_text=True)


@pytest.mark.parametrize("query, field, message", [
    ("q=ab", "q", "Kata kunci 3–100 karakter."),
    ("q=" + "x" * 101, "q", "Kata kunci 3–100 karakter."),
    ("status=tidak_valid", "state", "Status tidak dikenal."),
    ("status=menunggu_verifikasi", "state", "Status tidak dikenal."),
])
def test_bad_filters_get_a_message(client, query, field, message):
    response = client.get(f"/pengaduan/?{query}")
    assert response.status_code == 400
    assert re.search(rf'id="err-{field}">{re.escape(message)}<', response.get_data(as_text=True))


def test_overdue_badge_follows_the_one_overdue_definition_before_any_sweep(client, published, actor):
    """The badge is workflow.overdue: a check decided after its 24 hours, an answer past its deadline (still
    waiting, or given late); not a complaint within both standards. No sweep has run: the flags are only a
    cache of the same definition for fast queries."""
    from app.services import answer

    checked_late = published(title="Diperiksa terlambat")
    _set(checked_late.id, validation_deadline=checked_late.validated_at - timedelta(minutes=1))
    late = published(title="Lewat tenggat")
    _set(late.id, answer_deadline=datetime(2020, 1, 1))  # past, no answer, sweep not yet run
    on_time = published(title="Tepat waktu")
    answered_late = published(title="Dijawab setelah tenggat")
    answer(answered_late.id, actor("opd.dinkes"), "Maaf terlambat.")
    _set(answered_late.id, answer_deadline=datetime(2020, 1, 1))
    answered_on_time = published(title="Dijawab tepat waktu")
    answer(answered_on_time.id, actor("opd.dinkes"), "Sudah ditangani.")
    html = client.get("/pengaduan/").get_data(as_text=True)

    def badge(ticket):
        card = html.split(f'<span class="ticket">{ticket}</span>')[1].split("</li>")[0]
        return "Terlambat" in card

    assert badge(checked_late.ticket) and badge(late.ticket) and badge(answered_late.ticket)
    assert not badge(on_time.ticket) and not badge(answered_on_time.ticket)
    assert "Terlambat" in text_of(client.get(f"/pengaduan/{late.ticket}"))
    assert "Terlambat" not in text_of(client.get(f"/pengaduan/{on_time.ticket}"))


# --------------------------------------------------------------------------- detail


def test_detail_shows_public_text_opd_answer_and_timeline(client, published, actor):
    from app.services import answer, edit_answer

    complaint = published(title="Sampah menumpuk", text="Sampah di pasar tidak diangkut sejak Senin.",
                          visibility="publik", name="Rina Wulandari")
    answer(complaint.id, actor("opd.dinkes"), "Jadwal angkut diperbaiki.")
    edit_answer(complaint.id, actor("opd.dinkes"), "Jadwal angkut diperbaiki mulai Rabu.", reason="Tanggal")
    page = client.get(f"/pengaduan/{complaint.ticket.lower()}")
    assert page.status_code == 200
    text = text_of(page)
    for expected in ("Sampah menumpuk", "Sampah di pasar tidak diangkut sejak Senin.", "Rina Wulandari",
                     "Dinas Kesehatan", "Jadwal angkut diperbaiki mulai Rabu.", "diperbarui",
                     "Pengaduan diterima", "NIK terverifikasi; diteruskan ke Dinas Kesehatan",
                     "Dijawab oleh Dinas Kesehatan", "WIB"):
        assert expected in text, expected
    assert "Jadwal angkut diperbaiki." not in text  # only the current answer (SOP row 8)


def test_detail_names_the_complainant_only_when_publik(client, published):
    anon = published(visibility="anonim", name="Rina Wulandari")
    text = text_of(client.get(f"/pengaduan/{anon.ticket}"))
    assert "Anonim" in text and "Rina Wulandari" not in text


def test_detail_timeline_shows_steps_not_staff_notes(client, published, actor):
    from app.services import return_to_dispatch

    complaint = published()
    return_to_dispatch(complaint.id, actor("opd.dinkes"), "Ini urusan Pak Budi di desa sebelah, hubungi 081234567890")
    text = text_of(client.get(f"/pengaduan/{complaint.ticket}"))
    assert "Dikembalikan oleh Dinas Kesehatan" in text
    assert "Pak Budi" not in text and "081234567890" not in text


def test_detail_is_404_for_unknown_unvalidated_invalid_and_rahasia(client, submission, published, actor):
    from app.services import decide_nik, submit

    pending = submit(submission()).complaint
    invalid = submit(submission()).complaint
    decide_nik(invalid.id, actor("validator"), valid=False, remark="Tidak dikenal.")
    secret = published(visibility="rahasia")
    for ticket in ("LMJ-1999-000001", pending.ticket, invalid.ticket, secret.ticket, "x" * 300):
        response = client.get(f"/pengaduan/{ticket}")
        assert response.status_code == 404
        assert "Halaman tidak ditemukan" in text_of(response)


# --------------------------------------------------------------------------- statistics


def test_statistics_count_by_opd_and_state_with_time_standard_shares(client, submission, actor):
    from app.services import answer, decide_nik, submit
    from app.services.portal import clear_statistics_cache, statistics

    validator, dinkes = actor("validator"), actor("opd.dinkes")
    # 08:00 WIB on 1 January 2026; everything below happens in that year, and the figures are read on
    # 15 February (a fixed day: read on 1 January, the check of `waiting` would not be due yet).
    start = datetime(2026, 1, 1, 1, 0, tzinfo=timezone.utc)
    with time_machine.travel(start, tick=False):
        on_time = submit(submission(opd_code="DINKESP2KB")).complaint
        late = submit(submission(opd_code="DINKESP2KB")).complaint
        waiting = submit(submission(opd_code="DPUTR")).complaint
        invalid = submit(submission(opd_code="DPUTR")).complaint
        secret = submit(submission(opd_code="DPUTR", visibility="rahasia")).complaint
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        decide_nik(on_time.id, validator, valid=True)
        decide_nik(invalid.id, validator, valid=False, remark="NIK tidak dikenal.")
        decide_nik(secret.id, validator, valid=True)
    with time_machine.travel(start + timedelta(hours=30), tick=False):
        decide_nik(late.id, validator, valid=True)  # after the 24 hours
    with time_machine.travel(start + timedelta(days=1, hours=4), tick=False):
        answer(on_time.id, dinkes, "Sudah.")  # within the time standard
    with time_machine.travel(start + timedelta(days=40), tick=False):
        answer(late.id, dinkes, "Maaf, terlambat.")  # far past it
    with time_machine.travel(datetime(2026, 2, 15, 3, 0, tzinfo=timezone.utc), tick=False):
        stats = statistics()
        assert stats.year == 2026
        by_code = {row.code: row for row in stats.rows}
        health, roads = by_code["DINKESP2KB"], by_code["DPUTR"]
        assert health.by_state == {"dijawab": 2} and health.total == 2
        assert roads.by_state == {"menunggu_verifikasi": 1, "tidak_valid": 1, "diteruskan": 1} and roads.total == 3
        assert (health.checked_on_time, health.check_due) == (1, 2) and health.checked_share == 0.5
        assert (health.answered_on_time, health.answer_due) == (1, 2)
        # `waiting` is far past its 24 hours without a check: it counts against the share.
        assert (roads.checked_on_time, roads.check_due) == (2, 3)
        assert stats.totals.total == 5 and stats.totals.by_state["dijawab"] == 2
        del waiting

        clear_statistics_cache()
        page = client.get("/statistik")
        assert page.status_code == 200
        text = text_of(page)
        assert f"Statistik {stats.year}" in text and "Dinas Kesehatan" in text
        assert "50,0%" in text and "(1 dari 2)" in text
        assert "Menunggu verifikasi NIK" in text and "NIK tidak valid" in text


def test_statistics_ignore_other_years(client, submission):
    from app.services import submit
    from app.services.portal import clear_statistics_cache, statistics

    with time_machine.travel(datetime(2020, 6, 1), tick=False):
        submit(submission())
    assert statistics().totals.total == 0
    assert statistics(2020).totals.total == 1
    clear_statistics_cache()
    assert "Belum ada pengaduan tahun ini." in text_of(client.get("/statistik"))


def test_the_statistics_page_shows_the_stored_snapshot_until_the_next_one(app, client, submission):
    from app.services import submit
    from app.services.portal import clear_statistics_cache, store_statistics

    clear_statistics_cache()
    # One fixed moment: a run across midnight of 31 December (WIB) would count another year.
    with time_machine.travel(datetime(2026, 6, 15, 3, 0, tzinfo=timezone.utc), tick=False):
        assert "Belum ada pengaduan tahun ini." in text_of(client.get("/statistik"))
        submit(submission())
        assert "Belum ada pengaduan tahun ini." in text_of(client.get("/statistik"))  # until the next snapshot
        store_statistics()
        assert "Jumlah pengaduan" in text_of(client.get("/statistik")) and "Dinas Kesehatan" in text_of(
            client.get("/statistik"))


def test_a_service_error_on_a_public_page_renders_as_a_message(client, monkeypatch):
    from app.services import Conflict, portal

    def refuse(*args, **kwargs):
        raise Conflict("Data sedang diperbarui, coba lagi.")

    monkeypatch.setattr(portal, "stored_statistics", refuse)
    response = client.get("/statistik")
    assert response.status_code == 409
    assert "Data sedang diperbarui, coba lagi." in text_of(response)
