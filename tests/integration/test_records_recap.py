"""Recap (issue 7): figures against a seeded dataset with known counts, on SQLite and PostgreSQL, and
the XLSX/CSV exports."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app import services
from app.extensions import db
from app.models import Complaint, Opd
from app.reports import recap
from app.timeutil import from_wib

MARCH = recap.make_period("bulan", date(2025, 3, 10))
NOW = from_wib(datetime(2025, 4, 15, 12, 0))


def wib(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return from_wib(datetime(2025, month, day, hour, minute))


@pytest.fixture
def dataset(submission, actor):
    """Seven complaints made by the services, then placed in time (WIB):

    DINKESP2KB  A  in 03-03 08:00, valid after 4 h, answered after 48 h (in time)
                B  in 03-10 08:00, valid after 30 h (late), answered after 216 h (late)
                C  in 03-15 08:00, invalid after 2 h
    DPUTR       D  in 03-20 08:00, valid after 12 h, unanswered past its deadline (03-27)
                E  in 02-27 08:00 (February), valid 03-01 09:00 (49 h, late), answered after 24 h
                F  in 03-31 23:00 WIB (still March in WIB), waiting
                G  in 04-01 00:30 WIB (March in UTC, April in WIB), waiting
    """
    v, dinkes, dputr = actor("validator"), actor("opd.dinkes"), actor("opd.dputr")
    made = {}
    for key, opd in zip("ABCDEFG", ["DINKESP2KB"] * 3 + ["DPUTR"] * 4):
        made[key] = services.submit(submission(opd_code=opd)).complaint.id
    for key in "ABDE":
        services.decide_nik(made[key], v, valid=True)
    services.decide_nik(made["C"], v, valid=False, remark="NIK tidak terdaftar.")
    services.answer(made["A"], dinkes, "Sudah.")
    services.answer(made["B"], dinkes, "Sudah juga.")
    services.answer(made["E"], dputr, "Selesai.")
    times = {
        "A": (wib(3, 8), wib(3, 12), wib(5, 12)),
        "B": (wib(10, 8), wib(11, 14), wib(20, 14)),
        "C": (wib(15, 8), wib(15, 10), None),
        "D": (wib(20, 8), wib(20, 20), None),
        "E": (wib(27, 8, month=2), wib(1, 9), wib(2, 9)),
        "F": (wib(31, 23), None, None),
        "G": (wib(1, 0, 30, month=4), None, None),
    }
    for key, (submitted, decided, answered) in times.items():
        complaint = db.session.get(Complaint, made[key])
        complaint.submitted_at = submitted
        complaint.validation_deadline = submitted + timedelta(hours=24)
        complaint.validated_at = decided
        if complaint.routed_at is not None:
            complaint.routed_at = decided
            complaint.answer_deadline = decided + timedelta(days=7)
        complaint.answered_at = answered
    db.session.commit()
    return made


FIELDS = ["received", "checked", "validated", "invalid", "checked_24h", "check_hours_median", "check_hours_mean",
          "routed", "answered", "answered_in_standard", "answer_hours_median", "answer_hours_mean", "overdue"]


def figures(row) -> dict:
    return {f: getattr(row, f) for f in FIELDS}


def test_recap_by_opd_matches_the_seeded_counts(dataset):
    report = recap.build(MARCH, "opd", now=NOW)
    by_code = {db.session.get(Opd, r.key).code: r for r in report.rows}
    assert set(by_code) == {"DINKESP2KB", "DPUTR"}
    assert figures(by_code["DINKESP2KB"]) == dict(
        received=3, checked=3, validated=2, invalid=1, checked_24h=2, check_hours_median=4.0,
        check_hours_mean=12.0, routed=2, answered=2, answered_in_standard=1, answer_hours_median=132.0,
        answer_hours_mean=132.0, overdue=1)
    assert figures(by_code["DPUTR"]) == dict(
        received=2, checked=2, validated=2, invalid=0, checked_24h=1, check_hours_median=30.5,
        check_hours_mean=30.5, routed=2, answered=1, answered_in_standard=1, answer_hours_median=24.0,
        answer_hours_mean=24.0, overdue=1)
    assert figures(report.total) == dict(
        received=5, checked=5, validated=4, invalid=1, checked_24h=3, check_hours_median=12.0,
        check_hours_mean=19.4, routed=4, answered=3, answered_in_standard=2, answer_hours_median=48.0,
        answer_hours_mean=96.0, overdue=2)
    assert by_code["DINKESP2KB"].share_checked_24h == pytest.approx(2 / 3)
    assert by_code["DINKESP2KB"].share_answered_in_standard == 0.5


def test_recap_by_state_visibility_and_channel(dataset):
    by_state = {r.key: r for r in recap.build(MARCH, "state", now=NOW).rows}
    assert {k: r.received for k, r in by_state.items() if r.received} == {
        "dijawab": 2, "tidak_valid": 1, "diteruskan": 1, "menunggu_verifikasi": 1}
    assert by_state["dijawab"].answered == 3 and by_state["dijawab"].label == "Dijawab"
    by_visibility = {r.key: r for r in recap.build(MARCH, "visibility", now=NOW).rows}
    assert list(by_visibility) == ["anonim"] and by_visibility["anonim"].received == 5
    by_channel = {r.key: r for r in recap.build(MARCH, "channel", now=NOW).rows}
    assert by_channel["web"].received == 5 and by_channel["web"].label == "Formulir web"


def test_periods_follow_wib_days(dataset):
    april = recap.build(recap.make_period("bulan", date(2025, 4, 1)), "opd", now=NOW)
    assert april.total.received == 1  # G: 00:30 WIB on 1 April
    first_of_april = recap.build(recap.make_period("hari", date(2025, 4, 1)), "opd", now=NOW)
    assert first_of_april.total.received == 1
    week = recap.build(recap.make_period("minggu", date(2025, 3, 12)), "opd", now=NOW)  # Mon 10 - Sun 16
    assert (week.period.start, week.period.end) == (date(2025, 3, 10), date(2025, 3, 17))
    assert (week.total.received, week.total.checked, week.total.invalid) == (2, 2, 1)  # B and C
    year = recap.build(recap.make_period("tahun", date(2025, 6, 1)), "opd", now=NOW)
    assert year.total.received == 7 and year.total.answered == 3
    custom = recap.build(recap.make_period("rentang", None, date(2025, 2, 27), date(2025, 3, 3)), "opd", now=NOW)
    assert (custom.total.received, custom.total.answered) == (2, 1)  # received E and A; answered only E (03-02)
    assert custom.period.label == "27-02-2025 s.d. 03-03-2025"


def test_bad_recap_input_gets_a_message_and_computes_nothing(client, auth):
    with pytest.raises(recap.RecapInputError) as caught:
        recap.parse_args({"periode": "rentang", "dari": "2025-03-10", "sampai": "2025-03-01"})
    assert "sampai" in caught.value.errors
    auth.login("pimpinan")
    page = client.get("/rekap/?periode=abad&kelompok=opd&tanggal=kemarin")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Periode tidak dikenal." in text and "Tanggal tidak valid" in text and 'id="rekap"' not in text
    assert client.get("/rekap/xlsx?periode=abad").status_code == 302


def test_recap_screen_answers_each_opd_within_the_standard(client, auth, dataset):
    auth.login("pimpinan")
    page = client.get("/rekap/?periode=bulan&tanggal=2025-03-01&kelompok=opd").get_data(as_text=True)
    assert "Maret 2025" in page and "Kabupaten Lumajang".upper() in page
    dinkes = db.session.scalar(sa.select(Opd).where(Opd.code == "DINKESP2KB"))
    row = page.split(f'data-key="{dinkes.id}"')[1].split("</tr>")[0]
    assert 'data-col="answered_in_standard">1<' in row and 'data-col="share_answered_in_standard">50,0%<' in row
    # Through Babel in the chosen locale, as on the public statistics (issue 16, item 5).
    english = client.get("/rekap/?periode=bulan&tanggal=2025-03-01&kelompok=opd&_l_=en").get_data(as_text=True)
    row = english.split(f'data-key="{dinkes.id}"')[1].split("</tr>")[0]
    assert 'data-col="share_answered_in_standard">50.0%<' in row


def test_recap_xlsx_has_typed_values_header_widths_and_totals(client, auth, dataset):
    auth.login("pimpinan")
    response = client.get("/rekap/xlsx?periode=bulan&tanggal=2025-03-01&kelompok=opd")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["A1"].value == "KABUPATEN LUMAJANG" and sheet["A4"].value == "Periode: Maret 2025"
    header_row = next(r for r in range(1, 20) if sheet.cell(r, 1).value == "OPD")
    header = [c.value for c in sheet[header_row]]
    assert header[1:4] == ["Diterima", "Diperiksa", "Valid"]
    table = {sheet.cell(r, 1).value: [c.value for c in sheet[r]][1:] for r in range(header_row + 1, sheet.max_row + 1)}
    dinkes = db.session.scalar(sa.select(Opd.name).where(Opd.code == "DINKESP2KB"))
    col = {name: i for i, name in enumerate(header[1:])}
    assert table[dinkes][col["Diterima"]] == 3 and isinstance(table[dinkes][col["Diterima"]], int)
    assert table[dinkes][col["Dijawab sesuai standar"]] == 1
    assert table[dinkes][col["Persentase sesuai standar"]] == 0.5
    assert table[dinkes][col["Median waktu jawab (jam)"]] == 132.0
    assert table["Jumlah"][col["Diterima"]] == 5 and table["Jumlah"][col["Terlambat"]] == 2  # B and D
    share_cell = sheet.cell(list(table).index(dinkes) + header_row + 1, col["Persentase sesuai standar"] + 2)
    assert share_cell.number_format == "0.0%" and share_cell.data_type == "n"
    assert sheet.column_dimensions["A"].width == 48 and sheet.cell(sheet.max_row, 1).font.b


def test_recap_csv_has_the_same_figures(client, auth, dataset):
    auth.login("pimpinan")
    body = client.get("/rekap/csv?periode=bulan&tanggal=2025-03-01&kelompok=opd").get_data(as_text=True)
    table = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert table[0][:3] == ["OPD", "Diterima", "Diperiksa"]
    assert table[-1][0] == "Jumlah" and table[-1][1] == "5"


def test_formula_payloads_are_neutralised_in_the_recap_xlsx(app):
    from app.services.records import recap_workbook

    report = recap.Recap(MARCH, "opd", rows=[recap.RecapRow(1, "=HYPERLINK(\"http://jahat\")", received=-1),
                                             recap.RecapRow(2, "@SUM(A1)"), recap.RecapRow(3, "+1"),
                                             recap.RecapRow(4, "-1")])
    with app.test_request_context():
        book = recap_workbook(report)
    buffer = io.BytesIO()
    book.save(buffer)
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    labels = [sheet.cell(r, 1) for r in range(1, sheet.max_row + 1)]
    texts = [c.value for c in labels]
    assert "'=HYPERLINK(\"http://jahat\")" in texts and "'@SUM(A1)" in texts and "'+1" in texts and "'-1" in texts
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    # numbers stay numbers, even negative ones
    assert -1 in [c.value for row in sheet.iter_rows() for c in row]
