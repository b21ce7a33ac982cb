"""Admin Sistem's screen of the Open311 API keys (issue 15): list, create (the key is shown once, on the
answer to the POST, never in a redirect, a flash or the session), revoke. The rules are in
services/open311.py; the same use cases back `flask open311 key …`."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _, lazy_gettext as _l

from ..services import Actor, ServiceError
from ..services import open311 as open311_service

MENU_KEYS = "Kunci Open311"


class Open311KeyView(BaseView):
    """/staf/open311/: the keys of the integrating channels, with create and revoke (POST only)."""

    route_base = "/staf/open311"
    default_view = "list"
    class_permission_name = "Open311Key"

    def _page(self, status: int = 200, **context):
        context.setdefault("errors", {})
        context.setdefault("name", "")
        return self.render_template("open311/keys.html", keys=open311_service.list_keys(),
                                    name_max=open311_service.KEY_NAME_MAX, **context), status

    @expose("/")
    @has_access
    def list(self):
        return self._page()

    @expose("/buat", methods=["POST"])
    @has_access
    def create(self):
        name = request.form.get("name", "")
        try:
            view, api_key = open311_service.create_key(name, Actor.from_user(g.user))
        except ServiceError as exc:
            return self._page(exc.status if exc.status in (400, 409) else 400, errors=exc.errors,
                              message=exc.message, name=name)
        return self._page(created=view, api_key=api_key)

    @expose("/<int:key_id>/cabut", methods=["POST"])
    @has_access
    def revoke(self, key_id: int):
        try:
            view = open311_service.revoke_key(Actor.from_user(g.user), key_id=key_id)
        except ServiceError as exc:
            if exc.status == 404:
                abort(404)
            flash(exc.message, "warning")
            return redirect(url_for(".list"), code=303)
        flash(_("Kunci %(name)s dicabut; permintaan dengan kunci ini ditolak mulai sekarang.", name=view.name),
              "success")
        return redirect(url_for(".list"), code=303)


def register(appbuilder) -> None:
    appbuilder.add_view(Open311KeyView, MENU_KEYS, label=_l("Kunci API Open311"), icon="fa-key",
                        category="Pengaturan", category_label=_l("Pengaturan"))
