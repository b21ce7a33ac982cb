"""Issue 13, public side: validators and the shared page cache on anonymous pages (a change a service
commits shows at once), the statistics snapshot the scheduler stores, whole-word search (tsvector on
PostgreSQL) that only ever matches the public rendering."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
import time_machine

from tests.conftest import text_of


def _tickets(response) -> list[str]:
    return re.findall(r'<span class="ticket">([^<]+)</span>', response.get_data(as_text=True))


@pytest.fixture
def fixed_window(monkeypatch):
    """The pages' time window held still, so a run across its edge does not change the ETag."""
    from app import pagecache

    monkeypatch.setattr(pagecache, "_now", lambda: 1_800_000_000.0)


# --------------------------------------------------------------------------- validators


@pytest.mark.parametrize("path", ["/", "/pengaduan/", "/pengaduan/?q=kenanga", "/statistik", "{detail}"])
def test_anonymous_pages_carry_an_etag_and_answer_304_without_rendering(client, published, fixed_window,
                                                                      monkeypatch, path):
    from flask import templating

    complaint = published(title="Lampu Jalan Kenanga mati")
    path = path.format(detail=f"/pengaduan/{complaint.ticket}")
    first = client.get(path)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=30"
    assert "Cookie" in first.headers["Vary"]
    assert "Set-Cookie" not in first.headers

    def no_render(*args, **kwargs):
        raise AssertionError("a conditional GET must not render")

    monkeypatch.setattr(templating, "_render", no_render)
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    # Served from the shared cache, without rendering, with this response's own CSP nonce.
    kept = client.get(path)
    assert kept.status_code == 200 and kept.headers["ETag"] == etag
    nonce = re.search(r"'nonce-([^']+)'", kept.headers["Content-Security-Policy"]).group(1)
    assert f'nonce="{nonce}"' in kept.get_data(as_text=True)
    assert kept.get_data(as_text=True).replace(nonce, "") == first.get_data(as_text=True).replace(
        re.search(r"'nonce-([^']+)'", first.headers["Content-Security-Policy"]).group(1), "")


