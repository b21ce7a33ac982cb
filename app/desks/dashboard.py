"""The supervisors' control dashboard (SOP Pengendalian; Pimpinan and Admin Sistem) and the outbox
screen (Admin Sistem). Views translate HTTP to report queries and service calls; charts are SVG drawn
on the server by pygal and embedded inline, so they need no internet and no script (CSP 'self')."""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache

import pygal
import sqlalchemy as sa
from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from markupsafe import Markup
from pygal.style import Style

from .. import inputs, paging
from ..extensions import db
from ..models import Opd
from ..reports import dashboard as report
from ..services import Actor, ServiceError
from ..services import lapor as lapor_service
from ..services import outbox as outbox_service
from ..services.validation import siak_label
from ..timeutil import utcnow
from ..formatting import duration_text
from ..labels import STATE_LABELS
from ..workflow import Role

MENU = "Pengendalian"
MENU_DASHBOARD = "Dasbor Kendali"
MENU_OUTBOX = "Kotak Keluar"
MENU_HEALTH = "Kesehatan Sistem"
MAX_PERIOD_DAYS = 3 * 366


CHART_STYLE = Style(background="transparent", plot_background="#ffffff", foreground="#333333",
                    foreground_strong="#222222", foreground_subtle="#888888", opacity=".9", opacity_hover="1",
                    colors=("#337ab7", "#5cb85c", "#d9534f", "#f0ad4e", "#777777", "#5bc0de"),
                    font_family="Helvetica, Arial, sans-serif", label_font_size=12, major_label_font_size=12,
                    legend_font_size=13, title_font_size=15, value_font_size=11)

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)


def _svg(chart) -> Markup:
    """The chart as inline SVG without pygal's <script> (tooltips need it; a nonce-less inline script
    would be refused by the CSP anyway). pygal's own <style> is allowed (style-src 'unsafe-inline')."""
    chart.config.js = []
    chart.config.disable_xml_declaration = True
    return Markup(_SCRIPT.sub("", chart.render(is_unicode=True)))


