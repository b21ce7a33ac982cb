"""Read-side queries of the citizens' portal: published list, one published complaint, the latest
answers for the home page, public statistics, and the complainant's own view after ticket + PIN.

Privacy by construction: public pages receive the small dataclasses below, never a Complaint row, so a
template cannot reach a name, NIK, phone, e-mail or address by accident. "Published" means
`published_at IS NOT NULL` (set when the NIK is validated, never for rahasia) AND not rahasia, checked
both ways so one forgotten flag cannot publish a rahasia complaint.

Lists are keyset-paginated on (published_at, id) newest first with an opaque cursor: a deep page costs
the same as the first (bench/bench_public_list.py measures it), and no page counts the whole table.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..labels import NO_OPD_LABEL
from ..reports import share
from ..models import (PUBLIC_SEARCH_TEXT, PUBLIC_SEARCH_WORDS, Answer, Attachment, CitizenReply, Complaint, NikCheck,
                      Opd, PublicStatistics, StatusEvent)
from ..timeutil import from_wib, to_wib, utcnow
from ..workflow import (ANSWERED_STATES, AWAITING_DISPATCH_STATES, VALIDATED_STATES, State, Visibility, held_by_opd,
                        overdue)
from . import cursor as cursor_codec
from . import public_cache, sql
from .common import Invalid, setting, unit_of_work
from .disclosure import Screen, Viewer, present, rule

PAGE_SIZE = 20
SEARCH_MIN, SEARCH_MAX = 3, 100
EXCERPT = 180
PUBLIC_STATES = (State.DITERUSKAN, State.PERLU_DISPOSISI, State.DIJAWAB, State.DISANGGAH, State.SELESAI)


def published():
    """The one definition of "the public may see this complaint" (also Open311's, services/open311.py)."""
    return sa.and_(Complaint.published_at.is_not(None), Complaint.visibility != Visibility.RAHASIA,
                   Complaint.state.in_(VALIDATED_STATES))


# --------------------------------------------------------------------------- list


@dataclass(frozen=True)
class PublicItem:
    ticket: str
    title: str
    excerpt: str
    opd_code: str | None  # None while the complaint waits for re-routing (held by no OPD)
    opd_name: str | None
    published_at: datetime
    state: State
    overdue: bool
    answered_at: datetime | None = None


@dataclass(frozen=True)
class PublicFilter:
    opd_code: str | None = None
    state: str | None = None
    q: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.opd_code or self.state or self.q)


@dataclass
class Page:
    items: list[PublicItem]
    next_cursor: str | None
    filters: PublicFilter = field(default_factory=PublicFilter)


# Newest first; ix_complaint_public (published_at, id) and its per-OPD and per-state siblings serve it.
LIST_ORDER = cursor_codec.Keyset(ident=Complaint.id, key=Complaint.published_at, descending=True)


def decode_cursor(token: str) -> tuple[datetime, int]:
    """Unlike the staff desks, a public page says so when its page link is broken."""
    position = LIST_ORDER.position(token)
    if position is None:
        raise Invalid("Tautan halaman tidak valid. Mulai lagi dari halaman pertama.", code="cursor")
    return position


def check_filter(opd_code: str | None, state: str | None, q: str | None) -> PublicFilter:
    """Normalise the list's query parameters; a bad one is refused with a message, never a 500."""
    opd_code = (opd_code or "").strip() or None
    state = (state or "").strip() or None
    q = " ".join((q or "").split()) or None
    errors = {}
    if state is not None and state not in {s.value for s in PUBLIC_STATES}:
        errors["state"] = "Status tidak dikenal."
    if q is not None and not (SEARCH_MIN <= len(q) <= SEARCH_MAX):
        errors["q"] = f"Kata kunci {SEARCH_MIN}–{SEARCH_MAX} karakter."
    if opd_code is not None and len(opd_code) > 32:
        errors["opd"] = "OPD tidak dikenal."
    if errors:
        raise Invalid("Periksa kembali saringan.", errors=errors)
    return PublicFilter(opd_code, state, q)


