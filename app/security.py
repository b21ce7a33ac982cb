"""Roles and their permissions, declared once here and applied by `flask roles sync` (idempotent).

Permissions are FAB's (action, resource) pairs. The roles are ordinary database roles, so they show
on FAB's role screens; `sync_roles` makes the database match this table exactly (FAB-NOTES #5).
Admin Sistem is FAB's admin role and receives every permission FAB registers; what only a validator
may do (see a full NIK, decide) is a domain rule enforced by the services, not by this table.
"""

from __future__ import annotations

import logging

from flask import current_app, flash, g, has_request_context, redirect, request
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import AuthDBView, UserDBModelView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import logout_user, user_logged_in
from werkzeug.security import check_password_hash
from wtforms.validators import ValidationError

from . import passwords
from .formatting import PlainColumns
from .models import Staff
from . import security_screens
from .workflow import Role

log = logging.getLogger(__name__)

# (action, resource) constants shared by several roles.
READ_OPD = [("can_list", "OpdView"), ("can_show", "OpdView")]
OWN_ACCOUNT = [("can_userinfo", "StaffUserView"), ("resetmypassword", "StaffUserView"),
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

# The OPD desk and dispatch queue (app/desks/opd.py, app/api/desk.py). Which complaints each role
# reaches on them is decided by services.scope; these pairs only open the doors.
OPD_DESK_READ = [("can_read", "OpdDesk"), ("menu_access", "Meja OPD")]
ROLE_PERMISSIONS[Role.ADMIN_OPD] += [
    *OPD_DESK_READ, ("can_note", "OpdDesk"), ("can_answer", "OpdDesk"), ("can_return", "OpdDesk"),
    ("can_answer", "ComplaintDeskApi"), ("can_return", "ComplaintDeskApi"), ("can_note", "ComplaintDeskApi")]
ROLE_PERMISSIONS[Role.VALIDATOR] += [
    ("can_read", "Dispatch"), ("can_reroute", "Dispatch"), ("menu_access", "Disposisi"),
    ("can_reroute", "ComplaintDeskApi")]
ROLE_PERMISSIONS[Role.PIMPINAN] += [*OPD_DESK_READ, ("can_note", "OpdDesk"), ("can_versions", "OpdDesk"),
                                    ("can_note", "ComplaintDeskApi")]
# The same problem (issue 18, services.links): linking through the API; the screens use the desks' permissions.
ROLE_PERMISSIONS[Role.ADMIN_OPD] += [("can_link", "ComplaintDeskApi")]
ROLE_PERMISSIONS[Role.VALIDATOR] += [("can_link", "ComplaintDeskApi")]
# The complainants' disputes (app/desks/disputes.py): the Pimpinan decides them (workflow table).
ROLE_PERMISSIONS[Role.PIMPINAN] += [("can_read", "Dispute"), ("can_decide", "Dispute"), ("menu_access", "Sanggahan")]

# The validator's desk and statistics (app/desks/validator.py) and the complaint API (app/api/complaints.py).
# Admin OPD and Pimpinan never reach the desk (403); the API's row scope is services.scope.
VALIDATOR_STATS = [("can_stats", "ValidatorStats"), ("menu_access", "Statistik Validasi"),
                   ("menu_access", "Validasi")]
COMPLAINT_API_READ = [("can_read", "Complaint")]
ROLE_PERMISSIONS[Role.VALIDATOR] += [
    ("can_queue", "ValidatorDesk"), ("can_check", "ValidatorDesk"), ("can_decide", "ValidatorDesk"),
    ("can_attachment", "ValidatorDesk"), ("menu_access", "Antrean NIK"), *VALIDATOR_STATS, *COMPLAINT_API_READ,
    ("can_decide", "Complaint")]
ROLE_PERMISSIONS[Role.ADMIN_OPD] += [*COMPLAINT_API_READ]
ROLE_PERMISSIONS[Role.PIMPINAN] += [*VALIDATOR_STATS, *COMPLAINT_API_READ]

# The desks' queues and the dispute decision in the REST API (app/api/queues.py): the roles of each screen.
ROLE_PERMISSIONS[Role.VALIDATOR] += [("can_read", "ValidatorQueueApi"), ("can_read", "DispatchQueueApi")]
ROLE_PERMISSIONS[Role.ADMIN_OPD] += [("can_read", "OpdQueueApi")]
ROLE_PERMISSIONS[Role.PIMPINAN] += [("can_read", "OpdQueueApi"), ("can_read", "DisputeApi"), ("can_decide", "DisputeApi")]

# Records (app/desks/records.py): history log with per-record history and versions, and the recap.
ROLE_PERMISSIONS[Role.PIMPINAN] += [
    ("can_read", "HistoryLog"), ("can_export", "HistoryLog"), ("can_read", "Recap"), ("can_export", "Recap"),
    ("menu_access", "Laporan"), ("menu_access", "Riwayat Akses"), ("menu_access", "Rekap Pengaduan")]

# The control dashboard (app/desks/dashboard.py; SOP Pengendalian). The outbox screen is Admin Sistem's only.
ROLE_PERMISSIONS[Role.PIMPINAN] += [("can_index", "ControlDashboard"), ("menu_access", "Dasbor Kendali"),
                                    ("menu_access", "Pengendalian")]


def _username_of_password_form() -> str | None:
    """Whose password a FAB form or the user API is setting, so the policy can refuse the username.

    FAB calls FAB_PASSWORD_COMPLEXITY_VALIDATOR with the password alone; the owner is found from the
    request instead: the add-user form/API carries `username`, "reset password" names the account in
    `?pk=`, "reset my password" is the signed-in user."""
    if not has_request_context():
        return None
    if request.form.get("username"):
        return request.form["username"]
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict) and body.get("username"):
        return str(body["username"])
    sm = current_app.appbuilder.sm
    view = (request.endpoint or "").split(".")[0]
    if view == sm.resetpasswordview.__name__:
        try:
            user = sm.get_user_by_id(int(request.args.get("pk", "")))
        except ValueError:
            user = None
        return user.username if user else None
    if view == sm.resetmypasswordview.__name__ and getattr(g, "user", None) is not None \
            and g.user.is_authenticated:
        return g.user.username
    return None


