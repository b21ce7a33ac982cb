"""The input boundary's web side (the rules are in the pure `app/inputs.py`):

- `<int:…>` in every route, FAB's included, takes only ids an id column can hold (out of range: 404);
  FAB's generic `<pk>` routes get the same check;
- every query string, and the forms of FAB's own screens, are refused (400, a message in Indonesian)
  when they hold NUL or control characters; our own handlers pass their fields through `app/inputs`
  and answer with a message per field instead;
- `arg_int` / `arg_date` read one query parameter for a view (400 when it is wrong, never a 500);
- one answer for a refusal everywhere: a JSON body `{message, code, errors}` under /api/, the portal's
  error page on public pages, a staff page elsewhere (ServiceError, CSRF, a too large request);
- the error pages of every status (400, 403, 404, 405, 413, 429, 500, 503) in the product's layout and the
  chosen language, with a title per status (`error_title`), where to go next, never a stack trace; the 429
  page says when to try again (`retry_wait`, from the limiter's window).
"""

from __future__ import annotations

import inspect
import re
from datetime import timedelta

from flask import Flask, current_app, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import (BadRequest, HTTPException, InternalServerError, NotFound as HTTPNotFound,
                                 RequestEntityTooLarge, ServiceUnavailable, TooManyRequests)
from werkzeug.routing import IntegerConverter, ValidationError

from . import inputs
from .services.common import Invalid, ServiceError


class IdConverter(IntegerConverter):
    """`<int:…>` bounded to what an id column holds (PostgreSQL INTEGER) unless the rule says `max=`:
    a larger number matches no route (404) instead of overflowing the database driver (500)."""

    regex = r"[0-9]+"  # ASCII only: Werkzeug's \d also takes other scripts' digits

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, inputs.ID_MAX if max is None else max, signed)

    def to_python(self, value: str):
        if len(value) > 20:  # no int() of a megabyte of digits
            raise ValidationError()
        return super().to_python(value)


def register_converters(app: Flask) -> None:
    """Before any route is added (rules bind their converters when they are added)."""
    app.url_map.converters["int"] = IdConverter


# --------------------------------------------------------------------------- one query parameter


def _refuse(name: str, problem: inputs.Problem):
    message = problem.text(_)
    raise Invalid(_("Parameter %(name)s tidak valid: %(message)s", name=name, message=message),
                  errors={name: message})


def arg_int(name: str, *, minimum: int = 0, maximum: int = inputs.ID_MAX, default: int | None = None) -> int | None:
    """The integer query parameter `name` (default when absent); `Invalid` (400) when wrong."""
    try:
        value = inputs.parse_int(request.args.get(name), minimum=minimum, maximum=maximum)
    except inputs.Problem as problem:
        _refuse(name, problem)
    return default if value is None else value


def arg_date(name: str, **bounds):
    """The date query parameter `name` (YYYY-MM-DD, bounded), None when absent; `Invalid` when wrong."""
    try:
        return inputs.parse_date(request.args.get(name), **bounds)
    except inputs.Problem as problem:
        _refuse(name, problem)


# --------------------------------------------------------------------------- the guard before every view


def _fab_handler(endpoint: str | None) -> bool:
    """True for a handler written in Flask-AppBuilder (its generic CRUD and security screens), which
    cannot pass its fields through app/inputs itself."""
    func = current_app.view_functions.get(endpoint or "")
    func = getattr(func, "__func__", func)
    module = getattr(inspect.unwrap(func), "__module__", "") if func is not None else ""
    return module.startswith("flask_appbuilder")


def _integer_pk_view(blueprint: str | None) -> bool:
    appbuilder = getattr(current_app, "appbuilder", None)
    for view in getattr(appbuilder, "baseviews", []):
        if getattr(getattr(view, "blueprint", None), "name", None) == blueprint:
            model = getattr(getattr(view, "datamodel", None), "obj", None)
            if model is None:
                return False
            columns = model.__mapper__.primary_key
            try:
                return len(columns) == 1 and columns[0].type.python_type is int
            except NotImplementedError:
                return False
    return False


# FAB's list screens read their arguments with bare int() and list indexing: page_<view>=abc, a filter
# index past the column's filters, a huge number for an integer column, a relation filter that is not
# an id, or an order column that does not exist are each a 500 in FAB. Checked here, answered with 400.
FAB_PAGING = (("page_", 0, 1_000_000), ("psize_", 1, 1000))
_FAB_FILTER = re.compile(r"_flt_(\d)_(.*)")


def _fab_view():
    appbuilder = getattr(current_app, "appbuilder", None)
    for view in getattr(appbuilder, "baseviews", []):
        if getattr(getattr(view, "blueprint", None), "name", None) == request.blueprint:
            return view
    return None


