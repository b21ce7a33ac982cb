"""The citizens' portal (public, no login): home, the complaint form, the receipt, tracking by ticket
+ PIN, the published list and detail, and the statistics. Templates in app/templates/public/.

Views only read the request, call services and render; the rules live in `services.complaints`
(submit, track), `services.portal` (public read side) and `storage` (attachments).
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, g, make_response, redirect, render_template, request, session,
                   url_for)
from flask_babel import get_locale, gettext, lazy_gettext as _l, refresh
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.exceptions import RequestEntityTooLarge

from . import inputs, paging, receipt as receipt_doc, storage
from .pagecache import nonce_filled, nonce_marked, public_page
from .extensions import limiter
from .services import citizen, complaints
from .services import portal
from .services.common import Conflict, Invalid, ServiceError, Unavailable
from .labels import PUBLIC_STATE_LABELS, VISIBILITY_LABELS
from .workflow import State, Visibility

bp = Blueprint("public", __name__)

TRACK_GRANT_SECONDS = 30 * 60  # how long a correct ticket + PIN opens the tracking page
RECEIPT_PDF_SECONDS = 15 * 60  # how long after the receipt page its PDF can be downloaded (same browser)

STATE_LABELS = PUBLIC_STATE_LABELS  # the public column of the one state table (app/labels.py)
ACTION_LABELS = {
    "submit": _l("Pengaduan diterima"),
    "claim": _l("NIK sedang diverifikasi"),
    "validate": _l("NIK terverifikasi; diteruskan ke %(opd)s"),
    "invalidate": _l("NIK tidak valid"),
    "return": _l("Dikembalikan oleh %(opd)s: bukan wewenang"),
    "reroute": _l("Diteruskan ke %(opd)s"),
    "answer": _l("Dijawab oleh %(opd)s"),
    "close": _l("Selesai"),
    "dispute": _l("Pelapor: belum selesai; diteruskan ke Pimpinan"),
    "reopen": _l("Dibuka kembali oleh Pimpinan untuk %(opd)s"),
    "link": _l("Ditautkan dengan pengaduan lain tentang masalah yang sama"),
    "unlink": _l("Tautan dengan pengaduan lain dilepas"),
}
# Steps whose note tells the complainant something the label does not (the OPD's reason).
NOTE_ACTIONS = {"return", "reroute"}
VISIBILITY_CHOICES = [
    (Visibility.PUBLIK.value, VISIBILITY_LABELS[Visibility.PUBLIK],
     _l("Pengaduan tampil di daftar publik dengan nama Anda; NIK, telepon, e-mail dan alamat tidak pernah tampil.")),
    (Visibility.ANONIM.value, VISIBILITY_LABELS[Visibility.ANONIM],
     _l("Pengaduan tampil di daftar publik sebagai “Anonim”; OPD juga tidak melihat identitas Anda.")),
    (Visibility.RAHASIA.value, VISIBILITY_LABELS[Visibility.RAHASIA],
     _l("Pengaduan tidak tampil di daftar publik; hanya Anda (dengan tiket dan PIN) dan petugas yang melihatnya.")),
]
FORM_FIELDS = ("name", "nik", "phone", "email", "address", "opd", "title", "text", "location", "visibility")
LIMITS = {**complaints.LIMITS, "nik": 24}
HONEYPOT = "website"


def timeline_label(entry) -> str:
    label = ACTION_LABELS.get(entry.action)
    if label is None:
        return str(STATE_LABELS.get(entry.state.value, entry.state.value))
    return str(label) % {"opd": entry.opd_name or "OPD"}


@bp.context_processor
def _portal_context():
    return {"state_labels": STATE_LABELS, "current_locale": str(get_locale() or "id"),
            "timeline_label": timeline_label}


def _no_store(response):
    # Pages with a PIN or a complainant's own data must not stay in caches or the back-button history.
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- home and language


@bp.get("/")
@public_page
def home():
    return render_template("public/home.html", latest=portal.latest_answered())


@bp.get("/bahasa/<code>")
def language(code: str):
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["locale"] = code
    refresh()
    target = request.args.get("next", "")
    parts = urlsplit(target)
    # Only a path on this site: never an open redirect.
    if not target.startswith("/") or target.startswith("//") or "\\" in target or parts.scheme or parts.netloc:
        target = url_for(".home")
    return redirect(target)


# --------------------------------------------------------------------------- the complaint form


def _submit_limit() -> str:
    return current_app.config["SUBMIT_RATE_LIMIT"]


def _counts_as_submission(response) -> bool:
    # A form sent back with field errors is a citizen fixing typos, not a submission; everything else
    # (stored, duplicate, honeypot) counts against the address.
    return response.status_code != 400 or g.get("portal_count_submission", False)


def _form_settings() -> tuple:
    config = current_app.config
    return (config.get("UPLOAD_MAX_FILES", 3), config["UPLOAD_MAX_BYTES"], bool(config.get("WEBHOOK_URL")),
            config.get("REGION_NAME"), config.get("DEPARTMENT_NAME"))


def _render_form(values: dict, errors: dict | None = None, message: str | None = None, status: int = 200,
                 **context):
    errors = errors or {}
    max_files, max_bytes, phone_notices, _region, _department = _form_settings()
    html = render_template("public/form.html", values=values, errors=errors, message=message,
                           opds=portal.public_opds(), visibility_choices=VISIBILITY_CHOICES, limits=LIMITS,
                           max_files=max_files, max_mb=max_bytes / (1024 * 1024),
                           honeypot=HONEYPOT, no_opd=complaints.NO_OPD, phone_notices=phone_notices, **context)
    return html, status


# The form's choices of notices (check boxes named "notify"): e-mail, and the phone through the gateway.
NOTIFY_CHOICES = ("email", "telepon")

# The blank form is the same page for every visitor but for three tokens: the CSRF token, the submission
# key and the CSP nonce. Each web process renders it once per language, OPD list, chosen OPD and settings,
# with marks where the tokens go, and fills them in per request (in process at 1,000,000 complaints:
# 5.3–5.7 → 2.2 ms of CPU per form).
_TOKEN_MARKS = {"csrf": "\x00form-csrf\x00", "key": "\x00form-key\x00"}  # the nonce: pagecache's own mark
BLANK_FORMS_KEPT = 256


def _blank_form(values: dict):
    opds = portal.public_opds()
    asked = list(request.args.items(multi=True))
    # Only the form's own link (?opd=CODE of a listed OPD) is kept: any other query renders the usual way.
    known = not asked or (len(asked) == 1 and asked[0][0] == "opd"
                          and (asked[0][1] == complaints.NO_OPD or any(o.code == asked[0][1] for o in opds)))
    if not known:
        return _render_form(values)
    kept = current_app.extensions.setdefault("lpo_blank_forms", {})
    key = (str(get_locale() or ""), request.full_path, tuple(opds), _form_settings())
    page = kept.get(key)
    if page is None:
        page, _status = _render_form({**values, "submission_key": _TOKEN_MARKS["key"]},
                                     csrf_token=lambda: _TOKEN_MARKS["csrf"])
        page = nonce_marked(page)
        if len(kept) >= BLANK_FORMS_KEPT:
            kept.clear()
        kept[key] = page
    page = page.replace(_TOKEN_MARKS["csrf"], generate_csrf()).replace(_TOKEN_MARKS["key"], values["submission_key"])
    return nonce_filled(page), 200


@bp.route("/pengaduan/baru", methods=["GET", "POST"])
@limiter.limit(_submit_limit, methods=["POST"], deduct_when=_counts_as_submission)
def new_complaint():
    if request.method == "GET":
        return _blank_form({"visibility": Visibility.ANONIM.value, "opd": request.args.get("opd", ""),
                            "submission_key": secrets.token_urlsafe(24), "notify": NOTIFY_CHOICES})
    form = request.form
    values = {name: form.get(name, "") for name in FORM_FIELDS}
    values["consent"] = form.get("consent") == "ya"
    # The check boxes decide when the page had them (its marker); a page from before them: every notice.
    chosen = form.getlist("notify") if form.get("notify_form") else NOTIFY_CHOICES
    values["notify"] = [c for c in NOTIFY_CHOICES if c in chosen]
    try:
        submission_key = inputs.parse_token(form.get("submission_key"))
    except inputs.Problem as problem:
        values["submission_key"] = secrets.token_urlsafe(24)
        return _render_form(values, message=problem.text(gettext), status=400)
    # A page from before the token still works, without the protection; a form sent back gets one.
    values["submission_key"] = submission_key or secrets.token_urlsafe(24)
    if form.get(HONEYPOT):
        g.portal_count_submission = True
        return render_template("public/error.html", title=_l("Pengiriman ditolak"),
                               message=_l("Formulir ini terisi oleh program otomatis. Jika Anda manusia, "
                                          "kosongkan kolom tersembunyi lalu kirim lagi.")), 400
    data = complaints.SubmitInput(
        name=values["name"], nik=values["nik"], phone=values["phone"], email=values["email"],
        address=values["address"], opd_code=values["opd"], title=values["title"],
        # Browsers send line breaks as CRLF; count them as one character, as the counter does.
        text=values["text"].replace("\r\n", "\n"), location=values["location"],
        visibility=values["visibility"] or Visibility.ANONIM.value, consent=values["consent"],
        channel="web", locale=str(get_locale() or "id"), submission_key=submission_key,
        notify_email="email" in values["notify"],
        # Offered only with a WhatsApp/SMS gateway: without one the citizen chose nothing for the phone.
        notify_phone="telepon" in values["notify"] and bool(current_app.config.get("WEBHOOK_URL")))
    try:
        uploads = storage.prepare(request.files.getlist("attachments"))
    except Invalid as exc:
        field_errors, _, _ = complaints.validate_submission(data)
        return _render_form(values, {**field_errors, **exc.errors}, status=400)
    try:
        submitted = complaints.submit(data, files=uploads)
    except Invalid as exc:
        return _render_form(values, exc.errors, message=exc.message, status=400)
    except Conflict as exc:
        return _render_form(values, message=exc.message, status=409)
    except Unavailable as exc:
        return _render_form(values, message=exc.message, status=503)
    # Post-redirect-get: the PIN waits in the (signed) session for exactly one display, never in a URL.
    session["receipt"] = {"ticket": submitted.ticket, "pin": submitted.pin, "opd": submitted.opd_name,
                          "deadline": submitted.validation_deadline.isoformat(), "email": submitted.has_email,
                          "repeated": submitted.repeated, "submitted": submitted.submitted_at.isoformat()}
    return redirect(url_for(".receipt"), code=303)


def _receipt(data: dict) -> receipt_doc.Receipt:
    config = current_app.config
    return receipt_doc.Receipt(
        ticket=data["ticket"], pin=data["pin"], submitted_at=datetime.fromisoformat(data["submitted"]),
        validation_deadline=datetime.fromisoformat(data["deadline"]), opd=data.get("opd"),
        track_url=complaints.track_url(data["ticket"]), answer_days=config["ANSWER_DAYS"],
        calendar_days=config["ANSWER_DAY_MODE"] == "calendar", email=bool(data.get("email")),
        repeated=bool(data.get("repeated")))


@bp.get("/pengaduan/terkirim")
def receipt():
    data = session.pop("receipt", None)
    if not data:
        return _no_store(make_response(render_template("public/receipt_gone.html")))
    # The page is shown once; its PDF stays downloadable from this browser for a short while.
    session["receipt_pdf"] = {**data, "until": int(time.time()) + RECEIPT_PDF_SECONDS}
    doc = _receipt(data)
    return _no_store(make_response(render_template("public/receipt.html", receipt=doc,
                                                   steps=receipt_doc.next_steps(doc))))


@bp.get("/pengaduan/terkirim/tanda-terima.pdf")
def receipt_pdf():
    data = session.get("receipt_pdf")
    if not data or data.get("until", 0) < time.time():
        session.pop("receipt_pdf", None)
        return _no_store(make_response(render_template("public/receipt_gone.html"), 404))
    doc = _receipt(data)
    response = make_response(receipt_doc.pdf(doc, str(_l("Tanda terima pengaduan"))))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="tanda-terima-{doc.ticket}.pdf"'
    return _no_store(response)


# --------------------------------------------------------------------------- tracking


def _track_limit() -> str:
    return current_app.config["TRACK_RATE_LIMIT"]


def _granted_id() -> int | None:
    grant = session.get("track")
    if not grant or grant.get("until", 0) < time.time():
        session.pop("track", None)
        return None
    return int(grant["id"])


@bp.route("/lacak", methods=["GET", "POST"])
@limiter.limit(_track_limit, methods=["POST"])
def track():
    if request.method == "GET":
        return render_template("public/track.html", ticket=request.args.get("tiket", "")[:24], errors={})
    ticket = (request.form.get("ticket") or "").strip()[:40]
    pin = (request.form.get("pin") or "").strip()[:40]
    errors = {}
    if not ticket:
        errors["ticket"] = _l("Wajib diisi.")
    if not pin:
        errors["pin"] = _l("Wajib diisi.")
    if errors:
        return render_template("public/track.html", ticket=ticket, errors=errors), 400
    complaint = complaints.track(ticket, pin)
    if complaint is None:
        # One message for a wrong ticket and a wrong PIN: the page must not tell which one exists.
        return render_template("public/track.html", ticket=ticket, errors={},
                               message=_l("Nomor tiket atau PIN tidak cocok. Periksa kembali tanda terima Anda.")), 400
    session["track"] = {"id": complaint.id, "until": int(time.time()) + TRACK_GRANT_SECONDS}
    return redirect(url_for(".tracked"), code=303)


def _recovery_limit() -> str:
    return current_app.config["PIN_RECOVERY_RATE_LIMIT"]


@bp.route("/lacak/lupa-pin", methods=["GET", "POST"])
@limiter.limit(_recovery_limit, methods=["POST"])
def recover_pin():
    """A new PIN to the e-mail address or phone given in the form; the page never says whether they matched."""
    if request.method == "GET":
        return render_template("public/recover_pin.html", ticket=request.args.get("tiket", "")[:24],
                               contact="", errors={})
    ticket = request.form.get("ticket", "")
    contact = request.form.get("contact", "")
    try:
        citizen.recover_pin(ticket, contact)
    except Invalid as exc:
        return render_template("public/recover_pin.html", ticket=ticket[:24], contact=contact[:254],
                               errors=exc.errors), 400
    return _no_store(make_response(render_template("public/recover_pin.html", ticket="", contact="", errors={},
                                                   sent=True)))


@bp.get("/lacak/hasil")
def tracked():
    complaint_id = _granted_id()
    view = portal.tracked_view(complaint_id) if complaint_id is not None else None
    if view is None:
        return redirect(url_for(".track"))
    return _render_tracked(view)


def _render_tracked(view, errors: dict | None = None, values: dict | None = None, message=None, status=200):
    return _no_store(make_response(render_template(
        "public/tracked.html", view=view, note_actions=NOTE_ACTIONS, errors=errors or {}, values=values or {},
        message=message), status))


@bp.post("/lacak/tanggapan")
def track_reply():
    """The complainant's reply to the answer, once: "Selesai, terima kasih" or "Belum selesai" + reason."""
    complaint_id = _granted_id()
    if complaint_id is None:
        return redirect(url_for(".track"), code=303)
    form = request.form
    choice = form.get("accepted", "")
    values = {"accepted": choice, "rating": form.get("rating", ""), "reason": form.get("reason", ""),
              "comment": form.get("comment", "")}
    data = citizen.ReplyInput(accepted={"ya": True, "tidak": False}.get(choice), rating=values["rating"],
                              reason=values["reason"].replace("\r\n", "\n"),
                              comment=values["comment"].replace("\r\n", "\n"))
    try:
        citizen.reply(complaint_id, data)
    except Invalid as exc:
        return _render_tracked(portal.tracked_view(complaint_id), exc.errors, values, exc.message, 400)
    except ServiceError as exc:
        return _render_tracked(portal.tracked_view(complaint_id), message=exc.message, status=exc.status)
    return redirect(url_for(".tracked"), code=303)


