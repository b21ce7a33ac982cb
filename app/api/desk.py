"""REST for the OPD desk and dispatch: answer, return ("bukan wewenang"), re-route (JWT, FAB BaseApi).

Scoped exactly like the desk: every call goes through the same services, which look the complaint
up with `services.scope`; another OPD's complaint is a 404 here too.
"""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect
from flask_babel import gettext as _
from marshmallow import Schema, fields

from .. import services
from ..services import desk, links
from ..services.common import ServiceError
from ..services.complaint_api import iso
from ..services.complaints import LIMITS
from ..services.desk import NOTE_MAX
from . import current_actor, fields as body, refusal, service_refusal
from .complaints import OpdSchema


class AnswerSchema(body.BodySchema):
    __component_name__ = "Answer"

    text = body.Text(required=True, limit=LIMITS["answer"], multiline=True,
                     metadata={"description": "The answer, published with the complaint at once"})


class ReturnSchema(body.BodySchema):
    __component_name__ = "ReturnToDispatch"

    reason = body.Text(required=True, limit=LIMITS["reason"], multiline=True,
                       metadata={"description": "Why this is not your OPD's authority (bukan wewenang)"})


class RerouteSchema(body.BodySchema):
    __component_name__ = "Reroute"

    opd = body.Text(required=True, limit=LIMITS["opd"], metadata={"description": "OPD code, e.g. DPUTR"})
    note = body.Text(load_default=None, allow_none=True, limit=LIMITS["note"], multiline=True)


class NoteSchema(body.BodySchema):
    __component_name__ = "InternalNote"

    text = body.Text(required=True, limit=NOTE_MAX, multiline=True,
                     metadata={"description": "Staff-only note; never shown to the public or the complainant"})


class AnswerEditSchema(body.BodySchema):
    __component_name__ = "AnswerEdit"

    text = body.Text(required=True, limit=LIMITS["answer"], multiline=True,
                     metadata={"description": "The new answer; the previous version is kept"})
    reason = body.Text(required=True, limit=LIMITS["reason"], multiline=True,
                       metadata={"description": "Why it changed (shown to Pimpinan with the versions)"})


class NoteResultSchema(Schema):
    __component_name__ = "NoteResult"

    id = fields.Integer()
    complaint_id = fields.Integer()
    created_at = fields.String()


class OpdItemSchema(OpdSchema):
    __component_name__ = "OpdItem"

    kind = fields.String(metadata={"description": "dinas, badan, kecamatan, …"})


class OpdListSchema(Schema):
    __component_name__ = "OpdList"

    result = fields.List(fields.Nested(OpdItemSchema))


class DeskResultSchema(Schema):
    __component_name__ = "DeskResult"

    id = fields.Integer()
    ticket = fields.String()
    state = fields.String()
    opd = fields.String(metadata={"description": "Code of the complaint's OPD now"})
    answer_deadline = fields.String(allow_none=True)
    answer_id = fields.Integer(metadata={"description": "Only in the answer's result"})


class LinkSchema(body.BodySchema):
    __component_name__ = "Link"

    main_id = body.Integer(minimum=1, load_default=None, allow_none=True,
                           metadata={"description": "Id of the earlier complaint (from the similar list)"})
    ticket = body.Text(load_default=None, allow_none=True, limit=40,
                       metadata={"description": "Or its ticket, e.g. LMJ-2026-000123"})


class LinkResultSchema(Schema):
    __component_name__ = "LinkResult"

    id = fields.Integer()
    ticket = fields.String()
    state = fields.String()
    linked_to = fields.String(allow_none=True, metadata={"description": "Ticket of the main complaint, or null"})


