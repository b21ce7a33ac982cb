"""The control dashboard's figures against a dataset whose answers were counted by hand.

The dataset (WIB times; "now" is Thursday 10 September 2026, 10:00 WIB; period August 2026):
  c1 DINKES  submitted 03-08 09:00, claimed 09:00, valid 09:05 (validator, 5 min), answered 05-08 10:00
             (deadline 12-08: in time; answer time 2 d 0 h 55 min = 176,100 s)
  c2 DINKES  submitted 04-08 08:00, claimed 05-08 09:45, valid 10:00 (validator2, 15 min, after the 24 h)
             answered 20-08 10:00 (deadline Fri 14-08 23:59:59: late; answer time 15 d = 1,296,000 s)
  c3 DPUTR   submitted 10-08 09:00, claimed 09:57, valid 10:00 (validator, 3 min), never answered
             (deadline: 7 working days skipping Mon 17-08 → Thu 20-08 23:59:59 WIB: overdue now)
  c4 DINKES  submitted 12-08 09:00, claimed 09:00, invalid 09:02 (validator, 2 min)
  c5 DPUTR   submitted 15-08 09:00, never checked (validation overdue since 16-08 09:00)
  c6 DINKES  submitted 20-07 09:00, valid 09:01, answered 22-07 09:00 (outside the period: July)
  c7 DPUTR   submitted 01-09 09:00, valid 09:01, answered 02-09 09:00 (outside the period: September)
The sweep ran on 21-08 10:00 and 10-09 10:00 WIB, as the scheduler would.

Hand count for August 2026:
  by state: menunggu 1 (c5), tidak_valid 1 (c4), diteruskan 1 (c3), dijawab 2 (c1, c2) — 5 in all
  DINKES: received 2, answered 2, within the standard 1 (50%), median answer time
          (176,100 + 1,296,000) / 2 = 736,050 s, overdue now 0
  DPUTR:  received 1, answered 0, median –, overdue now 1 (c3)
  validator:  3 checks (c1, c3, c4), all within 24 h, median work 180 s, 3 within 10 min
  validator2: 1 check (c2), 0 within 24 h, median work 900 s, 0 within 10 min
  overdue now: validation c5 (late 25 d 1 h), answer c3 (late 20 d 10 h 0 min 1 s)
  trend: 2026-07 received 1 answered 1 overdue 0; 2026-08 received 5 answered 2 overdue 3 (c2, c3, c5)
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine

from app.extensions import db
from app.models import Opd
from app.reports import dashboard as report
from app.services import answer, claim, decide_nik, submit
from app.services.sla import sweep
from app.timeutil import from_wib
from app.workflow import State


def at(*args) -> datetime:
    return from_wib(datetime(*args))


def travel(moment: datetime):
    return time_machine.travel(moment.replace(tzinfo=timezone.utc), tick=False)


NOW = at(2026, 9, 10, 10, 0)
AUGUST = report.Filters(date(2026, 8, 1), date(2026, 8, 31))


@pytest.fixture
def dataset(submission, actor):
    validator, validator2 = actor("validator"), actor("validator2")
    dinkes, dputr = actor("opd.dinkes"), actor("opd.dputr")
    ids = {}

    def new(key, when, opd):
        with travel(when):
            ids[key] = submit(submission(opd_code=opd)).complaint.id

    def check(key, who, opened, decided, valid=True):
        with travel(opened):
            claim(ids[key], who)
        with travel(decided):
            decide_nik(ids[key], who, valid=valid, remark=None if valid else "NIK tidak terdaftar.")

    def reply(key, who, when):
        with travel(when):
            answer(ids[key], who, "Sudah ditindaklanjuti.")

    new("c6", at(2026, 7, 20, 9, 0), "DINKESP2KB")
    check("c6", validator, at(2026, 7, 20, 9, 0), at(2026, 7, 20, 9, 1))
    reply("c6", dinkes, at(2026, 7, 22, 9, 0))
    new("c1", at(2026, 8, 3, 9, 0), "DINKESP2KB")
    check("c1", validator, at(2026, 8, 3, 9, 0), at(2026, 8, 3, 9, 5))
    new("c2", at(2026, 8, 4, 8, 0), "DINKESP2KB")
    reply("c1", dinkes, at(2026, 8, 5, 10, 0))
    check("c2", validator2, at(2026, 8, 5, 9, 45), at(2026, 8, 5, 10, 0))
    new("c3", at(2026, 8, 10, 9, 0), "DPUTR")
    check("c3", validator, at(2026, 8, 10, 9, 57), at(2026, 8, 10, 10, 0))
    new("c4", at(2026, 8, 12, 9, 0), "DINKESP2KB")
    check("c4", validator, at(2026, 8, 12, 9, 0), at(2026, 8, 12, 9, 2), valid=False)
    new("c5", at(2026, 8, 15, 9, 0), "DPUTR")
    reply("c2", dinkes, at(2026, 8, 20, 10, 0))
    with travel(at(2026, 8, 21, 10, 0)):
        sweep()
    new("c7", at(2026, 9, 1, 9, 0), "DPUTR")
    check("c7", validator, at(2026, 9, 1, 9, 0), at(2026, 9, 1, 9, 1))
    reply("c7", dputr, at(2026, 9, 2, 9, 0))
    with travel(NOW):
        sweep()
    return ids


def opd_id(code: str) -> int:
    return db.session.scalar(sa.select(Opd.id).where(Opd.code == code))


def test_figures_match_the_hand_count(dataset):
    """One dataset, every figure of the module docstring (building it costs ~2.5 s: PIN hashing)."""
    # --- counts by state
    counts = report.state_counts(AUGUST)
    assert counts == {State.MENUNGGU_VERIFIKASI: 1, State.TIDAK_VALID: 1, State.DITERUSKAN: 1,
                      State.PERLU_DISPOSISI: 0, State.DIJAWAB: 2, State.SELESAI: 0, State.DISANGGAH: 0}
    dputr = report.state_counts(report.Filters(AUGUST.date_from, AUGUST.date_to, opd_id("DPUTR")))
    assert sum(dputr.values()) == 2 and dputr[State.DITERUSKAN] == 1 and dputr[State.MENUNGGU_VERIFIKASI] == 1
    # --- period edges are wib days
    # c1 was submitted 03-08 09:00 WIB = 02:00 UTC: a period ending 02-08 does not hold it, one from 03-08 does.
    assert sum(report.state_counts(report.Filters(date(2026, 8, 1), date(2026, 8, 2))).values()) == 0
    assert sum(report.state_counts(report.Filters(date(2026, 8, 3), date(2026, 8, 3))).values()) == 1
    # --- per opd figures
    rows = {r.code: r for r in report.per_opd(AUGUST, NOW)}
    assert set(rows) == {"DINKESP2KB", "DPUTR"}
    dinkes, dputr = rows["DINKESP2KB"], rows["DPUTR"]
    assert (dinkes.received, dinkes.answered, dinkes.within_standard, dinkes.overdue_now) == (2, 2, 1, 0)
    assert dinkes.share_within == 0.5
    assert dinkes.median_answer_seconds == pytest.approx(736_050, abs=1)
    assert (dputr.received, dputr.answered, dputr.within_standard, dputr.overdue_now) == (1, 0, 0, 1)
    assert dputr.share_within is None and dputr.median_answer_seconds is None
    only = report.per_opd(report.Filters(AUGUST.date_from, AUGUST.date_to, opd_id("DPUTR")), NOW)
    assert [r.code for r in only] == ["DPUTR"]
    # --- per validator figures
    rows = {r.username: r for r in report.per_validator(AUGUST, standard_minutes=10)}
    assert set(rows) == {"validator", "validator2"}
    one, two = rows["validator"], rows["validator2"]
    assert (one.checks, one.within_24h, one.within_work_standard) == (3, 3, 3)
    assert one.median_work_seconds == pytest.approx(180, abs=0.01)
    assert one.share_within_24h == 1.0
    assert (two.checks, two.within_24h, two.within_work_standard) == (1, 0, 0)
    assert two.median_work_seconds == pytest.approx(900, abs=0.01)
    assert two.share_within_24h == 0.0
    # --- overdue lists say how late
    validation, total_v = report.overdue_validation(NOW)
    answers, total_a = report.overdue_answer(NOW)
    assert (total_v, total_a) == (1, 1)
    assert validation[0].id == dataset["c5"] and validation[0].late == timedelta(days=25, hours=1)
    assert answers[0].id == dataset["c3"] and answers[0].late == timedelta(days=20, hours=10, seconds=1)
    assert answers[0].opd.startswith("Dinas Pekerjaan Umum")
    assert report.overdue_answer(NOW, opd_id("DINKESP2KB")) == ([], 0)
    # --- monthly trend
    months = {m.month: m for m in report.monthly_trend(AUGUST)}
    assert len(months) == 12 and min(months) == "2025-09" and max(months) == "2026-08"
    assert (months["2026-07"].received, months["2026-07"].answered, months["2026-07"].overdue) == (1, 1, 0)
    assert (months["2026-08"].received, months["2026-08"].answered, months["2026-08"].overdue) == (5, 2, 3)
    assert sum(m.received for m in months.values()) == 6  # September's c7 is after the period


def _cells(html: str, row_attr: str) -> list[str]:
    row = re.search(rf'<tr {row_attr}>(.*?)</tr>', html, re.S).group(1)
    return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_dashboard_page_for_pimpinan_shows_the_figures_and_inline_svg_charts(dataset, client, auth):
    with travel(NOW):  # signed in at the dashboard's "now": a session's idle time counts from its sign-in
        auth.login("pimpinan")
        page = client.get("/staf/kendali/?dari=2026-08-01&sampai=2026-08-31")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert _cells(html, 'data-opd="DINKESP2KB"')[1:] == ["2", "2", "50,0% (1)", "8 hari 12 jam", "0", "0", "0", "–"]  # no replies yet
    assert _cells(html, 'data-opd="DPUTR"')[1:] == ["1", "0", "–", "–", "1", "0", "0", "–"]
    assert _cells(html, 'data-validator="validator"')[1:4] == ["3", "100,0% (3)", "3 menit sesuai standar"]
    assert _cells(html, 'data-month="2026-08"') == ["2026-08", "5", "2", "3"]
    overdue = re.search(r'id="overdue-validation">(.*?)</table>', html, re.S).group(1)
    assert "25 hari 1 jam" in overdue
    # Charts: inline SVG drawn on the server, with no script and no outside address.
    for chart in ("chart-states", "chart-trend"):
        block = re.search(rf'id="{chart}">(.*?)</div>', html, re.S).group(1)
        assert "<svg" in block and "<script" not in block
    assert "kozea.github.io" not in html and "gstatic" not in html and "googleapis" not in html
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "nonce=" in tag or "src=" in tag, tag


def test_dashboard_filter_by_opd_and_bad_input_gives_a_message(dataset, client, auth):
    with travel(NOW):
        auth.login("admin")
        page = client.get("/staf/kendali/?dari=2026-08-01&sampai=2026-08-31&opd=DINKESP2KB")
        bad = client.get("/staf/kendali/?dari=31-08-2026&sampai=2026-08-01&opd=NOPE")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-opd="DPUTR"' not in html and 'data-opd="DINKESP2KB"' in html
    assert "Tidak ada jawaban yang terlambat." in html
    assert bad.status_code == 200
    text = bad.get_data(as_text=True)
    assert "tidak dikenal; gunakan format TTTT-BB-HH" in text and "OPD &#39;NOPE&#39; tidak dikenal" in text


@pytest.mark.parametrize("username", ["validator", "opd.dinkes"])
def test_dashboard_is_for_pimpinan_and_admin_only(client, auth, username):
    auth.login(username)
    response = client.get("/staf/kendali/")
    assert response.status_code == 403  # signed in without the right: refused, not sent to sign in
    assert "Kinerja OPD" not in response.get_data(as_text=True)


def test_dashboard_is_not_public(client):
    response = client.get("/staf/kendali/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert "Kinerja OPD" not in response.get_data(as_text=True)


def test_a_remembered_chart_follows_the_figures_and_the_language(dataset, client, auth):
    """The charts are remembered per figures and language (desks/dashboard.py): another period draws its own
    bars, and the same period in English is drawn again with English titles, not served from the Indonesian."""
    def chart(html: str, name: str) -> str:
        return re.search(rf'id="{name}">(.*?)</div>', html, re.S).group(1)

    with travel(NOW):
        auth.login("pimpinan")
        august = client.get("/staf/kendali/?dari=2026-08-01&sampai=2026-08-31").get_data(as_text=True)
        again = client.get("/staf/kendali/?dari=2026-08-01&sampai=2026-08-31").get_data(as_text=True)
        july = client.get("/staf/kendali/?dari=2026-07-01&sampai=2026-07-31").get_data(as_text=True)
        client.get("/lang/en")
        english = client.get("/staf/kendali/?dari=2026-08-01&sampai=2026-08-31").get_data(as_text=True)
    assert chart(again, "chart-states") == chart(august, "chart-states")
    assert chart(july, "chart-states") != chart(august, "chart-states")
    assert "Pengaduan menurut status" in chart(august, "chart-states") and "Tren bulanan" in chart(august, "chart-trend")
    assert "Complaints by status" in chart(english, "chart-states") and "Monthly trend" in chart(english, "chart-trend")
    assert "Pengaduan menurut status" not in english
