"""The OPD desk (SOP rows 6-8) and the dispatch queue ("disposisi") for Admin Sistem and validators.

Thin FAB views: each handler turns the request into a services call and the result into a page.
Who may see which complaint is decided by `services.scope` underneath (another OPD's complaint is a
404 on every route here); FAB permissions only decide who may open the desk at all.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import paging, services
from ..inputs import ID_MAX
from ..labels import STATE_LABELS
from ..services import desk, links
from ..services.common import Actor, Invalid, NotFound, ServiceError
from ..formatting import duration_text, time_left
from ..timeutil import file_stamp, utcnow

MENU_DESK = "Meja OPD"
MENU_DISPATCH = "Disposisi"


def current_actor() -> Actor:
    return Actor.from_user(current_user)


VISIBILITY_LABELS = {"publik": _l("Publik"), "anonim": _l("Anonim"), "rahasia": _l("Rahasia")}
OUTCOME_LABELS = {None: _l("masih di OPD"), "answered": _l("dijawab"), "returned": _l("dikembalikan"),
                  "rerouted": _l("dialihkan")}


def _filter_from_args() -> desk.QueueFilter:
    return desk.filter_from_args(request.args, cursor=request.args.get(paging.NEXT))


class OpdDeskView(BaseView):
    """Queue (nearest deadline first), answered tab, detail with answer/return/notes, versions, export."""

    route_base = "/staf/opd"
    default_view = "queue"
    class_permission_name = "OpdDesk"
    method_permission_name = {
        "queue": "read", "detail": "read", "attachment": "read", "export": "read",
        "add_note": "note", "answer": "answer", "edit_answer": "answer", "return_complaint": "return",
        "versions": "versions", "link": "answer", "unlink": "answer",
    }

    def _helpers(self) -> dict:
        return {"time_left": time_left, "duration": duration_text, "state_labels": STATE_LABELS,
                "visibility_labels": VISIBILITY_LABELS, "outcome_labels": OUTCOME_LABELS, "now": utcnow()}

    @expose("/")
    @has_access
    @paging.renamed()
    def queue(self):
        actor = current_actor()
        flt = _filter_from_args()
        page = desk.desk_page(actor, flt)
        counts = desk.tab_counts(actor, flt, page)
        return self.render_template("desk/opd_queue.html", page=page, flt=flt, counts=counts, actor=actor,
                                    opds=[] if actor.opd_id else desk.active_opds(), **self._helpers())

    def _detail(self, complaint_id: int, status: int = 200, errors: dict | None = None,
                values: dict | None = None):
        actor = current_actor()
        try:
            detail = desk.open_complaint(complaint_id, actor)
        except NotFound:
            abort(404)
        opds = desk.active_opds() if detail.can_reroute else []
        group = links.panel(complaint_id, actor)
        return self.render_template("desk/opd_detail.html", d=detail, c=detail.complaint, errors=errors or {},
                                    group=group,
                                    values=values or {}, opds=opds, actor=actor,
                                    max_answer=services.complaints.LIMITS["answer"],
                                    max_reason=services.complaints.LIMITS["reason"], max_note=desk.NOTE_MAX,
                                    **self._helpers()), status

    @expose("/<int:complaint_id>")
    @has_access
    def detail(self, complaint_id: int):
        return self._detail(complaint_id)

    def _act(self, complaint_id: int, call, done: str, form: str):
        """Run a service call for a form; on a refusal show the page again with the message and input."""
        try:
            call()
        except NotFound:
            abort(404)
        except Invalid as exc:
            flash(exc.message, "danger")
            return self._detail(complaint_id, 400, errors={form: exc.errors}, values={form: request.form})
        except ServiceError as exc:
            flash(exc.message, "danger")
            return self._detail(complaint_id, exc.status, values={form: request.form})
        flash(done, "success")
        return redirect(url_for(".detail", complaint_id=complaint_id))

    @expose("/<int:complaint_id>/catatan", methods=["POST"])
    @has_access
    def add_note(self, complaint_id: int):
        return self._act(complaint_id, lambda: desk.add_note(complaint_id, current_actor(), request.form.get("text")),
                         _("Catatan internal disimpan."), "note")

    @expose("/<int:complaint_id>/jawab", methods=["POST"])
    @has_access
    def answer(self, complaint_id: int):
        def call():
            files = _incoming_files()
            services.answer(complaint_id, current_actor(), request.form.get("text"), files=files)

        return self._act(complaint_id, call, _("Jawaban disimpan dan langsung tampil di halaman publik."), "answer")

    @expose("/<int:complaint_id>/ubah-jawaban", methods=["POST"])
    @has_access
    def edit_answer(self, complaint_id: int):
        return self._act(complaint_id, lambda: services.edit_answer(
            complaint_id, current_actor(), request.form.get("text"), request.form.get("reason")),
            _("Jawaban diubah; versi sebelumnya tetap tersimpan."), "edit")

    @expose("/<int:complaint_id>/tautkan", methods=["POST"])
    @has_access
    def link(self, complaint_id: int):
        """Link this complaint to an earlier one of the OPD as the same problem (services.links)."""
        return self._act(complaint_id, lambda: links.link(complaint_id, current_actor(), **link_target(request.form)),
                         _("Pengaduan ditautkan: jawaban pengaduan utama akan menjawab pengaduan ini juga."), "link")

    @expose("/<int:complaint_id>/lepas-tautan", methods=["POST"])
    @has_access
    def unlink(self, complaint_id: int):
        return self._act(complaint_id, lambda: links.unlink(complaint_id, current_actor()),
                         _("Tautan pengaduan dilepas."), "link")

    @expose("/<int:complaint_id>/kembalikan", methods=["POST"])
    @has_access
    def return_complaint(self, complaint_id: int):
        actor = current_actor()
        try:
            services.return_to_dispatch(complaint_id, actor, request.form.get("reason"))
        except NotFound:
            abort(404)
        except Invalid as exc:
            flash(exc.message, "danger")
            return self._detail(complaint_id, 400, errors={"return": exc.errors}, values={"return": request.form})
        except ServiceError as exc:
            flash(exc.message, "danger")
            return self._detail(complaint_id, exc.status)
        # The complaint has left this OPD's desk: its page is now a 404 for it, so go back to the queue.
        flash(_("Pengaduan dikembalikan ke disposisi (bukan wewenang)."), "success")
        return redirect(url_for(".queue"))

    @expose("/<int:complaint_id>/lampiran/<int:attachment_id>")
    @has_access
    def attachment(self, complaint_id: int, attachment_id: int):
        try:
            found = desk.attachment_for(complaint_id, attachment_id, current_actor())
        except NotFound:
            abort(404)
        from .. import storage

        return storage.send_attachment(found)

    @expose("/<int:complaint_id>/versi")
    @has_access
    def versions(self, complaint_id: int):
        try:
            complaint, versions = desk.answer_versions(complaint_id, current_actor())
        except NotFound:
            abort(404)
        except ServiceError as exc:
            abort(exc.status)
        return self.render_template("desk/opd_versions.html", c=complaint, versions=versions, **self._helpers())

    @expose("/ekspor.csv")
    @has_access
    def export(self):
        flt = _filter_from_args() if request.args.get("tab") else None
        rows = desk.export_rows(current_actor(), flt)
        from .. import exports

        return exports.csv_response(f"pengaduan-{file_stamp()}.csv", desk.EXPORT_HEADER, rows)  # WIB


def link_target(form) -> dict:
    """The main complaint a link form names: the similar list sends its id, the ticket form a ticket."""
    raw = (form.get("main_id") or "").strip()
    # An id column holds at most inputs.ID_MAX: a larger number is no complaint (and PostgreSQL would refuse it).
    if raw.isascii() and raw.isdigit() and len(raw) <= 10 and 0 < int(raw) <= ID_MAX:
        return {"main_id": int(raw)}
    return {"ticket": form.get("ticket")}


def _incoming_files() -> list:
    """Uploaded answer attachments, checked and cleaned by the same rules as the citizen's files."""
    from .. import storage

    return storage.prepare(request.files.getlist(storage.FIELD))


