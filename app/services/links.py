"""The same problem, answered once (issue 18, part 3): a complaint linked to an earlier one of the same OPD
(its "main" complaint) is answered by the main complaint's answer.

- Who links: an Admin OPD its own OPD's routed complaints, a validator the complaints still awaiting the
  NIK check (workflow.LINK_STATES); the main complaint is one the linker may be shown as similar
  (services.similar.candidate_scope), routed to that OPD and not yet answered.
- Refused, with a message: itself, another OPD, a later complaint, a main complaint that is itself linked
  (no chains: link to its main), a complaint that is already a main or already linked, after the answer,
  and a rahasia main complaint (its answer would be shown on the linked complaints' pages).
- The answer (services.complaints.answer) answers every linked complaint still routed to that OPD: an
  answer of its own (a copy of the main's public answer, masked for it too; `Answer.main_answer_id`), its
  state, answered_at, routing and deadline closed by it, its timeline, history row and notification, like
  any answer. A linked complaint no longer at that OPD then (returned, still unchecked) is unlinked, on its
  timeline. A linked complaint is not answered on its own: answer the main one, or unlink it first.
- Unlinking is possible until the answer. Link and unlink are in the history log and on both timelines.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from .. import audit
from ..extensions import db
from ..models import Answer, Complaint, StatusEvent
from ..timeutil import utcnow
from ..workflow import Action, Role, State, Visibility, highest_role, may_link
from .common import Actor, Conflict, Forbidden, Invalid, read_text, unit_of_work
from .scope import get_visible, scope_filter
from .similar import candidate_scope


def _timeline(complaint: Complaint, action: Action, actor: Actor, note: str, role: Role | None = None) -> None:
    db.session.add(StatusEvent(
        complaint=complaint, from_state=complaint.state, to_state=complaint.state, action=action.value,
        actor_id=actor.user_id, actor_role=(role or highest_role(actor.roles) or Role.SYSTEM).value,
        opd_id=complaint.opd_id, at=utcnow(), note=note, public=True))


def _linking_role(actor: Actor, complaint: Complaint) -> Role:
    role = may_link(complaint.state, actor.roles)
    if role is None:
        if complaint.answered_at is not None:
            raise Conflict(_("Pengaduan ini sudah dijawab; tautan hanya dapat diubah sebelum jawaban."),
                           code="answered")
        raise Forbidden(_("Peran Anda tidak dapat menautkan pengaduan berstatus ini (OPD: pengaduan yang "
                          "diteruskan ke OPD Anda; validator: pengaduan yang belum diteruskan)."))
    return role


def children_count(main_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)
                             .where(Complaint.linked_to_id == main_id)) or 0


def linked_to(main_id: int) -> list[Complaint]:
    """The complaints linked to `main_id`, oldest first (the caller has checked `main_id` is visible)."""
    return list(db.session.scalars(sa.select(Complaint).where(Complaint.linked_to_id == main_id)
                                   .order_by(Complaint.submitted_at, Complaint.id)))


def _find_main(actor: Actor, main_id: int | None, ticket: str | None) -> Complaint:
    """The main complaint, if `actor` may be shown it as similar; a rahasia one the actor may see is refused
    by name, any other one they may not see is "not found"."""
    if main_id is not None:
        where = Complaint.id == main_id
    else:
        errors: dict[str, str] = {}
        ticket = read_text(errors, "ticket", ticket, limit=40) or ""
        if errors or not ticket:
            raise Invalid(_("Tulis tiket pengaduan utama."), errors={"ticket": _("Wajib diisi.")})
        where = Complaint.ticket == ticket.strip().upper()
    scope = candidate_scope(actor)
    main = db.session.scalar(sa.select(Complaint).where(where, *([] if scope is None else [scope])))
    if main is None:
        visible = scope_filter(actor)
        hidden = db.session.scalar(sa.select(Complaint.visibility).where(where, *([] if visible is None else [visible])))
        if hidden is Visibility.RAHASIA:
            raise Invalid(_("Pengaduan rahasia tidak dapat menjadi pengaduan utama: jawabannya akan tampil "
                            "bersama pengaduan lain."), errors={"ticket": _("Pengaduan rahasia.")}, code="rahasia")
        raise Invalid(_("Pengaduan utama tidak ditemukan."), errors={"ticket": _("Tiket tidak dikenal.")},
                      code="main_not_found")
    return main


def refusal(complaint: Complaint, main: Complaint) -> str | None:
    """Why `complaint` cannot be linked to `main` (both rows the linker may see), or None."""
    if main.id == complaint.id:
        return _("Pengaduan tidak dapat ditautkan ke dirinya sendiri.")
    if main.opd_id != complaint.opd_id:
        return _("Hanya pengaduan untuk OPD yang sama yang dapat ditautkan.")
    if main.visibility is Visibility.RAHASIA:
        return _("Pengaduan rahasia tidak dapat menjadi pengaduan utama: jawabannya akan tampil bersama "
                 "pengaduan lain.")
    if main.linked_to_id is not None:
        return _("Pengaduan %(ticket)s sendiri ditautkan ke %(main)s: tautkan ke %(main)s.",
                 ticket=main.ticket, main=main.linked_to.ticket if main.linked_to else "–")
    if complaint.linked_to_id is not None:
        return _("Pengaduan ini sudah ditautkan ke %(ticket)s; lepaskan tautannya dahulu.",
                 ticket=complaint.linked_to.ticket if complaint.linked_to else "–")
    if main.answered_at is not None or main.state is not State.DITERUSKAN:
        return _("Pengaduan %(ticket)s tidak sedang menunggu jawaban OPD (sudah dijawab, atau belum/tidak lagi "
                 "diteruskan); tautan hanya ke pengaduan yang belum dijawab.", ticket=main.ticket)
    if (main.submitted_at, main.id) > (complaint.submitted_at, complaint.id):
        return _("Tautkan ke pengaduan yang lebih awal; pengaduan %(ticket)s masuk sesudah pengaduan ini.",
                 ticket=main.ticket)
    return None


def link(complaint_id: int, actor: Actor, *, main_id: int | None = None, ticket: str | None = None) -> Complaint:
    """Link `complaint_id` to its main complaint (by id, from the similar list, or by ticket)."""
    with unit_of_work():
        complaint = get_visible(complaint_id, actor, for_update=True)
        role = _linking_role(actor, complaint)
        main = _find_main(actor, main_id, ticket)
        why = refusal(complaint, main)
        if why is None and children_count(complaint.id):
            why = _("Pengaduan ini sudah menjadi pengaduan utama bagi pengaduan lain; tautkan pengaduan itu ke "
                    "pengaduan utama yang baru satu per satu.")
        if why is not None:
            raise Conflict(why, code="link_refused")
        complaint.linked_to_id, complaint.linked_to = main.id, main
        _timeline(complaint, Action.LINK, actor, f"Ditautkan ke pengaduan {main.ticket} (masalah yang sama).", role)
        _timeline(main, Action.LINK, actor, f"Pengaduan {complaint.ticket} ditautkan ke pengaduan ini.", role)
        audit.record("action", "complaint.link", actor=actor, complaint_id=complaint.id,
                     detail={"main": main.ticket})
    return complaint


def unlink(complaint_id: int, actor: Actor) -> Complaint:
    with unit_of_work():
        complaint = get_visible(complaint_id, actor, for_update=True)
        if complaint.linked_to_id is None:
            raise Conflict(_("Pengaduan ini tidak ditautkan ke pengaduan lain."), code="not_linked")
        role = _linking_role(actor, complaint)
        main = complaint.linked_to
        complaint.linked_to_id, complaint.linked_to = None, None
        _timeline(complaint, Action.UNLINK, actor, f"Tautan ke pengaduan {main.ticket} dilepas.", role)
        _timeline(main, Action.UNLINK, actor, f"Tautan pengaduan {complaint.ticket} dilepas.", role)
        audit.record("action", "complaint.unlink", actor=actor, complaint_id=complaint.id,
                     detail={"main": main.ticket})
    return complaint


# --------------------------------------------------------------------------- the answer (services.complaints)


def refuse_own_answer(complaint: Complaint) -> None:
    """A linked complaint waiting for its main complaint's answer is not answered on its own."""
    if complaint.linked_to_id is not None and not complaint.answers:
        raise Conflict(_("Pengaduan ini ditautkan ke %(ticket)s: jawab pengaduan utama (jawabannya menjawab "
                         "pengaduan ini juga), atau lepaskan tautannya dahulu.",
                         ticket=complaint.linked_to.ticket if complaint.linked_to else "–"), code="linked")


