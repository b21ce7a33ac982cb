"""The SOP's records ("Pencatatan dan Pendataan") for Pimpinan and Admin Sistem: the history log (filters,
pages, CSV export, one record's history with its Continuum versions) and the recap's exports.

History-log events that are actions of their own (sign-in, sign-out, exports) commit here, one transaction
each: domain actions write their row inside their own transaction with `audit.record`; these events have
no other write to ride on (services are the only place that commits). Every other function is a read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Iterator, Mapping

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy_continuum import version_class

from .. import audit, inputs, labels
from ..crypto import drop_sealed
from ..exports import table_workbook
from ..extensions import db
from ..models import Answer, AuditLog, Complaint, Staff
from ..reports import recap as recap_report
from ..timeutil import file_stamp, format_wib, from_wib, to_wib, utcnow
from . import cursor
from .common import Actor, unit_of_work
from .disclosure import ComplaintView, Screen, present

HISTORY_PAGE = 50
# One record's history screen shows this many rows of each list (newest first).
RECORD_ROWS = 200
ACCOUNT_ACTIVITY_ROWS = 50
VERSION_ROWS = 100


def log_event(kind: str, action: str, *, actor: Actor | None = None, complaint_id: int | None = None,
              detail: dict[str, Any] | None = None, **columns: Any) -> None:
    with unit_of_work():
        audit.record(kind, action, actor=actor, complaint_id=complaint_id, detail=detail, **columns)


def log_export(actor: Actor, what: str, fmt: str, filters: dict[str, Any]) -> None:
    """An export is logged before the file is produced: no record, no file."""
    log_event("action", f"export.{what}", actor=actor,
              detail={"format": fmt, **{k: v for k, v in filters.items() if v not in (None, "")}})


# --------------------------------------------------------------------------- history log


def _parse_day(value: str | None) -> date | None | inputs.Problem:
    """None when empty, the problem when not a date within the bounds (app/inputs.py)."""
    try:
        return inputs.parse_date(value)
    except inputs.Problem as problem:
        return problem


class HistoryFilter:
    """The history-log filters of one request: each one an indexed column (see AuditLog indexes)."""

    FIELDS = ("pengguna", "peran", "aksi", "jenis", "tiket", "dari", "sampai", "halaman")

    def __init__(self, args: Mapping[str, str]):
        self.values = {k: (args.get(k) or "").strip() for k in self.FIELDS}
        self.errors: dict[str, str] = {}
        self.complaint_id: int | None = None
        self.start = _parse_day(self.values["dari"])
        self.end = _parse_day(self.values["sampai"])
        for key, attribute in (("dari", "start"), ("sampai", "end")):
            if isinstance(getattr(self, attribute), inputs.Problem):
                self.errors[key] = getattr(self, attribute).text(_)
                setattr(self, attribute, None)
        if self.start and self.end and self.end < self.start:
            self.errors["sampai"] = _("Tanggal akhir tidak boleh sebelum tanggal awal.")
        if self.values["jenis"] and self.values["jenis"] not in audit.KINDS:
            self.errors["jenis"] = _("Jenis tidak dikenal.")
        for key, limit in (("pengguna", 128), ("peran", 64), ("aksi", 48), ("tiket", 24)):
            if len(self.values[key]) > limit:
                self.errors[key] = _("Terlalu panjang (maksimal %(n)d karakter).", n=limit)
        if self.values["tiket"] and "tiket" not in self.errors:
            self.complaint_id = db.session.scalar(
                sa.select(Complaint.id).where(Complaint.ticket == self.values["tiket"].upper()))
            if self.complaint_id is None:
                self.errors["tiket"] = _("Tiket tidak ditemukan.")

    @property
    def active(self) -> dict[str, str]:
        return {k: v for k, v in self.values.items() if v}

    @property
    def shows_page_views(self) -> bool:
        """Page views (kind "request") are most of the log and rarely what is looked for: hidden unless
        asked for (?halaman=1, or the kind "Akses halaman" chosen)."""
        return self.values["halaman"] == "1" or self.values["jenis"] == "request"

    def apply(self, query):
        v = self.values
        if not self.shows_page_views:
            query = query.where(AuditLog.kind != "request")
        if v["pengguna"]:
            query = query.where(AuditLog.username == v["pengguna"])
        if v["peran"]:
            query = query.where(AuditLog.role == v["peran"])
        if v["aksi"]:
            query = query.where(AuditLog.action == v["aksi"])
        if v["jenis"]:
            query = query.where(AuditLog.kind == v["jenis"])
        if self.complaint_id is not None:
            query = query.where(AuditLog.complaint_id == self.complaint_id)
        if self.start:
            query = query.where(AuditLog.at >= from_wib(datetime.combine(self.start, time())))
        if self.end:
            query = query.where(AuditLog.at < from_wib(datetime.combine(self.end + timedelta(days=1), time())))
        return query


def _history_query(flt: HistoryFilter):
    return flt.apply(sa.select(AuditLog, Complaint.ticket)
                     .outerjoin(Complaint, Complaint.id == AuditLog.complaint_id)
                     .order_by(AuditLog.at.desc(), AuditLog.id.desc()))


# Newest first; each filter's index (ix_audit_log_*_at) leads with the time. Ties by id.
HISTORY_ORDER = cursor.Keyset(ident=AuditLog.id, key=AuditLog.at, descending=True)


def history_page(flt: HistoryFilter, token: str | None = None) -> tuple[list, str | None]:
    """One page of (AuditLog, ticket) rows, newest first, and the cursor of the next page (None at the
    end): keyset on (at, id), no OFFSET, no count. A cursor that does not fit means the first page."""
    return HISTORY_ORDER.fetch(lambda q: db.session.execute(q).all(), _history_query(flt),
                               HISTORY_ORDER.position(token), HISTORY_PAGE, key_of=lambda r: (r[0].at, r[0].id))


HISTORY_CSV_HEADER = ["waktu_wib", "jenis", "aksi", "pengguna", "peran", "tiket", "metode", "path", "endpoint",
                      "status", "alamat_ip", "user_agent", "durasi_ms", "objek", "rincian"]


def _history_rows(engine, flt: HistoryFilter) -> Iterator[list]:
    """The export's rows, read in batches on a connection of their own: the download streams after the
    request has ended, and an abandoned download just closes the connection."""
    t = AuditLog.__table__
    query = flt.apply(sa.select(t, Complaint.ticket).outerjoin(Complaint, Complaint.id == t.c.complaint_id)
                      .order_by(t.c.at.desc(), t.c.id.desc()))
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=1000).execute(query)
        for r in result:
            yield [format_wib(r.at), str(labels.AUDIT_KINDS.get(r.kind, r.kind)), action_label(r.action),
                   r.username, r.role, r.ticket, r.method, r.path, r.endpoint, r.status, r.ip, r.user_agent,
                   r.duration_ms, r.target, readable_detail(r.detail, r.action)]


def export_history(actor: Actor, flt: HistoryFilter) -> tuple[str, list[str], Iterator[list]]:
    """(file name, header, rows) of the filtered history log as CSV; the export is logged first."""
    log_export(actor, "history", "csv", flt.active)  # logged first: no record, no file
    return f"riwayat-akses-{file_stamp()}.csv", HISTORY_CSV_HEADER, _history_rows(db.engine, flt)


def action_label(action: str | None) -> str:
    return str(labels.AUDIT_ACTIONS.get(action, action or "–"))


def detail_text(row: AuditLog) -> str:
    """A history row's detail in plain words (labels.FIELD_LABELS / VALUE_LABELS): "Hasil: Valid", a change
    as "Nama depan: Budi → Budi S.", a secret as "(disembunyikan)", a sealed NIK by its label."""
    return readable_detail(row.detail, row.action)


def readable_detail(raw: str | None, action: str | None = None) -> str:
    if not raw:
        return ""
    try:
        data = json.loads(raw)
    except ValueError:
        return drop_sealed(raw)
    if not isinstance(data, dict):
        return _value_text("", data)
    change = bool(action and action.endswith(".update"))
    return "; ".join(f"{_field_label(key)}: {_value_text(key, value, change)}" for key, value in data.items())


def _field_label(key: str) -> str:
    return str(labels.FIELD_LABELS.get(key, key.replace("_", " ")))


def _value_text(key: str, value: Any, change: bool = False) -> str:
    if change and isinstance(value, list) and len(value) == 2:
        return f"{_value_text(key, value[0])} → {_value_text(key, value[1])}"
    if change and isinstance(value, dict) and set(value) == {"+", "-"}:
        parts = [f"+ {', '.join(map(str, value['+']))}" if value["+"] else "",
                 f"− {', '.join(map(str, value['-']))}" if value["-"] else ""]
        return "; ".join(p for p in parts if p) or labels.EMPTY
    if value is None or value == "":
        return labels.EMPTY
    if value is True or value is False:
        return str(labels.YES if value else labels.NO)
    if value == "***":
        return str(labels.SECRET_LABEL)
    if isinstance(value, list):
        if key in ("public_edited", "fields", "changed_fields"):
            return ", ".join(_field_label(str(v)) for v in value) or labels.EMPTY
        return ", ".join(_value_text(key, v) for v in value) or labels.EMPTY
    if isinstance(value, dict):
        return ", ".join(f"{_field_label(k)} {_value_text(k, v)}" for k, v in value.items())
    if key == "verdict":
        from .validation import siak_label

        return str(siak_label(str(value)))
    text = drop_sealed(str(value))
    return str(labels.VALUE_LABELS.get(key, {}).get(text, text))


def find_complaint_id(ticket: str) -> int | None:
    ticket = (ticket or "").strip().upper()
    return db.session.scalar(sa.select(Complaint.id).where(Complaint.ticket == ticket)) if ticket else None


@dataclass
class ComplaintHistory:
    complaint: ComplaintView  # the disclosure policy's records view (supervisors: no NIK)
    log_rows: list[AuditLog]
    nik_views: list[AuditLog]
    complaint_versions: list[dict[str, Any]]
    answer_versions: list[tuple[str, list[dict[str, Any]]]]  # (answering OPD's name, versions)


def complaint_history(complaint_id: int, actor: Actor) -> ComplaintHistory | None:
    """Everything recorded about one complaint: its history rows (requests aside), who viewed its NIK,
    and the versions of the complaint and of its answers. None when there is no such complaint."""
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None:
        return None
    view = present(complaint, actor, Screen.RECORDS, log=False)
    log_rows = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.complaint_id == complaint_id, AuditLog.kind != "request")
        .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(RECORD_ROWS)).all()
    # Who saw the NIK or the complainant's contact data (every personal-data view is a "pii" row), first.
    nik_views = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.complaint_id == complaint_id, AuditLog.kind == "pii")
        .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(RECORD_ROWS)).all()
    answers = db.session.scalars(sa.select(Answer).where(Answer.complaint_id == complaint_id)
                                 .order_by(Answer.id)).all()
    return ComplaintHistory(view, list(log_rows), list(nik_views), versions(Complaint, complaint_id),
                            [(a.opd.name, versions(Answer, a.id)) for a in answers])


@dataclass
class AccountHistory:
    user: Staff | None
    changes: list[AuditLog]
    activity: list[AuditLog]


def account_history(user_id: int) -> AccountHistory | None:
    """An account's changes (diffs written by the history log) and its latest activity; None when the
    account never existed (a deleted account still has its changes)."""
    user = db.session.get(Staff, user_id)
    changes = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.target == f"user:{user_id}")
        .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(RECORD_ROWS)).all()
    if user is None and not changes:
        return None
    activity = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.user_id == user_id, AuditLog.kind != "request")
        .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(ACCOUNT_ACTIVITY_ROWS)).all()
    return AccountHistory(user, list(changes), list(activity))


_HIDDEN_VERSION_FIELDS = {"version", "id", "complaint_id", "opd_id"}


def versions(model, record_id: int) -> list[dict[str, Any]]:
    """Continuum versions of one record, newest first: who (transaction user), when, what changed."""
    Version = version_class(model)
    rows = db.session.scalars(sa.select(Version).where(Version.id == record_id)
                              .order_by(Version.transaction_id.desc()).limit(VERSION_ROWS)).all()
    users = {}
    result = []
    for version in rows:
        transaction = version.transaction
        user_id = getattr(transaction, "user_id", None)
        if user_id is not None and user_id not in users:
            user = db.session.get(Staff, user_id)
            users[user_id] = user.username if user else f"#{user_id}"
        changes = {k: v for k, v in version.changeset.items() if k not in _HIDDEN_VERSION_FIELDS}
        result.append({"at": transaction.issued_at, "user": users.get(user_id) if user_id else None,
                       "ip": getattr(transaction, "remote_addr", None),
                       "operation": {0: _("dibuat"), 1: _("diubah"), 2: _("dihapus")}.get(version.operation_type, ""),
                       "changes": {_field_label(k): (_version_value(k, v[0]), _version_value(k, v[1]))
                                   for k, v in changes.items()}})
    return result


def _version_value(key: str, value: Any) -> str:
    if key == "nik_findings" and value:
        try:  # a JSON list of {code, message, severity}: the messages are what a person reads
            return "; ".join(str(f.get("message", "")) for f in json.loads(value)) or "–"
        except (ValueError, AttributeError, TypeError):
            pass
    return _short(value)


def _short(value: Any) -> str:
    """A versioned value in plain words: "–", Ya/Tidak, a state by its label, a time in WIB, a sealed NIK by
    its label, personal-data findings by their count."""
    from ..workflow import State

    if value is None or value == "":
        return "–"
    if value is True or value is False:
        return str(labels.YES if value else labels.NO)
    if isinstance(value, State):
        return str(labels.STATE_LABELS[value])
    if isinstance(value, datetime):
        return format_wib(value)
    text = drop_sealed(value.value if hasattr(value, "value") else str(value))  # sealed NIKs as a label
    return text if len(text) <= 300 else text[:300] + "…"


# --------------------------------------------------------------------------- recap exports


def _recap_filters(report) -> dict[str, str]:
    return {**report.period.as_args(), "kelompok": report.dimension}


def _recap_filename(report, ext: str) -> str:
    return f"rekap-pengaduan-{report.period.start:%Y%m%d}-{report.period.last_day:%Y%m%d}-{report.dimension}.{ext}"


def _recap_table(report) -> tuple[list[str], list[list]]:
    header = [str(recap_report.DIMENSIONS[report.dimension])] + [str(label) for _, label in recap_report.COLUMNS]
    rows = [[row.label] + [getattr(row, attr) for attr, _ in recap_report.COLUMNS]
            for row in [*report.rows, report.total]]
    return header, rows


def export_recap_csv(actor: Actor, report) -> tuple[str, list[str], list[list]]:
    """(file name, header, rows) of the recap as CSV, the totals row last; the export is logged first."""
    log_export(actor, "recap", "csv", _recap_filters(report))
    return (_recap_filename(report, "csv"), *_recap_table(report))


def export_recap_xlsx(actor: Actor, report):
    """(file name, workbook) of the recap as XLSX; the export is logged first."""
    log_export(actor, "recap", "xlsx", _recap_filters(report))
    return _recap_filename(report, "xlsx"), recap_workbook(report)


def recap_workbook(report):
    """One sheet: title block (region, department, period, date printed in WIB), a header row, one typed
    row per group, and a totals row; shares as percentages, hours as numbers."""
    config = current_app.config
    title_lines = [
        (config["REGION_NAME"].upper(), True),
        (config["DEPARTMENT_NAME"], True),
        (_("Rekapitulasi Layanan Pengaduan Online"), True),
        (_("Periode: %(p)s", p=report.period.label), False),
        (_("Dikelompokkan menurut: %(d)s", d=str(recap_report.DIMENSIONS[report.dimension])), False),
        (_("Dicetak: %(t)s", t=format_wib(utcnow())), False),
    ]
    header, rows = _recap_table(report)
    formats = [None] + ["0.0%" if a in recap_report.SHARES else "0.0" if a in recap_report.DECIMALS else "0"
                        for a, _label in recap_report.COLUMNS]
    return table_workbook("Rekap", title_lines, header, rows, formats, bold_last_row=True)