def _like_pattern(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _whole_words(q: str):
    """The whole-word condition on PostgreSQL (ix_complaint_public_words), None on SQLite (the search scans)."""
    if db.engine.dialect.name != "postgresql":
        return None
    query = sa.func.plainto_tsquery(sa.literal_column("'simple'::regconfig"), sa.literal(q, sa.Text))
    return PUBLIC_SEARCH_WORDS.op("@@")(query)


def published_page(flt: PublicFilter = PublicFilter(), cursor: str | None = None,
                   size: int = PAGE_SIZE) -> Page:
    """One page of published complaints, newest first; `next_cursor` is None on the last page."""
    query = _item_query()
    if flt.opd_code:
        # A complaint waiting for re-routing is no longer the old OPD's.
        query = query.where(Opd.code == flt.opd_code, Complaint.state.not_in(AWAITING_DISPATCH_STATES))
    if flt.state:
        query = query.where(Complaint.state == State(flt.state))
    position = decode_cursor(cursor) if cursor else None
    fetch = lambda q: db.session.execute(q).all()  # noqa: E731
    if flt.q:
        # The search reads the public renderings only (PUBLIC_SEARCH_TEXT: the public title and text, the
        # words masked out of them are not there) of published complaints (`published()` above).
        substring = PUBLIC_SEARCH_TEXT.ilike(_like_pattern(flt.q), escape="\\")
        words = _whole_words(flt.q)
        if words is not None:
            # Whole words through the tsvector index, the phrase itself rechecked on the few rows found;
            # when no published complaint has them as whole words, a partial word through the trigram index.
            # A later page asks which of the two the first page used (one indexed EXISTS).
            worded = query.where(words, substring)
            if position is not None:
                use_words = db.session.scalar(sa.select(sa.exists(worded.with_only_columns(Complaint.id))))
            else:
                rows, next_cursor = LIST_ORDER.fetch(fetch, worded, None, size)
                use_words = bool(rows)
                if use_words:
                    return Page([_item(r, utcnow()) for r in rows], next_cursor, flt)
            query = worded if use_words else query.where(substring)
        else:
            query = query.where(substring)
    rows, next_cursor = LIST_ORDER.fetch(fetch, query, position, size)
    now = utcnow()
    return Page([_item(r, now) for r in rows], next_cursor, flt)


def _item_query():
    # Only the columns a list entry shows: the public renderings (the disclosure policy's public view;
    # anonim names were masked when they were written), never a personal column.
    return (sa.select(Complaint.id, Complaint.ticket, Complaint.public_title, Complaint.public_text,
                      Complaint.published_at, Complaint.state, Complaint.validation_deadline,
                      Complaint.validated_at, Complaint.answer_deadline, Complaint.answered_at, Opd.code, Opd.name)
            .outerjoin(Opd, Opd.id == Complaint.opd_id)  # no OPD yet: "Saya tidak tahu OPD-nya", waiting
            .where(published()))


def _item(r, now) -> PublicItem:
    held = held_by_opd(r.state)
    return PublicItem(ticket=r.ticket, title=r.public_title or "", excerpt=_excerpt(r.public_text),
                      opd_code=r.code if held else None, opd_name=r.name if held else None,
                      published_at=r.published_at, state=r.state,
                      overdue=overdue(r.state, r.validation_deadline, r.validated_at, r.answer_deadline,
                                      r.answered_at, now),
                      answered_at=r.answered_at)


def _excerpt(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= EXCERPT else text[:EXCERPT].rsplit(" ", 1)[0] + " …"


def latest_answered(limit: int = 5) -> list[PublicItem]:
    """Newest answers first (index ix_complaint_answered on answered_at, id)."""
    query = (_item_query()
             .where(Complaint.answered_at.is_not(None), Complaint.state.in_(list(ANSWERED_STATES)))
             .order_by(Complaint.answered_at.desc(), Complaint.id.desc()).limit(limit))
    now = utcnow()
    return [_item(r, now) for r in db.session.execute(query).all()]


@dataclass(frozen=True)
class OpdChoice:
    code: str
    name: str


class _Kept:
    """Values each web process keeps for a while (the OPD list, the statistics), per key (the database)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._values: dict = {}

    def get(self, key, max_age: float, make):
        now = time.monotonic()
        with self._lock:
            hit = self._values.get(key)
        if hit is not None and now - hit[0] < max_age:
            return hit[1]
        value = make()
        with self._lock:
            self._values[key] = (now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


_opd_cache = _Kept()


def public_opds() -> list[OpdChoice]:
    """Active OPDs by name (code and name): the form's target list and the list's filter. Each web process
    keeps the list for PUBLIC_OPD_CACHE_SECONDS (it was 17% of a public list's time); a change made in this
    process (the OPD screen, the import) clears it at once, the other processes within that time."""
    return _opd_cache.get(db.engine.url.render_as_string(hide_password=True), setting("PUBLIC_OPD_CACHE_SECONDS"),
                          lambda: [OpdChoice(code, name) for code, name in db.session.execute(
                              sa.select(Opd.code, Opd.name).where(Opd.active.is_(True)).order_by(Opd.name))])


def clear_opd_cache() -> None:
    _opd_cache.clear()


# --------------------------------------------------------------------------- one published complaint


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    action: str
    opd_name: str | None
    state: State
    note: str | None = None  # only on the complainant's own view


@dataclass(frozen=True)
class PublicAnswer:
    text: str
    opd_name: str
    created_at: datetime
    edited_at: datetime | None
    answered_with: str | None = None  # the main complaint's ticket, when answered together with it


@dataclass(frozen=True)
class PublicDetail:
    ticket: str
    title: str
    text: str
    author: str | None  # the name for publik, None for anonim (the page says "Anonim")
    opd_name: str | None  # None while the complaint waits for re-routing: the page says so
    state: State
    submitted_at: datetime
    published_at: datetime
    answer_deadline: datetime | None
    answered_at: datetime | None
    overdue: bool
    timeline: list[TimelineEntry]
    answer: PublicAnswer | None


# Internal steps that mean nothing to a reader of the public page.
_HIDDEN_ACTIONS = {"claim"}


def published_detail(ticket: str) -> PublicDetail | None:
    """One published complaint with its current answer (SOP row 8), or None (the page answers 404)."""
    ticket = (ticket or "").strip().upper()
    if not ticket or len(ticket) > 24:
        return None
    complaint = db.session.execute(
        sa.select(Complaint).where(Complaint.ticket == ticket, published())
        # The steps come joined (one row each, with the complaint); the answers in one more query. Their OPD
        # is loaded lazily, which for a many-to-one reads the identity map first: usually the complaint's own
        # OPD (joined), so no query; a re-routed complaint's earlier OPD costs one. Selectin loads of the steps
        # and of the same OPD row twice were ~2 ms of a ~7 ms page.
        .options(selectinload(Complaint.answers), joinedload(Complaint.events))).unique().scalar_one_or_none()
    if complaint is None:
        return None
    view = present(complaint, None, Screen.PORTAL)
    # Event notes are free text written by staff (reasons, remarks): the public timeline shows the
    # step and the OPD only, never a note.
    timeline = [TimelineEntry(at=e.at, action=e.action, opd_name=e.opd.name if e.opd else None, state=e.to_state)
                for e in complaint.events if e.public and e.action not in _HIDDEN_ACTIONS]
    reply = view.answer
    held = held_by_opd(view.state)
    return PublicDetail(
        ticket=view.ticket, title=view.title, text=view.text or "",
        author=view.complainant.name if view.complainant and not view.complainant.anonymised else None,
        opd_name=view.opd_name if held else None, state=view.state, submitted_at=view.submitted_at,
        published_at=complaint.published_at, answer_deadline=view.answer_deadline if held else None,
        answered_at=view.answered_at, overdue=view.overdue, timeline=timeline,
        answer=PublicAnswer(text=reply.text, opd_name=reply.opd_name, created_at=reply.created_at,
                            edited_at=reply.edited_at, answered_with=reply.answered_with) if reply is not None else None,
    )


# --------------------------------------------------------------------------- the complainant's own view


@dataclass(frozen=True)
class OwnAttachment:
    id: int
    name: str
    size: int
    from_opd: bool


@dataclass(frozen=True)
class TrackedView:
    id: int
    ticket: str
    title: str
    text: str
    location: str | None
    visibility: Visibility
    opd_name: str | None  # None while the complaint waits for re-routing
    state: State
    submitted_at: datetime
    validation_deadline: datetime
    answer_deadline: datetime | None
    published: bool
    remark: str | None  # the validator's remark when the NIK was found invalid
    timeline: list[TimelineEntry]
    answer: PublicAnswer | None
    attachments: list[OwnAttachment]
    can_reply: bool = False  # answered, and this answer not yet replied to (services.citizen.reply)
    reply: tuple[bool, int] | None = None  # (accepted, rating) of the reply to the current answer


def tracked_view(complaint_id: int) -> TrackedView | None:
    """What the complainant sees after ticket + PIN (the caller has checked them): their own text,
    the whole public timeline with its notes, the remark, the answer and the files."""
    complaint = db.session.scalar(
        sa.select(Complaint).where(Complaint.id == complaint_id)
        .options(selectinload(Complaint.answers).selectinload(Answer.opd),
                 selectinload(Complaint.events).selectinload(StatusEvent.opd),
                 selectinload(Complaint.attachments)))
    if complaint is None:
        return None
    remark = None
    if complaint.state is State.TIDAK_VALID:
        remark = db.session.scalar(sa.select(NikCheck.remark).where(
            NikCheck.complaint_id == complaint.id, NikCheck.result == "tidak_valid")
            .order_by(NikCheck.id.desc()).limit(1))
    view = present(complaint, None, Screen.TRACKING)
    reply = view.answer
    held = held_by_opd(view.state)
    current = complaint.current_answer
    given = None if current is None else db.session.execute(
        sa.select(CitizenReply.accepted, CitizenReply.rating).where(CitizenReply.answer_id == current.id)).first()
    given = tuple(given) if given is not None else None
    return TrackedView(
        id=view.id, ticket=view.ticket, title=view.title, text=view.text or "",
        location=view.location, visibility=view.visibility, opd_name=view.opd_name if held else None,
        state=view.state, submitted_at=view.submitted_at,
        validation_deadline=view.validation_deadline, answer_deadline=view.answer_deadline if held else None,
        published=view.published and rule(view.visibility, Viewer.PUBLIC).visible,
        remark=remark,
        timeline=[TimelineEntry(at=e.at, action=e.action, opd_name=e.opd.name if e.opd else None,
                                state=e.to_state, note=e.note) for e in complaint.events if e.public],
        answer=PublicAnswer(text=reply.text, opd_name=reply.opd_name, created_at=reply.created_at,
                            edited_at=reply.edited_at, answered_with=reply.answered_with) if reply is not None else None,
        attachments=[OwnAttachment(a.id, a.name, a.size, a.from_opd) for a in view.attachments],
        can_reply=complaint.state is State.DIJAWAB and given is None, reply=given,
    )


def own_attachment(complaint_id: int, attachment_id: int) -> Attachment | None:
    return db.session.scalar(sa.select(Attachment).where(Attachment.id == attachment_id,
                                                         Attachment.complaint_id == complaint_id))


# --------------------------------------------------------------------------- statistics


@dataclass
class OpdStats:
    code: str
    name: str
    by_state: dict[str, int] = field(default_factory=dict)
    total: int = 0
    checked_on_time: int = 0
    check_due: int = 0  # checked, or past the 24-hour deadline without a check
    answered_on_time: int = 0
    answer_due: int = 0  # answered, or past the answer deadline without an answer
    ratings: int = 0  # complainants' ratings (1-5) of this OPD's answers, given in the year
    rating_sum: int = 0

    @property
    def rating_mean(self) -> float | None:
        return round(self.rating_sum / self.ratings, 1) if self.ratings else None

    @property
    def checked_share(self) -> float | None:
        return share(self.checked_on_time, self.check_due)

    @property
    def answered_share(self) -> float | None:
        return share(self.answered_on_time, self.answer_due)


@dataclass
class Statistics:
    year: int
    rows: list[OpdStats]
    totals: OpdStats


def current_year() -> int:
    return to_wib(utcnow()).year


def statistics(year: int | None = None) -> Statistics:
    """Counts by OPD and state and time-standard shares, for complaints submitted in `year` (WIB):
    one GROUP BY over the year's rows (index ix_complaint_submitted). Counts include every complaint,
    rahasia and invalid ones too: a number reveals no complaint."""
    year = year or current_year()
    start, end = from_wib(datetime(year, 1, 1)), from_wib(datetime(year + 1, 1, 1))
    now = utcnow()

    flag = sql.count_if
    query = (sa.select(
        Complaint.opd_id, Complaint.state, sa.func.count().label("n"),
        flag(sql.within_standard(Complaint.validated_at, Complaint.validation_deadline)).label("checked_on_time"),
        flag(sa.or_(Complaint.validated_at.is_not(None), sql.waiting_overdue("validation", now))).label("check_due"),
        flag(sql.within_standard(Complaint.answered_at, Complaint.answer_deadline)).label("answered_on_time"),
        flag(sa.or_(Complaint.answered_at.is_not(None), sql.waiting_overdue("answer", now))).label("answer_due"))
        .where(Complaint.submitted_at >= start, Complaint.submitted_at < end)
        .group_by(Complaint.opd_id, Complaint.state))
    rows = db.session.execute(query).all()
    opds = {o.id: o for o in db.session.scalars(sa.select(Opd).where(Opd.id.in_({r.opd_id for r in rows})))}
    per_opd: dict[int, OpdStats] = {}
    totals = OpdStats(code="", name="")
    for r in rows:
        opd = opds.get(r.opd_id)  # None: no OPD yet, the complainant did not know it (waiting for dispatch)
        stats = per_opd.setdefault(r.opd_id, OpdStats(code=opd.code, name=opd.name) if opd is not None
                                   else OpdStats(code="", name=str(NO_OPD_LABEL)))
        for target in (stats, totals):
            target.by_state[r.state.value] = target.by_state.get(r.state.value, 0) + r.n
            target.total += r.n
            target.checked_on_time += r.checked_on_time or 0
            target.check_due += r.check_due or 0
            target.answered_on_time += r.answered_on_time or 0
            target.answer_due += r.answer_due or 0
    ratings = db.session.execute(
        sa.select(CitizenReply.opd_id, sa.func.count(), sa.func.sum(CitizenReply.rating))
        .where(CitizenReply.created_at >= start, CitizenReply.created_at < end).group_by(CitizenReply.opd_id)).all()
    for opd_id, n, total in ratings:
        if opd_id not in per_opd:
            opd = db.session.get(Opd, opd_id)
            per_opd[opd_id] = OpdStats(code=opd.code, name=opd.name)
        for target in (per_opd[opd_id], totals):
            target.ratings += int(n)
            target.rating_sum += int(total or 0)
    ordered = sorted(per_opd.values(), key=lambda s: (-s.total, s.name))
    return Statistics(year=year, rows=ordered, totals=totals)


# The page never computes: the scheduler stores a snapshot of the current year every
# PUBLIC_STATISTICS_MINUTES (job "public_statistics", app/jobs.py) and the page reads that one row,
# saying "per <time WIB>". Only a year without a snapshot (a fresh install, the first minutes of a new
# year) is computed once by the request that finds it missing, and stored for the next.


@dataclass(frozen=True)
class StoredStatistics:
    stats: Statistics
    computed_at: datetime


def _dump(stats: Statistics) -> str:
    return json.dumps(asdict(stats), separators=(",", ":"))


def _load(payload: str) -> Statistics:
    data = json.loads(payload)
    return Statistics(year=data["year"], rows=[OpdStats(**r) for r in data["rows"]], totals=OpdStats(**data["totals"]))


def store_statistics(year: int | None = None, now: datetime | None = None, announce: bool = True) -> StoredStatistics:
    """Compute one year's statistics and keep them (one row per year, replaced); `announce`: replace the
    public version so the cached statistics page goes (not needed for a year no page has shown yet)."""
    year = year or current_year()
    now = now or utcnow()
    stats = statistics(year)
    with unit_of_work():
        row = db.session.get(PublicStatistics, year)
        if row is None:
            row = PublicStatistics(year=year)
            db.session.add(row)
        row.computed_at, row.payload = now, _dump(stats)
    if announce:
        public_cache.bump()  # the statistics page shows the new figures at once
    return StoredStatistics(stats, now)


def statistics_job() -> None:
    store_statistics()


def stored_statistics() -> StoredStatistics:
    """The current year's snapshot (one primary-key read); computed and stored when there is none."""
    year = current_year()
    row = db.session.execute(sa.select(PublicStatistics.computed_at, PublicStatistics.payload)
                             .where(PublicStatistics.year == year)).first()
    if row is not None:
        return StoredStatistics(_load(row.payload), row.computed_at)
    try:
        return store_statistics(year, announce=False)
    except sa.exc.IntegrityError:  # another request stored it first
        db.session.rollback()
        row = db.session.execute(sa.select(PublicStatistics.computed_at, PublicStatistics.payload)
                                 .where(PublicStatistics.year == year)).one()
        return StoredStatistics(_load(row.payload), row.computed_at)


def clear_statistics_cache() -> None:
    """Forget the snapshots: the next page view computes and stores fresh figures."""
    with unit_of_work():
        db.session.execute(sa.delete(PublicStatistics))
    public_cache.bump()
