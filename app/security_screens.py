"""FAB's security screens (roles, permissions, groups) in plain Indonesian.

FAB names a permission by its codes ("can list on OpdView"). These screens show each one by the wording
of app/labels.py (`permission_text`): its desk, a name and one line on what it allows, grouped by desk.
The role form is a list of check boxes in those groups instead of a select of 100+ codes.

The classes keep FAB's names: FAB names a screen's permissions and endpoints after its class
("can_list" on "RoleModelView"), and the roles hold those pairs.
"""

from __future__ import annotations

from collections import defaultdict

from flask import current_app
from flask_appbuilder.fields import QuerySelectMultipleField
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security import views as fab
from flask_appbuilder.widgets import ListWidget, ShowWidget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms.validators import ValidationError

from .formatting import PlainColumns
from .labels import PERMISSION_DESKS, action_text, permission_text, resource_text


def _text(pv):
    return permission_text(pv.permission.name, pv.view_menu.name)


def _grouped(pvs):
    """[(desk, [(pv, text), …]), …] in the desks' declared order, each desk's permissions by name."""
    groups = defaultdict(list)
    for pv in pvs or []:
        if pv is None or pv.permission is None or pv.view_menu is None:
            continue
        text = _text(pv)
        groups[text.desk_key].append((pv, text))
    order = list(PERMISSION_DESKS)
    return [(str(PERMISSION_DESKS[key]), sorted(groups[key], key=lambda item: item[1].name.lower()))
            for key in sorted(groups, key=order.index)]


def permission_summary(pvs) -> Markup:
    """A role's permissions on the list screen: how many per desk ("Meja OPD: 5")."""
    groups = _grouped(pvs)
    if not groups:
        return Markup(escape(_("Belum ada izin")))
    return Markup("<br>").join(
        Markup("{desk}: {n}").format(desk=desk, n=len(items)) for desk, items in groups)


def permission_details(pvs) -> Markup:
    """A role's permissions on its page: per desk, each name with what it allows."""
    groups = _grouped(pvs)
    if not groups:
        return Markup(escape(_("Belum ada izin")))
    html = []
    for desk, items in groups:
        rows = Markup("").join(Markup('<li><strong>{name}</strong> <span class="text-muted">{text}</span></li>')
                               .format(name=text.name, text=text.description) for _pv, text in items)
        html.append(Markup('<div class="permission-desk"><h5>{desk}</h5><ul class="list-unstyled">{rows}</ul>'
                           '</div>').format(desk=desk, rows=rows))
    return Markup("").join(html)


class GroupedPermissionsWidget:
    """The role form's permissions: check boxes grouped by desk, each with what it allows."""

    def __call__(self, field, **kwargs):
        chosen = {pv.id for pv in (field.data or [])}
        objects = dict((obj.id, obj) for _pk, obj in field._get_object_list())
        html = [Markup('<div class="permission-choices" id="{id}">').format(id=field.id)]
        for desk, items in _grouped(objects.values()):
            html.append(Markup('<fieldset class="permission-desk"><legend>{desk}</legend>').format(desk=desk))
            for pv, text in items:
                box_id = f"{field.id}-{pv.id}"
                html.append(Markup(
                    '<div class="checkbox"><label for="{box_id}"><input type="checkbox" id="{box_id}" '
                    'name="{name}" value="{value}"{checked}> <strong>{label}</strong> '
                    '<span class="text-muted">{text}</span></label></div>').format(
                        box_id=box_id, name=field.name, value=pv.id, label=text.name, text=text.description,
                        checked=Markup(" checked") if pv.id in chosen else ""))
            html.append(Markup("</fieldset>"))
        html.append(Markup("</div>"))
        return Markup("").join(html)


def _all_permission_views():
    sm = current_app.appbuilder.sm
    return sm.session.query(sm.permissionview_model).all()


