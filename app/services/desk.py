"""The OPD desk and the dispatch queue (SOP rows 6-8): queues, the detail a desk may show, internal
notes, attachment access, answer versions, the CSV export and the time each OPD held a complaint.

Every query starts from `scope.visible(actor, …)`, the one row-level scope shared with the REST API
and the exports: an Admin OPD never reaches another agency's complaint, whatever the entry point.
Lists are keyset-paginated and counts are capped, so a page costs the same at a million rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Iterator, Sequence

import sqlalchemy as sa

from .. import audit
from ..crypto import drop_sealed
from ..extensions import db
from ..models import Attachment, Complaint, InternalNote, Opd, Routing
from ..labels import NO, STATE_LABELS, VISIBILITY_LABELS, YES
from ..timeutil import format_wib, from_wib, to_wib, utcnow
from ..workflow import ANSWERED_STATES, Action, Role, State, find_transition
from . import cursor as cursor_codec
from . import sql
from .common import Actor, Forbidden, NotFound, require_text, setting, unit_of_work
from .complaints import dispatch_roles
from .disclosure import ComplaintView, Screen, complainant_label, for_present, present, title_column, viewer_for
from .scope import get_visible, visible

PAGE_SIZE = 25
COUNT_CAP = sql.COUNT_CAP
EXPORT_BATCH = 500
NOTE_MAX = 2000

TAB_WAITING = "menunggu"
TAB_ANSWERED = "dijawab"
TABS = (TAB_WAITING, TAB_ANSWERED)

STAFF_ROLES = frozenset({Role.ADMIN_SISTEM, Role.PIMPINAN, Role.VALIDATOR, Role.ADMIN_OPD})


# --------------------------------------------------------------------------- queues

# The orders of the queues (ix_complaint_desk_deadline, ix_complaint_desk_answered): waiting and dispatch
# nearest deadline first, answered newest answer first; ties by id. A routed complaint always has a
# deadline; should one lack it, it is listed last rather than lost.
WAITING_ORDER = cursor_codec.Keyset(ident=Complaint.id, key=Complaint.answer_deadline, nullable=True)
ANSWERED_ORDER = cursor_codec.Keyset(ident=Complaint.id, key=Complaint.answered_at, descending=True)


@dataclass
class QueueFilter:
    tab: str = TAB_WAITING
    q: str | None = None  # ticket (exact) or words of the public title
    opd_code: str | None = None  # Admin Sistem / Pimpinan only; an Admin OPD is held to its own OPD
    overdue: bool = False
    cursor: str | None = None  # the page's position (services.cursor), from ?setelah=
    due_today: bool = False  # not late yet, the deadline falls before the end of today (WIB)
    rerouted: bool = False  # came to this OPD after another hop ended (returned "bukan wewenang", re-routed)

    def __post_init__(self):
        if self.tab not in TABS:
            self.tab = TAB_WAITING
        self.q = (self.q or "").strip()[:100] or None
        self.opd_code = (self.opd_code or "").strip()[:32] or None


def filter_from_args(args, cursor: str | None = None) -> QueueFilter:
    """The desk's filter from its query parameters (the screen's and the REST queue's, one reading)."""
    return QueueFilter(tab=args.get("tab", TAB_WAITING), q=args.get("q"), opd_code=args.get("opd"),
                       overdue=args.get("terlambat") == "1", cursor=cursor,
                       due_today=args.get("tenggat") == "hari-ini", rerouted=args.get("dialihkan") == "1")


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    count: int
    count_capped: bool


