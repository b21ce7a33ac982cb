"""Staff screens (FAB): declarative views; hooks call services and never commit on their own.

Feature desks live in their own modules and are registered from `register_views`.
"""

from __future__ import annotations

from flask_appbuilder import IndexView, ModelView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from .models import NonWorkingDay, Opd


class StaffIndexView(IndexView):
    """The staff home sits at /staf/ so that / belongs to the citizens' portal."""

    route_base = "/staf"
    index_template = "staff/index.html"

    @expose("/")
    def index(self):
        return self.render_template(self.index_template, appbuilder=self.appbuilder)


class OpdView(ModelView):
    datamodel = SQLAInterface(Opd)
    list_title = _l("Daftar OPD")
    list_columns = ["code", "name", "kind", "active", "email"]
    search_columns = ["code", "name", "kind", "active"]
    add_columns = edit_columns = ["code", "name", "kind", "active", "email"]
    show_columns = ["code", "name", "kind", "active", "email"]
    label_columns = {"code": _l("Kode"), "name": _l("Nama"), "kind": _l("Jenis"), "active": _l("Aktif"),
                     "email": _l("E-mail kontak")}
    base_order = ("code", "asc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]  # OPDs are deactivated, never deleted


class NonWorkingDayView(ModelView):
    datamodel = SQLAInterface(NonWorkingDay)
    list_title = _l("Hari libur tambahan (cuti bersama)")
    list_columns = ["day", "description"]
    add_columns = edit_columns = show_columns = ["day", "description"]
    label_columns = {"day": _l("Tanggal"), "description": _l("Keterangan")}
    base_order = ("day", "desc")


def register_views(appbuilder) -> None:
    appbuilder.add_view(OpdView, "OPD", label=_l("Daftar OPD"), icon="fa-building",
                        category="Pengaturan", category_label=_l("Pengaturan"))
    appbuilder.add_view(NonWorkingDayView, "Hari Libur", label=_l("Hari libur tambahan"),
                        icon="fa-calendar", category="Pengaturan", category_label=_l("Pengaturan"))
    from .desks.opd import register as register_opd_desk

    register_opd_desk(appbuilder)
    from .desks.validator import register as register_validator_desk

    register_validator_desk(appbuilder)
    from .desks.records import register as register_records

    register_records(appbuilder)
    from .desks.dashboard import register as register_dashboard

    register_dashboard(appbuilder)
