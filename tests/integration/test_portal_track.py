"""Tracking by ticket + PIN (/lacak): state, timeline, remark, answer, the complainant's own files."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import time_machine

from tests.conftest import text_of

PDF = b"%PDF-1.4\n%%EOF\n"


class _File:
    def __init__(self, filename, data):
        self.filename, self.stream = filename, io.BytesIO(data)


def _submit(submission, files=(), **changes):
    from app import storage
    from app.services import submit

    uploads = storage.prepare([_File(n, d) for n, d in files]) if files else []
    return submit(submission(**changes), files=uploads)


def _login(client, ticket, pin):
    return client.post("/lacak", data={"ticket": ticket, "pin": pin})


def test_track_form_has_labelled_fields_and_prefills_the_ticket(client):
    page = client.get("/lacak?tiket=LMJ-2026-000001")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<label for="f-ticket">' in html and '<label for="f-pin">' in html
    assert 'value="LMJ-2026-000001"' in html
    assert 'name="csrf_token"' in html


def test_correct_ticket_and_pin_show_state_and_timeline_in_wib(client, submission):
    from app.timeutil import format_wib

    done = _submit(submission, location="Desa Kunir")
    response = _login(client, done.complaint.ticket.lower(), done.pin.lower())
    assert response.status_code == 303 and response.headers["Location"].endswith("/lacak/hasil")
    page = client.get("/lacak/hasil")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = text_of(page)
    assert done.complaint.ticket in text
    assert "Menunggu verifikasi NIK" in text
    assert "Pengaduan diterima" in text
    assert format_wib(done.complaint.submitted_at) in text and "WIB" in text
    assert "Desa Kunir" in text  # the complainant sees their own details
    assert done.pin not in page.get_data(as_text=True)


def test_wrong_pin_and_unknown_ticket_get_the_same_generic_message(client, submission):
    done = _submit(submission)
    wrong_pin = _login(client, done.complaint.ticket, "AAAAAAAA")
    unknown = _login(client, "LMJ-2020-999999", done.pin)
    message = "Nomor tiket atau PIN tidak cocok. Periksa kembali tanda terima Anda."
    assert wrong_pin.status_code == unknown.status_code == 400
    assert message in text_of(wrong_pin) and message in text_of(unknown)
    # Nothing else tells which one was wrong.
    assert text_of(wrong_pin).replace(done.complaint.ticket, "T") == text_of(unknown).replace("LMJ-2020-999999", "T")
    assert client.get("/lacak/hasil").status_code == 302  # no access was granted


def test_missing_ticket_or_pin_is_named(client):
    response = client.post("/lacak", data={"ticket": "", "pin": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="err-ticket">Wajib diisi\.<', html) and re.search(r'id="err-pin">Wajib diisi\.<', html)


def test_invalid_nik_shows_the_validators_remark(client, submission, actor):
    from app.services import decide_nik

    done = _submit(submission)
    decide_nik(done.complaint.id, actor("validator"), valid=False, remark="NIK tidak terdaftar di SIAK.")
    _login(client, done.complaint.ticket, done.pin)
    text = text_of(client.get("/lacak/hasil"))
    assert "NIK tidak valid" in text
    assert "Catatan validator: NIK tidak terdaftar di SIAK." in text


def test_routed_and_answered_complaint_shows_the_answer(client, submission, actor):
    from app.services import answer, decide_nik

    done = _submit(submission)
    decide_nik(done.complaint.id, actor("validator"), valid=True)
    _login(client, done.complaint.ticket, done.pin)
    text = text_of(client.get("/lacak/hasil"))
    assert "Diteruskan ke OPD" in text and "Jawaban OPD paling lambat" in text
    answer(done.complaint.id, actor("opd.dinkes"), "Petugas tambahan mulai bertugas Senin.")
    text = text_of(client.get("/lacak/hasil"))
    assert "Petugas tambahan mulai bertugas Senin." in text
    assert "Dijawab oleh Dinas Kesehatan" in text


def test_rahasia_complaint_is_tracked_by_its_complainant(client, submission, actor):
    from app.services import decide_nik

    done = _submit(submission, visibility="rahasia")
    decide_nik(done.complaint.id, actor("validator"), valid=True)
    _login(client, done.complaint.ticket, done.pin)
    text = text_of(client.get("/lacak/hasil"))
    assert "Rahasia" in text and "lihat halaman publik" not in text


def test_own_attachments_download_with_safe_headers_only_with_the_grant(app, client, submission):
    from app.extensions import db
    from app.models import Attachment
    import sqlalchemy as sa

    done = _submit(submission, files=[("surat keluhan.pdf", PDF)])
    other = _submit(submission, files=[("lain.pdf", PDF)], text="Keluhan lain sama sekali.")
    mine = db.session.scalar(sa.select(Attachment).where(Attachment.complaint_id == done.complaint.id))
    theirs = db.session.scalar(sa.select(Attachment).where(Attachment.complaint_id == other.complaint.id))
    url = f"/lacak/lampiran/{mine.id}"
    assert client.get(url).status_code == 404  # no ticket + PIN yet

    _login(client, done.complaint.ticket, done.pin)
    page = client.get("/lacak/hasil").get_data(as_text=True)
    assert url in page and "surat_keluhan.pdf" in page
    download = client.get(url)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "surat_keluhan.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/lacak/lampiran/{theirs.id}").status_code == 404  # another complaint's file

    client.post("/lacak/keluar")
    assert client.get(url).status_code == 404
    assert client.get("/lacak/hasil").status_code == 302


def test_tracking_access_expires(client, submission):
    done = _submit(submission)
    _login(client, done.complaint.ticket, done.pin)
    assert client.get("/lacak/hasil").status_code == 200
    with time_machine.travel(timedelta(minutes=31)):
        assert client.get("/lacak/hasil").status_code == 302


def test_attachments_are_not_reachable_from_any_static_url(app, client, submission):
    from app.extensions import db
    from app.models import Attachment
    import sqlalchemy as sa

    _submit(submission, files=[("a.pdf", PDF)])
    row = db.session.scalar(sa.select(Attachment))
    for url in (f"/static/{row.stored_name}", f"/static/uploads/{row.stored_name}", f"/uploads/{row.stored_name}"):
        assert client.get(url).status_code == 404