def _desk_query(actor: Actor, flt: QueueFilter, screen: Screen = Screen.OPD_DESK, counting: bool = False):
    """The desk's rows for `actor` and `flt`, ordered for keyset paging. Scope first, then filters.

    `counting`: for a count only. The answered tab then leaves out `answered_at IS NOT NULL`, which the
    CHECK ck_complaint_answered_at already guarantees for these states: the count is then read from
    ix_complaint_queue_opd alone (0.3 ms for 1,001 rows at 1,000,000 complaints, 9 ms with the heap
    visits). The page keeps it: its ORDER BY answered_at DESC would otherwise walk past the NULLs first."""
    query = visible(actor, sa.select(Complaint))
    if flt.tab == TAB_WAITING:
        query = query.where(Complaint.state == State.DITERUSKAN)
    else:
        query = query.where(Complaint.state.in_(list(ANSWERED_STATES)))  # disputed ones too
        if not counting:
            query = query.where(Complaint.answered_at.is_not(None))
    if flt.opd_code and not actor.has(Role.ADMIN_OPD):
        query = query.where(Complaint.opd_id == sa.select(Opd.id).where(Opd.code == flt.opd_code)
                            .scalar_subquery())
    now = utcnow()
    if flt.overdue:
        query = query.where(sql.answer_overdue(now))
    if flt.due_today:
        query = query.where(sql.due_before("answer", now, end_of_wib_day(now)))
    if flt.rerouted:
        earlier = sa.select(Routing.id).where(Routing.complaint_id == Complaint.id, Routing.ended_at.is_not(None),
                                              Routing.outcome.in_(["returned", "rerouted"]))
        query = query.where(earlier.exists())
    if flt.q:
        ticket = flt.q.upper()
        if ticket.startswith(f"{setting('TICKET_PREFIX')}-"):
            query = query.where(Complaint.ticket == ticket)
        else:
            # Only the title this viewer may read (disclosure policy): an OPD searching the original of an
            # anonim complaint could probe for the complainant's name.
            pattern = "%" + flt.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(title_column(viewer_for(actor, screen)).ilike(pattern, escape="\\"))
    return query


def desk_page(actor: Actor, flt: QueueFilter, page_size: int | None = None) -> Page:
    """One page of a desk tab as `ComplaintView`s (the disclosure policy's OPD-desk view); a cursor that does
    not fit (garbage, another list's) means the first page."""
    page_size = page_size or PAGE_SIZE
    base = _desk_query(actor, flt)
    count, capped = sql.capped_count(_desk_query(actor, flt, counting=True))
    order = WAITING_ORDER if flt.tab == TAB_WAITING else ANSWERED_ORDER
    rows, next_cursor = order.fetch(lambda q: list(db.session.scalars(for_present(q, brief=True))), base,
                                    order.position(flt.cursor), page_size)
    now = utcnow()
    return Page([present(c, actor, Screen.OPD_DESK, log=False, now=now, brief=True) for c in rows], next_cursor,
                count, capped)


def tab_counts(actor: Actor, flt: QueueFilter, page: Page | None = None) -> dict[str, tuple[int, bool]]:
    """The capped count of each tab under the same filters; `page` (desk_page's answer for `flt`) gives its
    own tab's count, which is not counted again."""
    counts = {flt.tab: (page.count, page.count_capped)} if page is not None else {}
    for tab in TABS:
        if tab not in counts:
            counts[tab] = sql.capped_count(_desk_query(actor, QueueFilter(
                tab=tab, q=flt.q, opd_code=flt.opd_code, overdue=flt.overdue, due_today=flt.due_today,
                rerouted=flt.rerouted), counting=True))
    return {tab: counts[tab] for tab in TABS}


def queue_count(actor: Actor, flt: QueueFilter) -> tuple[int, bool]:
    """The capped count of one desk list (the staff home's figures are the desk's own lists)."""
    return sql.capped_count(_desk_query(actor, flt, counting=True))


def end_of_wib_day(now: datetime) -> datetime:
    """The end of `now`'s WIB day, as naive UTC."""
    local = to_wib(now)
    return from_wib(datetime.combine(local.date() + timedelta(days=1), time()))


@dataclass
class DispatchRow:
    complaint: ComplaintView
    returned_by: Opd | None  # None: the complainant did not know the OPD ("Saya tidak tahu OPD-nya")
    returned_at: datetime | None
    reason: str | None
    suggestions: list = field(default_factory=list)  # routing.Suggestion, best first (issue 18)
    waiting_since: datetime | None = None  # since the return, or the valid NIK of a complaint without an OPD
    waited_seconds: float = 0.0  # the dispatcher's time, not an OPD's (no answer deadline runs meanwhile)

    @property
    def unknown_opd(self) -> bool:
        return self.complaint.opd_id is None


