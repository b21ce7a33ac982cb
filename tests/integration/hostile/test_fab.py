"""Hostile input on Flask-AppBuilder's own screens (users, roles, groups, permissions, OPD list, days off):
list filters, paging and ordering, record ids, actions, downloads, add forms; sign-in (form and API),
password and profile forms; the menu, Swagger and OpenAPI routes. Views are taken from the running
AppBuilder, so a new ModelView gets the same corpus."""

from __future__ import annotations

from urllib.parse import quote

import sqlalchemy as sa

from tests.conftest import PASSWORD

from .corpus import DATES, SHORT, WRONG_TYPES, form, json_body, text_values, url

# Every ModelView's endpoints are covered generically (see _model_views); these are the others.
ENDPOINTS = {"StaffAuthDBView.login", "StaffAuthDBView.logout", "SecurityApi.login", "SecurityApi.refresh",
             "MenuApi.get_menu_data", "OpenApi.get", "SwaggerView.show", "UtilView.back", "LocaleView.index",
             "ResetMyPasswordView.this_form_get", "ResetMyPasswordView.this_form_post",
             "ResetPasswordView.this_form_get", "ResetPasswordView.this_form_post",
             "UserInfoEditView.this_form_get", "UserInfoEditView.this_form_post", "StaffUserView.userinfo"}
MODEL_VIEW_METHODS = ("list", "show", "add", "edit", "delete", "action", "action_post", "download")

# Ids that name no row (and never 0 or 1, which could delete a seeded account), and path junk.
PKS = ["-1", "2147483648", "99999999999999999999", "9" * 5000, "1.5", "abc", "x\x00", "🚧", " "]
FEW_INTEGERS = ["-1", "2147483648", "99999999999999999999", "9" * 5000, "1.5", "abc", "", "\x00"]
FEW_DATES = ["0001-01-01", "9999-12-31", "2026-02-30", "abc", "\x00", "x" * 10_000]


def _model_views(app):
    from flask_appbuilder import ModelView

    return [v for v in app.appbuilder.baseviews if isinstance(v, ModelView)]


def _filter_values(view, column):
    datamodel = view.datamodel
    if datamodel.is_date(column) or datamodel.is_datetime(column):
        return {f"date {d[:12]!r}": d for d in FEW_DATES}
    if datamodel.is_integer(column) or datamodel.is_relation(column):
        return {f"int {v[:12]!r}": v for v in FEW_INTEGERS}
    return SHORT


def test_list_filters_paging_and_ordering_of_every_model_view(app, clients, probe):
    client = clients["admin"]
    for view in _model_views(app):
        base = f"{view.route_base}/list/"
        for column in view.search_columns:
            for label, value in _filter_values(view, column).items():
                probe.call(client, "GET", url(base, {f"_flt_0_{column}": value}), label=f"{base} {column}={label}")
            for index in (0, 9):  # the filter index picks one of the column's filters: past the end too
                probe.call(client, "GET", url(base, {f"_flt_{index}_{column}": "1"}), label=f"{base} flt {index}")
        name = view.__class__.__name__
        for value in FEW_INTEGERS:
            for key in (f"page_{name}", f"psize_{name}"):
                probe.call(client, "GET", url(base, {key: value}), label=f"{base} {key}={value[:12]!r}")
        for label, value in text_values(SHORT):
            probe.call(client, "GET", url(base, {f"_oc_{name}": value, f"_od_{name}": "asc"}),
                       label=f"{base} order={label}")
            probe.call(client, "GET", url(base, {f"_oc_{name}": "id", f"_od_{name}": value}),
                       label=f"{base} direction={label}")
    probe.assert_clean()


def test_record_ids_actions_and_downloads_of_every_model_view(app, clients, probe):
    client = clients["admin"]
    for view in _model_views(app):
        base = view.route_base
        for pk in PKS:
            segment = quote(pk, safe="") or "%20"
            for method in ("show", "edit", "delete"):
                probe.call(client, "GET", f"{base}/{method}/{segment}", label=f"{base} {method} {pk[:12]!r}")
            for action in [*(view.actions or {}), "tidak-ada"]:
                probe.call(client, "GET", f"{base}/action/{action}/{segment}", label=f"{base} action {action}")
        for label, value in text_values(SHORT):
            segment = quote(value, safe="") or "%20"
            probe.call(client, "GET", f"{base}/action/{segment}/1", label=f"{base} action={label}")
            probe.call(client, "GET", f"{base}/download/{quote(value, safe='') or '%20'}", label=f"{base} download")
            for action in [*(view.actions or {}), value]:
                probe.call(client, "POST", f"{base}/action_post", label=f"{base} action_post {label}",
                           **form([("action", action), ("rowid", value), ("rowid", "99999999999999999999")]))
    probe.assert_clean()


