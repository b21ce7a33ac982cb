"""Personal data on staff pages: the one way to read it, so every view is in the history log.

Pattern for any staff page that shows a complainant's contact data::

    contact = personal_data.view_contact(complaint_id, Actor.from_user(g.user))   # commits the log row
    return render_template(..., contact=contact)          # None: this actor may not see the identity

A NIK is shown masked everywhere (`masked_nik(complaint)`, jinja filter `masked_nik`); only the
validator's desk shows it in full, through `view_nik`, which writes its own history row.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import audit
from ..nik import mask
from ..workflow import Role, Visibility
from .common import Actor, Forbidden, unit_of_work
from .scope import get_visible
from .security import ERASED


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str | None
    email: str | None
    address: str | None


def may_see_identity(complaint, actor: Actor) -> bool:
    """Anonim hides the complainant from the OPD (DESIGN.md, visibility table); other staff in scope
    may see it."""
    if actor.has(Role.ADMIN_SISTEM, Role.PIMPINAN, Role.VALIDATOR):
        return True
    return actor.has(Role.ADMIN_OPD) and complaint.visibility is not Visibility.ANONIM


def view_contact(complaint_id: int, actor: Actor, *, purpose: str | None = None) -> Contact | None:
    """The complainant's name and contact data, with a history row ("pii", "contact.view"); None when
    the actor may not see the identity (nothing is logged then, nothing was shown)."""
    with unit_of_work():
        complaint = get_visible(complaint_id, actor)
        if not may_see_identity(complaint, actor):
            return None
        fields = [n for n in ("phone", "email", "address") if getattr(complaint, n)]
        audit.record("pii", "contact.view", actor=actor, complaint_id=complaint.id,
                     detail={"fields": ["name", *fields], **({"purpose": purpose} if purpose else {})})
        return Contact(complaint.name, complaint.phone, complaint.email, complaint.address)


def view_nik(complaint_id: int, actor: Actor) -> str:
    """The full NIK, for the validator's desk only, with a history row ("pii", "nik.view")."""
    from .complaints import cipher

    if not actor.has(Role.VALIDATOR):
        raise Forbidden("NIK lengkap hanya ditampilkan di meja validator.")
    with unit_of_work():
        complaint = get_visible(complaint_id, actor)
        audit.record("pii", "nik.view", actor=actor, complaint_id=complaint.id)
        token = complaint.nik_encrypted
    return cipher().decrypt(token)


def masked_nik(complaint) -> str:
    """'3508••••••••0001' for any staff page; '–' once retention has erased it."""
    from .complaints import cipher

    token = getattr(complaint, "nik_encrypted", complaint)
    if not token or token == ERASED:
        return "–"
    try:
        return mask(cipher().decrypt(token))
    except ValueError:
        return "\u2022" * 16