def form_password_validator(password: str) -> None:
    """FAB_PASSWORD_COMPLEXITY_VALIDATOR: the policy of app/passwords.py, username included."""
    found = passwords.problems(password, _username_of_password_form())
    if found:
        raise PasswordComplexityValidationError(" ".join(found))


class OpdRequiredForAdminOpd:
    """Form rule on the roles field: an Admin OPD account belongs to exactly one OPD (its scope comes
    from it). It sits on `roles` because FAB marks the nullable `opd` field Optional, which would skip it."""

    def __call__(self, form, field) -> None:
        opd = form.opd.data if hasattr(form, "opd") else None
        if any(getattr(r, "name", None) == Role.ADMIN_OPD.value for r in field.data or []) and not opd:
            raise ValidationError(_("Akun Admin OPD wajib memiliki OPD. Pilih OPD-nya."))


class RoleRequired:
    """An account holds at least one role (FAB's own rule asks for a role or a group; this form has no groups)."""

    def __call__(self, form, field) -> None:
        if not field.data:
            raise ValidationError(_("Pilih minimal satu peran untuk akun ini."))


class StaffUserView(PlainColumns, UserDBModelView):
    """FAB's user screens with the agency of an Admin OPD account, and the unlock action."""

    list_columns = ["first_name", "last_name", "username", "email", "active", "roles", "opd"]
    add_columns = ["first_name", "last_name", "username", "active", "email", "roles", "opd",
                   "password", "conf_password"]
    edit_columns = ["first_name", "last_name", "username", "active", "email", "roles", "opd"]
    show_fieldsets = UserDBModelView.show_fieldsets + [("OPD", {"fields": ["opd"]})]
    # Unknown ids are refused first (FAB would drop them and save the rest), then the account's own rules.
    validators_columns = {"roles": [security_screens.KnownChoices(), RoleRequired(), OpdRequiredForAdminOpd()],
                          "opd": [security_screens.KnownChoices()]}
    # Extends FAB's labels (which the catalogue translates) rather than replacing them.
    label_columns = {**UserDBModelView.label_columns, "opd": _l("OPD")}

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        # FAB's user page lists only "reset password"; the unlock button sits next to it.
        from flask import abort

        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        actions = {name: self.actions.get(name) for name in ("resetpasswords", "unlock")}
        widgets = self._get_show_widget(pk, item, actions=actions)
        self.update_redirect()
        return self.render_template(self.show_template, pk=pk, title=self.show_title, widgets=widgets,
                                    appbuilder=self.appbuilder, related_views=self._related_views)

    @action("unlock", _l("Buka kunci akun"), _l("Buka kunci akun ini sekarang?"), "fa-unlock", multiple=True)
    def unlock(self, items):
        from .services import ServiceError
        from .services.common import Actor
        from .services.security import unlock

        items = items if isinstance(items, list) else [items]
        try:
            count = unlock([item.id for item in items if item is not None], Actor.from_user(g.user))
        except ServiceError as exc:
            flash(exc.message, "danger")
        else:
            flash(_("%(n)d akun dibuka kuncinya.", n=count) if count else
                  _("Akun tidak sedang terkunci; jumlah percobaan gagal diatur ulang."), "info")
        return redirect(self.get_redirect())


