"""`POST /pengaduan/saran-opd` (issue 18): which OPD a complaint text most likely belongs to, for the
public form's "Mungkin maksud Anda: …" as the citizen types (app/static/public/portal.js).

    POST /pengaduan/saran-opd  {"teks": "jalan berlubang di desa"}
    200 {"saran": [{"kode": "DPUTR", "nama": "Dinas Pekerjaan Umum …", "skor": 0.81}, …]}   (top 3, best first)

It changes nothing, so it is exempt from CSRF; it stores nothing and logs no text (the access log and
the history log record the path only); it is rate-limited per address (SUGGEST_RATE_LIMIT). Every refusal
is the JSON body of our endpoints ({"message", "code", "errors"}), never a page: its own blueprint keeps
the portal's HTML error handlers away, and `boundary.json_errors` tells the app-wide ones (429, 405,
413) to answer in JSON. The work is in app/services/routing.py.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _

from .api import refusal, service_refusal
from .boundary import json_errors
from .extensions import csrf, limiter
from .services import routing as routing_service
from .services.common import ServiceError

bp = Blueprint("saran", __name__)


def _limit() -> str:
    return current_app.config["SUGGEST_RATE_LIMIT"]


@bp.post("/pengaduan/saran-opd")
@csrf.exempt
@limiter.limit(_limit)
@json_errors
def saran_opd():
    if not request.is_json:
        return refusal(415, _("Kirim JSON: {\"teks\": \"judul dan isi pengaduan\"}."), "not_json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return refusal(400, _("Isi permintaan bukan objek JSON yang sah: {\"teks\": \"…\"}."), "json")
    try:
        found = routing_service.suggest_for_input(body.get("teks"))
    except ServiceError as exc:
        return service_refusal(exc)
    response = jsonify(saran=[{"kode": s.code, "nama": s.name, "skor": s.score} for s in found])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return service_refusal(exc)


def register_saran(app) -> None:
    app.register_blueprint(bp)