def test_add_forms_of_fab_screens(app, clients, probe):
    """OPD list, days off, roles and users: each text field with the corpus; what is stored is clean."""
    from app.extensions import db
    from app.models import NonWorkingDay, Opd, Staff

    client = clients["admin"]
    opds_before = set(db.session.scalars(sa.select(Opd.code)))
    roles_before = set(db.session.scalars(sa.select(app.appbuilder.sm.role_model.name)))
    pimpinan = db.session.scalar(sa.select(app.appbuilder.sm.role_model.id).where(
        app.appbuilder.sm.role_model.name == "Pimpinan"))
    db.session.rollback()
    counter = iter(range(1, 100_000))
    forms = {
        "/opdview/add": (lambda n: {"code": f"UJI{n}", "name": f"Dinas Uji {n}", "kind": "dinas", "active": "y",
                                    "email": f"uji{n}@contoh.id"}, ("code", "name", "kind", "email")),
        "/nonworkingdayview/add": (lambda n: {"day": f"20{30 + n % 60}-01-0{1 + n % 9}", "description": "Cuti"},
                                   ("description",)),
        "/roles/add": (lambda n: {"name": f"Peran Uji {n}"}, ("name",)),
        "/users/add": (lambda n: {"first_name": "Uji", "last_name": "Coba", "username": f"uji.{n}",
                                  "email": f"uji{n}@contoh.id", "active": "y", "roles": str(pimpinan),
                                  "password": "Kata-Sandi-Uji-2026!", "conf_password": "Kata-Sandi-Uji-2026!"},
                       ("first_name", "last_name", "username", "email")),
    }
    try:
        for path, (base, fields) in forms.items():
            for field in fields:
                for label, value in text_values(SHORT):
                    probe.call(client, "POST", path, label=f"{path} {field}={label}",
                               **form({**base(next(counter)), field: value}))
        for value in DATES:
            probe.call(client, "POST", "/nonworkingdayview/add", label=f"day off {value[:12]!r}",
                       **form({"day": value, "description": "Cuti"}))
        # Profile and own password on a throw-away account: a success must not change a seeded one.
        from app.services.accounts import create_staff
        from tests.integration.opd_support import login

        create_staff(username="uji.profil", email="uji.profil@uji.go.id", first_name="Uji", last_name="Profil",
                     role="Pimpinan", password=PASSWORD, opd_code=None)
        own = login(app, "uji.profil", PASSWORD)
        for label, value in text_values(SHORT):
            probe.call(own, "POST", "/userinfoeditview/form", label=f"profile {label}",
                       **form({"first_name": value, "last_name": "Uji"}))
            probe.call(own, "POST", "/resetmypassword/form", label=f"own password {label}",
                       **form({"password": value, "conf_password": value}))
            probe.call(client, "POST", "/resetpassword/form?pk=99999999999999999999", label=f"password {label}",
                       **form({"password": value, "conf_password": value}))
        for path in ("/resetmypassword/form", "/resetpassword/form", "/userinfoeditview/form", "/users/userinfo/",
                     "/back"):
            probe.call(client, "GET", url(path, {"pk": "99999999999999999999", "next": "\x00"}), label=path)
        probe.assert_clean()
    finally:
        db.session.rollback()
        made = db.session.scalars(sa.select(Opd).where(Opd.code.not_in(opds_before))).all()
        for opd in made:
            db.session.execute(sa.update(Staff).where(Staff.opd_id == opd.id).values(opd_id=None))
            db.session.delete(opd)
        role_model = app.appbuilder.sm.role_model
        for role in db.session.scalars(sa.select(role_model).where(role_model.name.not_in(roles_before))).all():
            role.permissions = []
            db.session.delete(role)
        db.session.execute(sa.delete(NonWorkingDay))
        db.session.commit()


def test_sign_in_form_and_api(app, clients, probe):
    client = clients["anon"]
    for field in ("username", "password"):
        for label, value in text_values(SHORT):
            probe.call(client, "POST", "/login/", label=f"login {field}={label}",
                       **form({"username": "tidak.ada", "password": "salah", field: value}))
    api = "/api/v1/security/login"
    base = {"username": "tidak.ada", "password": "salah", "provider": "db", "refresh": False}
    for field in ("username", "password", "provider", "refresh"):
        for label, value in [*text_values(SHORT), *WRONG_TYPES.items()]:
            probe.call(client, "POST", api, label=f"api login {field}={label}", ours=False,
                       **json_body({**base, field: value}))
    for label, body in (("not json", b"username=admin"), ("broken json", b'{"username": '), ("array", b"[1]"),
                        ("deep", b"[" * 5000 + b"]" * 5000), ("huge", b'{"username": "' + b"a" * 2_000_000 + b'"}')):
        probe.call(client, "POST", api, label=f"api login {label}", ours=False, data=body,
                   content_type="application/json")
    for label, value in text_values(SHORT):
        probe.call(client, "POST", "/api/v1/security/refresh", label=f"refresh {label}", ours=False,
                   headers={"Authorization": f"Bearer {value}"[:8000].replace("\r", "").replace("\n", "")})
    probe.assert_clean()


def test_menu_swagger_and_openapi_routes(app, clients, probe):
    from tests.integration.opd_support import api_headers

    headers = api_headers("admin")
    for label, value in text_values(SHORT):
        segment = quote(value, safe="") or "%20"
        probe.call(clients["admin"], "GET", f"/swagger/{segment}", label=f"swagger {label}", ours=False)
        probe.call(clients["admin"], "GET", f"/api/{segment}/_openapi", label=f"openapi {label}", headers=headers,
                   ours=False)
        probe.call(clients["admin"], "GET", url("/api/v1/menu/", {"q": value}), label=f"menu {label}",
                   headers=headers, ours=False)
    probe.call(clients["admin"], "POST", "/logout/", label="logout", **form({"x": "\x00"}))
    probe.assert_clean()