def test_the_etag_changes_when_an_answer_is_published_and_the_page_shows_it_at_once(client, published, actor,
                                                                                   fixed_window):
    from app.services import answer

    complaint = published(title="Sampah menumpuk di pasar")
    path = f"/pengaduan/{complaint.ticket}"
    before = client.get(path)
    assert "Sudah diangkut hari ini." not in text_of(before)
    list_before = client.get("/pengaduan/")
    answer(complaint.id, actor("opd.dinkes"), "Sudah diangkut hari ini.")
    after = client.get(path, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert "Sudah diangkut hari ini." in text_of(after)
    listed = client.get("/pengaduan/", headers={"If-None-Match": list_before.headers["ETag"]})
    assert listed.status_code == 200 and "Dijawab" in text_of(listed)
    assert complaint.ticket in _tickets(client.get("/"))  # the home page's latest answers


def test_a_returned_complaint_changes_the_etag_and_leaves_its_opd(client, published, actor, fixed_window):
    from app.services import return_to_dispatch

    complaint = published(title="Jalan berlubang")
    by_opd = client.get("/pengaduan/?opd=DINKESP2KB")
    assert _tickets(by_opd) == [complaint.ticket]
    return_to_dispatch(complaint.id, actor("opd.dinkes"), "Bukan wewenang kami.")
    again = client.get("/pengaduan/?opd=DINKESP2KB", headers={"If-None-Match": by_opd.headers["ETag"]})
    assert again.status_code == 200 and _tickets(again) == []


def test_a_change_no_public_page_shows_keeps_the_cache(client, submission, published, fixed_window):
    from app.services import submit

    published()
    listed = client.get("/pengaduan/")
    submit(submission())  # not published until its NIK is checked
    assert client.get("/pengaduan/", headers={"If-None-Match": listed.headers["ETag"]}).status_code == 304


def test_the_time_window_ends_the_validators(client, published, monkeypatch):
    from app import pagecache

    published()
    monkeypatch.setattr(pagecache, "_now", lambda: 1_800_000_000.0)
    first = client.get("/pengaduan/")
    monkeypatch.setattr(pagecache, "_now", lambda: 1_800_000_000.0 + 30)
    later = client.get("/pengaduan/", headers={"If-None-Match": first.headers["ETag"]})
    assert later.status_code == 200 and later.headers["ETag"] != first.headers["ETag"]


def test_the_language_is_part_of_the_page(client, fixed_window):
    indonesian = client.get("/statistik")
    english = client.get("/statistik?_l_=en")
    assert indonesian.headers["ETag"] != english.headers["ETag"]
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert '<html lang="id">' in client.get("/statistik").get_data(as_text=True)


def test_pages_with_a_form_or_personal_data_are_never_cached(client, auth, submission, published, fixed_window):
    from app.services import submit

    form = client.get("/pengaduan/baru")
    assert "ETag" not in form.headers and "public" not in form.headers.get("Cache-Control", "")
    track = client.get("/lacak")
    assert "ETag" not in track.headers and "public" not in track.headers.get("Cache-Control", "")
    done = submit(submission())
    tracked = client.post("/lacak", data={"ticket": done.complaint.ticket, "pin": done.pin})
    assert tracked.status_code == 303
    result = client.get("/lacak/hasil")
    assert result.status_code == 200 and "ETag" not in result.headers
    assert result.headers["Cache-Control"] == "no-store"
    receipt = client.get("/pengaduan/terkirim")
    assert "ETag" not in receipt.headers and receipt.headers["Cache-Control"] == "no-store"
    # A signed-in staff member gets the public pages uncached (no-store), never a shared copy.
    complaint = published()
    assert auth.login("validator").status_code in (302, 303)
    staff = client.get(f"/pengaduan/{complaint.ticket}")
    assert staff.status_code == 200 and "ETag" not in staff.headers
    assert staff.headers["Cache-Control"] == "no-store"
    desk = client.get("/validator/")
    assert "ETag" not in desk.headers


def test_bad_filters_are_not_cached(client, fixed_window):
    response = client.get("/pengaduan/?q=ab")
    assert response.status_code == 400 and "ETag" not in response.headers


def test_without_the_setting_nothing_is_cached(app, client, published, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_PAGE_CACHE_SECONDS", 0)
    published()
    response = client.get("/pengaduan/")
    assert response.status_code == 200 and "ETag" not in response.headers


# --------------------------------------------------------------------------- statistics snapshot


def test_statistics_come_from_the_snapshot_the_scheduler_stores(app, client, submission, monkeypatch):
    from app import jobs
    from app.extensions import db
    from app.models import PublicStatistics
    from app.services import portal, submit

    moment = datetime(2026, 6, 15, 3, 0, tzinfo=timezone.utc)
    with time_machine.travel(moment, tick=False):
        # A fresh install: no snapshot yet, the first visit computes it once and stores it.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PublicStatistics)) == 0
        first = text_of(client.get("/statistik"))
        assert "Belum ada pengaduan tahun ini." in first and "Per 15-06-2026 10:00 WIB" in first
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PublicStatistics)) == 1
        submit(submission())

        # Requests never compute while a snapshot exists.
        def no_compute(*args, **kwargs):
            raise AssertionError("statistics computed in a request")

        monkeypatch.setattr(portal, "statistics", no_compute)
        assert "Belum ada pengaduan tahun ini." in text_of(client.get("/statistik"))
        monkeypatch.undo()
    later = datetime(2026, 6, 15, 3, 10, tzinfo=timezone.utc)
    with time_machine.travel(later, tick=False):
        jobs.run_job(app, jobs.find("public_statistics"))
        page = text_of(client.get("/statistik"))
        assert "Jumlah pengaduan" in page and "Dinas Kesehatan" in page and "Per 15-06-2026 10:10 WIB" in page


def test_the_statistics_job_is_registered_with_its_setting():
    from app import jobs

    spec = jobs.find("public_statistics")
    assert spec.interval_setting == "PUBLIC_STATISTICS_MINUTES"
    assert jobs.trigger_args(spec, {"PUBLIC_STATISTICS_MINUTES": 7})["minutes"] == 7


# --------------------------------------------------------------------------- search


def test_a_rare_whole_word_is_found_and_a_partial_word_still_is(client, published):
    from app.extensions import db

    lamp = published(title="Lampu jalan mati", text="Gelap sepanjang Jalan Kenanga sejak Senin.")
    water = published(title="Air PDAM keruh", text="Air keruh setiap pagi di Perumahan Kenangan Indah.")
    if db.engine.dialect.name == "postgresql":
        # "kenanga" as a whole word is in one (the tsvector index); as part of a word ("Kenangan") in the
        # other: the whole word wins.
        assert _tickets(client.get("/pengaduan/?q=Kenanga")) == [lamp.ticket]
    else:  # SQLite: every search is a substring search
        assert sorted(_tickets(client.get("/pengaduan/?q=Kenanga"))) == sorted([lamp.ticket, water.ticket])
    # No whole word "kenang" anywhere: the partial word finds both (the trigram index on PostgreSQL).
    assert sorted(_tickets(client.get("/pengaduan/?q=kenang"))) == sorted([lamp.ticket, water.ticket])
    assert _tickets(client.get("/pengaduan/?q=sepanjang jalan")) == [lamp.ticket]
    assert _tickets(client.get("/pengaduan/?q=zzzyyxx")) == []


