"""Issue 17 on a 360 px phone: the receipt (PDF download, print layout), the lost PIN recovered by e-mail
(the new PIN read from the outbox, never from the screen), and the reply to the answer. Screenshots in
test-artifacts/citizen-reply-*.png."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from tests.browser.test_citizen_journey import _fits_the_screen

pytestmark = pytest.mark.browser


def test_receipt_then_recovery_then_reply_on_a_phone(live_server, phone, shot, actor):
    from pypdf import PdfReader

    from app import services
    from app.extensions import db
    from app.models import Complaint, Outbox
    from app.services.complaints import cipher

    page = phone(accept_downloads=True)
    page.goto(f"{live_server}/pengaduan/baru")
    page.get_by_label("Nama lengkap").fill("Siti Aminah")
    page.get_by_label("NIK (16 digit, sesuai e-KTP)").fill("3508 1052 0785 0002")
    page.get_by_label("Nomor telepon / WhatsApp").fill("0812 3456 7890")
    page.get_by_label("E-mail (tidak wajib)").fill("siti.balasan@contoh.id")
    page.locator("#f-opd").select_option("DINKESP2KB")
    page.get_by_label("Judul pengaduan").fill("Lampu puskesmas padam")
    page.get_by_label("Isi pengaduan").fill("Lampu ruang tunggu puskesmas padam sejak seminggu, mohon diperbaiki.")
    page.get_by_label("Saya menyetujui pemrosesan data pribadi").check()
    page.get_by_role("button", name="Kirim pengaduan").click()
    page.wait_for_url(re.compile(r".*/pengaduan/terkirim$"))
    ticket = page.locator("#ticket").inner_text().strip()
    old_pin = page.locator("#pin").inner_text().strip()
    _fits_the_screen(page)
    shot(page, "citizen-reply-01-tanda-terima")
    with page.expect_download() as download:
        page.locator("#receipt-pdf").click()
    pdf = PdfReader(io.BytesIO(open(download.value.path(), "rb").read()))
    assert ticket in pdf.pages[0].extract_text() and old_pin in pdf.pages[0].extract_text()
    page.emulate_media(media="print")
    assert not page.locator("#receipt-pdf").is_visible() and page.locator("#pin").is_visible()
    shot(page, "citizen-reply-02-cetak")
    page.emulate_media(media="screen")

    # The complaint is validated and answered meanwhile; the citizen has lost the PIN.
    complaint_id = db.session.scalar(sa.select(Complaint.id).where(Complaint.ticket == ticket))
    services.decide_nik(complaint_id, actor("validator"), valid=True)
    services.answer(complaint_id, actor("opd.dinkes"), "Lampu sudah diganti hari ini.")
    page.goto(f"{live_server}/lacak?tiket={ticket}")
    page.locator("#forgot-pin").click()
    page.wait_for_url(re.compile(r".*/lacak/lupa-pin.*"))
    assert page.get_by_label("Nomor tiket").input_value() == ticket
    page.get_by_label("E-mail atau nomor telepon").fill("siti.balasan@contoh.id")
    _fits_the_screen(page)
    shot(page, "citizen-reply-03-lupa-pin")
    page.get_by_role("button", name="Kirim PIN baru").click()
    assert page.locator("#recovery-done").is_visible()
    shot(page, "citizen-reply-04-pin-dikirim")
    db.session.expire_all()
    body = db.session.scalar(sa.select(Outbox.body).where(Outbox.complaint_id == complaint_id,
                                                          Outbox.template == "pin_recovered"))
    new_pin = re.search(r"PIN baru: (\S+)", cipher().unseal_pins(body)).group(1)  # sealed at rest
    assert new_pin not in page.content()

    page.goto(f"{live_server}/lacak?tiket={ticket}")
    page.get_by_label("PIN").fill(old_pin)
    page.get_by_role("button", name="Lacak").click()
    assert page.get_by_text("Nomor tiket atau PIN tidak cocok").is_visible()
    page.get_by_label("PIN").fill(new_pin)
    page.get_by_role("button", name="Lacak").click()
    page.wait_for_url(re.compile(r".*/lacak/hasil$"))
    assert page.get_by_text("Lampu sudah diganti hari ini.").is_visible()
    page.get_by_role("radio", name="Belum selesai").check()
    page.locator("input[name=rating][value='2']").check()
    page.get_by_role("button", name="Kirim tanggapan").click()
    assert page.locator("#err-reason").is_visible()  # the reason is required
    _fits_the_screen(page)
    shot(page, "citizen-reply-05-alasan-wajib")
    page.get_by_label("Alasan (wajib bila belum selesai)").fill("Lampu di lorong belakang masih padam.")
    page.get_by_role("button", name="Kirim tanggapan").click()
    page.wait_for_url(re.compile(r".*/lacak/hasil$"))
    assert page.locator("#reply-given").is_visible()
    _fits_the_screen(page)
    shot(page, "citizen-reply-06-tanggapan")
    db.session.expire_all()
    assert db.session.get(Complaint, complaint_id).state.value == "disanggah"
