"""REST for the OPD desk and dispatch: answer, return ("bukan wewenang"), re-route (JWT, FAB BaseApi).

Scoped exactly like the desk: every call goes through the same services, which look the complaint
up with `services.scope`; another OPD's complaint is a 404 here too.
"""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect

from .. import services
from ..services.common import ServiceError
from . import current_actor, refusal



def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _text(body: dict, key: str) -> str | None:
    value = body.get(key)
    return value if isinstance(value, str) else None


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
                schema:
                  type: object
                  required: [text]
                  properties:
                    text: {type: string, maxLength: 10000}
          responses:
            200:
              description: Answered
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      ticket: {type: string}
                      state: {type: string}
                      answer_id: {type: integer}
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
        text = _text(_body(), "text")

        def call(actor):
            reply = services.answer(pk, actor, text)
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
                schema:
                  type: object
                  required: [reason]
                  properties:
                    reason: {type: string, maxLength: 500}
          responses:
            200:
              description: Returned; the complaint waits in the dispatch queue
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
        reason = _text(_body(), "reason")
        return self._run(lambda actor: _summary(services.return_to_dispatch(pk, actor, reason)))

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
                schema:
                  type: object
                  required: [opd]
                  properties:
                    opd: {type: string, description: OPD code, e.g. DPUTR}
                    note: {type: string, maxLength: 500}
          responses:
            200:
              description: Routed to the new OPD, with its new answer deadline
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
        body = _body()
        opd, note = _text(body, "opd"), _text(body, "note")
        return self._run(lambda actor: _summary(services.reroute(pk, actor, opd, note)))


def register(appbuilder) -> None:
    appbuilder.add_api(ComplaintDeskApi)
