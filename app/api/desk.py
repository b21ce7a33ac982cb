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
from ..services.common import ServiceError
from ..services.complaints import LIMITS
from . import current_actor, fields as body, refusal


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


class DeskResultSchema(Schema):
    __component_name__ = "DeskResult"

    id = fields.Integer()
    ticket = fields.String()
    state = fields.String()
    opd = fields.String(metadata={"description": "Code of the complaint's OPD now"})
    answer_deadline = fields.String(allow_none=True)
    answer_id = fields.Integer(metadata={"description": "Only in the answer's result"})


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
            "opd": complaint.opd.code,
            "answer_deadline": complaint.answer_deadline.isoformat() + "Z" if complaint.answer_deadline else None}


class ComplaintDeskApi(BaseApi):
    resource_name = "complaint"
    route_base = "/api/v1/complaint"
    class_permission_name = "ComplaintDeskApi"
    method_permission_name = {"answer": "answer", "return_complaint": "return", "reroute": "reroute"}
    openapi_spec_tag = "OPD desk"
    openapi_spec_component_schemas = (AnswerSchema, ReturnSchema, RerouteSchema, DeskResultSchema)
    allow_browser_login = False

    def _run(self, call):
        try:
            return self.response(200, **call(current_actor()))
        except ServiceError as exc:
            return refusal(exc.status, exc.message, exc.code, exc.errors)

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
          responses:
            200:
              description: Answered
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/DeskResult'}
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
          responses:
            200:
              description: Returned; the complaint waits in the dispatch queue
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/DeskResult'}
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
          responses:
            200:
              description: Routed to the new OPD, with its new answer deadline
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/DeskResult'}
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


def register(appbuilder) -> None:
    appbuilder.add_api(ComplaintDeskApi)
