"""The Pimpinan's queue of disputed answers (issue 17): the complainant said "belum selesai"; the Pimpinan
re-opens it to the same OPD with a new deadline, re-routes it, or closes it with a reason. Thin: the rules
are in services.citizen."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _, lazy_gettext as _l

from .. import paging
from ..services import citizen, desk
from ..services.common import NotFound, ServiceError
from .opd import current_actor

MENU_DISPUTES = "Sanggahan"


class DisputeView(BaseView):
    route_base = "/staf/sanggahan"
    default_view = "queue"
    class_permission_name = "Dispute"
    method_permission_name = {"queue": "read", "decide": "decide"}

    @expose("/")
    @has_access
    @paging.renamed()
    def queue(self):
        actor = current_actor()
        try:
            page = citizen.disputed(actor, cursor=request.args.get(paging.NEXT))
        except ServiceError as exc:
            abort(exc.status)
        return self.render_template("desk/disputes.html", rows=page.rows, page=page, opds=desk.active_opds())

    @expose("/<int:complaint_id>/putuskan", methods=["POST"])
    @has_access
    def decide(self, complaint_id: int):
        form = request.form
        try:
            complaint = citizen.decide_dispute(complaint_id, current_actor(), form.get("outcome", ""),
                                               form.get("reason"), form.get("opd"))
        except NotFound:
            abort(404)
        except ServiceError as exc:
            flash(" ".join([exc.message, *exc.errors.values()]), "danger")
            return redirect(url_for(".queue"), code=303)
        flash(_("Keputusan atas pengaduan %(ticket)s disimpan.", ticket=complaint.ticket), "success")
        return redirect(url_for(".queue"), code=303)


def register(appbuilder) -> None:
    from .dashboard import MENU

    # Under "Pengendalian" with the dashboard (the Pimpinan's work), so the menu stays one line at 1366 px.
    appbuilder.add_view(DisputeView, MENU_DISPUTES, label=_l("Sanggahan pelapor"), icon="fa-comments",
                        category=MENU, category_label=_l("Pengendalian"), category_icon="fa-eye")
