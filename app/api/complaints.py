"""REST for integrations (JWT from POST /api/v1/security/login): list and read complaints within the
caller's scope, and the validator's decision. Documented in /api/v1/_openapi.

Handlers parse and answer; what each role may read is decided by services.disclosure (serialised by
services.complaint_api), deciding by services.validation.decide (complaints.decide_nik with one clear
answer when two decide at once).
"""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from marshmallow import Schema, fields

from ..services import Actor, Invalid, ServiceError, complaint_api, complaints, cursor, validation
from ..services.complaints import LIMITS
from ..workflow import State
from . import fields as body
from . import current_actor, refusal, service_refusal


class DecisionSchema(body.BodySchema):
    __component_name__ = "Decision"

    valid = body.Boolean(required=True, metadata={"description": "true: NIK valid (routed and published "
                                                                 "unless rahasia); false: tidak valid"})
    remark = body.Text(load_default=None, allow_none=True, limit=LIMITS["remark"], multiline=True,
                       metadata={"description": "Catatan validator; wajib untuk tidak valid"})
    version = body.Integer(load_default=None, allow_none=True,
                           metadata={"description": "The complaint's version as read (optimistic locking)"})
    public_title = body.Text(load_default=None, allow_none=True, limit=LIMITS["title"])
    public_text = body.Text(load_default=None, allow_none=True, limit=LIMITS["text"], multiline=True)
    public_edit_reason = body.Text(load_default=None, allow_none=True, limit=LIMITS["reason"])
    override_reason = body.Text(load_default=None, allow_none=True, limit=LIMITS["reason"], multiline=True,
                                metadata={"description": "Alasan menandai NIK valid meski SIAK menyatakan "
                                                         "NOT_FOUND atau MISMATCH; wajib dalam hal itu"})


class OpdSchema(Schema):
    __component_name__ = "ComplaintOpd"

    code = fields.String()
    name = fields.String()


class ComplaintSummarySchema(Schema):
    __component_name__ = "ComplaintSummary"

    id = fields.Integer()
    ticket = fields.String()
    state = fields.String()
    visibility = fields.String()
    opd = fields.Nested(OpdSchema)
    title = fields.String(metadata={"description": "Masked for an Admin OPD when the complaint is anonim"})
    submitted_at = fields.String()
    validation_deadline = fields.String()
    validation_overdue = fields.Boolean()
    routed_at = fields.String(allow_none=True)
    answer_deadline = fields.String(allow_none=True)
    answer_overdue = fields.Boolean()
    answered_at = fields.String(allow_none=True)
    published = fields.Boolean()
    version = fields.Integer()
    channel = fields.String(metadata={"description": "How it arrived: web, api, open311 or lapor"})
    lapor_id = fields.String(allow_none=True, metadata={"description": "SP4N-LAPOR! tracking ID of an "
                                                                        "imported complaint"})


class ClaimSchema(Schema):
    __component_name__ = "Claim"

    id = fields.Integer()
    ticket = fields.String()
    version = fields.Integer(metadata={"description": "Send it back with the decision (optimistic locking)"})
    claimed_until = fields.String(metadata={"description": "The hold ends then (UTC, ISO 8601)"})


class ComplaintListSchema(Schema):
    __component_name__ = "ComplaintList"

    result = fields.List(fields.Nested(ComplaintSummarySchema))
    next_cursor = fields.String(allow_none=True, data_key=cursor.NEXT, metadata={
        "description": f"Cursor of the next page: pass it as ?{cursor.NEXT}=; null on the last page"})
    legacy_next = fields.Integer(allow_none=True, data_key=cursor.LEGACY_NEXT_FIELD, metadata={
        "deprecated": True, "description": f"Deprecated: this page's last id, for the old id cursor "
                                           f"({', '.join(cursor.OLD_ID_NAMES)}); use {cursor.NEXT}"})


class ComplaintDetailSchema(ComplaintSummarySchema):
    __component_name__ = "ComplaintDetail"

    text = fields.String()
    location = fields.String(allow_none=True)
    public_title = fields.String(allow_none=True)
    public_text = fields.String(allow_none=True)
    complainant = fields.Dict(allow_none=True, metadata={
        "description": "Validator: name only; Pimpinan/Admin Sistem and the OPD of a publik or rahasia "
                       "complaint: name and contact; otherwise null"})
    nik_masked = fields.String(metadata={"description": "Validator only, while the check is open; the full "
                                                        "NIK is shown only on the validator's desk"})
    nik_check = fields.Dict(metadata={"description": "Validator, Pimpinan, Admin Sistem: structural result and "
                                                     "SIAK verdict"})
    claim = fields.Dict(allow_none=True)
    answer = fields.Dict(allow_none=True)