def answer_linked(main: Complaint, reply: Answer, actor: Actor, now) -> list[Complaint]:
    """In the answer's transaction: answer every complaint linked to `main` with `reply`; unlink the ones
    no longer at that OPD. Returns the complaints answered."""
    from . import complaints as c
    from .. import notify
    from ..workflow import apply_transition

    done = []
    for child in linked_to(main.id):
        if child.answered_at is not None:
            continue
        if child.state is not State.DITERUSKAN or child.opd_id != main.opd_id:
            child.linked_to_id, child.linked_to = None, None
            _timeline(child, Action.UNLINK, actor,
                      f"Tautan ke pengaduan {main.ticket} dilepas: pengaduan ini tidak sedang di {main.opd.name} "
                      "saat pengaduan utama dijawab.")
            audit.record("action", "complaint.unlink", actor=actor, complaint_id=child.id,
                         detail={"main": main.ticket, "reason": "answered_elsewhere"})
            continue
        move = apply_transition(Action.ANSWER, child.state, actor.roles)
        text = c._public_of(child, reply.public_text)
        copy = Answer(complaint=child, opd_id=child.opd_id, author_id=actor.user_id, text=text, public_text=text,
                      created_at=now, main_answer_id=reply.id)
        db.session.add(copy)
        child.answered_at = child.closed_at = now
        c._close_routing(child, now, "answered")
        c._event(child, move, actor, note=f"Dijawab bersama pengaduan {main.ticket} oleh {child.opd.name}.", at=now)
        db.session.flush()
        audit.record("action", "complaint.answer", actor=actor, complaint_id=child.id,
                     detail={"with": main.ticket})
        c._notify_complainant(child, "answered")
        notify.queue_lapor(child, "answer", copy.public_text, dedupe_key=f"lapor:answer:{copy.id}")
        done.append(child)
    return done