class KnownChoices:
    """Validator for FAB's query fields (a role's permissions, an account's roles and OPD, a group's members):
    FAB checks for unknown ids before it has read the form, so an unknown id was dropped and the rest saved
    without it (a role without its permissions, an account without its role). Refused here: nothing changes."""

    def __call__(self, form, field) -> None:
        sent = {v for v in (field.raw_data or []) if v not in ("", "__None")}
        if not sent:
            return
        data = field.data  # reading it matches the ids sent against the choices
        found = len(data) if isinstance(data, (list, tuple)) else int(data is not None)
        if found < len(sent):
            raise ValidationError(field.gettext("Not a valid choice."))


def _permissions_field():
    return QuerySelectMultipleField(_l("Izin"), query_func=_all_permission_views, get_pk_func=lambda pv: pv.id,
                                    widget=GroupedPermissionsWidget(), validators=[KnownChoices()],
                                    description=_l("Centang apa saja yang boleh dilakukan pemegang peran ini."))


class RoleModelView(PlainColumns, fab.RoleModelView):
    list_title, show_title = _l("Daftar peran"), _l("Data peran")
    add_title, edit_title = _l("Tambah peran"), _l("Ubah peran")
    label_columns = {"name": _l("Nama peran"), "permissions": _l("Izin"), "user": _l("Pengguna")}
    search_columns = ["name"]
    # FAB's role widgets print the permissions raw (for FAB_ROLES' built-in roles, which this app has none
    # of); the general widgets apply the formatters.
    list_widget, show_widget = ListWidget, ShowWidget
    formatters_columns = {"permissions": permission_summary}
    add_form_extra_fields = {"permissions": _permissions_field()}
    edit_form_extra_fields = {"permissions": _permissions_field()}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.show_formatters = {**self.formatters_columns, "permissions": permission_details}

    def _get_show_widget(self, pk, item, **kwargs):
        # The role's page lists every permission with its description; the list only counts them.
        list_formatters, self.formatters_columns = self.formatters_columns, self.show_formatters
        try:
            return super()._get_show_widget(pk, item, **kwargs)
        finally:
            self.formatters_columns = list_formatters


class _PermissionViewInterface(SQLAInterface):
    """The permission list's rows with three worded columns (desk, name, what it allows)."""

    WORDED = {"desk": "desk", "label": "name", "description": "description"}

    def _get_attr_value(self, item, col):
        if col in self.WORDED:
            return getattr(_text(item), self.WORDED[col])
        return super()._get_attr_value(item, col)


class PermissionViewModelView(PlainColumns, fab.PermissionViewModelView):
    list_title = _l("Daftar izin")
    label_columns = {"desk": _l("Bagian"), "label": _l("Izin"), "description": _l("Yang dibolehkan"),
                     "permission": _l("Jenis izin"), "view_menu": _l("Bagian aplikasi"), "role": _l("Peran")}
    list_columns = ["desk", "label", "description"]
    show_columns = list_columns
    search_columns = ["role"]
    base_order = ("view_menu_id", "asc")

    def __init__(self, **kwargs):
        from flask_appbuilder.security.sqla.models import PermissionView

        self.datamodel = _PermissionViewInterface(PermissionView)
        super().__init__(**kwargs)


class PermissionModelView(PlainColumns, fab.PermissionModelView):
    list_title = _l("Jenis izin")
    label_columns = {"name": _l("Jenis izin")}
    formatters_columns = {"name": action_text}


class ViewMenuModelView(PlainColumns, fab.ViewMenuModelView):
    list_title = _l("Bagian aplikasi")
    label_columns = {"name": _l("Bagian aplikasi")}
    formatters_columns = {"name": lambda name: "{0}: {1}".format(*resource_text(name))}


class UserGroupModelView(PlainColumns, fab.UserGroupModelView):
    list_title, show_title = _l("Daftar grup"), _l("Data grup")
    add_title, edit_title = _l("Tambah grup"), _l("Ubah grup")
    label_columns = {"name": _l("Nama grup"), "label": _l("Nama tampilan"), "description": _l("Keterangan"),
                     "users": _l("Pengguna"), "roles": _l("Peran")}
    validators_columns = {"users": [KnownChoices()], "roles": [KnownChoices()]}
    search_columns = ["name", "label", "description"]