def _load(schema: Schema):
    """(data, None) or (None, a 400 response) for the request's JSON body."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return None, refusal(400, _("Kirim objek JSON."), errors={"_schema": _("Kirim objek JSON.")})
    data, errors = body.load(schema, payload)
    if errors:
        return None, refusal(400, _("Periksa kembali isian."), errors=errors)
    return data, None


def _summary(complaint) -> dict:
    return {"id": complaint.id, "ticket": complaint.ticket, "state": complaint.state.value,
            "opd": complaint.opd.code if complaint.opd is not None else None,
            "answer_deadline": complaint.answer_deadline.isoformat() + "Z" if complaint.answer_deadline else None}


# --------------------------------------------------------------------------- the same problem (issue 18)
# Kept apart from the handlers above: link and unlink (services.links), scoped like the desk screens.


def _link_result(complaint) -> dict:
    return {"id": complaint.id, "ticket": complaint.ticket, "state": complaint.state.value,
            "linked_to": complaint.linked_to.ticket if complaint.linked_to_id and complaint.linked_to else None}


def _link(api, pk: int):
    data, refused = _load(LinkSchema())
    if refused is not None:
        return refused
    # Neither given: the service refuses it after the scope check, so a complaint out of scope stays a 404.
    target = {"main_id": data["main_id"]} if data.get("main_id") is not None else {"ticket": data.get("ticket")}
    return api._run(lambda actor: _link_result(links.link(pk, actor, **target)))


def _unlink(api, pk: int):
    return api._run(lambda actor: _link_result(links.unlink(pk, actor)))


class LinkApiMixin:
    """POST /<pk>/link and /<pk>/unlink of ComplaintDeskApi (its permissions and `_run`)."""

    @expose("/<int:pk>/link", methods=["POST"])
    @protect()
    @safe
    def link(self, pk: int):
        """Link a complaint to an earlier one of the same OPD as the same problem: the main complaint's answer
        answers it too.
        ---
        post:
          summary: Link a complaint to its main complaint (Admin OPD of a routed one; validator before routing)
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/Link'}
                example: {ticket: LMJ-2026-000040}
          responses:
            200:
              description: Linked
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/LinkResult'}
                  example: {id: 41, ticket: LMJ-2026-000041, state: diteruskan, linked_to: LMJ-2026-000040}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              description: Refused (itself, another OPD, a linked or answered main complaint, a later one, …)
        """
        return _link(self, pk)


    @expose("/<int:pk>/unlink", methods=["POST"])
    @protect()
    @safe
    def unlink(self, pk: int):
        """Remove a complaint's link to its main complaint, before the answer.
        ---
        post:
          summary: Unlink a complaint from its main complaint
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          responses:
            200:
              description: Unlinked
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/LinkResult'}
                  example: {id: 41, ticket: LMJ-2026-000041, state: diteruskan, linked_to: null}
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              description: Not linked, or already answered
        """
        return _unlink(self, pk)


class ComplaintDeskApi(LinkApiMixin, BaseApi):
    resource_name = "complaint"
    route_base = "/api/v1/complaint"
    class_permission_name = "ComplaintDeskApi"
    method_permission_name = {"answer": "answer", "return_complaint": "return", "reroute": "reroute",
                              "edit_answer": "answer", "add_note": "note", "link": "link", "unlink": "link"}
    openapi_spec_tag = "OPD desk"
    openapi_spec_component_schemas = (AnswerSchema, ReturnSchema, RerouteSchema, DeskResultSchema, NoteSchema,
                                      AnswerEditSchema, NoteResultSchema, LinkSchema, LinkResultSchema)
    allow_browser_login = False

    def _run(self, call):
        try:
            return self.response(200, **call(current_actor()))
        except ServiceError as exc:
            return service_refusal(exc)

    @expose("/<int:pk>/answer", methods=["POST"])
    @protect()
    @safe
    def answer(self, pk: int):
        """Answer a complaint routed to your OPD (SOP rows 7-8); it is published at once.
        ---
        post:
          summary: Answer a complaint (Admin OPD of the complaint's OPD)
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/Answer'}
                example: {text: Petugas tambahan ditempatkan mulai Senin, 9 Maret.}
          responses:
            200:
              description: Answered
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/DeskResult'}
                  example: {id: 41, ticket: LMJ-2026-000041, state: diteruskan, opd: DINKESP2KB, answer_deadline: '2026-03-20T02:00:00Z'}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              description: Not possible in the complaint's current state
        """
        data, refused = _load(AnswerSchema())
        if refused is not None:
            return refused

        def call(actor):
            reply = services.answer(pk, actor, data["text"])
            return {**_summary(reply.complaint), "answer_id": reply.id}

        return self._run(call)

    @expose("/<int:pk>/return", methods=["POST"])
    @protect()
    @safe
    def return_complaint(self, pk: int):
        """Return a complaint that is not your OPD's authority ("bukan wewenang") for dispatch.
        ---
        post:
          summary: Return a complaint to dispatch (Admin OPD of the complaint's OPD)
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/ReturnToDispatch'}
                example: {reason: Jalan provinsi; kewenangan Dinas PU Provinsi.}
          responses:
            200:
              description: Returned; the complaint waits in the dispatch queue
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/DeskResult'}
                  example: {id: 41, ticket: LMJ-2026-000041, state: diteruskan, opd: DINKESP2KB, answer_deadline: '2026-03-20T02:00:00Z'}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              description: Not possible in the complaint's current state
        """
        data, refused = _load(ReturnSchema())
        if refused is not None:
            return refused
        return self._run(lambda actor: _summary(services.return_to_dispatch(pk, actor, data["reason"])))

    @expose("/<int:pk>/reroute", methods=["POST"])
    @protect()
    @safe
    def reroute(self, pk: int):
        """Route a complaint to another OPD (disposisi); the answer deadline starts again.
        ---
        post:
          summary: Re-route a complaint (Admin Sistem; validators for returned complaints)
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/Reroute'}
                example: {opd: DPUTR, note: Perbaikan jalan desa.}
          responses:
            200:
              description: Routed to the new OPD, with its new answer deadline
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/DeskResult'}
                  example: {id: 41, ticket: LMJ-2026-000041, state: diteruskan, opd: DINKESP2KB, answer_deadline: '2026-03-20T02:00:00Z'}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              description: Not possible in the complaint's current state
        """
        data, refused = _load(RerouteSchema())
        if refused is not None:
            return refused
        return self._run(lambda actor: _summary(services.reroute(pk, actor, data["opd"], data["note"])))


    @expose("/<int:pk>/answer/edit", methods=["POST"])
    @protect()
    @safe
    def edit_answer(self, pk: int):
        """Change the published answer, with a reason; every version is kept (the desk's "Ubah jawaban").
        ---
        post:
          summary: Edit the answer (Admin OPD of the complaint's OPD)
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/AnswerEdit'}
                example: {text: Petugas tambahan ditempatkan mulai Selasa, 10 Maret., reason: Tanggal mulai berubah.}
          responses:
            200:
              description: Changed
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/DeskResult'}
                  example: {id: 41, ticket: LMJ-2026-000041, state: diteruskan, opd: DINKESP2KB, answer_deadline: '2026-03-20T02:00:00Z'}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
        """
        data, refused = _load(AnswerEditSchema())
        if refused is not None:
            return refused

        def call(actor):
            reply = services.edit_answer(pk, actor, data["text"], data["reason"])
            return {**_summary(reply.complaint), "answer_id": reply.id}

        return self._run(call)

    @expose("/<int:pk>/note", methods=["POST"])
    @protect()
    @safe
    def add_note(self, pk: int):
        """Add an internal note (staff only, never public), as on the desk.
        ---
        post:
          summary: Add an internal note (Admin OPD of the complaint's OPD, Pimpinan, Admin Sistem)
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/InternalNote'}
                example: {text: Sudah dikoordinasikan dengan kepala puskesmas.}
          responses:
            200:
              description: Saved
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/NoteResult'}
                  example: {id: 7, complaint_id: 41, created_at: '2026-03-04T03:00:00Z'}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
        """
        data, refused = _load(NoteSchema())
        if refused is not None:
            return refused

        def call(actor):
            note = desk.add_note(pk, actor, data["text"])
            return {"id": note.id, "complaint_id": note.complaint_id, "created_at": iso(note.created_at)}

        return self._run(call)


class OpdApi(BaseApi):
    """The active OPDs (the codes a re-route takes), for every staff role that reads complaints."""

    resource_name = "opd"
    route_base = "/api/v1/opd"
    class_permission_name = "Complaint"
    method_permission_name = {"get_list": "read"}
    openapi_spec_tag = "OPD"
    openapi_spec_component_schemas = (OpdItemSchema, OpdListSchema)
    allow_browser_login = False

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def get_list(self):
        """The active OPDs, by name.
        ---
        get:
          summary: List the active OPDs (any staff role)
          responses:
            200:
              description: Every active OPD
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/OpdList'}
                  example: {result: [{code: DINKESP2KB, name: Dinas Kesehatan, kind: dinas}]}
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
        """
        return self.response(200, result=[{"code": o.code, "name": o.name, "kind": o.kind}
                                          for o in desk.active_opds()])


def register(appbuilder) -> None:
    appbuilder.add_api(ComplaintDeskApi)
    appbuilder.add_api(OpdApi)
