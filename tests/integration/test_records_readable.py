"""The history log people can read (issue 16, item 1): page views hidden by default (a filter shows them);
actions, fields and values in plain Indonesian from the one label table (app/labels.py), the CSV included;
changes as "field: before → after"; secrets and sealed NIKs labelled, never shown; per complaint "who saw the
NIK or the contact data, and when" at the top."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa

from app import services
from app.extensions import db
from app.services import records
from tests.conftest import PASSWORD, text_of

# Codes of our own that must not reach the page's text (they may stay in attributes for tests and tools).
CODES = ("complaint.claim", "siak.precheck", "login.failed", "user.update", "NOT_FOUND", "score", "verdict",
         "first_name", "username_tried", "null", "True", "False", "None", "['", "***")


def _row(kind, action, detail=None, **columns):
    records.log_event(kind, action, detail=detail, **columns)


def test_page_views_are_hidden_until_asked_for(client, auth):
    _row("request", "request", path="/staf/sesuatu", username="tamu.halaman", method="GET", status=200)
    _row("auth", "login.failed", {"username_tried": "tamu.masuk", "reason": "password"}, username="tamu.masuk")
    auth.login("pimpinan")
    page = text_of(client.get("/riwayat/"))
    assert "tamu.masuk" in page and "tamu.halaman" not in page
    assert "Akses halaman disembunyikan" in page
    shown = text_of(client.get("/riwayat/?halaman=1"))
    assert "tamu.halaman" in shown and "tamu.masuk" in shown
    assert "tamu.halaman" in text_of(client.get("/riwayat/?jenis=request"))
    # The CSV follows the same filter.
    plain = client.get("/riwayat/csv").get_data(as_text=True)
    assert "tamu.masuk" in plain and "tamu.halaman" not in plain
    assert "tamu.halaman" in client.get("/riwayat/csv?halaman=1").get_data(as_text=True)


def test_actions_details_and_changes_read_in_plain_indonesian(client, auth, app, actor):
    _row("system", "siak.precheck", {"verdict": "NOT_FOUND", "score": None})
    _row("auth", "login.failed", {"username_tried": "orang.asing", "reason": "unknown_user"})
    _row("action", "complaint.decide", {"result": "tidak_valid", "public_edited": ["public_title"],
                                        "override": True})
    from app.models import Staff
    from app.services.accounts import create_staff

    # An account of this test's own (the seeded ones keep their names for the other tests).
    create_staff(username="budi.uji", email="budi.uji@uji.go.id", first_name="Budi", last_name="Uji",
                 role="Validator", password=PASSWORD)
    with services.unit_of_work():
        user = db.session.scalar(sa.select(Staff).where(Staff.username == "budi.uji"))
        user.first_name = "Budi Baru"
        user.active = False
    auth.login("pimpinan")
    page = " ".join(text_of(client.get("/riwayat/")).split())
    for readable in ("Pemeriksaan awal SIAK", "Hasil SIAK: NIK tidak ditemukan; Skor nama: –",
                     "Masuk gagal", "Nama pengguna dicoba: orang.asing; Alasan: nama pengguna tidak dikenal",
                     "Keputusan NIK", "Hasil: Tidak valid; Versi publik diubah: Judul versi publik; "
                                      "Menyimpang dari SIAK: Ya",
                     "Akun diubah", "Nama depan: Budi → Budi Baru", "Aktif: Ya → Tidak"):
        assert readable in page, readable
    for code in CODES:
        assert code not in page, code


def test_secrets_and_sealed_niks_are_labelled_never_shown(app):
    from app.services.complaints import cipher

    sealed = cipher().seal_niks("NIK 3508011203900001 di teks")
    assert "3508011203900001" not in sealed
    text = records.readable_detail(json.dumps({"text": sealed, "password": "***"}), "user.update")
    assert "3508011203900001" not in text and "⟦" not in text
    assert "Isi: NIK [NIK disembunyikan] di teks" in text
    assert "Kata sandi: (disembunyikan)" in text


def test_the_history_csv_uses_the_same_labels(client, auth):
    _row("system", "siak.precheck", {"verdict": "MISMATCH", "score": 40})
    auth.login("pimpinan")
    table = list(csv.DictReader(io.StringIO(client.get("/riwayat/csv").get_data(as_text=True).lstrip("\ufeff"))))
    [row] = [r for r in table if r["aksi"] == "Pemeriksaan awal SIAK"]
    assert row["jenis"] == "Sistem"
    assert row["rincian"] == "Hasil SIAK: Data tidak sesuai; Skor nama: 40"


def test_the_complaint_timeline_starts_with_who_saw_nik_or_contact_data(client, auth, submission, actor):
    complaint = services.submit(submission(email="budi@contoh.id")).complaint
    services.claim(complaint.id, actor("validator"))  # the full NIK on the check page
    _row("pii", "complaint.personal.view", {"fields": ["name", "contact"], "screen": "opd_desk"},
         complaint_id=complaint.id, username="opd.dinkes", role="Admin OPD")
    auth.login("pimpinan")
    response = client.get(f"/riwayat/pengaduan/{complaint.id}")
    html = response.get_data(as_text=True)
    top = html[html.index('id="nik"'):html.index("Tindakan dan akses data pribadi")]
    assert "Siapa melihat NIK atau data kontak pengaduan ini, dan kapan" in html
    assert top.count("<tr data-action=") == 2
    words = " ".join(text_of_html(top).split())
    assert "Lihat NIK lengkap" in words and "validator" in words
    assert "Lihat data pribadi pengadu (Data yang dilihat: Nama, Kontak; Layar: Meja OPD)" in words
    assert "opd.dinkes" in words
    assert "3508011203900001" not in html and "budi@contoh.id" not in html


def text_of_html(html: str) -> str:
    import re

    return re.sub(r"<[^>]+>", " ", html)


def test_every_action_the_code_writes_has_a_label():
    """grep: each `record("kind", "action"` / `log_event(` in app/ names an action of labels.AUDIT_ACTIONS."""
    import pathlib
    import re

    from app.labels import AUDIT_ACTIONS

    root = pathlib.Path(__file__).resolve().parents[2] / "app"
    pattern = re.compile(r"(?:record|log_event|_log_auth)\(\s*(?:\"[a-z]+\",\s*)?\"([a-z_.]+)\"")
    written = {m.group(1) for path in root.rglob("*.py") for m in pattern.finditer(path.read_text("utf-8"))}
    written -= {"action", "auth", "pii", "system", "request"}  # kinds, where the action is a variable
    assert written and written <= set(AUDIT_ACTIONS), sorted(written - set(AUDIT_ACTIONS))
    assert {"login.failed", "siak.precheck", "nik.view", "complaint.personal.view"} <= written
