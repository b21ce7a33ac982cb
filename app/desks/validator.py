"""The validator's desk (SOP rows 4-5): the NIK queue, one complaint with its full NIK, the decision,
the validator's own statistics, and the offline registry import for Admin Sistem.

Views only translate HTTP to service calls (app/services/validation.py, which decides through
complaints.decide_nik) and back; the rules live in the services.
"""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import Optional as OptionalValue

from .. import paging, redact
from ..boundary import arg_int
from ..services import Actor, Conflict, Forbidden, Invalid, NotFound, ServiceError
from ..services import links, validation
from ..labels import STATE_LABELS
from ..services.disclosure import Screen
from ..formatting import duration_text
from ..timeutil import utcnow

DESK_MENU = "Validasi"


def _actor() -> Actor:
    return Actor.from_user(g.user)


def _abort_for(exc: ServiceError):
    abort(404 if isinstance(exc, NotFound) else 403 if isinstance(exc, Forbidden) else exc.status)


class DecisionForm(FlaskForm):
    version = HiddenField()
    decision = RadioField(_l("Keputusan"), choices=[("valid", _l("Valid")), ("tidak_valid", _l("Tidak valid"))],
                          validators=[OptionalValue()])
    remark = TextAreaField(_l("Catatan"))
    public_title = StringField(_l("Judul versi publik"))
    public_text = TextAreaField(_l("Isi versi publik"))
    public_edit_reason = StringField(_l("Alasan perubahan versi publik"))
    override_reason = TextAreaField(_l("Alasan menandai valid meski SIAK tidak mencocokkan"))


class RegistryImportForm(FlaskForm):
    file = FileField(_l("Berkas CSV"))


class ValidatorDeskView(BaseView):
    """/staf/validasi/: queue, one complaint (claimed while open), decision."""

    route_base = "/staf/validasi"
    default_view = "queue"
    class_permission_name = "ValidatorDesk"
    method_permission_name = {"queue": "queue", "check": "check", "decide": "decide", "attachment": "attachment",
                              "link": "decide", "unlink": "decide"}

    @expose("/")
    @has_access
    @paging.renamed()
    def queue(self):
        try:
            only = request.args.get("saring")
            page = validation.queue(_actor(), cursor=request.args.get(paging.NEXT), only=only)
        except ServiceError as exc:
            _abort_for(exc)
        return self.render_template("validator/queue.html", page=page, duration_text=duration_text,
                                    siak_label=validation.siak_label,
                                    only=only if only in validation.QUEUE_FILTERS else None)

    @expose("/<int:complaint_id>")
    @has_access
    def check(self, complaint_id: int):
        return self._render_check(complaint_id)

    def _render_check(self, complaint_id: int, form: DecisionForm | None = None, errors=None, message=None,
                      status: int = 200):
        try:
            view = validation.open_for_check(complaint_id, _actor())
        except Conflict as exc:
            if exc.code == "decided":
                flash(exc.message, "info")
                return redirect(url_for(".queue"))
            return self.render_template("validator/held.html", message=exc.message), 409
        except ServiceError as exc:
            _abort_for(exc)
        complaint = view.complaint
        if form is None:
            form = DecisionForm(formdata=None, version=complaint.version, public_title=complaint.public_title,
                                public_text=complaint.public_text or "")
        else:
            form.version.data = complaint.version  # the claim just renewed: decide against the fresh version
        plates = current_app.config["MASK_PLATES"]
        now = utcnow()
        try:
            group = links.panel(complaint_id, _actor())
        except ServiceError:
            group = None
        return self.render_template(
            "validator/check.html", view=view, c=complaint, form=form, errors=errors or {}, message=message,
            title_segments=redact.highlight(complaint.title, plates=plates),
            text_segments=redact.highlight(complaint.text or "", plates=plates),
            labels=redact.LABELS, seconds_left=int((complaint.validation_deadline - now).total_seconds()),
            overdue=complaint.validation_overdue, duration_text=duration_text,
            decision_standard=current_app.config["DECISION_MINUTES_STANDARD"],
            override_needed=validation.is_override(complaint.siak_verdict),
            group=group, state_labels=STATE_LABELS,
        ), status

    @expose("/<int:complaint_id>/keputusan", methods=["POST"])
    @has_access
    def decide(self, complaint_id: int):
        form = DecisionForm()
        if not form.validate():
            # Only the CSRF token can fail here (no other field has a validator).
            flash(_("Formulir kedaluwarsa. Muat ulang halaman lalu putuskan lagi."), "danger")
            return redirect(url_for(".check", complaint_id=complaint_id))
        if form.decision.data not in ("valid", "tidak_valid"):
            return self._render_check(complaint_id, form, errors={"decision": _("Pilih Valid atau Tidak valid.")},
                                      message=_("Pilih keputusan terlebih dahulu."), status=400)
        try:
            version = int(form.version.data)
        except (TypeError, ValueError):
            version = None
        valid = form.decision.data == "valid"
        try:
            # The form always sends the public version; decide_nik tells an edit from an unchanged field.
            complaint = validation.decide(complaint_id, _actor(), valid=valid, remark=form.remark.data,
                                          expected_version=version, public_title=form.public_title.data,
                                          public_text=form.public_text.data,
                                          public_edit_reason=form.public_edit_reason.data,
                                          override_reason=form.override_reason.data)
        except Invalid as exc:
            return self._render_check(complaint_id, form, errors=exc.errors, message=exc.message, status=400)
        except Conflict as exc:
            return self.render_template("validator/held.html", message=exc.message), 409
        except ServiceError as exc:
            _abort_for(exc)
        if valid and complaint.opd is None:
            flash(_("%(ticket)s: NIK valid, masuk antrean disposisi (pelapor tidak tahu OPD-nya).",
                    ticket=complaint.ticket), "success")
        elif valid:
            flash(_("%(ticket)s: NIK valid, diteruskan ke %(opd)s.", ticket=complaint.ticket, opd=complaint.opd.name),
                  "success")
        else:
            flash(_("%(ticket)s: NIK tidak valid, disimpan dengan catatan.", ticket=complaint.ticket), "success")
        return redirect(url_for(".queue"))


    @expose("/<int:complaint_id>/tautkan", methods=["POST"])
    @has_access
    def link(self, complaint_id: int):
        """Link a complaint not yet routed to an earlier one of the same OPD (services.links)."""
        from .opd import link_target

        return self._link_action(complaint_id, lambda: links.link(complaint_id, _actor(), **link_target(request.form)),
                                 _("Pengaduan ditautkan: jawaban pengaduan utama akan menjawab pengaduan ini juga."))

    @expose("/<int:complaint_id>/lepas-tautan", methods=["POST"])
    @has_access
    def unlink(self, complaint_id: int):
        return self._link_action(complaint_id, lambda: links.unlink(complaint_id, _actor()),
                                 _("Tautan pengaduan dilepas."))

    def _link_action(self, complaint_id: int, call, done: str):
        try:
            call()
        except NotFound:
            abort(404)
        except ServiceError as exc:
            flash(exc.message, "danger")
            return self._render_check(complaint_id, message=exc.message, status=exc.status)
        flash(done, "success")
        return redirect(url_for(".check", complaint_id=complaint_id))

    @expose("/<int:complaint_id>/lampiran/<int:attachment_id>")
    @has_access
    def attachment(self, complaint_id: int, attachment_id: int):
        from .. import storage
        from ..services import desk

        try:
            return storage.send_attachment(desk.attachment_for(complaint_id, attachment_id, _actor(),
                                                               Screen.VALIDATOR_DESK))
        except ServiceError as exc:
            _abort_for(exc)