def dispatch_page(actor: Actor, cursor: str | None = None, page_size: int | None = None) -> Page:
    """Complaints waiting for dispatch: returned "bukan wewenang" (with the OPD's reason), and complaints
    whose complainant did not know the OPD, once their NIK was found valid; each with how long it waits."""
    page_size = page_size or PAGE_SIZE
    if not actor.has(*dispatch_roles()):
        raise Forbidden("Anda tidak berwenang mendisposisi pengaduan.")
    base = visible(actor, sa.select(Complaint)).where(Complaint.state == State.PERLU_DISPOSISI)
    count, capped = sql.capped_count(base)
    complaints, next_cursor = WAITING_ORDER.fetch(lambda q: list(db.session.scalars(for_present(q))), base,
                                                  WAITING_ORDER.position(cursor), page_size)
    hops = _last_returns([c.id for c in complaints])
    now = utcnow()
    from .routing import suggest_for_view

    rows = []
    for c in complaints:
        returned_by, returned_at, reason = hops.get(c.id) or (None, None, None)
        since = returned_at if c.opd_id is not None else c.validated_at
        rows.append(DispatchRow(present(c, actor, Screen.DISPATCH, log=False, now=now), returned_by, returned_at,
                                reason, waiting_since=since,
                                waited_seconds=max(0.0, (now - since).total_seconds()) if since else 0.0))
    for row in rows:  # the OPD that just said "bukan wewenang" is not suggested again
        row.suggestions = suggest_for_view(row.complaint, exclude=(row.returned_by.code,) if row.returned_by else ())
    return Page(rows, next_cursor, count, capped)


def _last_returns(ids: Sequence[int]) -> dict[int, tuple[Opd, datetime, str]]:
    if not ids:
        return {}
    hops = db.session.scalars(sa.select(Routing).where(Routing.complaint_id.in_(ids),
                                                      Routing.outcome == "returned").order_by(Routing.id))
    return {h.complaint_id: (h.opd, h.ended_at, h.reason) for h in hops}  # the last one per complaint wins


def active_opds() -> list[Opd]:
    return list(db.session.scalars(sa.select(Opd).where(Opd.active.is_(True)).order_by(Opd.name)))


# --------------------------------------------------------------------------- one complaint


@dataclass
class Hop:
    opd: Opd
    routed_at: datetime
    deadline: datetime
    ended_at: datetime | None
    outcome: str | None
    reason: str | None
    seconds: float


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    action: str
    to_state: State
    actor_role: str
    note: str | None
    public: bool


@dataclass(frozen=True)
class NoteView:
    author: str
    created_at: datetime
    text: str


@dataclass
class DeskDetail:
    complaint: ComplaintView
    events: list[TimelineItem]
    notes: list[NoteView]
    hops: list[Hop]
    can_answer: bool
    can_edit_answer: bool
    can_return: bool
    can_reroute: bool
    can_note: bool
    can_see_versions: bool
    return_reason: str | None = None

    @property
    def identity(self):
        """The complainant as the policy shows them here, or None (anonim, for an OPD)."""
        return self.complaint.complainant

    @property
    def shows_original(self) -> bool:
        return self.complaint.disclosure.text.value != "public"


def _may(action: Action, state: State, actor: Actor) -> bool:
    transition = find_transition(action, state)
    return transition is not None and bool(transition.roles & actor.roles)


def hops_of(complaint_id: int, now: datetime | None = None) -> list[Hop]:
    now = now or utcnow()
    rows = db.session.scalars(sa.select(Routing).where(Routing.complaint_id == complaint_id).order_by(Routing.id))
    return [Hop(r.opd, r.routed_at, r.deadline, r.ended_at, r.outcome, r.reason,
                ((r.ended_at or now) - r.routed_at).total_seconds()) for r in rows]


