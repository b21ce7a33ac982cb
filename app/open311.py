"""Open311 GeoReport v2 under /open311/v2/ (issue 15): XML (the standard's required format) and JSON.

Thin: each handler reads the request, calls `services.open311` and writes the answer in the format its
path ends with. Refusals (400, 403, 404, 405, 413, 429) are the standard's `errors/error` with `code` and
`description`, whoever raises them (app/boundary.py sends every refusal under /open311/ here).

The POST is exempt from CSRF: the api_key authenticates it, and no browser session is involved. It is
rate-limited per key (OPEN311_RATE_LIMIT).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime
from xml.etree import ElementTree

from flask import Blueprint, Response, current_app, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import TooManyRequests

from .extensions import csrf, limiter
from .pagecache import public_page
from .services import open311 as service
from .timeutil import to_wib

PREFIX = "/open311/v2"
bp = Blueprint("open311", __name__, url_prefix=PREFIX)
FORMATS = "any(xml, json)"
MIMETYPES = {"xml": "text/xml", "json": "application/json"}
# XML: the element each item of a list is written in (the standard's nesting).
ITEM_TAGS = {"services": "service", "attributes": "attribute", "values": "value", "service_requests": "request",
             "errors": "error", "endpoints": "endpoint", "formats": "format"}


# --------------------------------------------------------------------------- writing XML and JSON


def w3c(value: datetime | None) -> str | None:
    """`2026-01-31T08:15:30+07:00`: W3C date-time in WIB."""
    return to_wib(value).isoformat(timespec="seconds") if value is not None else None


def _plain(value):
    """Dataclasses, tuples and datetimes as JSON-ready values (None stays None)."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return w3c(value)
    return value


def _element(tag: str, value) -> ElementTree.Element:
    node = ElementTree.Element(tag)
    if isinstance(value, dict):
        for key, item in value.items():
            node.append(_element(key, item))
    elif isinstance(value, list):
        for item in value:
            node.append(_element(ITEM_TAGS[tag], item))
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = str(value)
    return node


def render(fmt: str, root: str, value, status: int = 200) -> Response:
    """`value` as the document `root` (XML) or as the bare JSON value (a list for lists, as the standard)."""
    plain = _plain(value)
    if fmt == "json":
        body = json.dumps(plain, ensure_ascii=False)
    else:
        body = '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(_element(root, plain),
                                                                                encoding="unicode")
    return Response(body.encode("utf-8"), status=status, content_type=f"{MIMETYPES[fmt]}; charset=utf-8")


def _format_of_path() -> str:
    return "json" if request.path.rstrip("/").endswith(".json") else "xml"


def error_response(status: int, message: str, errors: dict | None = None) -> Response:
    """The standard's errors document: one error per field that was refused, else one for the request."""
    items = [{"code": status, "description": f"{name}: {text}"} for name, text in (errors or {}).items()]
    if not items:
        items = [{"code": status, "description": str(message)}]
    response = render(_format_of_path(), "errors", items, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(TooManyRequests)
def _too_many(exc):
    return error_response(429, _("Terlalu banyak permintaan dengan kunci ini. Tunggu sebentar, lalu kirim lagi."))


# --------------------------------------------------------------------------- discovery and services


@bp.get(f"/discovery.<{FORMATS}:fmt>")
@public_page
def discovery(fmt: str):
    config = current_app.config
    base = config["PUBLIC_BASE_URL"].rstrip("/")
    document = {
        "changeset": service.CHANGESET,
        "contact": f"{config['APP_NAME']}: {base}",  # no words to translate
        "key_service": _("Kunci API (api_key) diberikan oleh Admin Sistem, satu kunci per aplikasi atau saluran."),
        "endpoints": [{"specification": service.SPECIFICATION, "url": base + PREFIX, "changeset": service.CHANGESET,
                       "type": "production", "formats": list(MIMETYPES.values())}],
    }
    return render(fmt, "discovery", document)


@bp.get(f"/services.<{FORMATS}:fmt>")
@public_page
def services(fmt: str):
    return render(fmt, "services", service.services())


@bp.get(f"/services/<code>.<{FORMATS}:fmt>")
@public_page
def service_definition(code: str, fmt: str):
    return render(fmt, "service_definition", service.service_definition(code))


# --------------------------------------------------------------------------- requests


def _key_bucket() -> str:
    """Rate-limit bucket: the key (hashed, so no key sits in the limiter's storage), else the address."""
    api_key = request.form.get("api_key") or ""
    if api_key:
        return "open311:" + hashlib.sha256(api_key.encode("utf-8", "surrogatepass")).hexdigest()
    return "open311-addr:" + (get_remote_address() or "")


def _post_limit() -> str:
    return current_app.config["OPEN311_RATE_LIMIT"]


@bp.post(f"/requests.<{FORMATS}:fmt>")
@csrf.exempt
@limiter.limit(_post_limit, key_func=_key_bucket)
def create_request(fmt: str):
    created = service.submit_request(request.form, locale=str(get_locale() or "id"))
    response = render(fmt, "service_requests", [created])
    response.headers["Cache-Control"] = "no-store"  # it carries the tracking PIN
    return response


@bp.get(f"/requests.<{FORMATS}:fmt>")
@public_page
def list_requests(fmt: str):
    return render(fmt, "service_requests", service.find_requests(service.read_filter(request.args)))


@bp.get(f"/requests/<ticket>.<{FORMATS}:fmt>")
@public_page
def one_request(ticket: str, fmt: str):
    return render(fmt, "service_requests", [service.one_request(ticket)])


def register_open311(app) -> None:
    app.register_blueprint(bp)
