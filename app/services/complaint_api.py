"""What the REST API returns of a complaint: JSON built from `disclosure.present`, never from a row.

The NIK is never sent whole (a validator gets it masked; the validator's desk is the only place for the
full NIK), never to an OPD; an OPD gets no identity and only the masked title/text of an anonim complaint.
Every read that returns personal data writes a history row (disclosure.present does it).
"""

from __future__ import annotations

from datetime import datetime

from ..extensions import db
from ..models import Complaint
from ..timeutil import utcnow
from ..workflow import State
from . import cursor
from .common import Actor, Invalid, unit_of_work
from .disclosure import ComplaintView, Screen, for_present, present
from .scope import get_visible, visible
from .validation import siak_label, staff_name, structural_findings

API_PAGE = 50
API_PAGE_MAX = 100


def iso(value: datetime | None) -> str | None:
    """A stored (naive UTC) time as the API writes it: ISO 8601 with Z, whole seconds."""
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


_iso = iso


def view_summary(v: ComplaintView) -> dict:
    """The list fields of a complaint as the disclosure policy presented it (ComplaintSummary)."""
    return {
        "id": v.id, "ticket": v.ticket, "state": v.state.value, "visibility": v.visibility.value,
        "opd": {"code": v.opd_code, "name": v.opd_name}, "title": v.title,
        "submitted_at": _iso(v.submitted_at), "validation_deadline": _iso(v.validation_deadline),
        "validation_overdue": v.validation_overdue, "routed_at": _iso(v.routed_at),
        "answer_deadline": _iso(v.answer_deadline), "answer_overdue": v.answer_overdue,
        "answered_at": _iso(v.answered_at), "published": v.published, "version": v.version,
        "channel": v.channel, "lapor_id": v.lapor_id,
    }


# Newest first by id (the REST list's documented order).
API_ORDER = cursor.Keyset(ident=Complaint.id, descending=True)


def api_list(actor: Actor, *, state: str | None = None, cursor_token: str | None = None,
             limit: int = API_PAGE) -> tuple[list[dict], str | None]:
    """Complaints the actor may see, newest first, keyset-paginated on id (no count, no OFFSET)."""
    limit = max(1, min(int(limit), API_PAGE_MAX))
    query = visible(actor)
    if state is not None:  # sent but empty or unknown: refused, not read as "every state"
        try:
            query = query.where(Complaint.state == State(state))
        except ValueError:
            raise Invalid("Status tidak dikenal.", errors={"state": ", ".join(s.value for s in State)}) from None
    position = API_ORDER.position(cursor_token) if cursor_token else None
    if cursor_token and position is None:
        raise Invalid("Kursor halaman tidak valid; mulai lagi dari halaman pertama.", code="cursor",
                      errors={cursor.NEXT: "Gunakan nilai setelah dari jawaban sebelumnya."})
    items, next_token = API_ORDER.fetch(lambda q: list(db.session.scalars(for_present(q, brief=True))), query,
                                        position, limit)
    now = utcnow()
    return [view_summary(present(c, actor, Screen.API, log=False, now=now, brief=True)) for c in items], next_token


def api_detail(complaint_id: int, actor: Actor) -> dict:
    """One complaint with the fields the actor's role may read; a read of personal data is logged."""
    with unit_of_work():
        complaint = get_visible(complaint_id, actor)
        view = present(complaint, actor, Screen.API)
        out = view_summary(view)
        out.update(text=view.text, location=view.location, public_title=view.public_title,
                   public_text=view.public_text)
        answer = view.answer
        out["answer"] = None if answer is None else {"text": answer.text, "created_at": _iso(answer.created_at),
                                                     "edited_at": _iso(answer.edited_at)}
        person = view.complainant
        out["complainant"] = None if person is None else {
            k: v for k, v in (("name", person.name), ("phone", person.phone), ("email", person.email),
                              ("address", person.address)) if getattr(view.disclosure, _RULE_OF[k])}
        if view.nik is not None:
            out["nik_masked"] = view.nik
        if view.disclosure.nik_check:
            out["nik_check"] = {
                "structural_ok": view.nik_structural_ok,
                "findings": [f.__dict__ for f in structural_findings(complaint)],
                "siak": {"verdict": view.siak_verdict, "label": siak_label(view.siak_verdict),
                         "score": view.siak_score, "reason": view.siak_reason,
                         "checked_at": _iso(view.siak_checked_at)},
            }
            held = view.claim_expires_at is not None and view.claim_expires_at > utcnow()
            out["claim"] = ({"holder": staff_name(complaint.claimed_by), "until": _iso(view.claim_expires_at)}
                            if held else None)
    return out


_RULE_OF = {"name": "name", "phone": "contact", "email": "contact", "address": "address"}


def summary(complaint: Complaint, actor: Actor) -> dict:
    """The list fields of one complaint (used after a decision)."""
    return view_summary(present(complaint, actor, Screen.API, log=False))


__all__ = ["API_PAGE", "api_detail", "api_list", "iso", "summary", "view_summary"]