def open_complaint(complaint_id: int, actor: Actor) -> DeskDetail:
    """What the OPD desk shows of one complaint (the disclosure policy's OPD-desk view); a view of
    personal data goes to the history log in the same transaction."""
    with unit_of_work():
        complaint = get_visible(complaint_id, actor)
        view = present(complaint, actor, Screen.OPD_DESK)
        state = complaint.state
        reply = complaint.current_answer
        hops = hops_of(complaint.id)
        returned = [h for h in hops if h.outcome == "returned"]
        events = [TimelineItem(e.at, e.action, e.to_state, e.actor_role, e.note, e.public) for e in complaint.events]
        detail = DeskDetail(
            complaint=view, events=events, notes=notes_of(complaint.id) if view.disclosure.notes else [], hops=hops,
            can_answer=_may(Action.ANSWER, state, actor),
            can_edit_answer=reply is not None and actor.has(Role.ADMIN_OPD),
            can_return=_may(Action.RETURN, state, actor),
            can_reroute=_may(Action.REROUTE, state, actor),
            can_note=bool(actor.roles & STAFF_ROLES),
            can_see_versions=reply is not None and actor.has(Role.PIMPINAN, Role.ADMIN_SISTEM),
            return_reason=returned[-1].reason if returned and state is State.PERLU_DISPOSISI else None,
        )
    return detail


def notes_of(complaint_id: int) -> list[NoteView]:
    """Callers have checked the complaint is visible and the policy shows notes (open_complaint)."""
    notes = db.session.scalars(sa.select(InternalNote).where(InternalNote.complaint_id == complaint_id)
                               .options(sa.orm.selectinload(InternalNote.author)).order_by(InternalNote.id))
    return [NoteView(f"{n.author.first_name} {n.author.last_name}".strip() if n.author else "–", n.created_at, n.text)
            for n in notes]


def add_note(complaint_id: int, actor: Actor, text: str) -> InternalNote:
    """An internal note: staff who can see the complaint read it; never on a public page."""
    if not actor.roles & STAFF_ROLES:
        raise Forbidden("Hanya petugas yang dapat menulis catatan internal.")
    text = require_text("text", text, "Catatan wajib diisi.", limit=NOTE_MAX, multiline=True)
    with unit_of_work():
        complaint = get_visible(complaint_id, actor)
        note = InternalNote(complaint_id=complaint.id, author_id=actor.user_id, text=text, created_at=utcnow())
        db.session.add(note)
        audit.record("action", "note.add", actor=actor, complaint_id=complaint.id)
    return note


def attachment_for(complaint_id: int, attachment_id: int, actor: Actor,
                   screen: Screen = Screen.OPD_DESK) -> Attachment:
    """The file, if the complaint is visible to `actor`, the policy shows its files on `screen` and the file
    belongs to it; else NotFound."""
    with unit_of_work():
        complaint = get_visible(complaint_id, actor)
        if not present(complaint, actor, screen, log=False).disclosure.attachments:
            raise NotFound("Lampiran tidak ditemukan.")
        found = db.session.scalar(sa.select(Attachment).where(Attachment.id == attachment_id,
                                                              Attachment.complaint_id == complaint.id))
        if found is None:
            raise NotFound("Lampiran tidak ditemukan.")
        audit.record("pii", "attachment.download", actor=actor, complaint_id=complaint.id,
                     detail={"attachment": found.id})
    return found


@dataclass
class AnswerVersion:
    number: int
    text: str
    edited_at: datetime | None
    edit_reason: str | None
    recorded_at: datetime | None
    recorded_by: str | None


def answer_versions(complaint_id: int, actor: Actor) -> tuple[ComplaintView, list[AnswerVersion]]:
    """Every version of the answer (SQLAlchemy-Continuum), oldest first: for supervisors."""
    if not actor.has(Role.PIMPINAN, Role.ADMIN_SISTEM):
        raise Forbidden("Riwayat versi jawaban hanya untuk Pimpinan dan Admin Sistem.")
    complaint = get_visible(complaint_id, actor)
    view = present(complaint, actor, Screen.RECORDS, log=False)
    versions: list[AnswerVersion] = []
    for reply in complaint.answers:
        for v in reply.versions:
            tx = v.transaction
            user = getattr(tx, "user", None)
            versions.append(AnswerVersion(
                number=len(versions) + 1, text=drop_sealed(v.text or ""), edited_at=v.edited_at,
                edit_reason=v.edit_reason,
                recorded_at=getattr(tx, "issued_at", None),
                recorded_by=(f"{user.first_name} {user.last_name}".strip() if user else None)))
    return view, versions