def _actor() -> Actor:
    return current_actor()


def _first(args, names) -> tuple[str, str] | tuple[None, None]:
    for name in names:
        if args.get(name):
            return name, args[name]
    return None, None


def _paging_args(args) -> tuple[str | None, int]:
    """The cursor token and page size of a list request; the old names are still accepted (an old
    id cursor becomes the token of that position)."""
    token = args.get(cursor.NEXT) or _first(args, cursor.OLD_TOKEN_NAMES)[1]
    # Every id cursor sent is checked, also one a newer name overrides: a client's mistake gets its answer.
    bad = {name: "Bilangan bulat positif (id)." for name in cursor.OLD_ID_NAMES
           if name in args and cursor.legacy_id(args[name]) is None}
    if bad:
        raise Invalid("Periksa kembali parameter halaman.", code="cursor", errors=bad)
    old_name, old_id = _first(args, cursor.OLD_ID_NAMES)
    if not token and old_name:
        token = complaint_api.API_ORDER.token_for_id(cursor.legacy_id(old_id))
    size_name, size = _first(args, (cursor.PER_PAGE, *cursor.OLD_PER_PAGE_NAMES))
    if size_name and cursor.legacy_id(size) is None:
        raise Invalid("Periksa kembali parameter halaman.",
                      errors={size_name: f"Bilangan bulat 1–{complaint_api.API_PAGE_MAX}."})
    return token, int(size) if size_name else complaint_api.API_PAGE


def _query(name: str, schema: dict, description: str, deprecated: bool = False) -> dict:
    return {"in": "query", "name": name, "schema": schema, "description": description,
            **({"deprecated": True} if deprecated else {})}


_SIZE = {"type": "integer", "minimum": 1, "maximum": complaint_api.API_PAGE_MAX, "default": complaint_api.API_PAGE}
# The list's parameters, built from the one definition of the paging names (services.cursor).
LIST_PARAMETERS = [
    _query("state", {"type": "string", "enum": [s.value for s in State]}, "Only complaints in this state"),
    _query(cursor.NEXT, {"type": "string"}, f"Cursor of the next page: the previous answer's `{cursor.NEXT}` "
                                            "(opaque; one this API did not give is a 400)"),
    _query(cursor.PER_PAGE, _SIZE, f"Page size (larger values are taken as {complaint_api.API_PAGE_MAX})"),
    *[_query(name, {"type": "string"}, f"Old name of {cursor.NEXT}, still accepted", True)
      for name in cursor.OLD_TOKEN_NAMES],
    *[_query(name, {"type": "integer"}, f"Old cursor, still accepted: only complaints with a smaller id "
                                        f"(the old `{cursor.LEGACY_NEXT_FIELD}`)", True)
      for name in cursor.OLD_ID_NAMES],
    *[_query(name, _SIZE, f"Old name of {cursor.PER_PAGE}, still accepted", True)
      for name in cursor.OLD_PER_PAGE_NAMES],
]


