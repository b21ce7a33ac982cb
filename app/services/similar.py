"""Similar complaints (issue 18, part 2): on the validator's check page and the OPD desk, up to five
complaints of the last 90 days that read like this one, with the similarity, and whether they are about the
same place (the kecamatan named in the location or the text, app/routing/places).

Only what the viewer may see, and only the public version:
- the text compared is the public rendering (`public_title` + `public_text`, services.disclosure) of both
  sides, so a match can never rest on words the viewer could not read (an anonim complainant's name);
- candidates are the viewer's own scope (services.scope: an Admin OPD its OPD's complaints only), a
  validator's scope widened by what is published anyway; rahasia complaints are never candidates, and
  complaints found invalid are not either;
- the same OPD as the complaint: the same problem is answered by one OPD (services.links).

How it stays fast at a million complaints: on PostgreSQL the index `ix_complaint_similar_text` (GiST over
opd_id, submitted_at and the bounded text with gist_trgm_ops, migration 0027_similar_index) holds every
complaint's trigrams, and the query asks it for the nearest texts (`ORDER BY key <-> :q`) among one OPD's
complaints of the window; pg_trgm's `similarity()` is computed only for the SQL_SHORTLIST found. On SQLite the
candidates are the newest SQLITE_CANDIDATES of the OPD's window (index `ix_complaint_similar`, opd_id,
submitted_at), ranked by the same trigram measure in Python (`trigram_similarity`), so both databases rank
alike. Both compare the first KEY_CHARS characters of the public title and text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import SIMILAR_KEY, SIMILAR_KEY_CHARS, Complaint, Opd
from ..timeutil import utcnow
from ..workflow import Role, State, Visibility
from .common import Actor
from .scope import get_visible, scope_filter

WINDOW_DAYS = 90
LIMIT = 5
SQLITE_CANDIDATES = 1000  # the newest of one OPD's window in Python (SQLite has no pg_trgm): one regency's volume
SQL_SHORTLIST = 20  # best by text from the database, re-ranked with the place
KEY_CHARS = SIMILAR_KEY_CHARS  # the text compared: title and the start of the text (1000)
MIN_SCORE = 0.25  # below this a complaint is not "similar"
PLACE_WEIGHT = 0.15  # the same kecamatan lifts a complaint by this much in the order


@dataclass(frozen=True)
class SimilarItem:
    """One similar complaint as a desk shows it: its public title only, never the complainant."""

    id: int
    ticket: str
    title: str  # the public rendering
    state: State
    submitted_at: datetime
    score: float  # text similarity, 0-1
    same_place: bool
    linked_to_ticket: str | None  # it is itself linked to this main complaint
    earlier: bool  # submitted before the complaint being read (a candidate main complaint)


def text_key(title: str | None, text: str | None) -> str:
    """The public title and text as compared (app.models.SIMILAR_KEY is the same in SQL)."""
    return ((title or "") + " " + (text or ""))[:KEY_CHARS]


_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def trigrams(text: str) -> frozenset[str]:
    """pg_trgm's trigrams of `text`: each word lower-cased, padded with two spaces before and one after."""
    out: set[str] = set()
    for word in _WORD.findall((text or "").lower()):
        padded = f"  {word} "
        out.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return frozenset(out)


def trigram_similarity(a: str, b: str) -> float:
    """pg_trgm's `similarity(a, b)`: shared trigrams over all trigrams of both."""
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def candidate_scope(actor: Actor):
    """The complaints `actor` may be shown as similar (and link to): their scope, a validator's widened by
    the published ones; never rahasia. None: every complaint."""
    clause = scope_filter(actor)
    if clause is not None and actor.has(Role.VALIDATOR):
        clause = sa.or_(clause, Complaint.published_at.is_not(None))
    rule = Complaint.visibility != Visibility.RAHASIA
    return rule if clause is None else sa.and_(clause, rule)


@functools.lru_cache(maxsize=4)
def _gazetteer(kecamatan: tuple[tuple[str, str], ...]):
    from ..routing.places import Gazetteer, read_places

    return Gazetteer.build(dict(kecamatan), read_places())


def _places():
    rows = db.session.execute(sa.select(Opd.code, Opd.name).where(Opd.kind == "kecamatan").order_by(Opd.code))
    names = tuple((code, re.sub(r"^\s*kecamatan\s+", "", name, flags=re.IGNORECASE)) for code, name in rows)
    return _gazetteer(names) if names else None


def place_of(gazetteer, location: str | None, public_text: str | None) -> str | None:
    """The kecamatan (its OPD code) a complaint is about: from the location when it names one, else from the
    public text; None when neither names a place."""
    if gazetteer is None:
        return None
    for source in (location, public_text):
        if source:
            found = gazetteer.locate(source)
            if found:
                return max(found.items(), key=lambda kv: (kv[1], kv[0]))[0]
    return None


