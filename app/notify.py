"""Notifications: queued in the outbox inside the caller's transaction, delivered later by the
scheduler (never from a web request). Templates exist in Indonesian and English."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from .extensions import db
from .models import Outbox
from .timeutil import utcnow

# template -> locale -> (subject, body); str.format fields come from `context`.
TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "submitted": {
        "id": ("Pengaduan {ticket} diterima",
               "Terima kasih. Pengaduan Anda tercatat dengan nomor tiket {ticket}.\n"
               "NIK Anda akan diverifikasi paling lambat {validation_deadline}.\n"
               "Lacak pengaduan di {track_url} dengan nomor tiket dan PIN Anda.\n"),
        "en": ("Complaint {ticket} received",
               "Thank you. Your complaint was recorded with ticket {ticket}.\n"
               "Your NIK will be checked by {validation_deadline}.\n"
               "Track it at {track_url} with your ticket and PIN.\n"),
    },
    "invalid": {
        "id": ("Pengaduan {ticket}: NIK tidak valid",
               "NIK pada pengaduan {ticket} tidak dapat diverifikasi.\nCatatan validator: {remark}\n"
               "Lacak di {track_url}.\n"),
        "en": ("Complaint {ticket}: NIK not valid",
               "The NIK given with complaint {ticket} could not be verified.\nValidator's remark: {remark}\n"
               "Track it at {track_url}.\n"),
    },
    "routed": {
        "id": ("Pengaduan {ticket} diteruskan ke {opd}",
               "Pengaduan {ticket} telah diverifikasi dan diteruskan ke {opd}.\n"
               "Jawaban paling lambat {answer_deadline}.\nLacak di {track_url}.\n"),
        "en": ("Complaint {ticket} sent to {opd}",
               "Complaint {ticket} was verified and sent to {opd}.\n"
               "An answer is due by {answer_deadline}.\nTrack it at {track_url}.\n"),
    },
    "answered": {
        "id": ("Pengaduan {ticket} telah dijawab",
               "{opd} telah menjawab pengaduan {ticket}.\nBaca jawabannya di {track_url}.\n"),
        "en": ("Complaint {ticket} answered",
               "{opd} answered complaint {ticket}.\nRead the answer at {track_url}.\n"),
    },
}


def render(template: str, locale: str, context: dict[str, Any]) -> tuple[str, str]:
    variants = TEMPLATES[template]
    subject, body = variants.get(locale) or variants["id"]
    return subject.format(**context), body.format(**context)


def queue(channel: str, recipient: str, template: str, context: dict[str, Any], *,
          locale: str = "id", complaint_id: int | None = None, dedupe_key: str | None = None) -> Outbox | None:
    """Add a notice to the outbox in the current transaction; a repeated dedupe_key is not queued twice."""
    if dedupe_key is not None:
        exists = db.session.scalar(select(Outbox.id).where(Outbox.dedupe_key == dedupe_key))
        if exists is not None:
            return None
    subject, body = render(template, locale, context)
    row = Outbox(channel=channel, recipient=recipient, template=template, locale=locale, subject=subject,
                 body=body, complaint_id=complaint_id, dedupe_key=dedupe_key, status="pending",
                 attempts=0, next_attempt_at=utcnow(), created_at=utcnow())
    db.session.add(row)
    return row