def test_search_pages_past_the_first_keep_the_whole_word_matches(client, published, monkeypatch):
    from app.services import portal

    monkeypatch.setattr(portal, "PAGE_SIZE", 2)
    made = [published(title=f"Lampu {word} mati", text=f"Lampu {word} di Jalan Kenanga padam.")
            for word in ("merah", "kuning", "hijau")]
    published(title="Lain", text="Perumahan Kenangan Indah.")
    first = client.get("/pengaduan/?q=jalan kenanga")
    assert len(_tickets(first)) == 2
    link = re.search(r'href="(/pengaduan/\?[^"]*setelah=[^"]+)"', first.get_data(as_text=True)).group(1)
    second = client.get(link.replace("&amp;", "&"))
    assert second.status_code == 200
    assert sorted(_tickets(first) + _tickets(second)) == sorted(c.ticket for c in made)


def test_search_never_matches_a_rahasia_complaint_or_text_kept_out_of_the_public_version(client, published,
                                                                                      submission, actor):
    from app.services import decide_nik, submit

    published(visibility="rahasia", title="Pungutan liar", text="Ada pungutan zamrudkencana di kantor desa.")
    done = submit(submission(title="Jembatan rusak", text="Jembatan rusak dekat rumah Pak Wiryokusumo."))
    edited = decide_nik(done.complaint.id, actor("validator"), valid=True,
                        public_text="Jembatan rusak dekat rumah warga.", public_edit_reason="Nama orang lain")
    assert "Wiryokusumo" not in edited.public_text
    assert _tickets(client.get("/pengaduan/?q=zamrudkencana")) == []
    assert _tickets(client.get("/pengaduan/?q=zamrud")) == []
    assert _tickets(client.get("/pengaduan/?q=Wiryokusumo")) == []
    assert _tickets(client.get("/pengaduan/?q=Wiryo")) == []
    assert _tickets(client.get("/pengaduan/?q=warga")) == [edited.ticket]


# --------------------------------------------------------------------------- Open311 GET documents


def test_open311_documents_carry_validators_and_follow_a_published_answer(client, published, actor, fixed_window):
    from app.services import answer

    complaint = published(title="Saluran air tersumbat")
    path = f"/open311/v2/requests/{complaint.ticket}.json"
    first = client.get(path)
    assert first.status_code == 200 and first.headers["Content-Type"].startswith("application/json")
    assert first.headers["Cache-Control"] == "public, max-age=30"
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    kept = client.get(path)
    assert kept.headers["Content-Type"] == first.headers["Content-Type"] and kept.json == first.json
    answer(complaint.id, actor("opd.dinkes"), "Saluran sudah dibersihkan.")
    changed = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and "Saluran sudah dibersihkan." in changed.get_data(as_text=True)
    assert "ETag" not in client.get("/open311/v2/requests/LMJ-1999-000001.json").headers  # a 404 is not kept


def test_an_unreachable_cache_leaves_the_pages_working_uncached(client, published, monkeypatch):
    from app.extensions import cache

    complaint = published()

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)
    monkeypatch.setattr(cache, "add", down)
    page = client.get(f"/pengaduan/{complaint.ticket}")
    assert page.status_code == 200 and complaint.ticket in page.get_data(as_text=True)
    assert "ETag" not in page.headers and "public" not in page.headers.get("Cache-Control", "")


def test_the_whole_word_search_is_served_by_the_tsvector_index(app, published):
    from app.extensions import db
    from app.services import portal

    lamp = published(title="Lampu jalan mati", text="Gelap sepanjang Jalan Kenanga.")
    seen = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        page = portal.published_page(portal.check_filter(None, None, "kenanga"))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    assert [i.ticket for i in page.items] == [lamp.ticket]
    searches = [(s, p) for s, p in seen if "ILIKE" in s.upper() or " LIKE " in s.upper()]
    assert len(searches) == 1
    statement, parameters = searches[0]
    if db.engine.dialect.name == "postgresql":
        assert "to_tsvector" in statement and "plainto_tsquery" in statement
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
        assert "ix_complaint_public_words" in plan, plan
    else:  # SQLite keeps its substring search
        assert "to_tsvector" not in statement