class DispatchView(BaseView):
    """Complaints returned "bukan wewenang", with the reason, and the re-route form (disposisi)."""

    route_base = "/staf/disposisi"
    default_view = "queue"
    class_permission_name = "Dispatch"
    method_permission_name = {"queue": "read", "reroute": "reroute"}

    @expose("/")
    @has_access
    @paging.renamed()
    def queue(self):
        actor = current_actor()
        try:
            page = desk.dispatch_page(actor, request.args.get(paging.NEXT))
        except ServiceError as exc:
            abort(exc.status)
        return self.render_template("desk/dispatch.html", page=page, opds=desk.active_opds(), actor=actor,
                                    state_labels=STATE_LABELS, time_left=time_left)

    @expose("/<int:complaint_id>/teruskan", methods=["POST"])
    @has_access
    def reroute(self, complaint_id: int):
        actor = current_actor()
        back = request.form.get("back") == "detail"
        try:
            # A suggestion's button ("saran") routes with one click; else the OPD chosen in the list.
            opd = request.form.get("saran") or request.form.get("opd")
            complaint = services.reroute(complaint_id, actor, opd, request.form.get("note"))
        except NotFound:
            abort(404)
        except ServiceError as exc:
            flash(exc.message, "danger")
            target = url_for("OpdDeskView.detail", complaint_id=complaint_id) if back else url_for(".queue")
            return redirect(target)
        flash(_("Pengaduan %(ticket)s diteruskan ke %(opd)s; tenggat jawaban dihitung ulang.",
                ticket=complaint.ticket, opd=complaint.opd.name), "success")
        if back:
            return redirect(url_for("OpdDeskView.detail", complaint_id=complaint_id))
        return redirect(url_for(".queue"))


def register(appbuilder) -> None:
    appbuilder.add_view(OpdDeskView, MENU_DESK, label=_l("Meja OPD"), icon="fa-inbox")
    appbuilder.add_view(DispatchView, MENU_DISPATCH, label=_l("Disposisi"), icon="fa-share")