def _required_int(key: str, value, minimum: int = 0, maximum: int = inputs.ID_MAX) -> None:
    try:
        if inputs.parse_int(value, minimum=minimum, maximum=maximum) is None:
            raise inputs.Problem("integer", inputs.N_("Harus berupa bilangan bulat."))
    except inputs.Problem as problem:
        _refuse(key, problem)


def _check_fab_args() -> None:
    view = _fab_view()
    datamodel = getattr(view, "datamodel", None)
    search = view._filters.get_search_filters() if getattr(view, "_filters", None) is not None else {}
    for key in request.args:
        for prefix, minimum, maximum in FAB_PAGING:
            if key.startswith(prefix):
                _required_int(key, request.args.get(key), minimum, maximum)
        match = _FAB_FILTER.match(key)
        if match and datamodel is not None and match.group(2) in search:
            index, column = int(match.group(1)), match.group(2)
            if index >= len(search[column]):
                _refuse(key, inputs.Problem("filter", inputs.N_("Saringan tidak dikenal.")))
            if datamodel.is_integer(column) or datamodel.is_relation(column):
                for value in request.args.getlist(key):
                    _required_int(key, value)
            if datamodel.is_boolean(column) and any(v != "y" for v in request.args.getlist(key)):
                # FAB turns "y" into True and passes anything else on as text, which PostgreSQL refuses
                # to compare with a boolean; the filter's own form only ever sends "y".
                _refuse(key, inputs.Problem("boolean", inputs.N_("Saringan ini hanya menerima nilai y (ya).")))
        if (view is not None and key == f"_oc_{type(view).__name__}"
                and request.args.get(key) not in (getattr(view, "order_columns", None) or [])):
            _refuse(key, inputs.Problem("order", inputs.N_("Urutan menurut kolom ini tidak tersedia.")))
    if "pk" in request.args:  # FAB's password reset screen takes the account as ?pk=
        _required_int("pk", request.args.get("pk"))
    if request.endpoint and request.endpoint.endswith(".action_post") and _integer_pk_view(request.blueprint):
        for value in request.form.getlist("rowid"):
            _required_int("rowid", value)


def guard_request():
    """Refuse what no handler can use, before any handler runs."""
    found = inputs.first_problem(request.args)
    if found is not None:
        _refuse(*found)
    for value in (request.view_args or {}).values():
        # A path segment (a ticket, a locale) holding NUL or a control character names nothing here.
        if isinstance(value, str) and inputs.refused_character(value) is not None:
            raise HTTPNotFound()
    pk = (request.view_args or {}).get("pk")
    if isinstance(pk, str) and _integer_pk_view(request.blueprint):
        try:
            if inputs.parse_int(pk) is None:
                raise HTTPNotFound()
        except inputs.Problem:
            raise HTTPNotFound() from None
    if _fab_handler(request.endpoint):
        _check_fab_args()
    if request.is_json and request.method in ("POST", "PUT", "PATCH"):
        try:
            request.get_json(silent=True)  # parsed once here (Flask keeps it for the handler)
        except RecursionError:
            raise Invalid(_("Dokumen JSON terlalu dalam bersarang."), code="json") from None
    if request.method in ("POST", "PUT", "PATCH") and _fab_handler(request.endpoint):
        # FAB's forms here are one-line fields (String columns): no line breaks or tabs either.
        found = inputs.first_problem(request.form, multiline=False)
        if found is None and request.is_json:
            found = _json_problem(request.get_json(silent=True))
        if found is not None:
            _refuse(*found)
    return None


def _json_problem(value, name: str = "_schema"):
    """The first string of a JSON body (FAB's sign-in API, say) that holds a refused character."""
    if isinstance(value, dict):
        for key, item in value.items():
            found = _json_problem(key, str(key)) or _json_problem(item, str(key))
            if found:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _json_problem(item, name)
            if found:
                return found
    elif isinstance(value, str):
        try:
            inputs.check_plain(value, multiline=True)
        except inputs.Problem as problem:
            return name, problem
    return None


# --------------------------------------------------------------------------- one answer for a refusal


def json_errors(view):
    """Marks a view outside /api/ whose refusals (429, 405, 413, a bad body) are the JSON body of the
    API, not a page: the public form's helpers called by script (app/saran.py)."""
    view.json_errors = True
    return view


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    views = current_app.view_functions
    if request.endpoint:
        return bool(getattr(views.get(request.endpoint), "json_errors", False))
    # No endpoint matched (a method the address does not take): the address's own rule says.
    return any(rule.rule == request.path and getattr(views.get(rule.endpoint), "json_errors", False)
               for rule in current_app.url_map.iter_rules())


