"""The public complaint form (/pengaduan/baru) and its receipt: SOP rows 1 and 3."""

from __future__ import annotations

import hashlib
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from tests.conftest import VALID_NIK, text_of

URL = "/pengaduan/baru"


def _count(model) -> int:
    from app.extensions import db

    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _counts() -> dict:
    from app.models import Attachment, AuditLog, Complaint, Outbox, StatusEvent

    return {m.__name__: _count(m) for m in (Complaint, StatusEvent, Attachment, Outbox, AuditLog)}


def _upload_dir(app) -> Path:
    return Path(app.config["UPLOAD_DIR"])


def _stored_files(app) -> set[str]:
    folder = _upload_dir(app)
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def _jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "KameraWarga"  # Make
    exif[0x0131] = "Editor 1.0"  # Software
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "S", (8.0, 8.0, 1.0)  # latitude ref + value (Lumajang)
    gps[3], gps[4] = "E", (113.0, 13.0, 1.0)
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    data = out.getvalue()
    assert b"KameraWarga" in data  # the fixture really carries metadata
    return data


def _png_with_text() -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "Budi Santoso 0812-3456-7890")
    out = io.BytesIO()
    Image.new("RGBA", (20, 20), (0, 128, 0, 255)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" \
      b"trailer<</Root 1 0 R>>\n%%EOF\n"


class _Fields(HTMLParser):
    """Every form control of a page with its id, and every label's `for`."""

    def __init__(self):
        super().__init__()
        self.controls, self.labels = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append((a.get("name"), a.get("id")))


# --------------------------------------------------------------------------- the page


def test_form_has_a_label_for_every_input_and_the_parts_the_sop_asks_for(client):
    page = client.get(URL)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    fields = _Fields()
    fields.feed(html)
    names = {name for name, _ in fields.controls}
    assert {"name", "nik", "phone", "email", "address", "opd", "title", "text", "location", "attachments",
            "visibility", "consent", "website"} <= names
    unlabelled = [(n, i) for n, i in fields.controls if not i or i not in fields.labels]
    assert unlabelled == []
    assert 'maxlength="4000"' in html and 'data-counter="counter-text"' in html
    assert 'name="csrf_token"' in html
    assert 'enctype="multipart/form-data"' in html
    # Anonim is the default; every option is explained in one line.
    assert re.search(r'value="anonim"\s+checked', html)
    text = text_of(page)
    assert "Pengaduan tampil di daftar publik dengan nama Anda" in text
    assert "sebagai “Anonim”; OPD juga tidak melihat identitas Anda" in text
    assert "Pengaduan tidak tampil di daftar publik" in text
    assert "UU No. 27 Tahun 2022" in text
    assert "viewport" in html and "width=device-width" in html


def test_form_offers_only_active_opds_in_a_plain_select(client):
    from app.extensions import db
    from app.models import Opd

    db.session.execute(sa.update(Opd).where(Opd.code == "DPUTR").values(active=False))
    db.session.commit()
    html = client.get(URL).get_data(as_text=True)
    assert '<option value="DINKESP2KB"' in html
    assert '<option value="DPUTR"' not in html
    assert "data-searchable" in html  # the JS adds a search box; without JS it is a normal <select>


@pytest.mark.parametrize("query", [
    "opd=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "opd=DPUTR%E2%80%8B", "opd=%EF%BC%A4%EF%BC%B0%EF%BC%B5%EF%BC%B4%EF%BC%B2",
    "opd=" + "A" * 5000, "opd=DPUTR&opd=DINKESP2KB", "opd=DPUTR&x=1", "opd=dputr",
], ids=["markup", "zero-width", "full-width", "5000", "two-opds", "extra-arg", "lower-case"])
def test_the_form_with_an_odd_opd_in_its_link_is_a_form_not_a_500(client, query):
    """Only ?opd=CODE of a listed OPD (or nothing) is the kept blank form; anything else is rendered for that
    request alone, escaped, with no OPD chosen but the exact code, and leaves the plain form as it was."""
    plain = client.get(URL).get_data(as_text=True)
    page = client.get(f"{URL}?{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script>alert" not in html and "\x00" not in html
    chosen = re.findall(r'<option value="([^"]*)" selected>', html)
    assert chosen in ([], ["DPUTR"]) and (chosen == ["DPUTR"]) == query.startswith("opd=DPUTR&")
    again = client.get(URL).get_data(as_text=True)
    assert client.get(f"{URL}?opd=DPUTR%00").status_code == 400  # a NUL: the input boundary's refusal
    strip = lambda h: re.sub(r'(name="(?:submission_key|csrf_token)" value=|nonce=)"[^"]+"', "", h)  # noqa: E731
    assert strip(again) == strip(plain)


# --------------------------------------------------------------------------- success


def test_valid_submission_redirects_to_a_receipt_shown_once(app, client, complaint_form):
    from app.services import track

    response = client.post(URL, data=complaint_form())
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/pengaduan/terkirim")
    receipt = client.get("/pengaduan/terkirim")
    assert receipt.status_code == 200
    assert receipt.headers["Cache-Control"] == "no-store"
    ticket = re.search(r'id="ticket">([^<]+)<', receipt.get_data(as_text=True)).group(1)
    pin = re.search(r'id="pin">([^<]+)<', receipt.get_data(as_text=True)).group(1)
    assert re.fullmatch(r"LMJ-\d{4}-\d{6}", ticket)
    assert pin not in response.headers["Location"]
    assert track(ticket, pin) is not None  # the PIN shown is the one stored (hashed)
    text = text_of(receipt)
    assert "Langkah berikutnya" in text and "Validator memeriksa NIK Anda paling lambat" in text and "WIB" in text
    again = client.get("/pengaduan/terkirim")
    assert pin not in again.get_data(as_text=True)
    assert "hanya ditampilkan sekali" in text_of(again)


def test_submission_stores_complaint_first_event_and_queues_email(app, client, complaint_form):
    from app.extensions import db
    from app.models import Complaint, Outbox

    before = _counts()
    assert client.post(URL, data=complaint_form(email="budi@contoh.id", address="Jl. Mawar 1",
                                                location="Desa Tempeh", visibility="publik")).status_code == 303
    complaint = db.session.scalar(sa.select(Complaint))
    assert complaint.email == "budi@contoh.id" and complaint.address == "Jl. Mawar 1"
    assert complaint.visibility.value == "publik" and complaint.location == "Desa Tempeh"
    assert [e.action for e in complaint.events] == ["submit"]
    mail = db.session.scalar(sa.select(Outbox))
    assert mail.recipient == "budi@contoh.id" and complaint.ticket in mail.subject
    after = _counts()
    assert after["Complaint"] == before["Complaint"] + 1 and after["Outbox"] == before["Outbox"] + 1


def test_crlf_line_breaks_count_as_one_character(client, complaint_form):
    text = ("a" * 98 + "\r\n") * 40  # 4,000 characters in the browser's counter, 4,040 bytes sent
    assert client.post(URL, data=complaint_form(text=text)).status_code == 303


# --------------------------------------------------------------------------- refusals


CASES = [
    # (field changes, field with the error, message shown)
    ({"name": ""}, "name", "Wajib diisi."),
    ({"name": "x" * 121}, "name", "Maksimal 120 karakter"),
    ({"nik": ""}, "nik", "Wajib diisi."),
    ({"nik": "1234"}, "nik", "NIK harus terdiri dari 16 angka; yang Anda ketik 4 angka."),
    ({"nik": "3508011203900000"}, "nik", "nomor urut) tidak boleh 0000"),
    ({"nik": "9908011203900001"}, "nik", "bukan kode provinsi yang berlaku"),
    ({"phone": ""}, "phone", "Wajib diisi."),
    ({"phone": "telepon saya"}, "phone", "Nomor telepon tidak valid"),
    ({"phone": "0" * 33}, "phone", "Maksimal 32 karakter"),
    ({"email": "budi-at-contoh"}, "email", "Alamat e-mail tidak valid"),
    ({"email": "b@" + "c" * 250 + ".id"}, "email", "Maksimal 254 karakter"),
    ({"address": "x" * 301}, "address", "Maksimal 300 karakter"),
    ({"opd": ""}, "opd", "Pilih OPD tujuan, atau Saya tidak tahu OPD-nya."),
    ({"opd": "BUKAN-OPD"}, "opd", "OPD tujuan tidak dikenal atau tidak aktif."),
    ({"title": ""}, "title", "Wajib diisi."),
    ({"title": "x" * 201}, "title", "Maksimal 200 karakter"),
    ({"text": ""}, "text", "Wajib diisi."),
    ({"text": "x" * 4001}, "text", "Maksimal 4000 karakter (saat ini 4001)"),
    ({"location": "x" * 301}, "location", "Maksimal 300 karakter"),
    ({"visibility": "rahasia-sekali"}, "visibility", "Pilih salah satu: publik, anonim atau rahasia."),
    ({"consent": None}, "consent", "Persetujuan pemrosesan data pribadi (UU 27/2022) diperlukan."),
]


@pytest.mark.parametrize("changes, field, message", CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_each_refusal_is_shown_inline_keeps_input_and_stores_nothing(app, client, complaint_form, changes,
                                                                     field, message):
    before, files = _counts(), _stored_files(app)
    form = complaint_form(**{"name": "Siti Aminah", **changes})
    response = client.post(URL, data=form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    error = re.search(rf'<p class="field-error" id="err-{field}">([^<]*)</p>', html)
    assert error is not None and message in error.group(1).replace("&#39;", "'")
    assert 'aria-invalid="true"' in html
    assert "Periksa kembali isian yang ditandai." in html
    # Input is kept (other than the field in error, whatever it held).
    if field != "name":
        assert 'value="Siti Aminah"' in html
    if field == "opd":  # the refused OPD is none of the options: none is chosen
        assert re.search(r'<option value="[^"]*" selected>', html) is None
    else:
        assert f'value="{form["opd"]}" selected' in html
    assert _counts() == before and _stored_files(app) == files


def test_structurally_invalid_nik_stores_nothing_not_even_attachments(app, client, complaint_form):
    before, files = _counts(), _stored_files(app)
    form = complaint_form(nik="3508011203900000")
    form["attachments"] = [(io.BytesIO(_jpeg_with_gps()), "foto.jpg")]
    response = client.post(URL, data=form, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "tidak boleh 0000" in text_of(response)
    assert _counts() == before
    assert _stored_files(app) == files


def test_honeypot_is_refused_and_nothing_is_stored(client, complaint_form):
    before = _counts()
    response = client.post(URL, data=complaint_form(website="http://spam.example"))
    assert response.status_code == 400
    assert "Pengiriman ditolak" in text_of(response)
    assert _counts() == before


def test_duplicate_from_the_same_nik_is_refused_with_a_clear_message(client, complaint_form):
    form = complaint_form()
    assert client.post(URL, data=form).status_code == 303
    again = client.post(URL, data={**form, "title": "Judul lain"})
    assert again.status_code == 409
    assert "Pengaduan yang sama dari NIK ini baru saja diterima" in text_of(again)
    assert 'value="Judul lain"' in again.get_data(as_text=True)  # input kept


def test_an_opd_deactivated_while_the_form_was_open_is_a_message_not_a_500(client, complaint_form):
    from app.extensions import db
    from app.models import Opd

    form = complaint_form(opd="DPUTR")
    db.session.execute(sa.update(Opd).where(Opd.code == "DPUTR").values(active=False))
    db.session.commit()
    response = client.post(URL, data=form)
    assert response.status_code == 400
    assert "OPD tujuan tidak dikenal atau tidak aktif." in text_of(response)


# --------------------------------------------------------------------------- attachments


def _post_with_files(client, form, files):
    form = dict(form)
    form["attachments"] = [(io.BytesIO(data), name) for name, data in files]
    return client.post(URL, data=form, content_type="multipart/form-data")


def test_images_are_reencoded_without_metadata_and_pdfs_kept(app, client, complaint_form):
    from app.extensions import db
    from app.models import Attachment

    jpeg, png = _jpeg_with_gps(), _png_with_text()
    response = _post_with_files(client, complaint_form(), [("IMG 0001 rumah saya.JPG", jpeg), ("denah.png", png),
                                                           ("surat.pdf", PDF)])
    assert response.status_code == 303
    rows = db.session.scalars(sa.select(Attachment).order_by(Attachment.id)).all()
    assert [r.content_type for r in rows] == ["image/jpeg", "image/png", "application/pdf"]
    assert rows[0].original_name == "IMG_0001_rumah_saya.jpg"
    folder = _upload_dir(app)
    for row in rows:
        stored = (folder / row.stored_name).read_bytes()
        assert hashlib.sha256(stored).hexdigest() == row.sha256 and len(stored) == row.size
        assert re.fullmatch(r"[0-9a-f]{32}\.(jpg|png|pdf)", row.stored_name)
    photo = (folder / rows[0].stored_name).read_bytes()
    assert b"KameraWarga" not in photo and b"Exif" not in photo
    with Image.open(io.BytesIO(photo)) as img:
        assert dict(img.getexif()) == {} and img.size == (64, 48)
    drawing = (folder / rows[1].stored_name).read_bytes()
    assert b"0812-3456-7890" not in drawing and b"Author" not in drawing
    assert (folder / rows[2].stored_name).read_bytes() == PDF


@pytest.mark.parametrize("name, data", [
    ("foto.jpg", b"<html><script>alert(1)</script></html>"),
    ("gambar.png", b"GIF89a" + b"\x00" * 64),
    ("dokumen.pdf", b"PK\x03\x04" + b"\x00" * 64),
    ("rusak.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64),  # says JPEG, is not decodable
], ids=["html-named-jpg", "gif-named-png", "zip-named-pdf", "broken-jpeg"])
def test_file_type_is_decided_by_content_not_by_name(app, client, complaint_form, name, data):
    before, files = _counts(), _stored_files(app)
    response = _post_with_files(client, complaint_form(name="Siti Aminah"), [(name, data)])
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'id="err-attachments">[^<]*(bukan JPEG, PNG atau PDF|rusak)', html)
    assert 'value="Siti Aminah"' in html
    assert _counts() == before and _stored_files(app) == files


def test_more_than_three_files_or_one_over_5_mb_are_refused(app, client, complaint_form):
    before = _counts()
    four = _post_with_files(client, complaint_form(), [(f"s{i}.pdf", PDF) for i in range(4)])
    assert four.status_code == 400 and "Maksimal 3 lampiran (Anda memilih 4)" in text_of(four)
    big = PDF + b"0" * (5 * 1024 * 1024)
    large = _post_with_files(client, complaint_form(), [("besar.pdf", big)])
    assert large.status_code == 400 and "lebih dari 5 MB" in text_of(large)
    assert _counts() == before


def test_field_errors_and_file_errors_are_shown_together(client, complaint_form):
    response = _post_with_files(client, complaint_form(phone=""), [("x.jpg", b"not an image")])
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="err-phone"' in html and 'id="err-attachments"' in html


def test_a_request_over_the_size_limit_gets_a_page_not_a_500(client, complaint_form):
    too_big = b"0" * (21 * 1024 * 1024)
    response = _post_with_files(client, complaint_form(), [("a.pdf", too_big)])
    assert response.status_code == 413
    assert "Kiriman terlalu besar" in text_of(response)


def test_files_written_for_a_failed_transaction_are_removed(app, complaint_form, submission, monkeypatch):
    """A failure after the files were written (here: the history log) rolls back rows and files."""
    from app import audit, storage
    from app.services import submit

    class Boom(Exception):
        pass

    def fail(*args, **kwargs):
        raise Boom()

    uploads = storage.prepare([_FileLike("a.pdf", PDF)])
    before, files = _counts(), _stored_files(app)
    monkeypatch.setattr(audit, "record", fail)
    with pytest.raises(Boom):
        submit(submission(), files=uploads)
    assert _counts() == before and _stored_files(app) == files


class _FileLike:
    def __init__(self, filename, data):
        self.filename, self.stream = filename, io.BytesIO(data)


def test_answer_attachments_are_linked_to_the_answer(app, actor, published):
    """The OPD desk hands its files to services.answer(files=…): the same Upload objects work there."""
    from app import storage
    from app.models import Attachment
    from app.services import answer

    complaint = published()
    reply = answer(complaint.id, actor("opd.dinkes"), "Sudah kami perbaiki.",
                   files=storage.prepare([_FileLike("bukti.pdf", PDF)]))
    from app.extensions import db

    row = db.session.scalar(sa.select(Attachment).where(Attachment.complaint_id == complaint.id))
    assert row.answer_id == reply.id and row.content_type == "application/pdf"


def test_nik_is_never_echoed_in_a_successful_flow(client, complaint_form):
    response = client.post(URL, data=complaint_form(), follow_redirects=True)
    assert VALID_NIK not in response.get_data(as_text=True)
