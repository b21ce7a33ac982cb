"""Every list beyond its first page (issue 12): rows seeded past a page, the pages walked by the links
they give (never built by hand), each row seen exactly once, in the documented order, ties included,
with the filters kept; bad cursors are a clean answer; old parameter names still work."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from itertools import product
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditLog, Complaint, Opd, Outbox
from app.services import cursor, desk, outbox, portal
from app.timeutil import from_wib, utcnow
from app.workflow import State, Visibility
from tests.conftest import PASSWORD
from tests.integration.opd_support import api_headers, login
from tests.paging_support import complaint_row, insert_rows, next_url, walk_html, walk_json

TICKETS = re.compile(r'<span class="ticket">([^<]+)</span>')
DESK_IDS = re.compile(r'href="/staf/opd/(\d+)"')
DISPATCH_IDS = re.compile(r'id="dispatch-(\d+)"')
VALIDATOR_TICKETS = re.compile(r'data-ticket="([^"]+)"')
HISTORY_IDS = re.compile(r'<tr data-id="(\d+)"')
OUTBOX_IDS = re.compile(r'<tr data-id="(\d+)"')


def _opd(code: str) -> int:
    return db.session.scalar(sa.select(Opd.id).where(Opd.code == code))


def _ints(pattern):
    return lambda body: [int(x) for x in pattern.findall(body)]


def _token(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _once_in_order(seen: list, expected: list) -> None:
    assert len(seen) == len(set(seen)), "a row was shown twice"
    assert seen == expected


# --------------------------------------------------------------------------- public list


@pytest.fixture
def public_rows():
    """80 published complaints: two OPDs, three states, "jembatan" in three of four (title or text),
    published in groups of four at the same instant; plus rows the public never sees."""
    health, roads = _opd("DINKESP2KB"), _opd("DPUTR")
    start = utcnow() - timedelta(days=30)
    states = (State.DITERUSKAN, State.DIJAWAB, State.SELESAI)
    specs = []
    for i in range(80):
        state = states[i % 3]
        at = start + timedelta(minutes=i // 4)
        word = i % 4 != 3
        specs.append(complaint_row(
            i, roads if i % 2 else health, state, published_at=at, validated_at=at, routed_at=at,
            answer_deadline=at + timedelta(days=7), answered_at=at + timedelta(hours=1) if state != State.DITERUSKAN else None,
            public_title=f"Jembatan rusak {i}" if word and i % 8 < 4 else f"Keluhan {i}",
            public_text=f"Dekat jembatan desa {i}." if word else f"Keluhan warga {i}."))
    hidden = [complaint_row(100, roads, State.DITERUSKAN, visibility=Visibility.RAHASIA, published_at=None),
              complaint_row(101, roads, State.MENUNGGU_VERIFIKASI, published_at=None),
              complaint_row(102, roads, State.TIDAK_VALID, published_at=None)]
    ids = insert_rows(Complaint, specs + hidden)
    rows = [dict(spec, id=ident, opd_code="DPUTR" if spec["opd_id"] == roads else "DINKESP2KB", public=n < len(specs))
            for n, (spec, ident) in enumerate(zip(specs + hidden, ids))]
    return [r for r in rows if r["public"]] + [r for r in rows if not r["public"]]


def _public_expected(rows, opd=None, status=None, q=None) -> list[str]:
    chosen = [r for r in rows if r["public"] and (opd is None or r["opd_code"] == opd) and (status is None or r["state"].value == status)
              and (q is None or q in (r["public_title"] + " " + r["public_text"]).lower())]
    return [r["ticket"] for r in sorted(chosen, key=lambda r: (r["published_at"], r["id"]), reverse=True)]


def test_public_list_walks_every_filter_to_the_end(client, public_rows, monkeypatch):
    monkeypatch.setattr(portal, "PAGE_SIZE", 5)  # crosses the groups of equal publication times
    for opd, status, q in product((None, "DPUTR"), (None, "dijawab"), (None, "jembatan")):
        params = "&".join(f"{k}={v}" for k, v in (("opd", opd), ("status", status), ("q", q)) if v)
        expected = _public_expected(public_rows, opd, status, q)
        seen, urls = walk_html(client, f"/pengaduan/?{params}", TICKETS.findall)
        assert len(expected) > 5, params  # every combination really has a second page
        _once_in_order(seen, expected)
        for url in urls[1:]:  # every next link kept the filters
            query = parse_qs(urlsplit(url).query)
            assert {k: v[0] for k, v in query.items() if k != cursor.NEXT} == \
                {k: v for k, v in (("opd", opd), ("status", status), ("q", q)) if v}, url
        assert "Halaman pertama" in client.get(urls[-1]).get_data(as_text=True)


def test_public_list_at_its_real_page_size(client, public_rows):
    seen, urls = walk_html(client, "/pengaduan/", TICKETS.findall)
    _once_in_order(seen, _public_expected(public_rows))
    assert len(seen) == 80
    assert len(urls) == -(-80 // portal.PAGE_SIZE)


# --------------------------------------------------------------------------- OPD desk


@pytest.fixture
def desk_rows():
    """Waiting complaints of two OPDs with deadlines in groups of three (the first ones past), some
    flagged overdue; answered ones with answer times in pairs, some answered late. "jalan" in half."""
    health, roads = _opd("DINKESP2KB"), _opd("DPUTR")
    now = utcnow()
    specs = []
    for i in range(30):
        deadline = now + timedelta(days=i // 3 - 3, hours=1)
        title = f"Jalan berlubang {i}" if i % 4 < 2 else f"Lampu mati {i}"
        # The sweep's flag is a cache of the one overdue definition: set only where it holds.
        specs.append(complaint_row(
            200 + i, roads if i % 2 else health, State.DITERUSKAN, routed_at=deadline - timedelta(days=7),
            answer_deadline=deadline, published_at=deadline - timedelta(days=7),
            answer_overdue=i % 7 == 0 and deadline < now, title=title, public_title=title))
    for i in range(30, 56):
        answered = now - timedelta(hours=(i - 30) // 2 + 1)
        deadline = answered + (timedelta(hours=-2) if i % 3 == 0 else timedelta(days=2))
        title = f"Jalan rusak {i}" if i % 4 < 2 else f"Air keruh {i}"
        specs.append(complaint_row(
            200 + i, roads if i % 2 else health, State.DIJAWAB if i % 5 else State.SELESAI,
            routed_at=deadline - timedelta(days=7), answer_deadline=deadline, answered_at=answered,
            published_at=deadline - timedelta(days=7), title=title, public_title=title))
    ids = insert_rows(Complaint, specs)
    return [dict(spec, id=ident) for spec, ident in zip(specs, ids)], {"DINKESP2KB": health, "DPUTR": roads}


def _desk_expected(rows, opds, tab, opd=None, overdue=False, q=None, now=None) -> list[int]:
    now = now or utcnow()
    if tab == "menunggu":
        chosen = [r for r in rows if r["state"] == State.DITERUSKAN]
        if overdue:
            chosen = [r for r in chosen if r["answer_deadline"] < now]
    else:
        chosen = [r for r in rows if r["state"] in (State.DIJAWAB, State.SELESAI)]
        if overdue:
            chosen = [r for r in chosen if r["answered_at"] > r["answer_deadline"]]
    if opd:
        chosen = [r for r in chosen if r["opd_id"] == opds[opd]]
    if q:
        chosen = [r for r in chosen if q in r["public_title"].lower()]
    if tab == "menunggu":
        return [r["id"] for r in sorted(chosen, key=lambda r: (r["answer_deadline"], r["id"]))]
    return [r["id"] for r in sorted(chosen, key=lambda r: (r["answered_at"], r["id"]), reverse=True)]


def test_opd_desk_tabs_and_filters_walk_to_the_end(app, desk_rows, monkeypatch):
    rows, opds = desk_rows
    monkeypatch.setattr(desk, "PAGE_SIZE", 4)
    supervisor = login(app, "pimpinan", PASSWORD)
    for tab, opd, overdue, q in product(("menunggu", "dijawab"), (None, "DPUTR"), (False, True), (None, "jalan")):
        params = {"tab": tab, "opd": opd, "terlambat": "1" if overdue else None, "q": q}
        query = "&".join(f"{k}={v}" for k, v in params.items() if v)
        expected = _desk_expected(rows, opds, tab, opd, overdue, q)
        seen, urls = walk_html(supervisor, f"/staf/opd/?{query}", _ints(DESK_IDS))
        _once_in_order(seen, expected)
        assert expected, query
        if len(expected) > 4:
            assert len(urls) > 1, query
        for url in urls[1:]:
            kept = parse_qs(urlsplit(url).query)
            assert {k: v[0] for k, v in kept.items() if k != cursor.NEXT} == \
                {k: v for k, v in params.items() if v}, url
    # An Admin OPD walks its own OPD's tabs only.
    own = login(app, "opd.dputr", PASSWORD)
    for tab in ("menunggu", "dijawab"):
        seen, _urls = walk_html(own, f"/staf/opd/?tab={tab}", _ints(DESK_IDS))
        _once_in_order(seen, _desk_expected(rows, opds, tab, "DPUTR"))


# --------------------------------------------------------------------------- dispatch and validator queue


def test_dispatch_queue_walks_to_the_end_with_equal_deadlines(app, monkeypatch):
    roads = _opd("DPUTR")
    now = utcnow()
    specs = [complaint_row(i, roads, State.PERLU_DISPOSISI, routed_at=now - timedelta(days=2),
                           answer_deadline=now + timedelta(days=i // 3), published_at=now - timedelta(days=2))
             for i in range(11)]
    ids = insert_rows(Complaint, specs)
    expected = [ident for _spec, ident in sorted(zip(specs, ids), key=lambda p: (p[0]["answer_deadline"], p[1]))]
    monkeypatch.setattr(desk, "PAGE_SIZE", 4)
    for username in ("admin", "validator"):
        seen, urls = walk_html(login(app, username, PASSWORD), "/staf/disposisi/", _ints(DISPATCH_IDS))
        _once_in_order(seen, expected)
        assert len(urls) == 3


def test_validator_queue_walks_to_the_end_at_its_real_page_size(app):
    roads = _opd("DPUTR")
    start = utcnow() - timedelta(hours=30)
    specs = [complaint_row(i, roads, State.MENUNGGU_VERIFIKASI, submitted_at=start,
                           validation_deadline=start + timedelta(minutes=i // 5)) for i in range(110)]
    ids = insert_rows(Complaint, specs)
    expected = [spec["ticket"] for spec, _ in sorted(zip(specs, ids), key=lambda p: (p[0]["validation_deadline"], p[1]))]
    seen, urls = walk_html(login(app, "validator", PASSWORD), "/staf/validasi/", VALIDATOR_TICKETS.findall)
    _once_in_order(seen, expected)
    assert len(urls) == 3  # 50 + 50 + 10


def test_validator_queue_filtered_to_late_keeps_its_filter_past_the_first_page(app):
    """?saring=terlambat over two pages: only the late complaints, each once, oldest deadline first; the
    next links keep the filter (the page's ids come from the index first, then the rows)."""
    roads = _opd("DPUTR")
    now = utcnow()
    start = now - timedelta(hours=40)
    late = [complaint_row(i, roads, State.MENUNGGU_VERIFIKASI, submitted_at=start,
                          validation_deadline=start + timedelta(minutes=i // 4)) for i in range(70)]
    due = [complaint_row(100 + i, roads, State.MENUNGGU_VERIFIKASI, submitted_at=now - timedelta(hours=1),
                         validation_deadline=now + timedelta(hours=5, minutes=i)) for i in range(40)]
    ids = insert_rows(Complaint, late + due)
    expected = [spec["ticket"] for spec, _ in sorted(zip(late, ids), key=lambda p: (p[0]["validation_deadline"], p[1]))]
    seen, urls = walk_html(login(app, "validator", PASSWORD), "/staf/validasi/?saring=terlambat",
                           VALIDATOR_TICKETS.findall)
    _once_in_order(seen, expected)
    assert len(urls) == 2 and all("saring=terlambat" in url for url in urls)


# --------------------------------------------------------------------------- history log


@pytest.fixture
def history_rows():
    """120 history rows over eight WIB days (groups of three at the same instant): three kinds, two
    users and roles, four actions, a third about one complaint."""
    complaint_id = insert_rows(Complaint, [complaint_row(1, _opd("DPUTR"), State.DITERUSKAN)])[0]
    start = datetime(2025, 3, 1, 0, 0)
    kinds = [("auth", "login.failed"), ("action", "complaint.answer"), ("pii", "nik.view"), ("action", "note.add")]
    specs = []
    for i in range(120):
        kind, action = kinds[i % 4]
        specs.append(dict(at=start + timedelta(hours=5 * (i // 3)), kind=kind, action=action,
                          username="budi" if i % 2 else "sari", role="Pimpinan" if i % 3 else "Validator",
                          user_id=None, complaint_id=complaint_id if i % 3 == 1 else None))
    ids = insert_rows(AuditLog, specs)
    return [dict(spec, id=ident) for spec, ident in zip(specs, ids)], "LMJ-2099-000001"


def _history_expected(rows, **flt) -> list[int]:
    chosen = rows
    for key, column in (("jenis", "kind"), ("aksi", "action"), ("pengguna", "username"), ("peran", "role")):
        if flt.get(key):
            chosen = [r for r in chosen if r[column] == flt[key]]
    if flt.get("tiket"):
        chosen = [r for r in chosen if r["complaint_id"] is not None]
    if flt.get("dari"):
        low = from_wib(datetime.fromisoformat(flt["dari"]))
        chosen = [r for r in chosen if r["at"] >= low]
    if flt.get("sampai"):
        high = from_wib(datetime.fromisoformat(flt["sampai"]) + timedelta(days=1))
        chosen = [r for r in chosen if r["at"] < high]
    return [r["id"] for r in sorted(chosen, key=lambda r: (r["at"], r["id"]), reverse=True)]


def test_history_log_walks_every_filter_to_the_end(app, history_rows, monkeypatch):
    from app.services import records

    rows, ticket = history_rows
    monkeypatch.setattr(records, "HISTORY_PAGE", 7)
    client = login(app, "pimpinan", PASSWORD)
    cases = [{"jenis": "action"}, {"aksi": "nik.view"}, {"pengguna": "budi"}, {"peran": "Validator"},
             {"tiket": ticket}, {"dari": "2025-03-03", "sampai": "2025-03-05"},
             {"jenis": "action", "pengguna": "budi", "dari": "2025-03-02"}]
    for flt in cases:
        query = "&".join(f"{k}={v}" for k, v in flt.items())
        expected = _history_expected(rows, **flt)
        assert len(expected) > 7, query
        seen, urls = walk_html(client, f"/riwayat/?{query}", _ints(HISTORY_IDS))
        _once_in_order(seen, expected)
        for url in urls[1:]:
            kept = parse_qs(urlsplit(url).query)
            assert {k: v[0] for k, v in kept.items() if k != cursor.NEXT} == flt, url


def test_history_log_at_its_real_page_size_includes_its_own_sign_in(app, history_rows):
    rows, _ticket = history_rows
    client = login(app, "pimpinan", PASSWORD)
    # Everything written up to now (the seeded rows, the sign-in and its requests); what the walk
    # itself writes is newer than its first page, so it never shows on a later one.
    everything = list(db.session.scalars(sa.select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc())))
    snapshot = [r.id for r in everything]
    assert len(snapshot) > 120
    # With the page views shown (`halaman=1`): every row.
    seen, urls = walk_html(client, "/riwayat/?halaman=1", _ints(HISTORY_IDS))
    _once_in_order(seen, snapshot)
    assert len(urls) == -(-len(snapshot) // 50)
    # By default page views are hidden: every other row, the sign-in included, still once and in order.
    actions = [r.id for r in everything if r.kind != "request"]
    assert any(r.kind == "auth" for r in everything) and len(actions) < len(snapshot)
    seen, urls = walk_html(client, "/riwayat/", _ints(HISTORY_IDS))
    _once_in_order(seen, actions)
    assert len(urls) == -(-len(actions) // 50)


# --------------------------------------------------------------------------- outbox


def test_outbox_walks_each_status_to_the_end(app, monkeypatch):
    statuses = ("pending", "sent", "dead")
    specs = [dict(channel="email", recipient=f"warga{i}@contoh.id", template="received", locale="id",
                  subject=f"Notifikasi {i}", body="Isi.", status=statuses[i % 3], attempts=0,
                  next_attempt_at=utcnow(), created_at=utcnow(),
                  sent_at=utcnow() if statuses[i % 3] == "sent" else None) for i in range(130)]
    ids = insert_rows(Outbox, specs)
    client = login(app, "admin", PASSWORD)
    seen, urls = walk_html(client, "/staf/kotak-keluar/", _ints(OUTBOX_IDS))
    _once_in_order(seen, sorted(ids, reverse=True))
    assert len(urls) == 3  # the real page size, 50
    monkeypatch.setattr(outbox, "PAGE_SIZE", 9)
    for status in statuses:
        expected = sorted((i for s, i in zip(specs, ids) if s["status"] == status), reverse=True)
        seen, urls = walk_html(client, f"/staf/kotak-keluar/?status={status}", _ints(OUTBOX_IDS))
        _once_in_order(seen, expected)
        assert all(parse_qs(urlsplit(u).query)["status"] == [status] for u in urls)


# --------------------------------------------------------------------------- REST list


def test_rest_list_walks_each_state_by_its_cursor_and_by_the_old_names(app, client, public_rows):
    headers = api_headers("pimpinan")
    newest_first = sorted(public_rows, key=lambda r: r["id"], reverse=True)
    seen, urls = walk_json(client, f"/api/v1/complaint/?{cursor.PER_PAGE}=9", headers)
    _once_in_order([r["id"] for r in seen], [r["id"] for r in newest_first])  # a supervisor sees all 83
    for state in ("dijawab", "selesai"):
        expected = [r["id"] for r in newest_first if r["state"].value == state]
        seen, urls = walk_json(client, f"/api/v1/complaint/?state={state}&{cursor.PER_PAGE}=4", headers)
        _once_in_order([r["id"] for r in seen], expected)
        assert len(urls) > 1
        # An old client: `limit` and `before` with the old field still walk the same rows.
        old, url = [], f"/api/v1/complaint/?state={state}&limit=4"
        while url:
            body = client.get(url, headers=headers).get_json()
            old += [r["id"] for r in body["result"]]
            last = body[cursor.LEGACY_NEXT_FIELD]
            url = f"/api/v1/complaint/?state={state}&limit=4&before={last}" if last else None
        assert old == expected
    # An Admin OPD's list is its own OPD's routed complaints (rahasia too), page after page.
    own = api_headers("opd.dputr")
    seen, _urls = walk_json(client, f"/api/v1/complaint/?{cursor.PER_PAGE}=5", own)
    assert [r["id"] for r in seen] == [r["id"] for r in newest_first if r["opd_code"] == "DPUTR" and r["state"] in
                                       (State.DITERUSKAN, State.DIJAWAB, State.SELESAI)]


def test_rest_list_refuses_bad_paging_parameters_with_a_message(client, public_rows):
    headers = api_headers("pimpinan")
    for query in (f"{cursor.NEXT}=bukan-kursor", f"{cursor.NEXT}={cursor.encode(None, 2**63)}",
                  f"{cursor.NEXT}={_token('2026-01-01T00:00:00|5')}", "before=99999999999999999999", "before=2147483648", "before=-3",
                  f"{cursor.PER_PAGE}=banyak", f"{cursor.PER_PAGE}=0", "limit=1e3"):
        response = client.get(f"/api/v1/complaint/?{query}", headers=headers)
        assert response.status_code == 400, query
        assert response.get_json()["message"], query
    big = client.get(f"/api/v1/complaint/?{cursor.PER_PAGE}=500", headers=headers)  # taken as the maximum
    assert big.status_code == 200 and len(big.get_json()["result"]) == 83 and big.get_json()[cursor.NEXT] is None


# --------------------------------------------------------------------------- bad cursors, old names


def _bad_tokens() -> dict[str, str]:
    return {
        "garbage": "bukan-kursor", "symbols": "%25%ff%7E", "long": "A" * 500,
        "id past 2**63": cursor.encode(datetime(2026, 1, 1), 2**63),
        "id past 2**64": cursor.encode(datetime(2026, 1, 1), 2**64 + 5),
        "id only, past 2**63": cursor.encode(None, 2**63),
        "id past the INTEGER column": cursor.encode(datetime(2026, 1, 1), 2**31),
        "negative id": _token("2026-01-01T00:00:00|-4"),
        "year 10000": _token("10000-01-01T00:00:00|5"),
        "time zone": _token("2026-01-01T00:00:00+07:00|5"),
        "no separator": _token("2026-01-01T00:00:00"),
    }


def test_a_bad_public_cursor_is_a_400_with_its_message(client, public_rows):
    for name, token in _bad_tokens().items():
        response = client.get(f"/pengaduan/?opd=DPUTR&{cursor.NEXT}={token}")
        assert response.status_code == 400, name
        assert "Tautan halaman tidak valid" in response.get_data(as_text=True), name
    # The edges of the representable range are positions, not errors.
    for token in (cursor.encode(datetime.max, cursor.ID_MAX), cursor.encode(datetime(1, 1, 1), 1)):
        assert client.get(f"/pengaduan/?{cursor.NEXT}={token}").status_code == 200
    # A NUL in any query string is refused by the input boundary before any list reads it.
    nul = client.get(f"/pengaduan/?{cursor.NEXT}=%25%00%ff")
    assert nul.status_code == 400 and "karakter" in nul.get_data(as_text=True).lower()


@pytest.mark.parametrize("username,path,pattern", [
    ("pimpinan", "/staf/opd/?tab=menunggu", DESK_IDS), ("pimpinan", "/staf/opd/?tab=dijawab", DESK_IDS),
    ("validator", "/staf/validasi/", VALIDATOR_TICKETS), ("admin", "/staf/disposisi/", DISPATCH_IDS),
    ("pimpinan", "/riwayat/?jenis=pii", HISTORY_IDS), ("admin", "/staf/kotak-keluar/", OUTBOX_IDS),
])
def test_a_bad_staff_cursor_shows_the_first_page(app, username, path, pattern):
    now = utcnow()
    roads = _opd("DPUTR")
    insert_rows(Complaint, [
        complaint_row(1, roads, State.DITERUSKAN, answer_deadline=now, routed_at=now),
        complaint_row(2, roads, State.DIJAWAB, answer_deadline=now, routed_at=now, answered_at=now),
        complaint_row(3, roads, State.MENUNGGU_VERIFIKASI),
        complaint_row(4, roads, State.PERLU_DISPOSISI, answer_deadline=now, routed_at=now)])
    insert_rows(AuditLog, [dict(at=now - timedelta(days=1), kind="pii", action="nik.view")])
    insert_rows(Outbox, [dict(channel="email", recipient="a@contoh.id", template="t", locale="id", subject="s",
                              body="b", status="sent", attempts=1, next_attempt_at=now, created_at=now,
                              sent_at=now)])
    client = login(app, username, PASSWORD)
    first = pattern.findall(client.get(path).get_data(as_text=True))
    assert first
    tokens = {**_bad_tokens(), "extreme": cursor.encode(datetime.max, cursor.ID_MAX)}
    for name, token in tokens.items():
        response = client.get(f"{path}{'&' if '?' in path else '?'}{cursor.NEXT}={token}")
        assert response.status_code == 200, name
        if name != "extreme":
            assert pattern.findall(response.get_data(as_text=True)) == first, name


def _location(response) -> tuple[str, dict]:
    parts = urlsplit(response.headers["Location"])
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def test_old_parameter_names_redirect_to_the_same_page(app, client, public_rows, desk_rows, monkeypatch):
    monkeypatch.setattr(portal, "PAGE_SIZE", 5)
    monkeypatch.setattr(desk, "PAGE_SIZE", 3)
    first = client.get("/pengaduan/?opd=DPUTR").get_data(as_text=True)
    token = parse_qs(urlsplit(next_url(first)).query)[cursor.NEXT][0]
    old = client.get(f"/pengaduan/?opd=DPUTR&after={token}")
    assert old.status_code == 308
    assert _location(old) == ("/pengaduan/", {"opd": "DPUTR", cursor.NEXT: token})
    both = client.get(f"/pengaduan/?after=lama&{cursor.NEXT}={token}")
    assert _location(both)[1] == {cursor.NEXT: token}  # the current name wins
    supervisor = login(app, "pimpinan", PASSWORD)
    page = supervisor.get("/staf/opd/?tab=dijawab&opd=DPUTR").get_data(as_text=True)
    token = parse_qs(urlsplit(next_url(page)).query)[cursor.NEXT][0]
    moved = supervisor.get(f"/staf/opd/?tab=dijawab&opd=DPUTR&after={token}")
    assert moved.status_code == 308
    assert _location(moved) == ("/staf/opd/", {"tab": "dijawab", "opd": "DPUTR", cursor.NEXT: token})
    followed = supervisor.get(moved.headers["Location"]).get_data(as_text=True)
    assert DESK_IDS.findall(followed) == DESK_IDS.findall(supervisor.get(next_url(page)).get_data(as_text=True))
    # A validator's queue never had an id cursor: an old `sebelum` is dropped, not guessed.
    validator = login(app, "validator", PASSWORD)
    assert _location(validator.get("/staf/validasi/?sebelum=12")) == ("/staf/validasi/", {})


def test_old_id_cursors_of_the_history_log_and_outbox_become_cursors(app, history_rows, monkeypatch):
    from app.services import records

    rows, _ticket = history_rows
    monkeypatch.setattr(records, "HISTORY_PAGE", 7)
    client = login(app, "pimpinan", PASSWORD)
    expected = _history_expected(rows, jenis="auth")
    anchor = expected[6]  # the last row of the first page: the old link was "older than this id"
    moved = client.get(f"/riwayat/?jenis=auth&sebelum={anchor}")
    assert moved.status_code == 308
    path, args = _location(moved)
    assert path == "/riwayat/" and args["jenis"] == "auth" and "sebelum" not in args
    assert _ints(HISTORY_IDS)(client.get(moved.headers["Location"]).get_data(as_text=True)) == expected[7:14]
    gone = client.get("/riwayat/?jenis=auth&sebelum=99999999999999999999")
    assert _location(gone) == ("/riwayat/", {"jenis": "auth"})
    ids = insert_rows(Outbox, [dict(channel="email", recipient="a@contoh.id", template="t", locale="id",
                                    subject=f"s{i}", body="b", status="sent", attempts=1, next_attempt_at=utcnow(),
                                    created_at=utcnow(), sent_at=utcnow()) for i in range(5)])
    admin = login(app, "admin", PASSWORD)
    moved = admin.get(f"/staf/kotak-keluar/?status=sent&sebelum={ids[3]}")
    assert moved.status_code == 308
    assert _ints(OUTBOX_IDS)(admin.get(moved.headers["Location"]).get_data(as_text=True)) == ids[:3][::-1]


# --------------------------------------------------------------------------- NULL sort keys


@pytest.mark.parametrize("descending", [False, True])
def test_rows_with_a_null_sort_key_come_last_once_on_both_databases(descending):
    """PostgreSQL sorts NULLs last, SQLite first; a nullable keyset relies on neither."""
    roads, at = _opd("DPUTR"), utcnow() - timedelta(days=3)
    specs = [complaint_row(i, roads, State.DIJAWAB if i % 3 else State.DITERUSKAN,
                           answered_at=at + timedelta(hours=i // 4) if i % 3 else None) for i in range(17)]
    ids = insert_rows(Complaint, specs)
    order = cursor.Keyset(ident=Complaint.id, key=Complaint.answered_at, descending=descending, nullable=True)
    answered = sorted(((s["answered_at"], i) for s, i in zip(specs, ids) if s["answered_at"]), reverse=descending)
    unanswered = sorted((i for s, i in zip(specs, ids) if s["answered_at"] is None), reverse=descending)
    seen, token = [], None
    for _ in range(20):
        rows, token = order.fetch(lambda q: list(db.session.scalars(q)), sa.select(Complaint),
                                  order.position(token), 3)
        seen += [c.id for c in rows]
        if token is None:
            break
    _once_in_order(seen, [i for _at, i in answered] + unanswered)


def test_the_openapi_document_names_the_paging_parameters_and_marks_the_old_ones(client):
    spec = client.get("/api/v1/_openapi", headers=api_headers("admin")).get_json()
    parameters = {p["name"]: p for p in spec["paths"]["/api/v1/complaint/"]["get"]["parameters"]}
    assert {cursor.NEXT, cursor.PER_PAGE, "state"} <= set(parameters)
    assert all(parameters[name].get("deprecated") for name in cursor.RENAMED)
    assert not parameters[cursor.NEXT].get("deprecated") and not parameters[cursor.PER_PAGE].get("deprecated")
    answer = spec["components"]["schemas"]["ComplaintList"]["properties"]
    assert answer[cursor.NEXT]["type"] == "string" and answer[cursor.LEGACY_NEXT_FIELD]["deprecated"] is True


def test_pager_links_keep_odd_arguments_as_plain_query_arguments(client, public_rows, monkeypatch):
    """An argument named like one of url_for's own must not turn the next link into another URL."""
    monkeypatch.setattr(portal, "PAGE_SIZE", 5)
    body = client.get("/pengaduan/?_external=1&_scheme=javascript&_anchor=x&opd=DPUTR").get_data(as_text=True)
    link = next_url(body)
    assert link.startswith("/pengaduan/?") and "#" not in link
    assert parse_qs(urlsplit(link).query)["_scheme"] == ["javascript"]
    moved = client.get("/pengaduan/?_external=1&after=abc")
    assert moved.status_code == 308 and moved.headers["Location"].startswith("/pengaduan/?")
