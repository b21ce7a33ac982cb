"""Open311 GeoReport v2 (issue 15): the use cases behind app/open311.py, which only speaks HTTP.

- Services are the active OPDs (`service_code` = OPD code); a service definition lists the attributes a
  request needs beyond the standard parameters (NIK, name, title, visibility, consent, address).
- POST requests: the API key is checked first (403), then the request becomes a `SubmitInput` and goes
  through `services.complaints.submit`, the public form's own use case: the same input boundary, the
  same structural NIK check, the same transaction and notifications. The channel is Open311 and the
  complaint names the key (`Complaint.channel_source`).
- GET requests: published complaints only, found with the portal's definition of "published" and shown
  through the disclosure policy's public view (`present(…, Screen.PORTAL)`): nothing here decides what
  the public may see.
- API keys: one named key per integrating channel; only the SHA-256 of a key is stored; revoked, never
  deleted; each use and each refusal goes to the history log.

Times are aware datetimes; the blueprint writes them in W3C format with the WIB offset (+07:00).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from .. import audit, inputs
from ..inputs import N_
from ..extensions import db
from ..models import Answer, Complaint, Open311Key, Opd
from ..timeutil import WIB, utcnow
from ..labels import AWAITING_DISPATCH_LABEL
from ..workflow import OPEN_STATES, Channel, Role, State, Visibility, held_by_opd
from . import complaints, portal
from .common import Actor, Conflict, Forbidden, Invalid, NotFound, read_text, unit_of_work
from .disclosure import ComplaintView, Screen, present

MAX_REQUESTS = 1000  # the most one GET requests answers (the standard's default ceiling)
DEFAULT_DAYS = 90  # the standard's default range, and the widest one a caller may ask for
MAX_IDS = MAX_REQUESTS
KEY_PREFIX = "o311_"
KEY_NAME_MAX = 64
API_KEY_MAX = 200  # longer than any key this server makes: refused without hashing a megabyte
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this server's Open311 interface last changed (the discovery document's changeset).
CHANGESET = datetime(2026, 12, 2, tzinfo=timezone.utc)


# --------------------------------------------------------------------------- API keys


@dataclass(frozen=True)
class KeyView:
    id: int
    name: str
    created_by: str | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8", "surrogatepass")).hexdigest()


def _may_manage(actor: Actor) -> None:
    # Admin Sistem on the screen; the operator at the server's command line acts as the system.
    if not actor.has(Role.ADMIN_SISTEM, Role.SYSTEM):
        raise Forbidden(_("Hanya Admin Sistem yang dapat mengelola kunci API Open311."))


def _key_view(row: Open311Key) -> KeyView:
    creator = row.created_by.username if row.created_by is not None else None
    return KeyView(row.id, row.name, creator, row.created_at, row.revoked_at, row.last_used_at)


def create_key(name: str, actor: Actor) -> tuple[KeyView, str]:
    """A new key for the channel `name` (unique, also among revoked keys): (the key's row, the key).
    The key is returned once and never stored; only its SHA-256 is."""
    _may_manage(actor)
    errors: dict[str, str] = {}
    name = read_text(errors, "name", name, limit=KEY_NAME_MAX, required=True)
    if errors:
        raise Invalid(_("Periksa kembali nama kunci."), errors=errors)
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    with unit_of_work():
        if db.session.scalar(sa.select(Open311Key.id).where(Open311Key.name == name)) is not None:
            raise Conflict(_("Nama kunci %(name)s sudah dipakai (juga kunci yang sudah dicabut). Pilih nama lain.",
                             name=name), code="duplicate", errors={"name": _("Nama sudah dipakai.")})
        row = Open311Key(name=name, key_hash=_digest(api_key), created_by_id=actor.user_id, created_at=utcnow())
        db.session.add(row)
        db.session.flush()
        audit.record("action", "open311.key.create", actor=actor, target=f"open311_key:{row.id}",
                     detail={"name": name})
        view = _key_view(row)
    return view, api_key


def _find_key(*, key_id: int | None = None, name: str | None = None) -> Open311Key:
    query = sa.select(Open311Key)
    query = query.where(Open311Key.id == key_id) if key_id is not None else query.where(Open311Key.name == name)
    row = db.session.scalar(query.with_for_update())
    if row is None:
        raise NotFound(_("Kunci API tidak ditemukan."))
    return row


def revoke_key(actor: Actor, *, key_id: int | None = None, name: str | None = None) -> KeyView:
    """Revoke a key by id (the screen) or name (the command): requests with it are refused from now on."""
    _may_manage(actor)
    with unit_of_work():
        row = _find_key(key_id=key_id, name=name)
        if row.revoked_at is not None:
            raise Conflict(_("Kunci %(name)s sudah dicabut.", name=row.name), code="revoked")
        row.revoked_at = utcnow()
        audit.record("action", "open311.key.revoke", actor=actor, target=f"open311_key:{row.id}",
                     detail={"name": row.name})
        view = _key_view(row)
    return view


def list_keys() -> list[KeyView]:
    """Every key, active ones first, then by name (a regency has a handful of channels)."""
    rows = db.session.scalars(sa.select(Open311Key).options(selectinload(Open311Key.created_by))
                              .order_by(Open311Key.revoked_at.is_not(None), Open311Key.name))
    return [_key_view(r) for r in rows]


def _refused_key(reason: str, name: str | None = None) -> Forbidden:
    with unit_of_work():
        audit.record("auth", "open311.key.refused", detail={"reason": reason, **({"name": name} if name else {})})
    if reason == "revoked":
        return Forbidden(_("api_key ini sudah dicabut; minta kunci baru kepada Admin Sistem."), code="api_key")
    return Forbidden(_("api_key tidak dikirim atau tidak valid; permintaan tidak dapat diproses."), code="api_key")


def authenticate(api_key: str | None) -> KeyView:
    """The active key `api_key` is, or Forbidden (403). A refusal is written to the history log."""
    if not api_key or len(api_key) > API_KEY_MAX:
        raise _refused_key("missing" if not api_key else "unknown")
    row = db.session.scalar(sa.select(Open311Key).where(Open311Key.key_hash == _digest(api_key)))
    if row is None:
        raise _refused_key("unknown")
    if row.revoked_at is not None:
        raise _refused_key("revoked", row.name)
    return _key_view(row)


def _record_use(key: KeyView, complaint: Complaint) -> None:
    with unit_of_work():
        db.session.execute(sa.update(Open311Key).where(Open311Key.id == key.id).values(last_used_at=utcnow()))
        audit.record("action", "open311.key.use", actor=_actor(key), complaint_id=complaint.id,
                     target=f"open311_key:{key.id}", detail={"name": key.name, "ticket": complaint.ticket})


def _actor(key: KeyView) -> Actor:
    # The citizen submits; the history log names the channel that carried the complaint.
    return Actor(roles=frozenset({Role.PUBLIK}), username=f"open311:{key.name}", display_name=key.name)


# --------------------------------------------------------------------------- services


@dataclass(frozen=True)
class Service:
    service_code: str
    service_name: str
    description: str
    keywords: str
    group: str
    metadata: bool = True
    type: str = "realtime"


@dataclass(frozen=True)
class AttributeValue:
    key: str
    name: str


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str  # string, number, datetime, text, singlevaluelist, multivaluelist
    required: bool
    order: int
    description: str
    datatype_description: str = ""
    variable: bool = True
    values: tuple[AttributeValue, ...] = ()


@dataclass(frozen=True)
class ServiceDefinition:
    service_code: str
    attributes: tuple[Attribute, ...]


def _service(opd: Opd) -> Service:
    keywords = ", ".join(k.strip() for k in (opd.keywords or "").split(";") if k.strip())
    return Service(service_code=opd.code, service_name=opd.name, description=(opd.duties or opd.name).strip(),
                   keywords=keywords, group=opd.kind or "")


def services() -> list[Service]:
    """One service per active OPD, by name (the OPDs the public form offers; their duties and keywords too)."""
    from .desk import active_opds

    return [_service(opd) for opd in active_opds()]


# The attributes of every service: (attribute code, SubmitInput field, datatype, required, description, values).
# Standard parameters carry the rest: description (the complaint), phone, email, first_name/last_name (the name
# when `nama` is not sent), address_string or lat/long (where the problem is).
ATTRIBUTES = (
    ("nik", "nik", "string", True, N_("NIK pengadu (16 digit sesuai e-KTP). Tidak pernah ditampilkan ke publik.")),
    ("nama", "name", "string", True, N_("Nama lengkap pengadu (boleh diganti first_name dan last_name).")),
    ("judul", "title", "string", True, N_("Judul singkat pengaduan (maksimal 200 karakter).")),
    ("visibilitas", "visibility", "singlevaluelist", False,
     N_("Siapa yang boleh membaca pengaduan ini (bawaan: anonim).")),
    ("persetujuan", "consent", "singlevaluelist", True,
     N_("Persetujuan pemrosesan data pribadi (UU 27/2022): kirim nilai ya.")),
    ("alamat_pengadu", "address", "string", False, N_("Alamat pengadu (tidak pernah ditampilkan ke publik).")),
)
VISIBILITY_VALUES = (("publik", N_("Publik: tampil dengan nama pengadu")), ("anonim", N_("Anonim: tampil tanpa identitas")),
                     ("rahasia", N_("Rahasia: tidak tampil di publik")))
CONSENT_VALUES = (("ya", N_("Ya, saya setuju")),)
# Where each field of a submission comes from in an Open311 request (field errors name the parameter).
PARAMETERS = {**{f: f"attribute[{code}]" for code, f, *_rest in ATTRIBUTES},
              "phone": "phone", "email": "email", "text": "description", "location": "address_string",
              "opd": "service_code", "opd_code": "service_code"}


def _attribute(order: int, code: str, datatype: str, required: bool, description: str) -> Attribute:
    values = {"visibilitas": VISIBILITY_VALUES, "persetujuan": CONSENT_VALUES}.get(code, ())
    return Attribute(code=code, datatype=datatype, required=required, order=order, description=_(description),
                     values=tuple(AttributeValue(k, _(n)) for k, n in values))


def service_definition(code: str) -> ServiceDefinition:
    """The attributes a request to service `code` needs; NotFound for a code that is no active OPD."""
    errors: dict[str, str] = {}
    code = read_text(errors, "service_code", code, limit=complaints.LIMITS["opd"]) or ""
    opd = None if errors else db.session.scalar(sa.select(Opd).where(Opd.code == code, Opd.active.is_(True)))
    if opd is None:
        raise NotFound(_("service_code tidak dikenal: tidak ada OPD aktif dengan kode ini."))
    return ServiceDefinition(opd.code, tuple(_attribute(i, code_, datatype, required, description)
                                             for i, (code_, _f, datatype, required, description)
                                             in enumerate(ATTRIBUTES, start=1)))


# --------------------------------------------------------------------------- POST requests


@dataclass(frozen=True)
class Created:
    service_request_id: str  # the ticket
    service_notice: str  # carries the tracking PIN, shown this once
    account_id: str | None = None


def _coordinate(errors: dict[str, str], name: str, value, bound: float) -> float | None:
    text = read_text(errors, name, value, limit=32)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is None or number != number or not -bound <= number <= bound:  # NaN is not a coordinate
        errors[name] = _("Harus berupa angka antara -%(b)d dan %(b)d.", b=bound)
        return None
    return number


def _location(form, errors: dict[str, str]) -> str | None:
    """address_string when given, else "lat, long" (both or neither); media_url is not fetched."""
    address = form.get("address_string")
    if address not in (None, ""):
        return address
    lat = _coordinate(errors, "lat", form.get("lat"), 90)
    lon = _coordinate(errors, "long", form.get("long"), 180)
    if (lat is None) != (lon is None) and "lat" not in errors and "long" not in errors:
        errors["lat" if lat is None else "long"] = _("lat dan long dikirim berdua.")
    return f"{lat:.6f}, {lon:.6f}" if lat is not None and lon is not None else None


def _name(form) -> str | None:
    name = form.get("attribute[nama]")
    if name not in (None, ""):
        return name
    parts = [form.get("first_name") or "", form.get("last_name") or ""]
    joined = " ".join(p for p in parts if isinstance(p, str) and p.strip())
    return joined or None


def _text_fields(form) -> dict:
    """Every value as the form sent it (strings: the input boundary cleans them in submit)."""
    value = {f: form.get(f"attribute[{code}]") for code, f, *_rest in ATTRIBUTES}
    value.update(name=_name(form), phone=form.get("phone"), email=form.get("email"),
                 text=form.get("description"), opd_code=form.get("service_code"))
    return value


def _refusal(exc: Invalid | Conflict, errors: dict[str, str] | None = None) -> Invalid:
    """The refusal with each field named by its Open311 parameter (a duplicate is a 400 in the standard)."""
    named = {PARAMETERS.get(k, k): v for k, v in {**(exc.errors or {}), **(errors or {})}.items()}
    return Invalid(exc.message, code=exc.code, errors=named)


def submit_request(form, locale: str = "id") -> Created:
    """POST requests: the key first (403), then the public form's use case; each refusal a 400."""
    key = authenticate(form.get("api_key"))
    fields = _text_fields(form)
    errors: dict[str, str] = {}
    location = _location(form, errors)
    visibility = fields.pop("visibility") or Visibility.ANONIM.value
    consent = fields.pop("consent")
    data = complaints.SubmitInput(
        **{k: v if v is not None else "" for k, v in fields.items() if k not in ("email", "address")},
        email=fields["email"], address=fields["address"], location=location,
        visibility=visibility if isinstance(visibility, str) else "",
        consent=isinstance(consent, str) and consent.strip().lower() == "ya",
        channel=Channel.OPEN311.value, channel_source=key.name, locale=locale)
    if errors:  # a coordinate the form cannot take: say so with every other field's problem
        field_errors, _result, _opd = complaints.validate_submission(data)
        raise _refusal(Invalid(_("Periksa kembali isian yang ditandai."), errors=field_errors), errors)
    try:
        submitted = complaints.submit(data, actor=_actor(key))
    except (Invalid, Conflict) as exc:
        raise _refusal(exc) from None
    complaint = submitted.complaint
    _record_use(key, complaint)
    notice = _("Pengaduan diterima dengan nomor tiket %(ticket)s. PIN pelacakan: %(pin)s (hanya ditampilkan sekali; "
               "simpan untuk melacak di %(url)s). NIK diverifikasi paling lambat %(hours)d jam.",
               ticket=complaint.ticket, pin=submitted.pin, url=complaints.track_url(complaint.ticket),
               hours=int((complaint.validation_deadline - complaint.submitted_at).total_seconds() // 3600))
    return Created(service_request_id=complaint.ticket, service_notice=notice)


# --------------------------------------------------------------------------- GET requests


@dataclass(frozen=True)
class ServiceRequest:
    service_request_id: str
    status: str  # open | closed
    status_notes: str  # the published answer, or empty
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime | None
    service_notice: str = ""


@dataclass(frozen=True)
class RequestFilter:
    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None  # naive UTC, inclusive
    end: datetime | None = None  # naive UTC, inclusive
    statuses: frozenset[str] = field(default_factory=frozenset)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def _status(state: State) -> str:
    return "open" if state in OPEN_STATES else "closed"


def _as_request(view: ComplaintView) -> ServiceRequest:
    answer = view.answer
    moments = [view.submitted_at, view.validated_at, view.routed_at, view.answered_at, view.closed_at,
               answer.edited_at if answer is not None else None]
    description = "\n\n".join(p for p in (view.title, view.text) if p)
    return ServiceRequest(
        service_request_id=view.ticket, status=_status(view.state), status_notes=answer.text if answer else "",
        service_name=view.opd_name, service_code=view.opd_code or "", description=description,
        # The agency that holds it now: a complaint waiting for dispatch (returned, or the complainant did not
        # know the OPD) is held by none, whatever OPD it had before.
        agency_responsible=answer.opd_name if answer is not None else (
            view.opd_name if view.opd_id is not None and held_by_opd(view.state) else str(AWAITING_DISPATCH_LABEL)),
        requested_datetime=_aware(view.submitted_at), updated_datetime=_aware(max(m for m in moments if m)),
        expected_datetime=_aware(view.answer_deadline))


def _list(args, name: str, limit: int, most: int) -> tuple[str, ...]:
    """A comma-delimited parameter (also repeated) as its distinct non-empty items, each through the boundary."""
    errors: dict[str, str] = {}
    items: list[str] = []
    for raw in args.getlist(name):
        for part in raw.split(","):
            value = read_text(errors, name, part, limit=limit)
            if errors:
                raise Invalid(_("Parameter %(name)s tidak valid: %(message)s", name=name, message=errors[name]),
                              errors=errors)
            if value and value not in items:
                items.append(value)
    if len(items) > most:
        raise Invalid(_("Parameter %(name)s tidak valid: paling banyak %(n)d nilai.", name=name, n=most),
                      errors={name: _("Paling banyak %(n)d nilai.", n=most)})
    return tuple(items)


def _moment(args, name: str) -> datetime | None:
    try:
        moment = inputs.parse_w3c_datetime(args.get(name), local=WIB)
    except inputs.Problem as problem:
        message = problem.text(_)
        raise Invalid(_("Parameter %(name)s tidak valid: %(message)s", name=name, message=message),
                      errors={name: message}) from None
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment is not None else None


def read_filter(args, now: datetime | None = None) -> RequestFilter:
    """The standard's filters from a query string: `service_request_id` (comma list) overrides the others;
    `start_date`/`end_date` default to the last 90 days and may not span more; `status` open|closed."""
    ids = tuple(t.upper() for t in _list(args, "service_request_id", 24, MAX_IDS))
    if ids:
        return RequestFilter(ids=ids)
    now = now or utcnow()
    codes = _list(args, "service_code", complaints.LIMITS["opd"], 500)
    statuses = _list(args, "status", 16, 2)
    unknown = [s for s in statuses if s not in ("open", "closed")]
    if unknown:
        raise Invalid(_("Parameter status tidak valid: pilih open atau closed."),
                      errors={"status": _("Pilih open atau closed.")})
    start, end = _moment(args, "start_date"), _moment(args, "end_date")
    span = timedelta(days=DEFAULT_DAYS)
    if start is None and end is None:
        start, end = now - span, now
    elif start is None:
        start = end - span
    elif end is None:
        end = start + span
    if end < start:
        raise Invalid(_("Parameter end_date tidak valid: harus sesudah start_date."),
                      errors={"end_date": _("Harus sesudah start_date.")})
    if end - start > span:
        raise Invalid(_("Rentang start_date sampai end_date paling lama %(n)d hari.", n=DEFAULT_DAYS),
                      errors={"end_date": _("Rentang paling lama %(n)d hari.", n=DEFAULT_DAYS)})
    return RequestFilter(service_codes=codes, start=start, end=end, statuses=frozenset(statuses))


def _published_query():
    return (sa.select(Complaint).where(portal.published())
            .options(selectinload(Complaint.answers).selectinload(Answer.opd)))


def find_requests(flt: RequestFilter) -> list[ServiceRequest]:
    """Published complaints matching `flt`, newest first, at most MAX_REQUESTS."""
    query = _published_query()
    if flt.ids:
        query = query.where(Complaint.ticket.in_(flt.ids))
    else:
        query = query.where(Complaint.submitted_at >= flt.start, Complaint.submitted_at <= flt.end)
        if flt.service_codes:
            query = query.where(Complaint.opd_id.in_(sa.select(Opd.id).where(Opd.code.in_(flt.service_codes))))
        if len(flt.statuses) == 1:
            open_states = sorted(OPEN_STATES, key=list(State).index)
            condition = Complaint.state.in_(open_states)
            query = query.where(condition if "open" in flt.statuses else sa.not_(condition))
    query = query.order_by(Complaint.submitted_at.desc(), Complaint.id.desc()).limit(MAX_REQUESTS)
    return [_as_request(present(c, None, Screen.PORTAL)) for c in db.session.scalars(query)]


def one_request(ticket: str) -> ServiceRequest:
    """GET requests/<id>: one published complaint, or NotFound (an unpublished one does not exist here)."""
    errors: dict[str, str] = {}
    ticket = (read_text(errors, "service_request_id", ticket, limit=24) or "").upper()
    complaint = None if errors or not ticket else db.session.scalar(
        _published_query().where(Complaint.ticket == ticket))
    if complaint is None:
        raise NotFound(_("service_request_id tidak ditemukan atau tidak dipublikasikan."))
    return _as_request(present(complaint, None, Screen.PORTAL))