@bp.post("/lacak/keluar")
def track_logout():
    session.pop("track", None)
    return redirect(url_for(".track"), code=303)


@bp.get("/lacak/lampiran/<int:attachment_id>")
def track_attachment(attachment_id: int):
    complaint_id = _granted_id()
    attachment = portal.own_attachment(complaint_id, attachment_id) if complaint_id is not None else None
    if attachment is None:
        abort(404)
    return storage.send_attachment(attachment)


# --------------------------------------------------------------------------- published complaints


@bp.get("/pengaduan/")
@paging.renamed()
@public_page
def published_list():
    args = request.args
    raw = {"opd": args.get("opd", ""), "state": args.get("status", ""), "q": args.get("q", "")}
    opds = portal.public_opds()
    try:
        flt = portal.check_filter(raw["opd"], raw["state"], raw["q"])
        page = portal.published_page(flt, cursor=args.get(paging.NEXT) or None, size=portal.PAGE_SIZE)
    except Invalid as exc:
        return render_template("public/list.html", page=None, raw=raw, errors=exc.errors, message=exc.message,
                               opds=opds, public_states=portal.PUBLIC_STATES), 400
    return render_template("public/list.html", page=page, raw=raw, errors={}, message=None, opds=opds,
                           public_states=portal.PUBLIC_STATES)


