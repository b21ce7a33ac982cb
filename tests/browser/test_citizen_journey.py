"""A citizen on a 360 px wide phone: fills the form as a person would (the OPD through the search box),
submits, notes ticket and PIN, tracks the complaint; after validation reads it on the public pages.
The same form also works with JavaScript switched off. Screenshots go to test-artifacts/."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

pytestmark = pytest.mark.browser

NIK = "3508105207850002"


def _photo() -> bytes:
    img = Image.new("RGB", (120, 90), (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "KameraWarga"
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _fits_the_screen(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > 360:
        from tests.browser.conftest import ARTIFACTS

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "portal-too-wide.png"), full_page=True)
        wide = page.evaluate("""Array.from(document.querySelectorAll('body *'))
            .filter(e => e.getBoundingClientRect().right > 361)
            .map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
            .slice(0, 8)""")
        raise AssertionError(f"{page.url} is {width}px wide on a 360px screen; too wide: {wide}")


def test_citizen_submits_and_tracks_on_a_phone(live_server, phone, shot, actor):
    from app.extensions import db
    from app.models import Complaint
    from app.services import decide_nik
    from app.services.portal import clear_statistics_cache

    page = phone()
    page.goto(f"{live_server}/")
    _fits_the_screen(page)
    shot(page, "portal-01-beranda")
    page.get_by_role("link", name="Kirim pengaduan").first.click()
    page.wait_for_url(re.compile(r".*/pengaduan/baru$"))
    _fits_the_screen(page)

    page.get_by_label("Nama lengkap").fill("Siti Aminah")
    page.get_by_label("NIK (16 digit, sesuai e-KTP)").fill("3508 1052 0785 0002")
    page.get_by_label("Nomor telepon / WhatsApp").fill("0812 3456 7890")
    page.get_by_label("E-mail (tidak wajib)").fill("siti@contoh.id")
    # The OPD list is searchable with JavaScript: typing narrows it and a single match is chosen.
    page.get_by_label("Cari OPD").fill("kesehatan pengendalian")
    assert page.locator("#f-opd").input_value() == "DINKESP2KB"
    page.get_by_label("Judul pengaduan").fill("Antrean puskesmas terlalu panjang")
    text = "Antrean pendaftaran di puskesmas sampai tiga jam setiap pagi. Mohon loket ditambah."
    page.get_by_label("Isi pengaduan").fill(text)
    assert page.locator("#counter-text").inner_text() == f"{len(text)} / 4000"
    page.get_by_label("Lokasi kejadian (tidak wajib)").fill("Puskesmas Sukodono")
    page.get_by_label("Lampiran (tidak wajib)").set_input_files(
        [{"name": "antrean.jpg", "mimeType": "image/jpeg", "buffer": _photo()}])
    assert page.locator("#f-visibility-anonim").is_checked()  # the default
    page.get_by_label("Saya menyetujui pemrosesan data pribadi").check()
    _fits_the_screen(page)
    shot(page, "portal-02-formulir")
    page.get_by_role("button", name="Kirim pengaduan").click()

    page.wait_for_url(re.compile(r".*/pengaduan/terkirim$"))
    ticket = page.locator("#ticket").inner_text().strip()
    pin = page.locator("#pin").inner_text().strip()
    assert re.fullmatch(r"LMJ-\d{4}-\d{6}", ticket) and re.fullmatch(r"[2-9A-Z]{8}", pin)
    assert pin not in page.url
    _fits_the_screen(page)
    shot(page, "portal-03-tanda-terima")

    page.get_by_role("link", name="Lacak pengaduan").click()
    assert page.get_by_label("Nomor tiket").input_value() == ticket
    page.get_by_label("PIN").fill(pin.lower())
    page.get_by_role("button", name="Lacak").click()
    page.wait_for_url(re.compile(r".*/lacak/hasil$"))
    body = page.inner_text("body")
    assert "Menunggu verifikasi NIK" in body and "Pengaduan diterima" in body and "WIB" in body
    assert page.get_by_role("link", name="antrean.jpg").is_visible()
    _fits_the_screen(page)
    shot(page, "portal-04-lacak")

    # The validator decides (service layer); the complaint is then public, as "Anonim".
    complaint = db.session.scalar(sa.select(Complaint).where(Complaint.ticket == ticket))
    assert complaint.nik_hash and complaint.visibility.value == "anonim"
    decide_nik(complaint.id, actor("validator"), valid=True)
    page.goto(f"{live_server}/pengaduan/")
    assert ticket in page.inner_text("body")
    _fits_the_screen(page)
    shot(page, "portal-05-daftar")
    page.get_by_role("link", name=re.compile("Antrean puskesmas")).click()
    page.wait_for_url(re.compile(rf".*/pengaduan/{ticket}$"))
    body = page.inner_text("body")
    assert "Anonim" in body and "Siti Aminah" not in body and NIK not in body and "0812" not in body
    _fits_the_screen(page)
    shot(page, "portal-06-detail")
    clear_statistics_cache()
    page.goto(f"{live_server}/statistik")
    assert "Dinas Kesehatan" in page.inner_text("body")
    _fits_the_screen(page)
    shot(page, "portal-07-statistik")
    page.goto(f"{live_server}/bahasa/en?next=/statistik")
    assert page.url.endswith("/statistik") and page.locator("html").get_attribute("lang") == "en"


def test_the_form_works_without_javascript_and_shows_errors_inline(live_server, phone, shot):
    page = phone(java_script_enabled=False)
    page.goto(f"{live_server}/pengaduan/baru")
    assert page.get_by_label("Cari OPD").count() == 0  # no search box without JS: a plain <select>
    page.get_by_label("Nama lengkap").fill("Budi Santoso")
    page.get_by_label("NIK (16 digit, sesuai e-KTP)").fill("3508011203900000")  # serial 0000: invalid
    page.get_by_label("Nomor telepon / WhatsApp").fill("081234567890")
    page.get_by_label("OPD tujuan").select_option("DPUTR")
    page.get_by_label("Judul pengaduan").fill("Jalan berlubang di Desa Kunir")
    page.get_by_label("Isi pengaduan").fill("Lubang besar di tengah jalan desa, berbahaya bagi motor.")
    page.get_by_label("Saya menyetujui pemrosesan data pribadi").check()
    page.get_by_role("button", name="Kirim pengaduan").click()

    error = page.locator("#err-nik")
    error.wait_for()  # the form came back (same URL) …
    page.wait_for_load_state("load")  # … with its stylesheet applied before the width is measured
    assert "tidak boleh 0000" in error.inner_text()
    assert page.get_by_label("Judul pengaduan").input_value() == "Jalan berlubang di Desa Kunir"  # input kept
    assert page.get_by_label("OPD tujuan").input_value() == "DPUTR"
    _fits_the_screen(page)
    shot(page, "portal-08-kesalahan-tanpa-js")

    page.get_by_label("NIK (16 digit, sesuai e-KTP)").fill("3508011203900001")
    page.get_by_label("Saya menyetujui pemrosesan data pribadi").check()
    page.get_by_role("button", name="Kirim pengaduan").click()
    page.wait_for_url(re.compile(r".*/pengaduan/terkirim$"))
    assert re.fullmatch(r"LMJ-\d{4}-\d{6}", page.locator("#ticket").inner_text().strip())
