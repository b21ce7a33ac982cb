"""Outbox delivery to a real SMTP server (aiosmtpd, started here) and to a real HTTP fake
(pytest-httpserver): retries with backoff, the dead state, resend by Admin Sistem."""

from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
import sqlalchemy as sa
import time_machine
from aiosmtpd.controller import Controller

from app import notify
from app.extensions import db
from app.models import AuditLog, Outbox
from app.services import Forbidden
from app.services.outbox import deliver_due, resend

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that keeps what it accepts and can refuse the next N messages with a 451."""

    def __init__(self):
        self.messages = []
        self.refuse_next = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_next:
            self.refuse_next -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        self.messages.append(envelope)
        return "250 OK"


def queue_notice(recipient="pimpinan@uji.go.id", channel="email", template="answered", **context) -> int:
    values = {"ticket": "LMJ-2026-000042", "opd": "Dinas Kesehatan", "track_url": "http://x/lacak?tiket=LMJ-2026-000042"}
    values.update(context)
    row = notify.queue(channel, recipient, template, values)
    db.session.commit()
    return row.id


def row(outbox_id: int) -> Outbox:
    db.session.expire_all()
    return db.session.get(Outbox, outbox_id)


@pytest.fixture
def smtp_settings(app, monkeypatch):
    port = free_port()
    for key, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TIMEOUT": 3.0, "SMTP_STARTTLS": False,
                       "SMTP_SSL": False, "SMTP_USER": None, "MAIL_FROM": "pengaduan@lumajangkab.go.id",
                       "OUTBOX_BACKOFF_SECONDS": 60, "OUTBOX_MAX_ATTEMPTS": 6, "WEBHOOK_URL": None}.items():
        monkeypatch.setitem(app.config, key, value)
    return port


def test_email_waits_while_the_server_is_down_then_retries_through_a_4xx_and_is_delivered(smtp_settings):
    port = smtp_settings
    with time_machine.travel(T0, tick=False) as clock:
        oid = queue_notice()

        # 1. nothing listens on the port: a connection error, retried after the base delay.
        assert deliver_due() == type(deliver_due())(0, 1, 0)
        first = row(oid)
        assert (first.status, first.attempts) == ("pending", 1)
        assert first.last_error.startswith("ConnectionRefusedError: ")
        assert first.next_attempt_at == T0.replace(tzinfo=None) + timedelta(seconds=60)
        assert deliver_due().retried == 0  # not due yet: nothing is tried

        mailbox = Mailbox()
        mailbox.refuse_next = 1
        server = Controller(mailbox, hostname="127.0.0.1", port=port)
        server.start()
        try:
            # 2. the server is up but answers 451: retried again, after twice the delay.
            clock.shift(timedelta(seconds=61))
            assert deliver_due().retried == 1
            second = row(oid)
            assert second.attempts == 2 and "451" in second.last_error
            assert second.next_attempt_at == T0.replace(tzinfo=None) + timedelta(seconds=61 + 120)
            assert mailbox.messages == []

            # 3. delivered.
            clock.shift(timedelta(seconds=121))
            assert deliver_due().sent == 1
            done = row(oid)
            assert (done.status, done.attempts, done.last_error) == ("sent", 3, None)
            assert done.sent_at == T0.replace(tzinfo=None) + timedelta(seconds=182)
            [envelope] = mailbox.messages
            assert envelope.rcpt_tos == ["pimpinan@uji.go.id"]
            assert envelope.mail_from == "pengaduan@lumajangkab.go.id"
            mail = message_from_bytes(envelope.content, policy=default_policy)
            assert mail["Subject"] == "Pengaduan LMJ-2026-000042 telah dijawab"
            assert mail["Auto-Submitted"] == "auto-generated"
            assert "Dinas Kesehatan telah menjawab" in mail.get_content()

            # 4. idempotent: a second run sends nothing more.
            clock.shift(timedelta(hours=1))
            assert deliver_due() == type(deliver_due())(0, 0, 0)
            assert len(mailbox.messages) == 1
        finally:
            server.stop()


def test_one_smtp_session_delivers_a_batch_and_a_refused_recipient_does_not_block_the_others(smtp_settings):
    mailbox = Mailbox()
    server = Controller(mailbox, hostname="127.0.0.1", port=smtp_settings)
    server.start()
    try:
        ids = [queue_notice(f"warga{i}@contoh.id", ticket=f"LMJ-2026-00000{i}") for i in range(3)]
        mailbox.refuse_next = 1  # the first DATA of the session is refused, the next two pass
        report = deliver_due()
        assert (report.sent, report.retried) == (2, 1)
        assert [row(i).status for i in ids] == ["pending", "sent", "sent"]
        assert sorted(e.rcpt_tos[0] for e in mailbox.messages) == ["warga1@contoh.id", "warga2@contoh.id"]
    finally:
        server.stop()


def test_without_smtp_settings_email_waits_without_spending_attempts(app, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    monkeypatch.setitem(app.config, "WEBHOOK_URL", None)
    oid = queue_notice()
    assert deliver_due() == type(deliver_due())(0, 0, 0)
    assert (row(oid).status, row(oid).attempts) == ("pending", 0)


# --------------------------------------------------------------------------- webhook


@pytest.fixture
def webhook_settings(app, monkeypatch, httpserver):
    for key, value in {"WEBHOOK_URL": httpserver.url_for("/kirim"), "WEBHOOK_TOKEN": "rahasia-gateway",
                       "SMTP_HOST": None, "OUTBOX_BACKOFF_SECONDS": 30, "OUTBOX_MAX_ATTEMPTS": 3}.items():
        monkeypatch.setitem(app.config, key, value)
    return httpserver


def test_webhook_posts_json_with_the_bearer_token_and_retries_after_a_500(webhook_settings):
    server = webhook_settings
    server.expect_ordered_request("/kirim", method="POST").respond_with_data("gateway down", status=500)
    server.expect_ordered_request("/kirim", method="POST").respond_with_json({"queued": True}, status=202)
    with time_machine.travel(T0, tick=False) as clock:
        oid = queue_notice("0812-3456-7890", channel="webhook", template="routed",
                           answer_deadline="11-03-2026 23:59 WIB")
        assert deliver_due().retried == 1
        first = row(oid)
        assert (first.status, first.attempts, first.last_error) == ("pending", 1, "HTTP 500: INTERNAL SERVER ERROR")
        assert first.next_attempt_at == T0.replace(tzinfo=None) + timedelta(seconds=30)
        clock.shift(timedelta(seconds=31))
        assert deliver_due().sent == 1
    assert row(oid).status == "sent"
    server.check_assertions()
    request, _response = server.log[-1]
    assert request.headers["Authorization"] == "Bearer rahasia-gateway"
    assert request.headers["Idempotency-Key"] == row(oid).idempotency_key and len(row(oid).idempotency_key) == 32
    body = json.loads(request.get_data())
    assert body["recipient"] == "0812-3456-7890" and body["channel"] == "webhook"
    assert body["subject"] == "Pengaduan LMJ-2026-000042 diteruskan ke Dinas Kesehatan"
    assert "11-03-2026 23:59 WIB" in body["body"] and body["template"] == "routed" and body["locale"] == "id"


def test_webhook_is_dead_after_max_attempts_then_resent_by_admin(webhook_settings, actor):
    server = webhook_settings
    server.expect_request("/kirim", method="POST").respond_with_data("no", status=500)
    with time_machine.travel(T0, tick=False) as clock:
        oid = queue_notice("0812-3456-7890", channel="webhook", template="answered")
        delays = []
        for attempt in range(1, 4):
            report = deliver_due()
            current = row(oid)
            assert current.attempts == attempt
            if attempt < 3:
                assert report.retried == 1 and current.status == "pending"
                delays.append(current.next_attempt_at - datetime.now(timezone.utc).replace(tzinfo=None))
                clock.shift(delays[-1] + timedelta(seconds=1))
            else:
                assert report.dead == 1 and current.status == "dead" and current.last_error.startswith("HTTP 500")
        assert delays == [timedelta(seconds=30), timedelta(seconds=60)]  # exponential backoff
        clock.shift(timedelta(days=1))
        assert deliver_due() == type(deliver_due())(0, 0, 0)  # dead rows are never tried again
        assert len(server.log) == 3

        with pytest.raises(Forbidden):
            resend(oid, actor("pimpinan"))
        resend(oid, actor("admin"))
        again = row(oid)
        assert (again.status, again.attempts) == ("pending", 0)
        log = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "outbox.resend"))
        assert log.username == "admin" and '"previous_status": "dead"' in log.detail

    server.clear()
    server.expect_request("/kirim", method="POST").respond_with_data("ok", status=200)
    assert deliver_due().sent == 1
    assert row(oid).status == "sent"


def test_webhook_gateway_unreachable_is_an_error_not_a_crash(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_URL", f"http://127.0.0.1:{free_port()}/kirim")
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    oid = queue_notice("0812", channel="webhook")
    assert deliver_due().retried == 1
    assert "refused" in row(oid).last_error.lower()


def test_two_deliverers_never_take_the_same_row(app, monkeypatch, httpserver):
    """The claim is one UPDATE … RETURNING (FOR UPDATE SKIP LOCKED on PostgreSQL): a second claim in
    the lease finds nothing."""
    from app.services.outbox import _claim
    from app.timeutil import utcnow

    ids = {queue_notice(f"08{i}", channel="webhook") for i in range(4)}
    first = {m.id for m in _claim(utcnow(), 10, ["webhook"])[0]}
    second = {m.id for m in _claim(utcnow(), 10, ["webhook"])[0]}
    assert first == ids and second == set()


# --------------------------------------------------------------------------- the Admin Sistem screen


def test_outbox_screen_filters_by_status_and_resend_is_a_post(client, auth):
    sent = queue_notice("a@contoh.id")
    dead = queue_notice("b@contoh.id")
    delivered = db.session.get(Outbox, sent)
    delivered.status, delivered.sent_at = "sent", datetime(2026, 3, 2, 1, 0)  # a sent notice has its time
    failed = db.session.get(Outbox, dead)
    failed.status, failed.attempts, failed.last_error = "dead", 6, "SMTPDataError: 550 mailbox unavailable"
    db.session.commit()

    auth.login("admin")
    page = client.get("/staf/kotak-keluar/?status=dead")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "b@contoh.id" in html and "550 mailbox unavailable" in html and "a@contoh.id" not in html
    bogus = client.get("/staf/kotak-keluar/?status=bogus")  # a message, not an error
    assert bogus.status_code == 200 and "Status tidak dikenal" in bogus.get_data(as_text=True)

    assert client.get(f"/staf/kotak-keluar/{dead}/kirim-ulang").status_code == 405
    assert row(dead).status == "dead"
    response = client.post(f"/staf/kotak-keluar/{dead}/kirim-ulang", data={"status": "dead"})
    assert response.status_code == 303
    assert (row(dead).status, row(dead).attempts) == ("pending", 0)
    assert client.post("/staf/kotak-keluar/999999/kirim-ulang").status_code == 404


@pytest.mark.parametrize("username", ["pimpinan", "validator", "opd.dinkes"])
def test_only_admin_sistem_reaches_the_outbox(client, auth, username):
    dead = queue_notice("b@contoh.id")
    db.session.get(Outbox, dead).status = "dead"
    db.session.commit()
    auth.login(username)
    listing = client.get("/staf/kotak-keluar/")
    assert listing.status_code == 403  # signed in without the right: refused, not sent to sign in
    assert "b@contoh.id" not in listing.get_data(as_text=True)
    client.post(f"/staf/kotak-keluar/{dead}/kirim-ulang")
    assert row(dead).status == "dead"


def test_resend_needs_the_csrf_token(app, database_url):
    from tests.conftest import PASSWORD, build_app

    strict = build_app(database_url, WTF_CSRF_ENABLED=True)
    with strict.app_context():
        dead = queue_notice("b@contoh.id")
        db.session.get(Outbox, dead).status = "dead"
        db.session.commit()
        client = strict.test_client()
        login_page = client.get("/login/").get_data(as_text=True)
        import re

        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)
        client.post("/login/", data={"username": "admin", "password": PASSWORD, "csrf_token": token.group(1)})
        assert client.post(f"/staf/kotak-keluar/{dead}/kirim-ulang").status_code == 400
        assert row(dead).status == "dead"
        screen = client.get("/staf/kotak-keluar/").get_data(as_text=True)
        form_token = re.search(r'name="csrf_token" value="([^"]+)"', screen).group(1)
        response = client.post(f"/staf/kotak-keluar/{dead}/kirim-ulang", data={"csrf_token": form_token})
        assert response.status_code == 303 and row(dead).status == "pending"
        db.session.remove()