class ValidatorStatsView(BaseView):
    """/staf/statistik-validasi/: a validator's own numbers; Pimpinan sees every validator."""

    route_base = "/staf/statistik-validasi"
    default_view = "stats"
    class_permission_name = "ValidatorStats"

    @expose("/")
    @has_access
    def stats(self):
        days = arg_int("hari", minimum=1, default=30)
        try:
            days, rows = validation.validator_stats(_actor(), days=days)
        except ServiceError as exc:
            _abort_for(exc)
        return self.render_template("validator/stats.html", rows=rows, days=days,
                                    periods=validation.STATS_PERIODS, duration_text=duration_text,
                                    standard=current_app.config["DECISION_MINUTES_STANDARD"],
                                    hours=current_app.config["VALIDATION_HOURS"])


class RegistryImportView(BaseView):
    """/staf/registri-siak/: Admin Sistem fills the offline civil registry from a CSV."""

    route_base = "/staf/registri-siak"
    default_view = "form"
    class_permission_name = "RegistryImport"

    @expose("/")
    @has_access
    def form(self):
        return self.render_template("validator/registry.html", form=RegistryImportForm(), result=None,
                                    size=validation.registry_size(), cap=100_000,
                                    mode=current_app.config["SIAK_MODE"])

    @expose("/", methods=["POST"])
    @has_access
    def upload(self):
        form = RegistryImportForm()
        result, status = None, 200
        if not form.validate():
            flash(_("Formulir kedaluwarsa. Muat ulang halaman lalu unggah lagi."), "danger")
            status = 400
        else:
            upload = form.file.data
            raw = upload.read() if upload else b""
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = None
                flash(_("Berkas harus CSV dengan pengodean UTF-8."), "danger")
                status = 400
            if text is not None:
                try:
                    result = validation.import_registry(text, _actor())
                    flash(_("Registri diperbarui: %(c)d baru, %(u)d diubah, %(n)d tetap.", c=result.created,
                            u=result.updated, n=result.unchanged), "success")
                except Invalid as exc:
                    flash(exc.message, "danger")
                    status = 400
                except ServiceError as exc:
                    _abort_for(exc)
        return self.render_template("validator/registry.html", form=RegistryImportForm(), result=result,
                                    size=validation.registry_size(), cap=100_000,
                                    mode=current_app.config["SIAK_MODE"]), status


def register(appbuilder) -> None:
    appbuilder.add_view(ValidatorDeskView, "Antrean NIK", label=_l("Antrean NIK"), icon="fa-id-card",
                        category=DESK_MENU, category_label=_l("Validasi"), category_icon="fa-id-card")
    appbuilder.add_view(ValidatorStatsView, "Statistik Validasi", label=_l("Statistik validasi"),
                        icon="fa-line-chart", category=DESK_MENU)
    appbuilder.add_view(RegistryImportView, "Registri SIAK Lokal", label=_l("Registri SIAK lokal"),
                        icon="fa-database", category="Pengaturan", category_label=_l("Pengaturan"))
