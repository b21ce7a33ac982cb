"""What each role may read of a complaint through the REST API.

A privacy rule, so it lives in the services and not in the API handler: the NIK is never sent whole
(the validator's desk is the only place for that; a validator gets it masked), never to an OPD; an OPD
gets no identity and only the masked title/text of an anonim complaint; contact data only to roles
that may see it (Pimpinan, Admin Sistem, the OPD of a publik or rahasia complaint). Every read that
returns personal data writes a history row.
"""

from __future__ import annotations

from datetime import datetime

from .. import audit
from ..crypto import drop_sealed
from ..extensions import db
from ..models import Complaint
from ..nik import mask as mask_nik
from ..timeutil import utcnow
from ..workflow import Role, State, Visibility
from . import cursor
from .common import Actor, Invalid, unit_of_work
from .complaints import cipher
from .scope import get_visible, visible
from .validation import siak_label, structural_findings, staff_name

API_PAGE, API_PAGE_MAX = 50, 100


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def _opd_only(actor: Actor) -> bool:
    return actor.has(Role.ADMIN_OPD) and not actor.has(Role.ADMIN_SISTEM, Role.PIMPINAN, Role.VALIDATOR)


def _summary(c: Complaint, actor: Actor, now: datetime) -> dict:
    hide_identity = _opd_only(actor) and c.visibility is Visibility.ANONIM
    return {
        "id": c.id, "ticket": c.ticket, "state": c.state.value, "visibility": c.visibility.value,
        "opd": {"code": c.opd.code, "name": c.opd.name},
        "title": c.public_title if hide_identity else c.title,
        "submitted_at": _iso(c.submitted_at), "validation_deadline": _iso(c.validation_deadline),
        "validation_overdue": bool(c.validation_overdue or (c.state is State.MENUNGGU_VERIFIKASI
                                                            and c.validation_deadline < now)),
        "routed_at": _iso(c.routed_at), "answer_deadline": _iso(c.answer_deadline),
        "answer_overdue": bool(c.answer_overdue), "answered_at": _iso(c.answered_at),
        "published": c.published_at is not None, "version": c.version,
    }


# Newest first by id (the REST list's documented order).
API_ORDER = cursor.Keyset(ident=Complaint.id, descending=True)


def api_list(actor: Actor, *, state: str | None = None, cursor_token: str | None = None,
             limit: int = API_PAGE) -> tuple[list[dict], str | None]:
    """Complaints the actor may see, newest first, keyset-paginated on id (no count, no OFFSET)."""
    limit = max(1, min(int(limit), API_PAGE_MAX))
    query = visible(actor)
    if state:
        try:
            query = query.where(Complaint.state == State(state))
        except ValueError:
            raise Invalid("Status tidak dikenal.", errors={"state": ", ".join(s.value for s in State)}) from None
    position = API_ORDER.position(cursor_token) if cursor_token else None
    if cursor_token and position is None:
        raise Invalid("Kursor halaman tidak valid; mulai lagi dari halaman pertama.", code="cursor",
                      errors={cursor.NEXT: "Gunakan nilai setelah dari jawaban sebelumnya."})
    items, next_token = API_ORDER.fetch(lambda q: list(db.session.scalars(q)), query, position, limit)
    now = utcnow()
    return [_summary(c, actor, now) for c in items], next_token


def api_detail(complaint_id: int, actor: Actor) -> dict:
    """One complaint with the fields the actor's role may read; a read of personal data is logged."""
    complaint = get_visible(complaint_id, actor)
    now = utcnow()
    out = _summary(complaint, actor, now)
    overseer = actor.has(Role.ADMIN_SISTEM, Role.PIMPINAN)
    opd_only = _opd_only(actor)
    anonim = complaint.visibility is Visibility.ANONIM
    out["text"] = complaint.public_text if (opd_only and anonim) else drop_sealed(complaint.text)
    out["location"] = complaint.location
    out["public_title"], out["public_text"] = complaint.public_title, complaint.public_text
    answer = complaint.current_answer
    out["answer"] = None if answer is None else {"text": answer.text, "created_at": _iso(answer.created_at),
                                                 "edited_at": _iso(answer.edited_at)}
    personal: list[str] = []
    if actor.has(Role.VALIDATOR) and complaint.state is State.MENUNGGU_VERIFIKASI:
        try:
            out["nik_masked"] = mask_nik(cipher().decrypt(complaint.nik_encrypted))
        except ValueError:
            out["nik_masked"] = None
        out["complainant"] = {"name": complaint.name}
        personal = ["name", "nik_masked"]
    elif overseer or (opd_only and not anonim):
        out["complainant"] = {"name": complaint.name, "phone": complaint.phone, "email": complaint.email,
                              "address": complaint.address}
        personal = ["name", "phone", "email", "address"]
    else:
        out["complainant"] = None
    if actor.has(Role.VALIDATOR) or overseer:
        out["nik_check"] = {
            "structural_ok": complaint.nik_structural_ok,
            "findings": [f.__dict__ for f in structural_findings(complaint)],
            "siak": {"verdict": complaint.siak_verdict, "label": siak_label(complaint.siak_verdict),
                     "score": complaint.siak_score, "reason": complaint.siak_reason,
                     "checked_at": _iso(complaint.siak_checked_at)},
        }
        held = complaint.claim_expires_at is not None and complaint.claim_expires_at > now
        out["claim"] = {"holder": staff_name(complaint.claimed_by), "until": _iso(complaint.claim_expires_at)} \
            if held else None
    if personal:
        with unit_of_work():
            audit.record("pii", "complaint.personal.view", actor=actor, complaint_id=complaint.id,
                         detail={"fields": personal, "via": "api"})
    return out


def summary(complaint: Complaint, actor: Actor) -> dict:
    """The list fields of one complaint (used after a decision)."""
    return _summary(complaint, actor, utcnow())