def edit_linked(reply: Answer, reason: str) -> None:
    """An edit of the main complaint's answer reaches the copies on the linked complaints."""
    from . import complaints as c

    for copy in db.session.scalars(sa.select(Answer).where(Answer.main_answer_id == reply.id)):
        copy.text = copy.public_text = c._public_of(copy.complaint, reply.public_text)
        copy.edited_at, copy.edit_reason = reply.edited_at, reason


# --------------------------------------------------------------------------- what a desk shows


@dataclass(frozen=True)
class LinkedItem:
    ticket: str
    title: str  # the public rendering
    state: State


@dataclass(frozen=True)
class LinkPanel:
    """The similar complaints and the link of one complaint, as the validator's and the OPD's pages show them."""

    similar: list  # services.similar.SimilarItem
    linkable: frozenset  # ids of the similar ones this complaint may be linked to ("Tautkan")
    linked_to_ticket: str | None
    children: list[LinkedItem]
    can_link: bool  # the "by ticket" form
    can_unlink: bool


def panel(complaint_id: int, actor: Actor) -> LinkPanel:
    from .similar import similar_to

    with unit_of_work():
        complaint = get_visible(complaint_id, actor)
        similar = similar_to(complaint_id, actor)
        children = linked_to(complaint.id)
        allowed = may_link(complaint.state, actor.roles) is not None
        can_link = allowed and complaint.linked_to_id is None and not children
        linkable: set[int] = set()
        if can_link and similar:
            mains = db.session.scalars(sa.select(Complaint).where(Complaint.id.in_([s.id for s in similar])))
            linkable = {m.id for m in mains if refusal(complaint, m) is None}
        return LinkPanel(
            similar=similar, linkable=frozenset(linkable),
            linked_to_ticket=complaint.linked_to.ticket if complaint.linked_to else None,
            children=[LinkedItem(c.ticket, c.public_title or "", c.state) for c in children],
            can_link=can_link, can_unlink=allowed and complaint.linked_to_id is not None)