class StaffAuthDBView(AuthDBView):
    """Sign-in with one message for every refusal (wrong password, unknown user, locked account), so the
    page does not tell an attacker which usernames exist; sign-out only by POST with a CSRF token."""

    invalid_login_message = _l("Nama pengguna atau kata sandi salah, atau akun sedang terkunci sementara "
                               "karena terlalu banyak percobaan gagal.")

    @expose("/logout/", methods=["GET", "POST"])
    def logout(self):
        if request.method == "GET":
            # A GET never signs out (a link or an <img> on another site must not); it asks instead.
            if g.user is None or not g.user.is_authenticated:
                return redirect(self.appbuilder.get_url_for_login)
            return self.render_template("security/logout.html", appbuilder=self.appbuilder)
        user = self._get_authenticated_user()
        logout_user()
        if user is not None:
            self.appbuilder.sm.on_user_logout(user)
        return redirect(current_app.config.get("LOGOUT_REDIRECT_URL", self.appbuilder.get_url_for_index))


def _guard_fab_generic_routes():
    """Close what FAB's generic ModelView routes leave open.

    - /download/<filename> serves UPLOAD_FOLDER (for FileColumn models). This app has none: unconfigured
      the route fails with a 500, configured it would bypass the attachment access checks. 404.
    - /action/<name>/<pk> and /action_post with an action the view does not have fail with a 500 in FAB
      (AttributeError on None), and so does a list-only action on one row. 404 / 400 instead."""
    endpoint = request.endpoint or ""
    if "." not in endpoint:
        return None
    from flask import abort

    if endpoint.endswith(".download"):
        abort(404)
    if endpoint.endswith((".action", ".action_post")):
        name = (request.view_args or {}).get("name") if endpoint.endswith(".action") else request.form.get("action")
        view_name = endpoint.rsplit(".", 1)[0]
        view = next((v for v in current_app.appbuilder.baseviews if v.endpoint == view_name), None)
        action_item = (getattr(view, "actions", None) or {}).get(name) if view is not None else None
        if view is not None and action_item is None:
            abort(404 if endpoint.endswith(".action") else 400)
        if endpoint.endswith(".action") and action_item is not None and not action_item.single:
            abort(404)  # a list-only action (FAB's copyrole) fails with a 500 on one row
    return None


def _no_store_for_staff(response):
    """Cache-Control: no-store on every response of the staff side: any response to a signed-in staff
    user (session or API token), every /api/ response, and FAB's own pages (sign-in included), so no
    browser or proxy keeps a page or answer with personal data. Anonymous public pages are left to
    the portal, which sets its own caching."""
    from .audit import is_staff_request

    if is_staff_request() and "no-store" not in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = "no-store"
    return response


def _login_limit_message() -> str:
    return _("Terlalu banyak percobaan masuk dari alamat Anda.")  # boundary.too_many_message adds when


