"""The citizen's side of the conversation after filing (issue 17): a new PIN when the old one is lost.

PIN recovery answers the same whatever happens: the caller learns nothing about whether a ticket exists
or the contact matched. The work is the same too: a new PIN is made and hashed on every call (the hash is
the slow part, as in `complaints.track`), and every call writes one history row and commits; only a match
additionally stores the new hash (the old PIN stops working at once) and queues the PIN to the address or
phone that matched, through the outbox. The PIN is never shown on screen.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from .. import audit, notify
from ..crypto import new_pin
from ..extensions import db
from ..models import Complaint
from .common import Invalid, read_text, setting, unit_of_work
from .complaints import hash_pin, track_url

RECOVERY_LIMITS = {"ticket": 40, "contact": 254}


def _phone_digits(phone: str | None) -> str:
    """A phone number compared by its digits, the country code 62 read as the leading 0."""
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    if digits.startswith("62"):
        digits = "0" + digits[2:]
    return digits


def _matched_channel(contact: str, email: str | None, phone: str | None) -> str | None:
    """Which of the complaint's own contacts `contact` is: "email", "webhook" (the phone), or None."""
    if email and "@" in contact and contact.strip().casefold() == email.strip().casefold():
        return "email"
    digits = _phone_digits(contact)
    if phone and len(digits) >= 8 and "@" not in contact and digits == _phone_digits(phone):
        return "webhook"
    return None


def recover_pin(ticket: str, contact: str) -> None:
    """Send a new PIN when `contact` is the e-mail address or phone number given with `ticket`.

    Returns nothing either way. Refuses (Invalid) only input that is wrong whatever the ticket:
    an empty or overlong field. A phone match needs the WhatsApp/SMS gateway (WEBHOOK_URL): without it
    the PIN could not reach the citizen, so the old one is kept.
    """
    errors: dict[str, str] = {}
    ticket = read_text(errors, "ticket", ticket, limit=RECOVERY_LIMITS["ticket"], required=True)
    contact = read_text(errors, "contact", contact, limit=RECOVERY_LIMITS["contact"], required=True)
    if errors:
        raise Invalid(_("Periksa kembali isian."), errors=errors)
    pin = new_pin()
    pin_hash = hash_pin(pin)  # made on every call: a match must not take longer than a mismatch
    with unit_of_work():
        found = db.session.execute(
            sa.select(Complaint.id, Complaint.email, Complaint.phone, Complaint.anonymised_at)
            .where(Complaint.ticket == ticket.upper())).first()
        channel = None
        if found is not None and found.anonymised_at is None:
            channel = _matched_channel(contact, found.email, found.phone)
            if channel == "webhook" and not setting("WEBHOOK_URL"):
                channel = None
        outcome = "sent" if channel else ("mismatch" if found is not None else "unknown_ticket")
        if channel:
            complaint = db.session.get(Complaint, found.id)
            complaint.pin_hash = pin_hash
            recipient = complaint.email if channel == "email" else complaint.phone
            notify.queue(channel, recipient, "pin_recovered",
                         {"ticket": complaint.ticket, "pin": pin, "track_url": track_url(complaint.ticket)},
                         complaint_id=complaint.id)
        # The history row names the ticket only when it exists; never the contact typed or the PIN.
        audit.record("action", "complaint.pin_recovery", complaint_id=found.id if found is not None else None,
                     detail={"outcome": outcome, **({"channel": channel} if channel else {})})