# --------------------------------------------------------------------------- export

EXPORT_HEADER = ("Tiket", "Masuk (WIB)", "OPD", "Status", "Visibilitas", "Judul", "Pengadu",
                 "Diteruskan (WIB)", "Tenggat jawaban (WIB)", "Dijawab (WIB)", "Terlambat")


def export_rows(actor: Actor, flt: QueueFilter | None = None) -> Iterator[tuple]:
    """The desk's complaints as rows for `exports.csv_response`, read in keyset batches through the
    one scope. Without a filter: every complaint the actor may see (an Admin OPD: its own OPD's).
    The history log records the export before the first row is read."""
    with unit_of_work():
        audit.record("pii", "complaint.export", actor=actor,
                     detail={"tab": flt.tab if flt else None, "q": flt.q if flt else None})
    base = _desk_query(actor, flt) if flt is not None else visible(actor, sa.select(Complaint))
    now = utcnow()

    def generate() -> Iterator[tuple]:
        last_id = 0
        while True:
            batch = list(db.session.scalars(for_present(base.where(Complaint.id > last_id).order_by(None)
                                                        .order_by(Complaint.id).limit(EXPORT_BATCH))))
            for c in batch:
                v = present(c, actor, Screen.EXPORT, log=False, now=now)
                # Words, not codes: the one label table (app/labels.py).
                yield (v.ticket, format_wib(v.submitted_at), v.opd_code, str(STATE_LABELS[v.state]),
                       str(VISIBILITY_LABELS[v.visibility]), v.title, complainant_label(v), format_wib(v.routed_at),
                       format_wib(v.answer_deadline), format_wib(v.answered_at),
                       str(YES if v.answer_overdue else NO))
            if len(batch) < EXPORT_BATCH:
                return
            last_id = batch[-1].id

    return generate()


# --------------------------------------------------------------------------- time per OPD (recap)


def opd_time_recap(actor: Actor, start: datetime | None = None, end: datetime | None = None) -> list[dict]:
    """Per OPD: hops received, answered, returned, re-routed away, still open, and the time held
    (total and mean, seconds) from the Routing table. An Admin OPD sees its own OPD's line only."""
    now = utcnow()
    ended = sa.func.coalesce(Routing.ended_at, sa.literal(now, sa.DateTime))
    held = sql.seconds_between(Routing.routed_at, ended)
    query = (sa.select(Opd.code, Opd.name, sa.func.count(Routing.id),
                       sa.func.sum(sa.case((Routing.outcome == "answered", 1), else_=0)),
                       sa.func.sum(sa.case((Routing.outcome == "returned", 1), else_=0)),
                       sa.func.sum(sa.case((Routing.outcome == "rerouted", 1), else_=0)),
                       sa.func.sum(sa.case((Routing.ended_at.is_(None), 1), else_=0)),
                       sa.func.sum(held), sa.func.avg(held))
             .join(Opd, Opd.id == Routing.opd_id).group_by(Opd.code, Opd.name).order_by(Opd.name))
    if start is not None:
        query = query.where(Routing.routed_at >= start)
    if end is not None:
        query = query.where(Routing.routed_at < end)
    if not actor.has(Role.ADMIN_SISTEM, Role.PIMPINAN):
        if not actor.has(Role.ADMIN_OPD) or actor.opd_id is None:
            raise Forbidden("Rekap waktu per OPD hanya untuk Pimpinan, Admin Sistem dan OPD sendiri.")
        query = query.where(Routing.opd_id == actor.opd_id)
    keys = ("opd", "name", "hops", "answered", "returned", "rerouted", "open", "total_seconds", "mean_seconds")
    return [dict(zip(keys, (*row[:7], float(row[7] or 0), float(row[8] or 0)))) for row in db.session.execute(query)]
