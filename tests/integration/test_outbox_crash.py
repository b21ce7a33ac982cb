"""Outbox idempotency (issue 14, item 4): a deliverer killed between handing a message to the mail
server and recording it. The real `flask scheduler run-once outbox_delivery` runs in a process of its
own against the session's database and a real SMTP server (aiosmtpd) that accepts the message and holds
its reply; the process is SIGKILLed there. The next delivery sees the unrecorded claim, counts it
`interrupted` and sends the same message again (same Message-ID), which a mailbox shows once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import time_machine
from aiosmtpd.controller import Controller

from app.extensions import db
from app.services.outbox import INTERRUPTED, deliver_due
from tests.integration.test_sla_outbox import free_port, queue_notice, row

ROOT = Path(__file__).resolve().parents[2]


class HoldingMailbox:
    """Keeps every message it receives; while `hold` is set it delays its 250 reply (the window in which
    the sender has handed the message over but not yet heard back)."""

    def __init__(self):
        self.received = []
        self.arrived = threading.Event()
        self.hold = True

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope)
        self.arrived.set()
        if self.hold:
            await asyncio.sleep(30)
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [message_from_bytes(e.content, policy=default_policy)["Message-ID"] for e in self.received]


def _deliverer(database_url: str, port: int, upload_dir: str) -> subprocess.Popen:
    env = {**os.environ, "APP_MODE": "test", "DATABASE_URL": database_url, "SMTP_HOST": "127.0.0.1",
           "SMTP_PORT": str(port), "SMTP_TIMEOUT": "60", "MAIL_FROM": "pengaduan@lumajangkab.go.id",
           "UPLOAD_DIR": upload_dir, "WEBHOOK_URL": "", "SIAK_MODE": "fake"}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "run", "scheduler", "run-once", "outbox_delivery"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_a_deliverer_killed_after_handing_over_is_resent_with_the_same_message_id(app, database_url, monkeypatch):
    port = free_port()
    mailbox = HoldingMailbox()
    server = Controller(mailbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        oid = queue_notice()
        worker = _deliverer(database_url, port, app.config["UPLOAD_DIR"])
        try:
            assert mailbox.arrived.wait(90), worker.communicate(timeout=5)[0].decode()[-2000:]
            os.kill(worker.pid, signal.SIGKILL)  # the message is with the server; the 250 never arrives
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
        crashed = row(oid)
        assert (crashed.status, crashed.attempts, crashed.sent_at) == ("pending", 1, None)
        assert crashed.claimed_at is not None and crashed.interrupted == 0

        # Not retried before the lease ends: a slow deliverer is not mistaken for a dead one.
        for key, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TIMEOUT": 5.0, "SMTP_SSL": False,
                           "SMTP_STARTTLS": False, "SMTP_USER": None, "WEBHOOK_URL": None,
                           "MAIL_FROM": "pengaduan@lumajangkab.go.id"}.items():
            monkeypatch.setitem(app.config, key, value)
        mailbox.hold = False
        assert deliver_due().sent == 0 and len(mailbox.received) == 1

        later = datetime.now(timezone.utc) + timedelta(minutes=6)
        with time_machine.travel(later, tick=False):
            report = deliver_due()
        assert (report.sent, report.interrupted) == (1, 1)
        done = row(oid)
        assert (done.status, done.attempts, done.interrupted, done.claimed_at) == ("sent", 2, 1, None)
        assert done.last_error is None
        # The server got the message twice, both times as the same message: one in the mailbox.
        ids = mailbox.message_ids()
        assert len(ids) == 2 and ids[0] == ids[1] == f"<{done.idempotency_key}@lumajangkab.go.id>"
        assert len(set(ids)) == 1

        with time_machine.travel(later + timedelta(hours=1), tick=False):
            assert deliver_due().sent == 0
        assert len(mailbox.received) == 2
    finally:
        server.stop()


def test_an_interrupted_claim_is_recorded_on_the_row_until_the_next_result(app, monkeypatch):
    """The row says why it is being sent again while the retry is under way (the outbox screen shows
    last_error)."""
    from app.models import Outbox

    oid = queue_notice()
    db.session.execute(sa_update(Outbox, oid))
    db.session.commit()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())  # nothing listens: the retry fails too
    monkeypatch.setitem(app.config, "SMTP_TIMEOUT", 2.0)
    monkeypatch.setitem(app.config, "WEBHOOK_URL", None)
    report = deliver_due()
    assert (report.retried, report.interrupted) == (1, 1)
    failed = row(oid)
    assert failed.interrupted == 1 and failed.claimed_at is None
    assert failed.last_error.startswith("ConnectionRefusedError")
    assert INTERRUPTED.startswith("interrupted")


def sa_update(model, oid):
    import sqlalchemy as sa

    # What a killed deliverer leaves: attempt counted, claim stamped, lease over.
    return (sa.update(model).where(model.id == oid)
            .values(attempts=1, claimed_at=datetime(2026, 1, 1), next_attempt_at=datetime(2026, 1, 1)))
