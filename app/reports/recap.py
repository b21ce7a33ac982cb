"""Recapitulation of complaint data (SOP "Pencatatan dan Pendataan": rekap), computed on the database.

Every figure is an SQL aggregate with GROUP BY, each counted by the time of its own event within the
period (WIB days): received by `submitted_at`, checked/valid/invalid by `validated_at`, routed by
`routed_at` (the latest routing), answered by `answered_at`; overdue counts complaints whose
validation or answer deadline fell in the period and was missed (done late, or not done by now).
The OPD of a row is the complaint's current OPD, which for an answered complaint is the one that
answered. Medians use percentile_cont on PostgreSQL and a window-function median on SQLite.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping

import sqlalchemy as sa
from flask_babel import gettext, lazy_gettext as _l

from .. import inputs
from ..extensions import db
from ..models import CitizenReply, Complaint, ComplaintDay, Opd, StatusEvent
from ..services import sql, summary
from . import share
from ..timeutil import from_wib, to_wib, utcnow
from ..workflow import Action, Role, State, Visibility
from ..labels import NO_OPD_LABEL, STATE_LABELS

PERIODS = {"hari": _l("Harian"), "minggu": _l("Mingguan"), "bulan": _l("Bulanan"), "tahun": _l("Tahunan"),
           "rentang": _l("Rentang tanggal")}
DIMENSIONS = {"opd": _l("OPD"), "state": _l("Status"), "visibility": _l("Sifat"), "channel": _l("Kanal")}
VISIBILITY_LABELS = {Visibility.PUBLIK: _l("Publik"), Visibility.ANONIM: _l("Anonim"),
                     Visibility.RAHASIA: _l("Rahasia")}
CHANNEL_LABELS = {"web": _l("Formulir web"), "api": _l("API"), "open311": _l("Open311"), "lapor": _l("SP4N-LAPOR!")}
MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember"]
MAX_RANGE_DAYS = 3 * 366


class RecapInputError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Period:
    kind: str
    start: date  # first WIB day
    end: date  # the day after the last WIB day

    @property
    def start_utc(self) -> datetime:
        return from_wib(datetime.combine(self.start, time()))

    @property
    def end_utc(self) -> datetime:
        return from_wib(datetime.combine(self.end, time()))

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.kind == "bulan":
            return f"{MONTHS[self.start.month - 1]} {self.start.year}"
        if self.kind == "tahun":
            return str(self.start.year)
        if self.kind == "hari":
            return self.start.strftime("%d-%m-%Y")
        return f"{self.start:%d-%m-%Y} s.d. {self.last_day:%d-%m-%Y}"

    def as_args(self) -> dict[str, str]:
        if self.kind == "rentang":
            return {"periode": "rentang", "dari": self.start.isoformat(), "sampai": self.last_day.isoformat()}
        return {"periode": self.kind, "tanggal": self.start.isoformat()}


def make_period(kind: str, anchor: date, start: date | None = None, end: date | None = None) -> Period:
    if kind == "hari":
        return Period(kind, anchor, anchor + timedelta(days=1))
    if kind == "minggu":
        monday = anchor - timedelta(days=anchor.weekday())
        return Period(kind, monday, monday + timedelta(days=7))
    if kind == "bulan":
        first = anchor.replace(day=1)
        days = calendar.monthrange(first.year, first.month)[1]
        return Period(kind, first, first + timedelta(days=days))
    if kind == "tahun":
        return Period(kind, date(anchor.year, 1, 1), date(anchor.year + 1, 1, 1))
    assert start is not None and end is not None
    return Period("rentang", start, end + timedelta(days=1))


def previous(period: Period) -> Period:
    return make_period(period.kind, period.start - timedelta(days=1)) if period.kind != "rentang" else period


def _read_date(args: Mapping[str, str], name: str, errors: dict[str, str]) -> date | None:
    try:
        return inputs.parse_date(args.get(name))
    except inputs.Problem as problem:
        errors[name] = problem.text(gettext)
        return None


def parse_args(args: Mapping[str, str], today: date | None = None) -> tuple[Period, str]:
    """The period and grouping chosen on the screen (query string); RecapInputError with a message per
    field for anything that cannot be understood, so nothing is computed from a guess."""
    today = today or to_wib(utcnow()).date()
    errors: dict[str, str] = {}
    kind = (args.get("periode") or "bulan").strip()
    if kind not in PERIODS:
        errors["periode"] = "Periode tidak dikenal."
    dimension = (args.get("kelompok") or "opd").strip()
    if dimension not in DIMENSIONS:
        errors["kelompok"] = "Pengelompokan tidak dikenal."
    anchor = _read_date(args, "tanggal", errors) or today
    start = end = None
    if kind == "rentang":
        start, end = _read_date(args, "dari", errors), _read_date(args, "sampai", errors)
        if start is None and "dari" not in errors:
            errors["dari"] = "Tanggal awal wajib diisi (format TTTT-BB-HH)."
        if end is None and "sampai" not in errors:
            errors["sampai"] = "Tanggal akhir wajib diisi (format TTTT-BB-HH)."
        if start and end and end < start:
            errors["sampai"] = "Tanggal akhir tidak boleh sebelum tanggal awal."
        if start and end and (end - start).days > MAX_RANGE_DAYS:
            errors["sampai"] = "Rentang paling panjang 3 tahun."
    if errors:
        raise RecapInputError(errors)
    return make_period(kind, anchor or today, start, end), dimension


# --------------------------------------------------------------------------- figures


@dataclass
class RecapRow:
    key: Any
    label: str
    received: int = 0
    checked: int = 0  # NIK decisions (valid + invalid)
    validated: int = 0
    invalid: int = 0
    checked_24h: int = 0  # decided by the validation deadline (24 h)
    routed: int = 0
    answered: int = 0
    answered_in_standard: int = 0  # answered by the answer deadline (7 days)
    overdue: int = 0
    check_hours_mean: float | None = None
    check_hours_median: float | None = None
    answer_hours_mean: float | None = None
    answer_hours_median: float | None = None
    # The complainants' replies (issue 17), counted by the reply's time; the OPD is the one that answered.
    accepted: int = 0
    disputed: int = 0
    closed_silent: int = 0  # closed Selesai by the scheduler: no reply within SILENCE_CLOSE_DAYS
    ratings: int = 0
    rating_mean: float | None = None

    @property
    def share_checked_24h(self) -> float | None:
        return share(self.checked_24h, self.checked)

    @property
    def share_answered_in_standard(self) -> float | None:
        return share(self.answered_in_standard, self.answered)


@dataclass
class Recap:
    period: Period
    dimension: str
    rows: list[RecapRow] = field(default_factory=list)
    total: RecapRow = field(default_factory=lambda: RecapRow("total", "Jumlah"))


# (attribute, header) in display order; shares and hours are floats, the rest counts.
COLUMNS = [
    ("received", _l("Diterima")),
    ("checked", _l("Diperiksa")),
    ("validated", _l("Valid")),
    ("invalid", _l("Tidak valid")),
    ("share_checked_24h", _l("Diperiksa ≤ 24 jam")),
    ("check_hours_median", _l("Median waktu periksa (jam)")),
    ("check_hours_mean", _l("Rata-rata waktu periksa (jam)")),
    ("routed", _l("Diteruskan")),
    ("answered", _l("Dijawab")),
    ("answered_in_standard", _l("Dijawab sesuai standar")),
    ("share_answered_in_standard", _l("Persentase sesuai standar")),
    ("answer_hours_median", _l("Median waktu jawab (jam)")),
    ("answer_hours_mean", _l("Rata-rata waktu jawab (jam)")),
    ("overdue", _l("Terlambat")),
    ("accepted", _l("Diterima pelapor")),
    ("disputed", _l("Disanggah pelapor")),
    ("closed_silent", _l("Selesai tanpa tanggapan")),
    ("rating_mean", _l("Rata-rata kepuasan (1–5)")),
    ("ratings", _l("Jumlah penilaian")),
]
SHARES = {"share_checked_24h", "share_answered_in_standard"}
HOURS = {"check_hours_median", "check_hours_mean", "answer_hours_median", "answer_hours_mean"}
DECIMALS = HOURS | {"rating_mean"}  # shown with one decimal


def _group_expr(dimension: str | None):
    return {None: None, "opd": Complaint.opd_id, "state": Complaint.state, "visibility": Complaint.visibility,
            "channel": Complaint.channel}[dimension]


def _in(column, period: Period):
    return sa.and_(column >= period.start_utc, column < period.end_utc)


def _grouped(group, columns: list, where) -> dict[Any, tuple]:
    """{group key: (values…)}; without a group, one row keyed "total" (no GROUP BY on a constant)."""
    if group is None:
        row = db.session.execute(sa.select(*columns).where(where)).one()
        return {"total": tuple(row)}
    query = sa.select(group.label("g"), *columns).where(where).group_by(group)
    return {row[0]: tuple(row[1:]) for row in db.session.execute(query)}


def _hours(value) -> float | None:
    return None if value is None else round(float(value) / 3600.0, 2)


SUMMARY_KEYS = {"opd": "opd_id", "state": "state", "visibility": "visibility", "channel": "channel"}


def _summed(period: Period, dimension: str) -> dict[Any, tuple]:
    """{group key: sums of the summary's metrics} over the period's WIB days, one query."""
    t = ComplaintDay.__table__.c
    group = t[SUMMARY_KEYS[dimension]]
    query = (sa.select(group, *(sa.func.sum(t[m]) for m in summary.METRICS))
             .where(t.day >= period.start, t.day < period.end).group_by(group))
    return {row[0]: row[1:] for row in db.session.execute(query)}


def _figures(period: Period, dimension: str, now: datetime) -> tuple[dict[Any, RecapRow], RecapRow]:
    """The rows of `dimension` and the totals row. Counts and time sums come from the summary table
    (exact: kept in each change's transaction); the totals row is their sum, except its medians, which are
    computed on the whole set. Medians, replies, closes by silence and overdue (it depends on `now`) are
    read live, each by an index on its time column."""
    group = _group_expr(dimension)
    rows: dict[Any, RecapRow] = {}
    total = RecapRow("total", "Jumlah")
    sums = {"check": [0.0, 0], "answer": [0.0, 0], "rating": [0, 0]}

    def row(key) -> RecapRow:
        key = getattr(key, "value", key)
        if key not in rows:
            rows[key] = RecapRow(key, str(key))
        return rows[key]

    metric = {name: i for i, name in enumerate(summary.METRICS)}
    for key, values in _summed(period, dimension).items():
        v = {name: values[i] or 0 for name, i in metric.items()}
        if not any(v.values()):
            continue  # a key whose complaints all moved elsewhere
        r = row(key)
        r.received, r.checked, r.validated, r.invalid = int(v["received"]), int(v["checked"]), int(v["valid"]), int(
            v["invalid"])
        r.checked_24h, r.routed, r.answered = int(v["checked_in_time"]), int(v["routed"]), int(v["answered"])
        r.answered_in_standard = int(v["answered_in_time"])
        r.check_hours_mean = _hours(v["check_seconds"] / r.checked) if r.checked else None
        timed = int(v["answer_timed"])
        r.answer_hours_mean = _hours(v["answer_seconds"] / timed) if timed else None
        sums["check"][0] += float(v["check_seconds"])
        sums["check"][1] += r.checked
        sums["answer"][0] += float(v["answer_seconds"])
        sums["answer"][1] += timed

    checked = _in(Complaint.validated_at, period)
    check_seconds = sql.seconds_between(Complaint.submitted_at, Complaint.validated_at)
    answered = _in(Complaint.answered_at, period)
    answer_seconds = sql.seconds_between(Complaint.routed_at, Complaint.answered_at)
    for key, median in sql.medians(group, check_seconds, checked).items():
        row(key).check_hours_median = _hours(median)
    for key, median in sql.medians(group, answer_seconds, answered).items():
        row(key).answer_hours_median = _hours(median)
    total.check_hours_median = _hours(sql.medians(None, check_seconds, checked).get("total"))
    total.answer_hours_median = _hours(sql.medians(None, answer_seconds, answered).get("total"))

    _satisfaction(row, period, dimension, sums)

    missed_check = sa.and_(_in(Complaint.validation_deadline, period), sql.validation_overdue(now))
    missed_answer = sa.and_(_in(Complaint.answer_deadline, period), sql.answer_overdue(now))
    for key, (n,) in _grouped(group, [sa.func.count()], sa.or_(missed_check, missed_answer)).items():
        row(key).overdue = int(n)

    for name in ("received", "checked", "validated", "invalid", "checked_24h", "routed", "answered",
                 "answered_in_standard", "overdue", "accepted", "disputed", "closed_silent", "ratings"):
        setattr(total, name, sum(getattr(r, name) for r in rows.values()))
    total.check_hours_mean = _hours(sums["check"][0] / sums["check"][1]) if sums["check"][1] else None
    total.answer_hours_mean = _hours(sums["answer"][0] / sums["answer"][1]) if sums["answer"][1] else None
    total.rating_mean = round(sums["rating"][0] / sums["rating"][1], 2) if sums["rating"][1] else None
    return rows, total


def _satisfaction(row, period: Period, dimension: str, sums: dict) -> None:
    """Accepted, disputed, mean rating (by the reply's time and the answering OPD) and closed by silence
    (by the closing event's time and the OPD then holding the complaint)."""
    reply_group = CitizenReply.opd_id if dimension == "opd" else _group_expr(dimension)
    query = (sa.select(reply_group.label("g"), sql.count_if(CitizenReply.accepted.is_(True)),
                       sql.count_if(CitizenReply.accepted.is_(False)), sa.func.count(CitizenReply.rating),
                       sa.func.sum(CitizenReply.rating))
             .select_from(CitizenReply).join(Complaint, Complaint.id == CitizenReply.complaint_id)
             .where(_in(CitizenReply.created_at, period)).group_by(reply_group))
    for key, accepted, disputed, n, rating_sum in db.session.execute(query):
        r = row(key)
        r.accepted, r.disputed, r.ratings = int(accepted or 0), int(disputed or 0), int(n or 0)
        r.rating_mean = round(float(rating_sum) / r.ratings, 2) if r.ratings else None
        sums["rating"][0] += int(rating_sum or 0)
        sums["rating"][1] += r.ratings
    silent_group = StatusEvent.opd_id if dimension == "opd" else _group_expr(dimension)
    silent = (sa.select(silent_group.label("g"), sa.func.count()).select_from(StatusEvent)
              .join(Complaint, Complaint.id == StatusEvent.complaint_id)
              .where(StatusEvent.action == Action.CLOSE.value, StatusEvent.actor_role == Role.SYSTEM.value,
                     _in(StatusEvent.at, period)).group_by(silent_group))
    for key, n in db.session.execute(silent):
        row(key).closed_silent = int(n)


def _label(dimension: str, key: Any, opd_names: dict[int, str]) -> str:
    if dimension == "opd":
        return str(NO_OPD_LABEL) if key is None else opd_names.get(key, str(key))
    if dimension == "state":
        return str(STATE_LABELS.get(State(key), key))
    if dimension == "visibility":
        return str(VISIBILITY_LABELS.get(Visibility(key), key))
    return str(CHANNEL_LABELS.get(key, key))


def build(period: Period, dimension: str, now: datetime | None = None) -> Recap:
    """The recap of `period` grouped by `dimension`, with a totals row computed on the whole set
    (so its medians are true medians, not a median of medians)."""
    now = now or utcnow()
    figures, total = _figures(period, dimension, now)
    opd_names = {}
    if dimension == "opd" and figures:
        opd_names = dict(db.session.execute(sa.select(Opd.id, Opd.name).where(Opd.id.in_(list(figures)))).all())
    rows = []
    for key, r in figures.items():
        r.label = _label(dimension, key, opd_names)
        rows.append(r)
    rows.sort(key=lambda r: (-r.received, -r.answered, r.label))
    return Recap(period, dimension, rows, total)


def value_of(row: RecapRow, attribute: str) -> Any:
    return getattr(row, attribute)