def error_title(status: int) -> str:
    """The heading of the error page of `status` (one wording for staff and public pages)."""
    titles = {
        400: _("Permintaan tidak dapat diproses"),
        403: _("Akses ditolak"),
        404: _("Halaman tidak ditemukan"),
        405: _("Cara permintaan tidak diterima"),
        409: _("Permintaan bertabrakan dengan perubahan lain"),
        413: _("Kiriman terlalu besar"),
        422: _("Permintaan tidak dapat diproses"),
        429: _("Terlalu banyak permintaan"),
        500: _("Terjadi kesalahan pada sistem"),
        503: _("Layanan sedang tidak tersedia"),
    }
    return titles.get(status, _("Permintaan tidak dapat diproses"))


def retry_wait() -> int | None:
    """Seconds until the rate limit that refused this request lets the caller in again (None if unknown),
    as Flask-Limiter counts them for its Retry-After header. FAB's sign-in limit lives in FAB's own limiter,
    ours in app/extensions.py: ask every limiter of the app for the limit this request broke."""
    import time

    waits = []
    for each in current_app.extensions.get("limiter") or ():
        try:
            current = each.current_limit
        except Exception:  # this limiter evaluated nothing for the request
            continue
        if current is not None and current.breached:
            waits.append(int(current.reset_at - time.time()))
    return max(1, max(waits)) if waits else None


def _public_page(status: int, message: str):
    from flask_babel import get_locale

    return render_template("public/error.html", title=error_title(status), message=message, status=status,
                           current_locale=str(get_locale() or "id")), status


def _error_page(status: int, message: str, code: str):
    """An error in the caller's format: JSON under /api/, the staff layout on staff screens, the portal's
    layout everywhere else (an unknown address included); Open311's errors/error under /open311/."""
    if _wants_json() or _staff_path() or request.path.startswith("/open311/"):
        return refusal_response(status, message, code)
    return _public_page(status, message)


def refusal_response(status: int, message: str, code: str = "invalid", errors: dict | None = None):
    if request.path.startswith("/open311/"):
        from .open311 import error_response  # the standard's errors/error, in the path's format

        return error_response(status, message, errors)
    if _wants_json():
        from .api import refusal

        return refusal(status, message, code, errors)
    if request.blueprint == "public":
        return _public_page(status, message)
    appbuilder = current_app.appbuilder
    if "user" not in g:
        # Refused before FAB's own before_request (CSRF runs first): the menu needs the signed-in user.
        from flask_login import current_user

        g.user = current_user
    return render_template("staff/error.html", base_template=appbuilder.base_template, appbuilder=appbuilder,
                           title=error_title(status), message=message, errors=errors or {}, status=status), status


def _service_error(exc: ServiceError):
    return refusal_response(exc.status, exc.message, exc.code, exc.errors)


def _csrf_error(exc: CSRFError):
    return refusal_response(400, _("Formulir kedaluwarsa atau tidak berasal dari situs ini. Muat ulang halaman, "
                                   "lalu kirim lagi."), "csrf")


def _too_large(exc: RequestEntityTooLarge):
    return refusal_response(413, _("Kiriman terlalu besar. Perkecil isian atau lampiran, lalu kirim lagi."),
                            "too_large")


def _bad_request(exc: BadRequest):
    return refusal_response(400, _("Permintaan tidak dapat dibaca. Periksa isian, lalu kirim lagi."), "bad_request")


def _staff_path() -> bool:
    """A staff screen's URL (one of FAB's views, ours included), matched or not (an id out of range
    matches no route, so there is no blueprint to ask)."""
    appbuilder = current_app.appbuilder
    blueprints = {getattr(getattr(v, "blueprint", None), "name", None) for v in appbuilder.baseviews}
    if request.blueprint is not None:
        return request.blueprint in blueprints
    bases = {(getattr(v, "route_base", "") or "").rstrip("/") for v in appbuilder.baseviews}
    return any(base and (request.path == base or request.path.startswith(base + "/")) for base in bases)


def _not_found_or_method(exc: HTTPException):
    """403, 404 and 405 in the caller's language and format; the portal's own pages keep their handler."""
    code = exc.code or 404
    if code == 404:
        message = _("Halaman atau data ini tidak ada, atau tidak untuk akun Anda.")
    elif code == 403:
        message = _("Akun Anda tidak berwenang untuk permintaan ini.")
    else:
        message = _("Alamat ini tidak menerima metode %(method)s.", method=request.method)
    response = _error_page(code, message, {404: "not_found", 403: "forbidden"}.get(code, "method"))
    if code == 405:
        from flask import make_response

        response = make_response(response)
        response.headers["Allow"] = ", ".join(getattr(exc, "valid_methods", None) or [])
    return response


