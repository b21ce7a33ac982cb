"""Which complaints an actor may see: one query scope used by views, API and exports alike.

An Admin OPD sees only complaints currently routed to its own OPD; anything else is "not found"
(404), never "forbidden", so the existence of another agency's complaint does not leak.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..models import Complaint, NikCheck
from ..workflow import Role, State
from .common import Actor, NotFound

# An OPD holds a complaint from routing until it answers; a returned one has left its desk.
OPD_STATES = (State.DITERUSKAN, State.DIJAWAB, State.SELESAI, State.DISANGGAH)  # disputed: read only


def scope_filter(actor: Actor):
    """A WHERE clause for `actor`, or None when the actor may see every complaint."""
    if actor.has(Role.ADMIN_SISTEM, Role.PIMPINAN):
        return None
    clauses = []
    if actor.has(Role.VALIDATOR):
        clauses.append(Complaint.state.in_([State.MENUNGGU_VERIFIKASI, State.PERLU_DISPOSISI]))
        # …and the ones this validator decided, for their own statistics and history.
        clauses.append(Complaint.id.in_(sa.select(NikCheck.complaint_id)
                                        .where(NikCheck.validator_id == actor.user_id)))
    if actor.has(Role.ADMIN_OPD) and actor.opd_id is not None:
        clauses.append(sa.and_(Complaint.opd_id == actor.opd_id, Complaint.state.in_(OPD_STATES)))
    if not clauses:
        return sa.false()
    return sa.or_(*clauses)


def visible(actor: Actor, query=None):
    """`query` (default: all complaints) narrowed to what `actor` may see."""
    query = sa.select(Complaint) if query is None else query
    clause = scope_filter(actor)
    return query if clause is None else query.where(clause)


def get_visible(complaint_id: int, actor: Actor, *, for_update: bool = False) -> Complaint:
    query = visible(actor, sa.select(Complaint).where(Complaint.id == complaint_id))
    if for_update:
        query = query.with_for_update(of=Complaint)
    complaint = db.session.scalar(query)
    if complaint is None:
        raise NotFound("Pengaduan tidak ditemukan.")
    return complaint
