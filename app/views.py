"""Staff screens (FAB): declarative views; hooks call services and never commit on their own.

Feature desks live in their own modules and are registered from `register_views`.
"""

from __future__ import annotations

from flask_appbuilder import IndexView, ModelView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .fablist import CappedSQLAInterface as SQLAInterface  # every list counts at most 10,001 rows
from .models import NonWorkingDay, Opd, RoutingModel
from .formatting import PlainColumns
from .timeutil import format_wib


class StaffIndexView(IndexView):
    """The staff home sits at /staf/ so that / belongs to the citizens' portal."""

    route_base = "/staf"
    index_template = "staff/index.html"

    @expose("/")
    def index(self):
        from flask_login import current_user

        from .services.common import Actor
        from .services.home import home
        from .workflow import Role

        work = None
        if current_user.is_authenticated:
            actor = Actor.from_user(current_user)
            work = home(actor)
            is_admin = actor.has(Role.ADMIN_SISTEM)
        return self.render_template(self.index_template, appbuilder=self.appbuilder, work=work,
                                    is_admin=work is not None and is_admin)


class OpdView(PlainColumns, ModelView):
    datamodel = SQLAInterface(Opd)
    list_title = _l("Daftar OPD")
    add_title, edit_title, show_title = _l("Tambah OPD"), _l("Ubah OPD"), _l("Data OPD")
    list_columns = ["code", "name", "kind", "active", "email"]
    search_columns = ["code", "name", "kind", "active"]
    add_columns = edit_columns = ["code", "name", "kind", "active", "email", "duties", "keywords"]
    show_columns = ["code", "name", "kind", "active", "email", "duties", "keywords"]
    label_columns = {"code": _l("Kode"), "name": _l("Nama"), "kind": _l("Jenis"), "active": _l("Aktif"),
                     "email": _l("E-mail kontak"), "duties": _l("Tugas dan fungsi"), "keywords": _l("Kata kunci")}
    description_columns = {
        "duties": _l("Uraian tugas pokok dan fungsi sesuai Peraturan Bupati; dipakai untuk menyarankan OPD "
                     "kepada pengadu."),
        "keywords": _l("Kata atau frasa yang sering dipakai warga untuk urusan OPD ini, dipisahkan titik koma (;)."),
    }
    base_order = ("code", "asc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]  # OPDs are deactivated, never deleted

    def post_add(self, item):
        from .services.portal import clear_opd_cache

        clear_opd_cache()  # the public drop-downs show the change at once (services.portal.public_opds)

    post_update = post_add


class NonWorkingDayView(PlainColumns, ModelView):
    datamodel = SQLAInterface(NonWorkingDay)
    list_title = _l("Hari libur tambahan (cuti bersama)")
    add_title, edit_title, show_title = _l("Tambah hari libur"), _l("Ubah hari libur"), _l("Data hari libur")
    list_columns = ["day", "description"]
    add_columns = edit_columns = show_columns = ["day", "description"]
    label_columns = {"day": _l("Tanggal"), "description": _l("Keterangan")}
    base_order = ("day", "desc")


def _metrics(value) -> str:
    import json

    from .filters import percent  # numbers through Babel in the page's locale

    if not value:
        return "–"
    m = json.loads(value)
    return _("top-1 %(top1)s, top-3 %(top3)s pada %(n)d pengaduan terbaru (tanpa riwayat: top-1 %(cold1)s, "
             "top-3 %(cold3)s)", top1=percent(m["top1"], 0), top3=percent(m["top3"], 0), n=m["n"],
             cold1=percent(m["cold_top1"], 0), cold3=percent(m["cold_top3"], 0))


class RoutingModelView(PlainColumns, ModelView):
    """The stored OPD-suggestion models (read-only): when each was trained and on how much."""

    datamodel = SQLAInterface(RoutingModel)
    list_title = _l("Model saran OPD")
    show_title = _l("Data model saran OPD")
    list_columns = show_columns = ["version", "trained_at", "answered", "returns", "cold_documents", "size_bytes",
                                   "metrics"]
    label_columns = {"version": _l("Versi"), "trained_at": _l("Dilatih (WIB)"),
                     "answered": _l("Pengaduan terjawab"), "returns": _l("Pengembalian (bukan wewenang)"),
                     "cold_documents": _l("Dokumen tugas dan kata kunci"), "size_bytes": _l("Ukuran (bita)"),
                     "metrics": _l("Ketepatan pada pengaduan terbaru")}
    formatters_columns = {"trained_at": format_wib, "metrics": _metrics}
    # The payload is the stored model (bytes): never a search or list column.
    search_columns = ["version", "trained_at", "answered", "returns", "size_bytes"]
    base_order = ("version", "desc")
    base_permissions = ["can_list", "can_show"]


def register_views(appbuilder) -> None:
    appbuilder.add_view(OpdView, "OPD", label=_l("Daftar OPD"), icon="fa-building",
                        category="Pengaturan", category_label=_l("Pengaturan"))
    appbuilder.add_view(NonWorkingDayView, "Hari Libur", label=_l("Hari libur tambahan"),
                        icon="fa-calendar", category="Pengaturan", category_label=_l("Pengaturan"))
    appbuilder.add_view(RoutingModelView, "Model Saran OPD", label=_l("Model saran OPD"),
                        icon="fa-lightbulb-o", category="Pengaturan", category_label=_l("Pengaturan"))
    from .desks.opd import register as register_opd_desk

    register_opd_desk(appbuilder)
    from .desks.disputes import register as register_disputes

    register_disputes(appbuilder)
    from .desks.validator import register as register_validator_desk

    register_validator_desk(appbuilder)
    from .desks.records import register as register_records

    register_records(appbuilder)
    from .desks.dashboard import register as register_dashboard

    register_dashboard(appbuilder)
    from .desks.open311_keys import register as register_open311_keys

    register_open311_keys(appbuilder)
