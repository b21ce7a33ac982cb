"""Records for Pimpinan and Admin Sistem (SOP "Pencatatan dan Pendataan"): the history log with its
filters and CSV export, per-record history (complaint, answers, account), and the recap with its
printable page, XLSX and CSV.

Read-only screens: the history log has no edit or delete route anywhere. Views translate HTTP to
queries and service calls; the figures come from app/reports/recap.py.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _, lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy_continuum import version_class

from .. import audit, paging
from ..crypto import drop_sealed
from ..exports import csv_response, set_cell, xlsx_response
from ..extensions import db
from ..models import Answer, AuditLog, Complaint, Staff
from ..reports import recap as recap_report
from ..services import Actor, cursor
from ..services.records import log_export
from ..timeutil import format_wib, from_wib, to_wib, utcnow
from ..workflow import Role

MENU_CATEGORY = "Laporan"
MENU_HISTORY = "Riwayat Akses"
MENU_RECAP = "Rekap Pengaduan"
PAGE_SIZE = 50


def _actor() -> Actor:
    return Actor.from_user(g.user)


def _parse_day(value: str | None) -> date | None | bool:
    """None when empty, False when not a date."""
    day = recap_report.parse_date(value)
    return False if day is None and (value or "").strip() else day


class HistoryFilter:
    """The history-log filters of one request: each one an indexed column (see AuditLog indexes)."""

    FIELDS = ("pengguna", "peran", "aksi", "jenis", "tiket", "dari", "sampai")

    def __init__(self, args):
        self.values = {k: (args.get(k) or "").strip() for k in self.FIELDS}
        self.errors: dict[str, str] = {}
        self.complaint_id: int | None = None
        self.start = _parse_day(self.values["dari"])
        self.end = _parse_day(self.values["sampai"])
        if self.start is False:
            self.errors["dari"] = _("Tanggal tidak valid (format TTTT-BB-HH).")
        if self.end is False:
            self.errors["sampai"] = _("Tanggal tidak valid (format TTTT-BB-HH).")
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

    def apply(self, query):
        v = self.values
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


def _history_rows(engine, flt: HistoryFilter):
    """The export's rows, read in batches on a connection of their own: the download streams after the
    request has ended, and an abandoned download just closes the connection."""
    t = AuditLog.__table__
    query = flt.apply(sa.select(t, Complaint.ticket).outerjoin(Complaint, Complaint.id == t.c.complaint_id)
                      .order_by(t.c.at.desc(), t.c.id.desc()))
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=1000).execute(query)
        for r in result:
            yield [format_wib(r.at), r.kind, r.action, r.username, r.role, r.ticket, r.method, r.path, r.endpoint,
                   r.status, r.ip, r.user_agent, r.duration_ms, r.target, r.detail]


def _detail(row: AuditLog) -> str:
    if not row.detail:
        return ""
    try:
        data = json.loads(row.detail)
    except ValueError:
        return row.detail
    if isinstance(data, dict):
        return "; ".join(f"{k}: {json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v}"
                         for k, v in data.items())
    return str(data)


# Newest first; each filter's index (ix_audit_log_*_at) leads with the time. Ties by id.
HISTORY_ORDER = cursor.Keyset(ident=AuditLog.id, key=AuditLog.at, descending=True)


class HistoryLogView(BaseView):
    """Riwayat akses: filter by user, role, action, kind, ticket and date range; newest first."""

    route_base = "/riwayat"
    default_view = "index"
    class_permission_name = "HistoryLog"
    method_permission_name = {"index": "read", "find_complaint": "read", "complaint": "read",
                              "account": "read", "export_csv": "export"}

    @expose("/")
    @has_access
    @paging.renamed(HISTORY_ORDER)
    def index(self):
        flt = HistoryFilter(request.args)
        rows: list = []
        next_cursor = None
        if not flt.errors:
            rows, next_cursor = HISTORY_ORDER.fetch(
                lambda q: db.session.execute(q).all(), _history_query(flt),
                HISTORY_ORDER.position(request.args.get(paging.NEXT)), PAGE_SIZE, key_of=lambda r: (r[0].at, r[0].id))
        return self.render_template(
            "records/history.html", rows=rows, flt=flt, next_cursor=next_cursor, detail=_detail,
            kinds=audit.KINDS, actions=audit.ACTIONS, roles=[r.value for r in Role if r is not Role.PUBLIK])

    @expose("/csv")
    @has_access
    def export_csv(self):
        flt = HistoryFilter(request.args)
        if flt.errors:
            return redirect(url_for(".index", **flt.active))
        log_export(_actor(), "history", "csv", flt.active)  # logged first: no record, no file
        header = ["waktu_wib", "jenis", "aksi", "pengguna", "peran", "tiket", "metode", "path", "endpoint",
                  "status", "alamat_ip", "user_agent", "durasi_ms", "objek", "rincian"]
        stamp = to_wib(utcnow()).strftime("%Y%m%d-%H%M")
        return csv_response(f"riwayat-akses-{stamp}.csv", header, _history_rows(db.engine, flt), needs_context=False)

    @expose("/pengaduan")
    @has_access
    def find_complaint(self):
        ticket = (request.args.get("tiket") or "").strip().upper()
        complaint_id = db.session.scalar(sa.select(Complaint.id).where(Complaint.ticket == ticket)) if ticket else None
        if complaint_id is None:
            return self.render_template("records/find.html", ticket=ticket, not_found=bool(ticket))
        return redirect(url_for(".complaint", complaint_id=complaint_id))

    @expose("/pengaduan/<int:complaint_id>")
    @has_access
    def complaint(self, complaint_id: int):
        complaint = db.session.get(Complaint, complaint_id)
        if complaint is None:
            abort(404)
        log_rows = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.complaint_id == complaint_id, AuditLog.kind != "request")
            .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(200)).all()
        nik_views = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.complaint_id == complaint_id, AuditLog.action == "nik.view")
            .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(200)).all()
        answers = db.session.scalars(sa.select(Answer).where(Answer.complaint_id == complaint_id)
                                     .order_by(Answer.id)).all()
        return self.render_template(
            "records/complaint.html", complaint=complaint, log_rows=log_rows, nik_views=nik_views,
            complaint_versions=_versions(Complaint, complaint_id),
            answer_versions=[(a, _versions(Answer, a.id)) for a in answers], detail=_detail,
            actions=audit.ACTIONS, state_labels=recap_report.STATE_LABELS)

    @expose("/akun/<int:user_id>")
    @has_access
    def account(self, user_id: int):
        user = db.session.get(Staff, user_id)
        changes = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.target == f"user:{user_id}")
            .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(200)).all()
        if user is None and not changes:
            abort(404)
        activity = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.user_id == user_id, AuditLog.kind != "request")
            .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(50)).all()
        return self.render_template("records/account.html", user=user, user_id=user_id, changes=changes,
                                    activity=activity, detail=_detail, actions=audit.ACTIONS,
                                    role_of=audit.main_role)


_HIDDEN_VERSION_FIELDS = {"version", "id", "complaint_id", "opd_id"}


def _versions(model, record_id: int) -> list[dict[str, Any]]:
    """Continuum versions of one record, newest first: who (transaction user), when, what changed."""
    Version = version_class(model)
    versions = db.session.scalars(sa.select(Version).where(Version.id == record_id)
                                  .order_by(Version.transaction_id.desc()).limit(100)).all()
    users = {}
    result = []
    for version in versions:
        transaction = version.transaction
        user_id = getattr(transaction, "user_id", None)
        if user_id is not None and user_id not in users:
            user = db.session.get(Staff, user_id)
            users[user_id] = user.username if user else f"#{user_id}"
        changes = {k: v for k, v in version.changeset.items() if k not in _HIDDEN_VERSION_FIELDS}
        result.append({"at": transaction.issued_at, "user": users.get(user_id) if user_id else None,
                       "ip": getattr(transaction, "remote_addr", None),
                       "operation": {0: _("dibuat"), 1: _("diubah"), 2: _("dihapus")}.get(version.operation_type, ""),
                       "changes": {k: (_short(v[0]), _short(v[1])) for k, v in changes.items()}})
    return result


def _short(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return format_wib(value)
    text = drop_sealed(value.value if hasattr(value, "value") else str(value))  # sealed NIKs as a label
    return text if len(text) <= 300 else text[:300] + "…"


# --------------------------------------------------------------------------- recap


def _recap_from_request():
    try:
        period, dimension = recap_report.parse_args(request.args)
    except recap_report.RecapInputError as exc:
        return None, exc.errors
    return recap_report.build(period, dimension), {}


def _cell_text(attribute: str, value: Any) -> str:
    if value is None:
        return "–"
    if attribute in recap_report.SHARES:
        return f"{value * 100:.1f}%".replace(".", ",")
    if attribute in recap_report.HOURS:
        return f"{value:.1f}".replace(".", ",")
    return str(value)


class RecapView(BaseView):
    """Rekapitulasi: by period and OPD/state/visibility/channel; printable; XLSX and CSV."""

    route_base = "/rekap"
    default_view = "index"
    class_permission_name = "Recap"
    method_permission_name = {"index": "read", "export_xlsx": "export", "export_csv": "export"}

    @expose("/")
    @has_access
    def index(self):
        report, errors = _recap_from_request()
        today = to_wib(utcnow()).date()
        last_month = recap_report.make_period("bulan", today.replace(day=1) - timedelta(days=1))
        return self.render_template(
            "records/recap.html", report=report, errors=errors, args=request.args, columns=recap_report.COLUMNS,
            periods=recap_report.PERIODS, dimensions=recap_report.DIMENSIONS, cell=_cell_text,
            printed=format_wib(utcnow()), last_month=last_month, today=today,
            region=current_app.config["REGION_NAME"], department=current_app.config["DEPARTMENT_NAME"])

    def _export_args(self, report) -> dict[str, str]:
        return {**report.period.as_args(), "kelompok": report.dimension}

    @expose("/xlsx")
    @has_access
    def export_xlsx(self):
        report, errors = _recap_from_request()
        if report is None:
            return redirect(url_for(".index", **request.args))
        log_export(_actor(), "recap", "xlsx", self._export_args(report))
        return xlsx_response(_recap_filename(report, "xlsx"), recap_workbook(report))

    @expose("/csv")
    @has_access
    def export_csv(self):
        report, errors = _recap_from_request()
        if report is None:
            return redirect(url_for(".index", **request.args))
        log_export(_actor(), "recap", "csv", self._export_args(report))
        header = [str(recap_report.DIMENSIONS[report.dimension])] + [str(label) for _, label in recap_report.COLUMNS]
        rows = [[row.label] + [getattr(row, attr) for attr, _ in recap_report.COLUMNS]
                for row in [*report.rows, report.total]]
        return csv_response(_recap_filename(report, "csv"), header, rows, needs_context=False)


def _recap_filename(report, ext: str) -> str:
    return f"rekap-pengaduan-{report.period.start:%Y%m%d}-{report.period.last_day:%Y%m%d}-{report.dimension}.{ext}"


def recap_workbook(report) -> Workbook:
    """One sheet: title block (region, department, period, date printed in WIB), a header row, one typed
    row per group, and a totals row; shares as percentages, hours as numbers."""
    config = current_app.config
    book = Workbook()
    sheet = book.active
    sheet.title = "Rekap"
    title_lines = [
        (config["REGION_NAME"].upper(), True),
        (config["DEPARTMENT_NAME"], True),
        (_("Rekapitulasi Layanan Pengaduan Online"), True),
        (_("Periode: %(p)s", p=report.period.label), False),
        (_("Dikelompokkan menurut: %(d)s", d=str(recap_report.DIMENSIONS[report.dimension])), False),
        (_("Dicetak: %(t)s", t=format_wib(utcnow())), False),
    ]
    for i, (text, bold) in enumerate(title_lines, start=1):
        set_cell(sheet, i, 1, text).font = Font(bold=bold, size=12 if bold else 10)
    header_row = len(title_lines) + 2
    header = [str(recap_report.DIMENSIONS[report.dimension])] + [str(label) for _, label in recap_report.COLUMNS]
    for col, text in enumerate(header, start=1):
        cell = set_cell(sheet, header_row, col, text)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    r = header_row
    for r, row in enumerate([*report.rows, report.total], start=header_row + 1):
        set_cell(sheet, r, 1, row.label)
        for col, (attribute, _label) in enumerate(recap_report.COLUMNS, start=2):
            fmt = "0.0%" if attribute in recap_report.SHARES else "0.0" if attribute in recap_report.HOURS else "0"
            set_cell(sheet, r, col, getattr(row, attribute), fmt)
    for col in range(1, len(header) + 1):
        cell = sheet.cell(row=r, column=col)
        cell.font = Font(bold=True)  # the totals row
    sheet.column_dimensions["A"].width = 48
    for col in range(2, len(header) + 1):
        sheet.column_dimensions[get_column_letter(col)].width = 14
    sheet.row_dimensions[header_row].height = 45
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=2)
    return book


def register(appbuilder) -> None:
    appbuilder.add_view(HistoryLogView, MENU_HISTORY, label=_l("Riwayat akses"), icon="fa-history",
                        category=MENU_CATEGORY, category_label=_l("Laporan"))
    appbuilder.add_view(RecapView, MENU_RECAP, label=_l("Rekap pengaduan"), icon="fa-table",
                        category=MENU_CATEGORY, category_label=_l("Laporan"))
