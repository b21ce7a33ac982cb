"""REST for the SOP's records (Pimpinan and Admin Sistem): the recap figures and the history log, read with
the screens' own parsers and services (app/reports/recap.py, services.records), under the screens' own
permissions (Recap, HistoryLog). Documented in /api/v1/_openapi."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect
from flask_babel import gettext as _
from marshmallow import Schema, fields

from ..reports import recap as recap_report
from ..services import cursor, records
from ..services.complaint_api import iso
from ..services.records import HistoryFilter
from . import refusal
from .complaints import _query as query_parameter


def _query(name: str, description: str, **schema) -> dict:
    return query_parameter(name, {"type": "string", **schema}, description)


class RecapRowSchema(Schema):
    __component_name__ = "RecapRow"

    key = fields.String(allow_none=True, metadata={"description": "OPD id, state, visibility or channel"})
    label = fields.String()
    figures = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True), metadata={
        "description": "One value per column of the recap screen: "
                       + ", ".join(a for a, _label in recap_report.COLUMNS)
                       + " (shares 0-1, times in hours, the rest counts)"})


class RecapSchema(Schema):
    __component_name__ = "Recap"

    period = fields.Dict(metadata={"description": "kind, first day, last day (WIB), label"})
    dimension = fields.String()
    rows = fields.List(fields.Nested(RecapRowSchema))
    total = fields.Nested(RecapRowSchema)


class HistoryRowSchema(Schema):
    __component_name__ = "HistoryRow"

    id = fields.Integer()
    at = fields.String()
    kind = fields.String()
    action = fields.String()
    username = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    ticket = fields.String(allow_none=True)
    method = fields.String(allow_none=True)
    path = fields.String(allow_none=True)
    status = fields.Integer(allow_none=True)
    ip = fields.String(allow_none=True)
    target = fields.String(allow_none=True)
    detail = fields.String()


class HistoryPageSchema(Schema):
    __component_name__ = "HistoryPage"

    result = fields.List(fields.Nested(HistoryRowSchema))
    next_cursor = fields.String(allow_none=True, data_key=cursor.NEXT)


def _row(row: recap_report.RecapRow) -> dict:
    key = row.key.value if hasattr(row.key, "value") else row.key
    return {"key": None if key is None else str(key), "label": str(row.label),
            "figures": {a: recap_report.value_of(row, a) for a, _label in recap_report.COLUMNS}}


class RecapApi(BaseApi):
    resource_name = "recap"
    route_base = "/api/v1/recap"
    class_permission_name = "Recap"
    method_permission_name = {"get": "read"}
    openapi_spec_tag = "Records"
    openapi_spec_component_schemas = (RecapRowSchema, RecapSchema)
    allow_browser_login = False
    openapi_spec_methods = {"get": {"get": {"parameters": [
        _query("periode", "hari, minggu, bulan (default), tahun or rentang", enum=list(recap_report.PERIODS)),
        _query("tanggal", "A day of the period (YYYY-MM-DD; default today, WIB)", format="date"),
        _query("dari", "First day of a rentang (YYYY-MM-DD)", format="date"),
        _query("sampai", "Last day of a rentang (YYYY-MM-DD)", format="date"),
        _query("kelompok", "Grouping: opd (default), state, visibility or channel",
               enum=list(recap_report.DIMENSIONS))]}}}

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def get(self):
        """The recap figures of the Rekap screen for one period, grouped as asked.
        ---
        get:
          summary: Recap figures (Pimpinan, Admin Sistem)
          responses:
            200:
              description: The figures
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      result: {$ref: '#/components/schemas/Recap'}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
        """
        try:
            period, dimension = recap_report.parse_args(request.args)
        except recap_report.RecapInputError as exc:
            return refusal(400, _("Periksa kembali parameter rekap."), errors=exc.errors)
        report = recap_report.build(period, dimension)
        return self.response(200, result={
            "period": {"kind": period.kind, "start": period.start.isoformat(), "last_day": period.last_day.isoformat(),
                       "label": period.label},
            "dimension": dimension, "rows": [_row(r) for r in report.rows], "total": _row(report.total)})


class HistoryLogApi(BaseApi):
    resource_name = "history"
    route_base = "/api/v1/history"
    class_permission_name = "HistoryLog"
    method_permission_name = {"get_list": "read"}
    openapi_spec_tag = "Records"
    openapi_spec_component_schemas = (HistoryRowSchema, HistoryPageSchema)
    allow_browser_login = False
    openapi_spec_methods = {"get_list": {"get": {"parameters": [
        _query("pengguna", "Username", maxLength=128), _query("peran", "Role", maxLength=64),
        _query("aksi", "Action code, e.g. complaint.decide", maxLength=48),
        _query("jenis", "Kind", enum=["auth", "request", "action", "pii", "system"]),
        _query("tiket", "Ticket", maxLength=24),
        _query("dari", "From this WIB day (YYYY-MM-DD)", format="date"),
        _query("sampai", "Up to this WIB day (YYYY-MM-DD)", format="date"),
        _query(cursor.NEXT, f"Cursor of the next page: the previous answer's `{cursor.NEXT}`")]}}}

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def get_list(self):
        """The history log, newest first, with the Riwayat Akses screen's filters and keyset pages.
        ---
        get:
          summary: History log (Pimpinan, Admin Sistem)
          responses:
            200:
              description: One page, newest first
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/HistoryPage'}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
        """
        flt = HistoryFilter(request.args)
        if flt.errors:
            return refusal(400, _("Periksa kembali isian."), errors=flt.errors)
        rows, next_cursor = records.history_page(flt, request.args.get(cursor.NEXT))
        return self.response(200, **{"result": [
            {"id": r.id, "at": iso(r.at), "kind": r.kind, "action": r.action, "username": r.username, "role": r.role,
             "ticket": ticket, "method": r.method, "path": r.path, "status": r.status, "ip": r.ip, "target": r.target,
             "detail": records.detail_text(r)} for r, ticket in rows], cursor.NEXT: next_cursor})


class DashboardSchema(Schema):
    __component_name__ = "Dashboard"

    period = fields.Dict(metadata={"description": "date_from, date_to (WIB, inclusive), opd (code or null)"})
    states = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "Complaints submitted in the period, by their state now"})
    overdue_validation = fields.Integer(metadata={"description": "NIK checks waiting now past 24 hours"})
    overdue_answer = fields.Integer(metadata={"description": "Answers waiting now past their deadline"})
    per_opd = fields.List(fields.Dict(), metadata={
        "description": "code, name, received, answered, within_standard, share_within, overdue_now, "
                       "median_answer_hours"})
    months = fields.List(fields.Dict(), metadata={"description": "month (YYYY-MM, WIB), received, answered, "
                                                                 "overdue"})


class DashboardApi(BaseApi):
    resource_name = "dashboard"
    route_base = "/api/v1/dashboard"
    class_permission_name = "ControlDashboard"
    method_permission_name = {"get": "index"}
    openapi_spec_tag = "Records"
    openapi_spec_component_schemas = (DashboardSchema,)
    allow_browser_login = False
    openapi_spec_methods = {"get": {"get": {"parameters": [
        _query("dari", "First WIB day (YYYY-MM-DD; default 30 days ago)", format="date"),
        _query("sampai", "Last WIB day (YYYY-MM-DD; default today)", format="date"),
        _query("opd", "Only this OPD (code)", maxLength=32)]}}}

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def get(self):
        """The control dashboard's figures (SOP Pengendalian) with the screen's filters and definitions.
        ---
        get:
          summary: Dashboard figures (Pimpinan, Admin Sistem)
          responses:
            200:
              description: The figures
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      result: {$ref: '#/components/schemas/Dashboard'}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
        """
        from ..desks.dashboard import read_filters
        from ..reports import dashboard as report
        from ..timeutil import utcnow

        now = utcnow()
        filters, opd, errors = read_filters(now)
        if errors:  # the screen falls back to its defaults with a message; an API caller gets the refusal
            return refusal(400, _("Periksa kembali isian."), errors={"filters": " ".join(map(str, errors))})
        _rows, validation_total = report.overdue_validation(now, filters.opd_id, limit=1)
        _rows, answer_total = report.overdue_answer(now, filters.opd_id, limit=1)
        return self.response(200, result={
            "period": {"date_from": filters.date_from.isoformat(), "date_to": filters.date_to.isoformat(),
                       "opd": opd.code if opd else None},
            "states": {state.value: n for state, n in report.state_counts(filters).items()},
            "overdue_validation": validation_total, "overdue_answer": answer_total,
            "per_opd": [{"code": o.code, "name": o.name, "received": o.received, "answered": o.answered,
                         "within_standard": o.within_standard, "share_within": o.share_within,
                         "overdue_now": o.overdue_now,
                         "median_answer_hours": None if o.median_answer_seconds is None
                         else round(o.median_answer_seconds / 3600, 2)} for o in report.per_opd(filters, now)],
            "months": [{"month": m.month, "received": m.received, "answered": m.answered, "overdue": m.overdue}
                       for m in report.monthly_trend(filters)]})


def register(appbuilder) -> None:
    appbuilder.add_api(RecapApi)
    appbuilder.add_api(HistoryLogApi)
    appbuilder.add_api(DashboardApi)
