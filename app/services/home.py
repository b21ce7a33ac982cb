"""The staff home (/staf/): for each role the counts that matter now, each the size of a desk list the page
links to (issue 16, item 4).

Every figure is counted with the query of the list it links to, so the number on the home and the length of
the list agree: the NIK queue (`validation.queue_query`), the OPD desk (`desk.queue_count` over
`desk.QueueFilter`), the one definition of late (`sql.waiting_overdue`), the desks' row scope
(`scope.visible`). Counts on big tables are capped (`sql.capped_count`): "1000+" rather than a full count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import Complaint, Opd, Outbox
from ..timeutil import utcnow
from ..workflow import Role, State
from . import desk, sql, validation
from .common import Actor
from .scope import visible


@dataclass(frozen=True)
class Figure:
    key: str  # what it counts (the template's label and link), e.g. "terlambat"
    count: int
    capped: bool = False

    @property
    def attention(self) -> bool:
        """Late or dead: shown in red when there is any."""
        return self.count > 0 and self.key in ("terlambat", "mati")


@dataclass(frozen=True)
class DeskLate:
    desk: str  # "validasi", "disposisi" or an OPD code
    name: str
    count: int
    capped: bool = False


@dataclass
class Home:
    validator: list[Figure] = field(default_factory=list)
    opd: list[Figure] = field(default_factory=list)
    late_by_desk: list[DeskLate] | None = None  # Pimpinan and Admin Sistem
    dead_notices: Figure | None = None

    @property
    def empty(self) -> bool:
        return not (self.validator or self.opd or self.late_by_desk is not None)


def home(actor: Actor, now: datetime | None = None) -> Home:
    now = now or utcnow()
    result = Home()
    if actor.has(Role.VALIDATOR):
        result.validator = [
            Figure(key, *sql.capped_count(validation.queue_query(actor, now, only), validation.QUEUE_COUNT_CAP))
            for key, only in (("menunggu", None), ("terlambat", validation.ONLY_LATE),
                              ("segera", validation.ONLY_DUE_SOON), ("saya", validation.ONLY_MINE))]
    if actor.has(Role.ADMIN_OPD) and actor.opd_id is not None:
        waiting = desk.TAB_WAITING
        result.opd = [
            Figure("menunggu", *desk.queue_count(actor, desk.QueueFilter(tab=waiting))),
            Figure("terlambat", *desk.queue_count(actor, desk.QueueFilter(tab=waiting, overdue=True))),
            Figure("hari-ini", *desk.queue_count(actor, desk.QueueFilter(tab=waiting, due_today=True))),
            Figure("dialihkan", *desk.queue_count(actor, desk.QueueFilter(tab=waiting, rerouted=True))),
        ]
    if actor.has(Role.PIMPINAN, Role.ADMIN_SISTEM):
        result.late_by_desk = late_by_desk(actor, now)
        result.dead_notices = Figure("mati", *sql.capped_count(sa.select(Outbox).where(Outbox.status == "dead"),
                                                               column=Outbox.id))
    return result


def late_by_desk(actor: Actor, now: datetime) -> list[DeskLate]:
    """What is late now, per desk: the NIK check, each OPD (still waiting past its deadline), and the
    complaints waiting for dispatch (they have no deadline of their own, so all of them are listed)."""
    from flask_babel import gettext as _

    rows = []
    late_check = visible(actor, sa.select(Complaint)).where(sql.waiting_overdue("validation", now))
    rows.append(DeskLate("validasi", _("Validasi NIK"), *sql.capped_count(late_check)))
    dispatch = visible(actor, sa.select(Complaint)).where(Complaint.state == State.PERLU_DISPOSISI)
    rows.append(DeskLate("disposisi", _("Disposisi (dikembalikan OPD atau OPD belum diketahui)"), *sql.capped_count(dispatch)))
    # One grouped count over the late rows only (ix_complaint_desk_deadline serves state + deadline).
    per_opd = db.session.execute(
        visible(actor, sa.select(Opd.code, Opd.name, sa.func.count(Complaint.id)))
        .select_from(Complaint).join(Opd, Opd.id == Complaint.opd_id)
        .where(sql.waiting_overdue("answer", now))
        .group_by(Opd.code, Opd.name).order_by(sa.func.count(Complaint.id).desc(), Opd.name)).all()
    rows.extend(DeskLate(code, name, n) for code, name, n in per_opd)
    return rows
