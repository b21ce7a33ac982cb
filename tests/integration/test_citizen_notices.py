"""Issue 17: the notices the citizen chooses (e-mail and/or WhatsApp/SMS through the gateway) for received, NIK
valid or invalid, routed, answered and closed (accepted, silence, Pimpinan); never the NIK, never the PIN but
on recovery; the recovered PIN sealed in the outbox row and on the outbox screen, opened at delivery."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
import sqlalchemy as sa
import time_machine
from aiosmtpd.controller import Controller

from app import services
from app.extensions import db
from app.models import Complaint, Outbox
from app.services import citizen
from app.services.complaints import cipher
from app.services.outbox import deliver_due
from tests.conftest import PASSWORD, VALID_NIK, text_of
from tests.integration.opd_support import login
from tests.integration.test_sla_outbox import Mailbox, free_port

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)  # Monday 09:00 WIB
EMAIL, PHONE = "warga@contoh.id", "0812-3456-7890"
GATEWAY = "http://127.0.0.1:9109/kirim"  # never called here: delivery is not run in these tests


def _rows(complaint_id, template=None):
    db.session.expire_all()
    query = sa.select(Outbox).where(Outbox.complaint_id == complaint_id)
    if template:
        query = query.where(Outbox.template == template)
    return db.session.scalars(query.order_by(Outbox.id)).all()


def _clean(rows, pin):
    for row in rows:
        text = row.subject + row.body
        assert VALID_NIK not in text and "3508 0112 0390 0001" not in text, row.template
        assert pin not in text, row.template
        assert "/lacak?tiket=" in row.body, row.template


@pytest.fixture
def gateway(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_URL", GATEWAY)


CHOICES = [(True, True, {"email", "webhook"}), (True, False, {"email"}), (False, True, {"webhook"}),
           (False, False, set())]


@pytest.mark.parametrize("by_email,by_phone,channels", CHOICES)
def test_every_event_reaches_the_channels_chosen_without_nik_or_pin(gateway, submission, actor, by_email, by_phone,
                                                                    channels):
    with time_machine.travel(T0, tick=False):
        done = services.submit(submission(email=EMAIL, phone=PHONE, notify_email=by_email, notify_phone=by_phone,
                                          text=f"Jalan rusak. NIK saya {VALID_NIK}."))
        c, pin = done.complaint, done.pin
        services.decide_nik(c.id, actor("validator"), valid=True)
        services.return_to_dispatch(c.id, actor("opd.dinkes"), "Bukan kewenangan kami.")
        services.reroute(c.id, actor("admin"), "DPUTR")
        services.answer(c.id, actor("opd.dputr"), "Sudah diperbaiki.")
        citizen.reply(c.id, citizen.ReplyInput(accepted=True, rating=5))
    rows = _rows(c.id)
    per_event = {}
    for row in rows:
        per_event.setdefault(row.template, set()).add(row.channel)
    expected = ["submitted", "routed", "answered", "closed"] if channels else []
    assert sorted(per_event) == sorted(expected)
    assert all(found == channels for found in per_event.values())
    assert all(r.recipient == (EMAIL if r.channel == "email" else PHONE) for r in rows)
    _clean(rows, pin)
    assert all(re.search(r"[A-Za-z]", r.body) and "Pengaduan" in r.subject for r in rows)  # Indonesian
    closed = next((r for r in rows if r.template == "closed"), None)
    if closed is not None:
        assert "Anda menyatakan pengaduan ini selesai" in closed.body


def test_the_phone_is_never_used_without_a_gateway(app, submission, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_URL", None)
    c = services.submit(submission(email=EMAIL, phone=PHONE, notify_phone=True)).complaint
    assert {r.channel for r in _rows(c.id)} == {"email"}


def test_invalid_nik_notice_carries_the_remark_masked(gateway, submission, actor):
    done = services.submit(submission(email=EMAIL, phone=PHONE))
    services.decide_nik(done.complaint.id, actor("validator"), valid=False,
                        remark=f"NIK {VALID_NIK} tidak terdaftar di SIAK.")
    rows = _rows(done.complaint.id, "invalid")
    assert {r.channel for r in rows} == {"email", "webhook"}
    assert all("tidak terdaftar di SIAK." in r.body for r in rows)
    _clean(rows, done.pin)


def test_closed_by_silence_and_by_the_pimpinan_notify_too(gateway, submission, actor):
    with time_machine.travel(T0, tick=False):
        quiet = services.submit(submission(email=EMAIL, phone=PHONE, notify_phone=False))
        disputed = services.submit(submission(email=EMAIL, phone=PHONE, notify_email=False))
        for done in (quiet, disputed):
            services.decide_nik(done.complaint.id, actor("validator"), valid=True)
            services.answer(done.complaint.id, actor("opd.dinkes"), "Sudah ditindaklanjuti.")
        citizen.reply(disputed.complaint.id, citizen.ReplyInput(accepted=False, rating=1, reason="Belum beres."))
        citizen.decide_dispute(disputed.complaint.id, actor("pimpinan"), "close", reason="Sudah sesuai aturan.")
    assert citizen.close_silent(T0.replace(tzinfo=None) + timedelta(days=30)) == 1
    assert citizen.close_silent(T0.replace(tzinfo=None) + timedelta(days=31)) == 0
    [silent] = _rows(quiet.complaint.id, "closed")
    assert silent.channel == "email" and "Tidak ada tanggapan Anda dalam 10 hari kerja" in silent.body
    [by_pimpinan] = _rows(disputed.complaint.id, "closed")
    assert by_pimpinan.channel == "webhook" and "Ditutup oleh Pimpinan: Sudah sesuai aturan." in by_pimpinan.body
    _clean([silent], quiet.pin)
    _clean([by_pimpinan], disputed.pin)


def test_the_form_stores_the_choice_and_offers_the_phone_only_with_a_gateway(app, client, complaint_form,
                                                                            monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_URL", None)
    assert 'id="f-notify-phone"' not in client.get("/pengaduan/baru").get_data(as_text=True)
    monkeypatch.setitem(app.config, "WEBHOOK_URL", GATEWAY)
    page = client.get("/pengaduan/baru").get_data(as_text=True)
    assert 'id="f-notify-phone"' in page and 'id="f-notify-email"' in page
    response = client.post("/pengaduan/baru", data={**complaint_form(email=EMAIL), "notify_form": "1",
                                                    "notify": ["telepon", "bogus"]})
    assert response.status_code == 303
    c = db.session.scalar(sa.select(Complaint).order_by(Complaint.id.desc()).limit(1))
    assert (c.notify_email, c.notify_phone) == (False, True)
    assert {r.channel for r in _rows(c.id)} == {"webhook"}


# --------------------------------------------------------------------------- the recovered PIN, sealed


def _recovered(submission):
    done = services.submit(submission(email=EMAIL))
    citizen.recover_pin(done.complaint.ticket, EMAIL)
    [row] = _rows(done.complaint.id, "pin_recovered")
    return done.complaint, row


def _pin_of(row) -> str:
    return re.search(r"PIN baru: (\S+)", cipher().unseal_pins(row.body)).group(1)


def test_the_outbox_row_holds_no_pin_in_clear_and_the_screen_shows_it_sealed(app, submission):
    complaint, row = _recovered(submission)
    pin = _pin_of(row)
    assert pin not in row.body and pin not in row.subject and "\u27e6PIN:" in row.body
    raw = db.session.execute(sa.text("SELECT body FROM outbox WHERE id = :i"), {"i": row.id}).scalar()
    assert pin not in raw
    screen = login(app, "admin", PASSWORD).get("/staf/kotak-keluar/")
    assert "PIN baru (disegel)" in text_of(screen) and pin not in screen.get_data(as_text=True)
    assert "\u27e6PIN:" not in screen.get_data(as_text=True)


def test_in_demo_mode_admin_sistem_reads_the_recovered_pin_on_the_outbox_screen(app, submission, monkeypatch):
    complaint, row = _recovered(submission)
    pin = _pin_of(row)
    monkeypatch.setitem(app.config, "APP_MODE", "demo")
    screen = login(app, "admin", PASSWORD).get("/staf/kotak-keluar/")
    assert f"PIN baru: {pin} (hanya mode demo)" in text_of(screen)
    assert pin not in db.session.execute(sa.text("SELECT body FROM outbox WHERE id = :i"), {"i": row.id}).scalar()


def test_the_delivered_mail_carries_the_pin_and_it_works(app, client, submission, monkeypatch):
    port = free_port()
    for key, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TIMEOUT": 3.0, "SMTP_STARTTLS": False,
                       "SMTP_SSL": False, "SMTP_USER": None, "MAIL_FROM": "pengaduan@lumajangkab.go.id",
                       "WEBHOOK_URL": None}.items():
        monkeypatch.setitem(app.config, key, value)
    complaint, row = _recovered(submission)
    mailbox = Mailbox()
    server = Controller(mailbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        assert deliver_due().sent >= 1
    finally:
        server.stop()
    mails = [message_from_bytes(e.content, policy=default_policy) for e in mailbox.messages]
    [mail] = [m for m in mails if m["Subject"].startswith("PIN baru")]
    pin = re.search(r"PIN baru: (\S+)", mail.get_content()).group(1)
    assert pin == _pin_of(row) and "\u27e6" not in mail.get_content()
    sent = db.session.get(Outbox, row.id)
    db.session.refresh(sent)
    assert sent.status == "sent" and pin not in sent.body  # still sealed at rest after delivery
    assert client.post("/lacak", data={"ticket": complaint.ticket, "pin": pin}).status_code == 303
