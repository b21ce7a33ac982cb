"""Records for Pimpinan and Admin Sistem (SOP "Pencatatan dan Pendataan"): the history log with its
filters and CSV export, per-record history (complaint, answers, account), and the recap with its
printable page, XLSX and CSV.

Read-only screens: the history log has no edit or delete route anywhere. Views translate HTTP to
service calls (app/services/records.py); the figures come from app/reports/recap.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, current_app, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from .. import audit, paging
from ..exports import csv_response, xlsx_response
from ..filters import percent
from ..reports import recap as recap_report
from ..services import Actor, records
from ..services.records import HistoryFilter
from ..timeutil import format_wib, to_wib, utcnow
from ..workflow import Role

MENU_CATEGORY = "Laporan"
MENU_HISTORY = "Riwayat Akses"
MENU_RECAP = "Rekap Pengaduan"


def _actor() -> Actor:
    return Actor.from_user(g.user)


class HistoryLogView(BaseView):
    """Riwayat akses: filter by user, role, action, kind, ticket and date range; newest first."""

    route_base = "/riwayat"
    default_view = "index"
    class_permission_name = "HistoryLog"
    method_permission_name = {"index": "read", "find_complaint": "read", "complaint": "read",
                              "account": "read", "export_csv": "export"}

    @expose("/")
    @has_access
    @paging.renamed(records.HISTORY_ORDER)
    def index(self):
        flt = HistoryFilter(request.args)
        rows, next_cursor = ([], None) if flt.errors else \
            records.history_page(flt, request.args.get(paging.NEXT))
        return self.render_template(
            "records/history.html", rows=rows, flt=flt, next_cursor=next_cursor, detail=records.detail_text,
            kinds=audit.KINDS, actions=audit.ACTIONS, roles=[r.value for r in Role if r is not Role.PUBLIK])

    @expose("/csv")
    @has_access
    def export_csv(self):
        flt = HistoryFilter(request.args)
        if flt.errors:
            return redirect(url_for(".index", **flt.active))
        filename, header, rows = records.export_history(_actor(), flt)
        return csv_response(filename, header, rows, needs_context=False)

    @expose("/pengaduan")
    @has_access
    def find_complaint(self):
        ticket = (request.args.get("tiket") or "").strip().upper()
        complaint_id = records.find_complaint_id(ticket)
        if complaint_id is None:
            return self.render_template("records/find.html", ticket=ticket, not_found=bool(ticket))
        return redirect(url_for(".complaint", complaint_id=complaint_id))

    @expose("/pengaduan/<int:complaint_id>")
    @has_access
    def complaint(self, complaint_id: int):
        found = records.complaint_history(complaint_id, _actor())
        if found is None:
            abort(404)
        return self.render_template(
            "records/complaint.html", complaint=found.complaint, log_rows=found.log_rows,
            nik_views=found.nik_views, complaint_versions=found.complaint_versions,
            answer_versions=found.answer_versions, detail=records.detail_text,
            actions=audit.ACTIONS, state_labels=recap_report.STATE_LABELS)

    @expose("/akun/<int:user_id>")
    @has_access
    def account(self, user_id: int):
        found = records.account_history(user_id)
        if found is None:
            abort(404)
        return self.render_template("records/account.html", user=found.user, user_id=user_id,
                                    changes=found.changes, activity=found.activity, detail=records.detail_text,
                                    actions=audit.ACTIONS, role_of=audit.main_role)


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
    # Numbers through Babel in the page's locale, like every other screen ("85,7%" / "85.7%").
    if attribute in recap_report.SHARES:
        return percent(value)
    if attribute in recap_report.DECIMALS:
        return format_decimal(value, format="#,##0.0")
    return format_decimal(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


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

    @expose("/xlsx")
    @has_access
    def export_xlsx(self):
        report, errors = _recap_from_request()
        if report is None:
            return redirect(url_for(".index", **request.args))
        return xlsx_response(*records.export_recap_xlsx(_actor(), report))

    @expose("/csv")
    @has_access
    def export_csv(self):
        report, errors = _recap_from_request()
        if report is None:
            return redirect(url_for(".index", **request.args))
        return csv_response(*records.export_recap_csv(_actor(), report), needs_context=False)


def register(appbuilder) -> None:
    appbuilder.add_view(HistoryLogView, MENU_HISTORY, label=_l("Riwayat akses"), icon="fa-history",
                        category=MENU_CATEGORY, category_label=_l("Laporan"))
    appbuilder.add_view(RecapView, MENU_RECAP, label=_l("Rekap pengaduan"), icon="fa-table",
                        category=MENU_CATEGORY, category_label=_l("Laporan"))