@bp.get("/pengaduan/<ticket>")
@public_page
def published_detail(ticket: str):
    detail = portal.published_detail(ticket)
    if detail is None:
        abort(404)
    return render_template("public/detail.html", c=detail)


@bp.get("/statistik")
@public_page
def statistics():
    stored = portal.stored_statistics()
    return render_template("public/statistics.html", stats=stored.stats, computed_at=stored.computed_at,
                           state_order=list(State))


# --------------------------------------------------------------------------- errors on public pages


def _error(title, message, status: int):
    return render_template("public/error.html", title=title, message=message, status=status), status


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return _error(_l("Permintaan tidak dapat diproses"), exc.message, exc.status)


@bp.errorhandler(404)
def _not_found(exc):
    return _error(_l("Halaman tidak ditemukan"),
                  _l("Pengaduan atau halaman ini tidak ada, atau tidak dipublikasikan."), 404)


# 429 (when to try again), 500 and 503: the app-wide pages of app/boundary.py, in the portal's layout.


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    config = current_app.config
    megabytes = "%g" % ((config.get("MAX_CONTENT_LENGTH") or 0) / (1024 * 1024))
    if (request.content_length or 0) <= (config.get("MAX_CONTENT_LENGTH") or 0):
        # Within the total, so the text fields themselves were too long (Flask's MAX_FORM_MEMORY_SIZE).
        kilobytes = "%g" % ((config.get("MAX_FORM_MEMORY_SIZE") or 0) / 1000)
        return _error(_l("Kiriman terlalu besar"),
                      _l("Isian teks formulir melebihi %(kb)s kB. Persingkat isian, lalu kirim lagi.", kb=kilobytes),
                      413)
    return _error(_l("Kiriman terlalu besar"),
                  _l("Ukuran seluruh kiriman melebihi %(mb)s MB. Kurangi atau perkecil lampiran, lalu kirim lagi.",
                     mb=megabytes), 413)


