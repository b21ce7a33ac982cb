"""The tracking PIN: a keyed hash (fast; the secret and the rate limit carry the defence), old scrypt hashes
still accepted and replaced on their first success, and the slow work of a submission done before the ticket
counter's row lock is taken."""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import Complaint


def _login(client, ticket, pin):
    return client.post("/lacak", data={"ticket": ticket, "pin": pin})


def _stored(complaint_id):
    return db.session.scalar(sa.select(Complaint.pin_hash).where(Complaint.id == complaint_id))


def test_new_pins_are_stored_as_keyed_hashes_and_tracked_without_scrypt(client, submission, monkeypatch):
    from app.services import complaints, submit

    done = submit(submission())
    stored = _stored(done.complaint.id)
    assert stored.startswith("pin-hmac-sha256$") and done.pin not in stored

    def no_scrypt(*args, **kwargs):
        raise AssertionError("a keyed PIN hash was checked with werkzeug's slow hash")

    monkeypatch.setattr(complaints, "check_password_hash", no_scrypt)
    assert _login(client, done.complaint.ticket, done.pin).status_code == 303
    assert _login(client, done.complaint.ticket, "AAAAAAAA").status_code == 400
    assert _login(client, "LMJ-2020-999999", done.pin).status_code == 400


def test_an_old_scrypt_pin_still_opens_tracking_and_is_then_replaced(app, client, submission):
    from app.services import submit

    done = submit(submission())
    legacy = generate_password_hash(done.pin)  # what the service stored before the keyed hash
    db.session.execute(sa.update(Complaint).where(Complaint.id == done.complaint.id).values(pin_hash=legacy))
    db.session.commit()

    assert _login(client, done.complaint.ticket, "AAAAAAAA").status_code == 400
    assert _stored(done.complaint.id) == legacy  # a wrong PIN changes nothing
    assert _login(client, done.complaint.ticket, done.pin.lower()).status_code == 303
    upgraded = _stored(done.complaint.id)
    assert upgraded.startswith("pin-hmac-sha256$")
    assert _login(client, done.complaint.ticket, done.pin).status_code == 303
    assert _stored(done.complaint.id) == upgraded


def test_slow_work_of_a_submission_is_done_before_the_ticket_is_taken(app, submission, monkeypatch):
    from app import crypto, redact
    from app.services import complaints, submit

    calls: list[str] = []

    def spy(name, fn):
        def wrapped(*args, **kwargs):
            calls.append(name)
            return fn(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(complaints, "hash_pin", spy("hash_pin", complaints.hash_pin))
    monkeypatch.setattr(complaints, "_next_ticket", spy("ticket", complaints._next_ticket))
    monkeypatch.setattr(redact, "find", spy("detect", redact.find))
    monkeypatch.setattr(crypto.NikCipher, "encrypt", spy("encrypt", crypto.NikCipher.encrypt))
    monkeypatch.setattr(crypto.NikCipher, "seal_niks", spy("seal", crypto.NikCipher.seal_niks))

    submit(submission(text="NIK saya 3508011203850001, mohon jalan diperbaiki."))
    assert "ticket" in calls
    after = calls[calls.index("ticket") + 1:]
    before = calls[:calls.index("ticket")]
    assert {"hash_pin", "detect", "encrypt", "seal"} <= set(before)
    assert not {"hash_pin", "detect", "encrypt", "seal"} & set(after), after
    # Detection: the text twice (masking and sealing look for different kinds), the title twice; no more.
    assert before.count("detect") <= 4