def _base(actor: Actor, complaint: Complaint, now: datetime):
    query = sa.select(Complaint.id).where(
        Complaint.opd_id == complaint.opd_id, Complaint.submitted_at >= now - timedelta(days=WINDOW_DAYS),
        Complaint.id != complaint.id, Complaint.state != State.TIDAK_VALID)
    scope = candidate_scope(actor)
    return query if scope is None else query.where(scope)


def postgresql_query(base, key: str):
    """The SQL_SHORTLIST nearest texts to `key` among `base`, best first, ties the newest id first.

    The index walks the nearest texts first (`<->` is 1 - similarity) and stops after SQL_SHORTLIST of them
    and those tied with the last (WITH TIES: the order by id among equal texts is then decided here, as
    similarity() over every candidate decided it); similarity() is computed for those only. The distance is
    the only ORDER BY of the index scan: a second key (id) would make PostgreSQL sort every candidate.
    `%` (similarity >= pg_trgm.similarity_threshold, set to MIN_SCORE by `_scored_postgresql`) is searched in
    the index too: without it a text like none of the window would tie every candidate at distance 1 and
    WITH TIES would read them all."""
    query_text = sa.literal(key, sa.Text)
    distance = SIMILAR_KEY.op("<->", return_type=sa.Float)(query_text)
    shortlist = sa.literal(SQL_SHORTLIST, sa.Integer, literal_execute=True)
    nearest = (base.add_columns(SIMILAR_KEY.label("k")).where(SIMILAR_KEY.op("%")(query_text))
               .order_by(distance)
               .fetch(shortlist, with_ties=True).subquery())
    score = sa.func.similarity(nearest.c.k, query_text).label("s")
    return (sa.select(nearest.c.id, score).where(score >= MIN_SCORE)
            .order_by(score.desc(), nearest.c.id.desc()).limit(shortlist))


def _scored_postgresql(base, key: str) -> list[tuple[int, float]]:
    # For this transaction only: the `%` of postgresql_query is then "similarity >= MIN_SCORE".
    db.session.execute(sa.select(sa.func.set_config("pg_trgm.similarity_threshold", str(MIN_SCORE), True)))
    return [(i, float(s)) for i, s in db.session.execute(postgresql_query(base, key))]


def _scored_python(base, key: str) -> list[tuple[int, float]]:
    rows = db.session.execute(base.add_columns(Complaint.public_title, Complaint.public_text)
                              .order_by(Complaint.submitted_at.desc()).limit(SQLITE_CANDIDATES))
    mine = trigrams(key)
    scored = []
    for cid, title, text in rows:
        theirs = trigrams(text_key(title, text))
        if mine and theirs:
            s = len(mine & theirs) / len(mine | theirs)
            if s >= MIN_SCORE:
                scored.append((cid, s))
    scored.sort(key=lambda r: (-r[1], -r[0]))
    return scored[:SQL_SHORTLIST]


def similar_to(complaint_id: int, actor: Actor, now: datetime | None = None) -> list[SimilarItem]:
    """Up to LIMIT complaints like `complaint_id` (which `actor` must be able to see), best first."""
    now = now or utcnow()
    complaint = get_visible(complaint_id, actor)
    key = text_key(complaint.public_title, complaint.public_text)
    base = _base(actor, complaint, now)
    if db.session.get_bind().dialect.name == "postgresql":
        scored = _scored_postgresql(base, key)
    else:
        scored = _scored_python(base, key)
    if not scored:
        return []
    rows = {c.id: c for c in db.session.scalars(
        sa.select(Complaint).where(Complaint.id.in_([i for i, _s in scored]))
        .options(sa.orm.selectinload(Complaint.linked_to)))}
    gazetteer = _places()
    here = place_of(gazetteer, complaint.location, complaint.public_text)
    items = []
    for cid, score in scored:
        c = rows[cid]
        same = here is not None and place_of(gazetteer, c.location, c.public_text) == here
        items.append(SimilarItem(
            id=c.id, ticket=c.ticket, title=c.public_title or "", state=c.state, submitted_at=c.submitted_at,
            score=round(score, 2), same_place=same, linked_to_ticket=c.linked_to.ticket if c.linked_to else None,
            earlier=(c.submitted_at, c.id) < (complaint.submitted_at, complaint.id)))
    items.sort(key=lambda it: (-(it.score + (PLACE_WEIGHT if it.same_place else 0.0)), -it.id))
    return items[:LIMIT]
