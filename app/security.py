"""Roles and their permissions, declared once here and applied by `flask roles sync` (idempotent).

Permissions are FAB's (action, resource) pairs. The roles are ordinary database roles, so they show
on FAB's role screens; `sync_roles` makes the database match this table exactly (FAB-NOTES #5).
Admin Sistem is FAB's admin role and receives every permission FAB registers; what only a validator
may do (see a full NIK, decide) is a domain rule enforced by the services, not by this table.
"""

from __future__ import annotations

import logging

from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import UserDBModelView

from .models import Staff
from .workflow import Role

log = logging.getLogger(__name__)

# (action, resource) constants shared by several roles.
READ_OPD = [("can_list", "OpdView"), ("can_show", "OpdView")]
OWN_ACCOUNT = [("can_userinfo", "UserDBModelView"), ("resetmypassword", "UserDBModelView"),
               ("can_this_form_get", "ResetMyPasswordView"), ("can_this_form_post", "ResetMyPasswordView")]
API_LOGIN = [("can_read", "SecurityApi")]

# Each role's permission set. Feature modules add their views' pairs here, nowhere else.
ROLE_PERMISSIONS: dict[Role, list[tuple[str, str]]] = {
    Role.VALIDATOR: [*OWN_ACCOUNT, *READ_OPD],
    Role.ADMIN_OPD: [*OWN_ACCOUNT],
    Role.PIMPINAN: [*OWN_ACCOUNT, *READ_OPD, ("can_list", "NonWorkingDayView")],
    Role.PUBLIK: [],
}
SYNCED_ROLES = (Role.VALIDATOR, Role.ADMIN_OPD, Role.PIMPINAN, Role.PUBLIK)

# Records (app/desks/records.py): history log with per-record history and versions, and the recap.
ROLE_PERMISSIONS[Role.PIMPINAN] += [
    ("can_read", "HistoryLog"), ("can_export", "HistoryLog"), ("can_read", "Recap"), ("can_export", "Recap"),
    ("menu_access", "Laporan"), ("menu_access", "Riwayat Akses"), ("menu_access", "Rekap Pengaduan")]

# The control dashboard (app/desks/dashboard.py; SOP Pengendalian). The outbox screen is Admin Sistem's only.
ROLE_PERMISSIONS[Role.PIMPINAN] += [("can_index", "ControlDashboard"), ("menu_access", "Dasbor Kendali"),
                                    ("menu_access", "Pengendalian")]

# The OPD desk and dispatch queue (app/desks/opd.py, app/api/desk.py). Which complaints each role
# reaches on them is decided by services.scope; these pairs only open the doors.
OPD_DESK_READ = [("can_read", "OpdDesk"), ("menu_access", "Meja OPD")]
ROLE_PERMISSIONS[Role.ADMIN_OPD] += [
    *OPD_DESK_READ, ("can_note", "OpdDesk"), ("can_answer", "OpdDesk"), ("can_return", "OpdDesk"),
    ("can_answer", "ComplaintDeskApi"), ("can_return", "ComplaintDeskApi")]
ROLE_PERMISSIONS[Role.VALIDATOR] += [
    ("can_read", "Dispatch"), ("can_reroute", "Dispatch"), ("menu_access", "Disposisi"),
    ("can_reroute", "ComplaintDeskApi")]
ROLE_PERMISSIONS[Role.PIMPINAN] += [*OPD_DESK_READ, ("can_note", "OpdDesk"), ("can_versions", "OpdDesk")]


class StaffUserView(UserDBModelView):
    """FAB's user screens with the agency of an Admin OPD account."""

    list_columns = ["first_name", "last_name", "username", "email", "active", "roles", "opd"]
    add_columns = ["first_name", "last_name", "username", "active", "email", "roles", "opd",
                   "password", "conf_password"]
    edit_columns = ["first_name", "last_name", "username", "active", "email", "roles", "opd"]
    show_fieldsets = UserDBModelView.show_fieldsets + [("OPD", {"fields": ["opd", "locked_until"]})]


class StaffSecurityManager(SecurityManager):
    user_model = Staff
    userdbmodelview = StaffUserView

    # History log (issue 7): FAB's sign-in hooks. Unknown usernames get no hook from FAB; audit.py
    # records those failures from the sign-in request itself.
    def on_user_login(self, user) -> None:
        from . import audit

        audit.log_sign_in(user)

    def on_user_login_failed(self, user) -> None:
        from . import audit

        audit.log_sign_in_failed(user)

    def on_user_logout(self, user) -> None:
        from . import audit

        audit.log_sign_out(user)


def sync_roles(sm) -> dict[str, int]:
    """Create every declared role and make its permissions match ROLE_PERMISSIONS. Idempotent.

    Returns how many pairs were added and removed, so the command can report what changed.
    """
    added = removed = 0
    sm.add_role(Role.ADMIN_SISTEM.value)
    for role in SYNCED_ROLES:
        db_role = sm.find_role(role.value) or sm.add_role(role.value)
        wanted = set()
        for action, resource in ROLE_PERMISSIONS[role]:
            pvm = sm.add_permission_view_menu(action, resource)
            wanted.add(pvm.id)
            if pvm not in db_role.permissions:
                sm.add_permission_role(db_role, pvm)
                added += 1
        for pvm in list(db_role.permissions):
            if pvm.id not in wanted:
                sm.del_permission_role(db_role, pvm)
                removed += 1
    return {"added": added, "removed": removed}