@bp.errorhandler(CSRFError)
def _csrf(exc):
    return _error(_l("Formulir kedaluwarsa"),
                  _l("Halaman formulir sudah terlalu lama terbuka atau tidak berasal dari situs ini. "
                     "Muat ulang halaman, lalu kirim lagi."), 400)


# Form fields a citizen typed that the outage page carries back (the honeypot and the CSRF token do not).
RESEND_FIELDS = (*FORM_FIELDS, "consent", "submission_key")


def _database_down(exc):
    """The database cannot be reached (stopped, restarting, network): every page answers 503 in
    Indonesian instead of a 500; nothing of the request was stored (its transaction is gone with the
    connection). A submission's page carries what was typed and the form's idempotency token, so "Kirim
    lagi" after the outage stores the complaint once. The pool's pre-ping replaces the dead connections
    when the database is back: no restart needed."""
    current_app.logger.warning("database unreachable: %s on %s %s", exc.__class__.__name__, request.method,
                               request.path)
    try:
        from .extensions import db

        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is already gone
        pass
    # Render without the database: a signed-in staff member is shown the page as anonymous (loading the
    # account would fail again inside this handler and turn the 503 into a 500).
    g._login_user = current_app.login_manager.anonymous_user()
    g.user = g._login_user
    if request.blueprint != "public":
        from .boundary import unavailable

        return unavailable(exc)  # staff screens, the API, Open311: the 503 in their own layout or format
    resend = None
    if request.method == "POST" and request.endpoint == "public.new_complaint":
        resend = [(name, request.form.get(name, "")) for name in RESEND_FIELDS if request.form.get(name)]
    response = make_response(render_template("public/unavailable.html", resend=resend), 503)
    response.headers["Retry-After"] = "30"
    return _no_store(response)


def register_public(app) -> None:
    from sqlalchemy.exc import InterfaceError, OperationalError

    app.register_blueprint(bp)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(InterfaceError, _database_down)