def too_many_message(wait: int | None, lead: str | None = None) -> str:
    """What a 429 says: what happened (`lead`, the limit's own message if it has one) and when to try
    again, in WIB and as a span, when the limiter knows it."""
    lead = lead or _("Terlalu banyak permintaan dari alamat Anda.")
    if wait is None:
        return lead + " " + _("Tunggu beberapa menit, lalu coba lagi.")
    from .formatting import duration_text
    from .timeutil import format_wib, utcnow

    at = format_wib(utcnow() + timedelta(seconds=wait))
    return lead + " " + _("Coba lagi setelah %(at)s (%(span)s lagi).", at=at, span=duration_text(wait))


def too_many_response(exc: TooManyRequests, page):
    """The 429 answer (`page(status, message)` draws it) with its Retry-After header."""
    from flask import make_response

    own = getattr(getattr(exc, "limit", None), "error_message", None)
    wait = retry_wait()
    response = make_response(page(429, too_many_message(wait, exc.description if own else None)))
    if wait is not None:
        response.headers["Retry-After"] = str(wait)
    return response


def _too_many(exc: TooManyRequests):
    return too_many_response(exc, lambda status, message: _error_page(status, message, "rate_limited"))


def _plain_page(status: int, message: str):
    """The last resort when even the error page cannot be drawn (the database is gone, say): no menu,
    no query, still the product's words and the caller's language."""
    from markupsafe import escape

    body = (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(error_title(status))}</title>"
            f"</head><body><h1>{escape(error_title(status))}</h1><p>{escape(message)}</p>"
            f"<p><a href='/'>{escape(_('Ke portal publik'))}</a></p></body></html>")
    return current_app.response_class(body, status=status, mimetype="text/html")


def _failure_page(status: int, message: str, code: str):
    from .extensions import db

    try:
        db.session.rollback()  # the failed transaction must not hold the page's queries (PostgreSQL)
    except Exception:
        pass
    try:
        return _error_page(status, message, code)
    except Exception:
        current_app.logger.exception("the error page of HTTP %s could not be drawn", status)
        return _plain_page(status, message)


def _server_error(exc: Exception):
    """An unexpected failure: logged with its trace for the operator, a plain message for the caller."""
    original = getattr(exc, "original_exception", None) or exc
    if _database_unreachable(original):
        current_app.logger.warning("database unreachable on %s %s: %s", request.method, request.path,
                                   original.__class__.__name__)
        return unavailable(original)
    if not isinstance(original, HTTPException):
        current_app.logger.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
    return _failure_page(500, _("Terjadi kesalahan pada sistem dan permintaan Anda tidak diproses. Coba lagi "
                                "sebentar lagi; bila terulang, hubungi admin sistem."), "server_error")


def _database_unreachable(exc: BaseException) -> bool:
    """A lost or refused database connection (or SQLite's write lock held too long): the service is
    unavailable for a moment, not broken. A wrong query stays a 500."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        text = str(getattr(exc, "orig", exc)).lower()
        return any(sign in text for sign in ("database is locked", "could not connect", "connection refused",
                                             "server closed the connection", "connection failed"))
    return False


def unavailable(exc: Exception):
    """The 503 of an unreachable database or a service down, in the caller's layout or format."""
    return _failure_page(503, _("Layanan sedang dalam pemeliharaan atau basis data tidak dapat dihubungi. "
                                "Coba lagi beberapa menit lagi."), "unavailable")


def _jwt_refusals(app: Flask) -> None:
    """Flask-JWT-Extended answers a missing, broken or expired token with {"msg": "…"} in English; our
    API answers every refusal with the one body, in the caller's language."""
    manager = app.extensions.get("flask-jwt-extended")
    if manager is None:
        return

    def refuse(status: int, message: str):
        from .api import refusal

        return refusal(status, message, "token")

    manager.unauthorized_loader(
        lambda reason: refuse(401, _("Masuk dulu: kirim token di header Authorization (Bearer …).")))
    # 401, not the library's 422: a broken token is no authentication, as the OpenAPI document says.
    manager.invalid_token_loader(lambda reason: refuse(401, _("Token tidak valid. Masuk lagi untuk token baru.")))
    manager.expired_token_loader(
        lambda header, payload: refuse(401, _("Token kedaluwarsa. Masuk lagi untuk token baru.")))
    manager.needs_fresh_token_loader(lambda header, payload: refuse(401, _("Perlu token baru dari proses masuk.")))
    manager.revoked_token_loader(lambda header, payload: refuse(401, _("Token sudah dicabut. Masuk lagi.")))


def init_app(app: Flask) -> None:
    app.before_request(guard_request)
    _jwt_refusals(app)
    app.register_error_handler(403, _not_found_or_method)
    app.register_error_handler(404, _not_found_or_method)
    app.register_error_handler(405, _not_found_or_method)
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(BadRequest, _bad_request)
    app.register_error_handler(TooManyRequests, _too_many)
    app.register_error_handler(ServiceUnavailable, unavailable)
    app.register_error_handler(InternalServerError, _server_error)