class StaffSecurityManager(SecurityManager):
    user_model = Staff
    userdbmodelview = StaffUserView
    authdbview = StaffAuthDBView
    # FAB's role, permission and group screens in plain words (app/security_screens.py).
    rolemodelview = security_screens.RoleModelView
    groupmodelview = security_screens.UserGroupModelView
    permissionmodelview = security_screens.PermissionModelView
    viewmenumodelview = security_screens.ViewMenuModelView
    permissionviewmodelview = security_screens.PermissionViewModelView
    userstatschartview = None  # FAB's chart loads Google's loader from the internet (FAB-NOTES #9)

    # Permission checks: FAB asks the database once per check (8 or more per staff page). Here the role
    # set's (view, permission) pairs are read once per request and every check of that request is answered
    # from them. Outside a request (CLI, a test's own code) each check reads the database, as FAB does.
    def _granted(self, role_ids) -> frozenset[tuple[str, str]]:
        import sqlalchemy as sa
        from flask_appbuilder.security.sqla.models import assoc_permissionview_role as granted

        pv, perm, vm = self.permissionview_model, self.permission_model, self.viewmenu_model
        return frozenset(self.session.execute(
            sa.select(vm.name, perm.name).select_from(pv)
            .join(granted, granted.c.permission_view_id == pv.id)
            .join(perm, perm.id == pv.permission_id).join(vm, vm.id == pv.view_menu_id)
            .where(granted.c.role_id.in_(list(role_ids)))).tuples())

    def exist_permission_on_roles(self, view_name: str, permission_name: str, role_ids) -> bool:
        if not has_request_context():
            return (view_name, permission_name) in self._granted(role_ids)
        key = tuple(sorted(role_ids))
        cache = g.setdefault("_granted_permissions", {})
        if key not in cache:
            cache[key] = self._granted(key)
        return (view_name, permission_name) in cache[key]

    # History log (issue 7): FAB's sign-in hooks. Unknown usernames get no hook from FAB; audit.py
    # records those failures from the sign-in request itself.
    def on_user_login(self, user) -> None:
        from . import audit

        audit.log_sign_in(user)

    def on_user_login_failed(self, user) -> None:
        from . import audit

        audit.log_sign_in_failed(user)

    def on_user_logout(self, user) -> None:
        from .services.sessions import sign_out

        sign_out(user)  # ends every session and API token of the account, and logs it

    # Sessions and API tokens end when they should (issue 11, item 8; services/sessions.py).
    def create_login_manager(self, app):
        from .services.sessions import stamp_session

        manager = super().create_login_manager(app)
        manager.user_loader(self.load_session_user)
        user_logged_in.connect(stamp_session)  # once per process: blinker keeps one connection per receiver
        return manager

    def load_session_user(self, pk):
        from .services.sessions import session_user

        return session_user(self.load_user(pk))

    def create_jwt_manager(self, app):
        from .services.sessions import token_claims, token_revoked

        manager = super().create_jwt_manager(app)
        manager.additional_claims_loader(token_claims)
        manager.token_in_blocklist_loader(token_revoked)
        return manager

    def reset_password(self, userid, password):
        from .services.sessions import keep_current_session

        super().reset_password(userid, password)  # the account's sessions end (services/sessions.py)…
        keep_current_session(userid)  # …except the one that changed its own password

    def auth_user_db(self, username, password):
        user = None
        if username:
            user = self.find_user(username=username) or self.find_user(email=username)
        if user is not None and user.is_active:
            from .services.security import is_locked, note_locked_attempt

            if is_locked(user):
                # Locked for this client address only. Same work as a real check, so the answer time
                # does not tell that the address is locked out.
                check_password_hash(current_app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"], password or "")
                note_locked_attempt(user)
                return None
        return super().auth_user_db(username, password)

    def update_user_auth_stat(self, user, success=True):
        super().update_user_auth_stat(user, success)
        if not success:
            from .services.security import note_failure

            note_failure(user)

    def register_views(self):
        super().register_views()
        current_app.before_request(_guard_fab_generic_routes)
        current_app.after_request(_no_store_for_staff)
        if not current_app.config.get("FAB_ADD_SECURITY_VIEWS", True) or not self.is_auth_limited:
            return
        # FAB limits the sign-in form per client address; the API sign-in, which FAB leaves unlimited
        # (FAB-NOTES #11), gets the same. No limit per username: it would let anyone refuse a
        # validator's sign-in from everywhere (the lockout per account and address covers guessing).
        api = next((v for v in self.appbuilder.baseviews if isinstance(v, self.security_api)), None)
        if api is not None:
            self.limiter.limit(self.auth_rate_limit, methods=["POST"],
                               error_message=_login_limit_message)(api.blueprint)


def sync_roles(sm) -> dict[str, int]:
    """Create every declared role and make its permissions match ROLE_PERMISSIONS. Idempotent.

    Returns how many pairs were added and removed, so the command can report what changed.
    """
    added = removed = 0
    admin = sm.add_role(Role.ADMIN_SISTEM.value)
    for role in SYNCED_ROLES:
        db_role = sm.find_role(role.value) or sm.add_role(role.value)
        wanted = set()
        for permission, resource in ROLE_PERMISSIONS[role]:
            pvm = sm.add_permission_view_menu(permission, resource)
            wanted.add(pvm.id)
            if pvm not in db_role.permissions:
                sm.add_permission_role(db_role, pvm)
                added += 1
        for pvm in list(db_role.permissions):
            if pvm.id not in wanted:
                sm.del_permission_role(db_role, pvm)
                removed += 1
    # Admin Sistem holds every permission, also those registered before the role existed.
    for pvm in sm.session.query(sm.permissionview_model).all():
        if pvm not in admin.permissions:
            sm.add_permission_role(admin, pvm)
            added += 1
    return {"added": added, "removed": removed}