class ComplaintApi(BaseApi):
    resource_name = "complaint"
    class_permission_name = "Complaint"
    method_permission_name = {"get_list": "read", "get": "read", "decision": "decide", "claim": "decide",
                              "attachment": "read"}
    openapi_spec_tag = "Pengaduan"
    openapi_spec_component_schemas = (DecisionSchema, OpdSchema, ComplaintSummarySchema, ComplaintListSchema,
                                      ComplaintDetailSchema, ClaimSchema)

    openapi_spec_methods = {"get_list": {"get": {
        "parameters": LIST_PARAMETERS,
        "description": f"Newest first (by id). Pass each answer's `{cursor.NEXT}` as ?{cursor.NEXT}= until it is null."}}}

    _refuse = staticmethod(refusal)

    _error = staticmethod(service_refusal)

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def get_list(self):
        """Complaints within the caller's scope, newest first.
        ---
        get:
          summary: Complaints the caller may see (scoped by role), keyset-paginated
          responses:
            200:
              description: One page
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/ComplaintList'}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
        """
        try:
            token, size = _paging_args(request.args)
            rows, next_token = complaint_api.api_list(_actor(), state=request.args.get("state"),
                                                      cursor_token=token, limit=size)
        except ServiceError as exc:
            return self._error(exc)
        return self.response(200, **{"result": rows, cursor.NEXT: next_token,
                                     cursor.LEGACY_NEXT_FIELD: rows[-1]["id"] if next_token else None})

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def get(self, pk: int):
        """One complaint, with the fields the caller's role may read.
        ---
        get:
          summary: One complaint (404 when outside the caller's scope)
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          responses:
            200:
              description: The complaint
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      result: {$ref: '#/components/schemas/ComplaintDetail'}
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
        """
        try:
            return self.response(200, result=complaint_api.api_detail(pk, _actor()))
        except ServiceError as exc:
            return self._error(exc)

    @expose("/<int:pk>/decision", methods=["POST"])
    @protect()
    @safe
    def decision(self, pk: int):
        """The validator's decision on the NIK (SOP rows 4-5).
        ---
        post:
          summary: Decide Valid / Tidak valid (Validator only)
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/Decision'}
                example: {valid: true, version: 3, remark: null, override_reason: null}
          responses:
            200:
              description: Decided; the complaint as the caller now sees it
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      result: {$ref: '#/components/schemas/ComplaintSummary'}
                  example: {result: {id: 41, ticket: LMJ-2026-000041, state: diteruskan, visibility: publik, opd: {code: DINKESP2KB, name: Dinas Kesehatan}, title: Antrean puskesmas, version: 4, channel: web, lapor_id: null}}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              description: Decided or claimed by another validator meanwhile; reload and check again
        """
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return self._refuse(400, "Kirim JSON: {\"valid\": true|false, \"remark\": \"…\"}.")
        data, errors = body.load(DecisionSchema(), payload)
        if errors:
            return self._refuse(400, "Periksa kembali isian.", errors=errors)
        actor = _actor()
        try:
            complaint = validation.decide(pk, actor, valid=data["valid"], remark=data["remark"],
                                   expected_version=data["version"], public_title=data["public_title"],
                                   public_text=data["public_text"], public_edit_reason=data["public_edit_reason"],
                                   override_reason=data["override_reason"])
            return self.response(200, result=complaint_api.summary(complaint, actor))
        except ServiceError as exc:
            return self._error(exc)

    @expose("/<int:pk>/claim", methods=["POST"])
    @protect()
    @safe
    def claim(self, pk: int):
        """Open a complaint for the NIK check: it is held for the caller for CLAIM_MINUTES (the desk's "Periksa").
        ---
        post:
          summary: Claim a complaint awaiting the NIK check (Validator only)
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          responses:
            200:
              description: Held for the caller; decide before claimed_until
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      result: {$ref: '#/components/schemas/Claim'}
                  example: {result: {id: 41, ticket: LMJ-2026-000041, version: 3, claimed_until: '2026-03-04T03:15:00Z'}}
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              description: Already decided, or held by another validator
        """
        try:
            complaint = complaints.claim(pk, _actor())
        except ServiceError as exc:
            return self._error(exc)
        return self.response(200, result={"id": complaint.id, "ticket": complaint.ticket, "version": complaint.version,
                                          "claimed_until": complaint_api.iso(complaint.claim_expires_at)})


    @expose("/<int:pk>/attachment/<int:attachment_id>", methods=["GET"])
    @protect()
    @safe
    def attachment(self, pk: int, attachment_id: int):
        """Download one file of a complaint, after the same access check as the desks (scope and disclosure).
        ---
        get:
          summary: Download an attachment (staff who may see the complaint's files)
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          - in: path
            name: attachment_id
            required: true
            schema: {type: integer}
          responses:
            200:
              description: The file, as stored (Content-Disposition attachment)
              content:
                application/octet-stream:
                  schema: {type: string, format: binary}
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
        """
        from .. import storage
        from ..services import desk
        from ..services.disclosure import Screen

        try:
            found = desk.attachment_for(pk, attachment_id, _actor(), screen=Screen.API)
        except ServiceError as exc:
            return self._error(exc)
        return storage.send_attachment(found)


def register(appbuilder) -> None:
    appbuilder.add_api(ComplaintApi)