def _integer_ticks(values) -> list[int]:
    """Whole-number axis labels (counts are never fractional), about eight of them."""
    top = max([1, *values])
    step = max(1, -(-top // 8))
    return list(range(0, top + step, step))


# A chart is a pure function of its figures and the language: the same dashboard asked again (the usual case,
# by several supervisors) gets the SVG it drew before instead of pygal's ~13 ms per chart.
CHARTS_REMEMBERED = 64


def state_chart(counts: dict) -> Markup:
    return _state_chart(tuple(counts.items()), str(get_locale()))


@lru_cache(maxsize=CHARTS_REMEMBERED)
def _state_chart(counts: tuple, _locale: str) -> Markup:
    values = [n for _state, n in counts]
    chart = pygal.HorizontalBar(style=CHART_STYLE, width=640, height=300, show_legend=False,
                                title=_("Pengaduan menurut status"), print_values=True,
                                y_labels=_integer_ticks(values))
    chart.x_labels = [str(STATE_LABELS[s]) for s, _n in counts]
    chart.add(_("Pengaduan"), values)
    return _svg(chart)


def trend_chart(months: list) -> Markup:
    return _trend_chart(tuple(months), str(get_locale()))


@lru_cache(maxsize=CHARTS_REMEMBERED)
def _trend_chart(months: tuple, _locale: str) -> Markup:
    chart = pygal.Bar(style=CHART_STYLE, width=640, height=300, title=_("Tren bulanan"), legend_at_bottom=True,
                      x_label_rotation=0, truncate_label=-1,
                      y_labels=_integer_ticks([v for m in months for v in (m.received, m.answered, m.overdue)]))
    chart.x_labels = [m.month[2:].replace("-", "/") for m in months]  # "26/08"
    chart.add(_("Masuk"), [m.received for m in months])
    chart.add(_("Dijawab"), [m.answered for m in months])
    chart.add(_("Terlambat"), [m.overdue for m in months])
    return _svg(chart)


def late_text(delta: timedelta) -> str:
    """How late, in the unit people read it (formatting.duration_text)."""
    return duration_text(max(0.0, delta.total_seconds()))


def _parse_date(name: str, default: date, errors: list[str]) -> date:
    try:
        day = inputs.parse_date(request.args.get(name))
    except inputs.Problem as problem:
        raw = (request.args.get(name) or "")[:20]
        errors.append(_("Tanggal '%(v)s' tidak dikenal; gunakan format TTTT-BB-HH.", v=raw) if problem.code == "date"
                      else _("Tanggal '%(v)s': %(message)s", v=raw, message=problem.text(_)))
        return default
    return default if day is None else day


def read_filters(now) -> tuple[report.Filters, Opd | None, list[str]]:
    """The period (WIB dates) and OPD from the query string; bad input falls back to the defaults with a
    message, never an error page."""
    default = report.default_filters(report.today_wib(now))
    errors: list[str] = []
    date_from = _parse_date("dari", default.date_from, errors)
    date_to = _parse_date("sampai", default.date_to, errors)
    if date_from > date_to:
        errors.append(_("Tanggal awal harus sebelum tanggal akhir."))
        date_from, date_to = default.date_from, default.date_to
    if (date_to - date_from).days > MAX_PERIOD_DAYS:
        errors.append(_("Periode paling panjang 3 tahun."))
        date_from, date_to = default.date_from, default.date_to
    opd = None
    code = (request.args.get("opd") or "").strip()
    if code:
        opd = db.session.scalar(sa.select(Opd).where(Opd.code == code[:32]))
        if opd is None:
            errors.append(_("OPD '%(v)s' tidak dikenal.", v=code[:32]))
    return report.Filters(date_from, date_to, opd.id if opd else None), opd, errors


class ControlDashboardView(BaseView):
    """/staf/kendali/: counts, overdue lists, per-OPD and per-validator compliance, monthly trend."""

    route_base = "/staf/kendali"
    default_view = "index"
    class_permission_name = "ControlDashboard"

    @expose("/")
    @has_access
    def index(self):
        now = utcnow()
        filters, opd, errors = read_filters(now)
        for message in errors:
            flash(message, "warning")
        counts = report.state_counts(filters)
        validation, validation_total = report.overdue_validation(now, filters.opd_id)
        answer, answer_total = report.overdue_answer(now, filters.opd_id)
        months = report.monthly_trend(filters)
        opds = db.session.scalars(sa.select(Opd).where(Opd.active.is_(True)).order_by(Opd.code)).all()
        standard = current_app.config["DECISION_MINUTES_STANDARD"]
        return self.render_template(
            "dashboard/index.html", filters=filters, opd=opd, opds=opds, counts=counts, labels=STATE_LABELS,
            total=sum(counts.values()), overdue_validation=validation, overdue_validation_total=validation_total,
            overdue_answer=answer, overdue_answer_total=answer_total,
            per_opd=report.per_opd(filters, now), per_validator=report.per_validator(filters, standard),
            dispatch=report.dispatch_figures(filters, now),
            overrides=report.recent_overrides(filters), siak_label=siak_label,
            months=months, state_svg=state_chart(counts), trend_svg=trend_chart(months),
            late_text=late_text, duration_text=duration_text, standard_minutes=standard,
            validation_hours=current_app.config["VALIDATION_HOURS"], answer_days=current_app.config["ANSWER_DAYS"],
            answer_day_mode=current_app.config["ANSWER_DAY_MODE"], now=now)


class OutboxView(BaseView):
    """/staf/kotak-keluar/: every queued notice with its status and last error; resend is a POST."""

    route_base = "/staf/kotak-keluar"
    default_view = "list"
    class_permission_name = "Outbox"

    @expose("/")
    @has_access
    @paging.renamed(outbox_service.LIST_ORDER)
    def list(self):
        status = request.args.get("status") or None
        position = request.args.get(paging.NEXT)
        try:
            page = outbox_service.list_page(status, position)
        except ServiceError as exc:
            flash(exc.message, "warning")
            status, page = None, outbox_service.list_page(None, position)
        config = current_app.config
        bridge = lapor_service.status(Actor.from_user(g.user)) if lapor_service.enabled() else None
        # A recovered PIN stays sealed on this screen; only in demo mode may Admin Sistem read it (README).
        reveal = config.get("APP_MODE") == "demo" and Actor.from_user(g.user).has(Role.ADMIN_SISTEM)
        return self.render_template("dashboard/outbox.html", page=page, status=status, lapor=bridge,
                                    pins=outbox_service.screen_pins(page.rows, reveal),
                                    statuses=outbox_service.STATUSES, smtp=bool(config.get("SMTP_HOST")),
                                    webhook=bool(config.get("WEBHOOK_URL")),
                                    max_attempts=config["OUTBOX_MAX_ATTEMPTS"])

    @expose("/<int:outbox_id>/kirim-ulang", methods=["POST"])
    @has_access
    def resend(self, outbox_id: int):
        try:
            row = outbox_service.resend(outbox_id, Actor.from_user(g.user))
        except ServiceError as exc:
            if exc.status == 404:
                abort(404)
            flash(exc.message, "danger")
            return redirect(url_for(".list"), code=303)
        flash(_("Notifikasi #%(id)d masuk antrean lagi dan dikirim pada putaran berikutnya.", id=row.id), "success")
        return redirect(url_for(".list", status=request.form.get("status") or None), code=303)


class SystemHealthView(BaseView):
    """/staf/kesehatan-sistem/: the figures of /health (app/services/health.py) for Admin Sistem."""

    route_base = "/staf/kesehatan-sistem"
    default_view = "index"
    class_permission_name = "SystemHealth"

    @expose("/")
    @has_access
    def index(self):
        from ..services import health

        report = health.check()
        return self.render_template("dashboard/health.html", report=report,
                                    checks={c.name: c for c in report.checks})


def register(appbuilder) -> None:
    appbuilder.add_view(ControlDashboardView, MENU_DASHBOARD, label=_l("Dasbor kendali"), icon="fa-tachometer",
                        category=MENU, category_label=_l("Pengendalian"), category_icon="fa-eye")
    appbuilder.add_view(OutboxView, MENU_OUTBOX, label=_l("Kotak keluar notifikasi"), icon="fa-envelope",
                        category="Pengaturan", category_label=_l("Pengaturan"))
    appbuilder.add_view(SystemHealthView, MENU_HEALTH, label=_l("Kesehatan sistem"), icon="fa-heartbeat",
                        category="Pengaturan", category_label=_l("Pengaturan"))
