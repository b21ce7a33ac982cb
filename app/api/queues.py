"""REST for the desks' queues and the Pimpinan's dispute decision (JWT, FAB BaseApi).

Each queue is the screen's own list: the same service function (validation.queue, desk.desk_page,
desk.dispatch_page, citizen.disputed), hence the same OPD scope, disclosure view, order, filters and keyset
cursor. Each API class has its own permission resource, granted in app/security.py to exactly the roles that
open the screen (sharing the screen's resource is not possible: FAB removes from every role the permissions
of a resource that the last class registered on it does not expose). Unlike the screens, which show the
first page for a cursor or filter they do not know, the API answers those with a 400 (a client's mistake).
"""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from ..services import citizen, cursor, desk, validation
from ..services.common import Invalid, ServiceError
from ..services.complaint_api import iso, view_summary
from ..services.complaints import LIMITS
from . import current_actor, fields as body, service_refusal
from .complaints import ComplaintSummarySchema, OpdSchema, _query
from .desk import _load, _summary

PAGE_MAX = 100

# The filters each screen offers, by the screen's own parameter names and values.
VALIDATOR_FILTER = "saring"
OPD_FLAGS = {"terlambat": "1", "tenggat": "hari-ini", "dialihkan": "1"}


def _page_args(order: cursor.Keyset, default: int) -> tuple[str | None, int]:
    """The cursor (checked against the list's order) and page size of a queue request."""
    errors = {}
    token = request.args.get(cursor.NEXT) or None
    if token is not None and order.position(token) is None:
        errors[cursor.NEXT] = _("Gunakan nilai setelah dari jawaban sebelumnya.")
    size = request.args.get(cursor.PER_PAGE)
    if size is not None and (cursor.legacy_id(size) is None):
        errors[cursor.PER_PAGE] = _("Bilangan bulat 1–%(n)d.", n=PAGE_MAX)
    if errors:
        raise Invalid(_("Periksa kembali parameter halaman."), code="cursor", errors=errors)
    return token, min(int(size), PAGE_MAX) if size else default


def _choice(name: str, allowed) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise Invalid(_("Periksa kembali parameter."), errors={name: ", ".join(allowed)})
    return value


_SIZE = {"type": "integer", "minimum": 1}  # larger than PAGE_MAX: taken as PAGE_MAX
PAGING_PARAMETERS = [
    _query(cursor.NEXT, {"type": "string"}, f"Cursor of the next page: the previous answer's `{cursor.NEXT}` "
                                            "(opaque; one this API did not give is a 400)"),
    _query(cursor.PER_PAGE, _SIZE, f"Page size (larger values are taken as {PAGE_MAX})"),
]


# --------------------------------------------------------------------------- schemas


class QueuePageSchema(Schema):
    next_cursor = fields.String(allow_none=True, data_key=cursor.NEXT, metadata={
        "description": f"Cursor of the next page: pass it as ?{cursor.NEXT}=; null on the last page"})


class ValidatorQueueItemSchema(Schema):
    __component_name__ = "ValidatorQueueItem"

    id = fields.Integer()
    ticket = fields.String()
    title = fields.String(metadata={"description": "As the validator's desk shows it"})
    opd = fields.String(metadata={"description": "Name of the OPD chosen by the complainant"})
    submitted_at = fields.String()
    validation_deadline = fields.String()
    overdue = fields.Boolean()
    seconds_left = fields.Integer(metadata={"description": "Negative when overdue"})
    siak_verdict = fields.String(allow_none=True)
    siak_label = fields.String(allow_none=True)
    holder = fields.String(allow_none=True, metadata={"description": "Who holds the claim now, if anyone"})
    held_by_me = fields.Boolean()
    claimed_until = fields.String(allow_none=True)
    lapor_id = fields.String(allow_none=True)


class ValidatorQueueSchema(QueuePageSchema):
    __component_name__ = "ValidatorQueue"

    result = fields.List(fields.Nested(ValidatorQueueItemSchema))
    total = fields.Integer(metadata={"description": f"Counted up to {validation.QUEUE_COUNT_CAP}"})
    total_capped = fields.Boolean()


class OpdQueueSchema(QueuePageSchema):
    __component_name__ = "OpdQueue"

    result = fields.List(fields.Nested(ComplaintSummarySchema))
    total = fields.Integer(metadata={"description": f"Counted up to {desk.COUNT_CAP}"})
    total_capped = fields.Boolean()


class DispatchItemSchema(ComplaintSummarySchema):
    __component_name__ = "DispatchItem"

    returned_by = fields.Nested(OpdSchema, allow_none=True)
    returned_at = fields.String(allow_none=True)
    return_reason = fields.String(allow_none=True, metadata={"description": "The OPD's reason (bukan wewenang)"})


class DispatchQueueSchema(QueuePageSchema):
    __component_name__ = "DispatchQueue"

    result = fields.List(fields.Nested(DispatchItemSchema))
    total = fields.Integer()
    total_capped = fields.Boolean()


class DisputeItemSchema(ComplaintSummarySchema):
    __component_name__ = "DisputeItem"

    answer = fields.String(allow_none=True, metadata={"description": "The answer the complainant disputes"})
    dispute_reason = fields.String(allow_none=True, metadata={"description": "The complainant's reason, masked"})
    rating = fields.Integer(allow_none=True)
    disputed_at = fields.String()


class DisputeQueueSchema(QueuePageSchema):
    __component_name__ = "DisputeQueue"

    result = fields.List(fields.Nested(DisputeItemSchema))


class DisputeDecisionSchema(body.BodySchema):
    __component_name__ = "DisputeDecision"

    outcome = body.Text(required=True, limit=16, validate=validate.OneOf(citizen.OUTCOMES), metadata={
        "enum": list(citizen.OUTCOMES), "description": "reopen: back to the same OPD with a new deadline; "
                                                       "reroute: to another OPD (`opd`); close: with a reason"})
    reason = body.Text(load_default=None, allow_none=True, limit=LIMITS["reason"], multiline=True,
                       metadata={"description": "Required to close"})
    opd = body.Text(load_default=None, allow_none=True, limit=LIMITS["opd"],
                    metadata={"description": "OPD code, for reroute"})


# --------------------------------------------------------------------------- the APIs


def _run(build):
    try:
        return build(current_actor())
    except ServiceError as exc:
        return service_refusal(exc)


def _queue_doc(summary: str, schema: str, parameters: list) -> dict:
    return {"get": {"summary": summary, "parameters": [*parameters, *PAGING_PARAMETERS], "responses": {
        "200": {"description": "One page", "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{schema}"}, "example": QUEUE_EXAMPLES[schema]}}},
        "400": {"$ref": "#/components/responses/400"}, "401": {"$ref": "#/components/responses/401"},
        "403": {"$ref": "#/components/responses/403"}}}}


QUEUE_EXAMPLES = {
    "ValidatorQueue": {"result": [{"id": 41, "ticket": "LMJ-2026-000041", "title": "Antrean puskesmas",
                                   "opd": "Dinas Kesehatan", "submitted_at": "2026-03-02T02:00:00Z",
                                   "validation_deadline": "2026-03-03T02:00:00Z", "overdue": False,
                                   "seconds_left": 3600, "siak_verdict": "MATCH", "siak_label": "Cocok",
                                   "holder": None, "held_by_me": False, "claimed_until": None, "lapor_id": None}],
                       cursor.NEXT: None, "total": 1, "total_capped": False},
    "OpdQueue": {"result": [], cursor.NEXT: None, "total": 0, "total_capped": False},
    "DispatchQueue": {"result": [], cursor.NEXT: None, "total": 0, "total_capped": False},
    "DisputeQueue": {"result": [], cursor.NEXT: None},
}


class ValidatorQueueApi(BaseApi):
    """The NIK queue (/staf/validasi/): waiting, late, due soon, claimed by me."""

    resource_name = "validator_queue"
    route_base = "/api/v1/queue/validator"
    class_permission_name = "ValidatorQueueApi"
    method_permission_name = {"get_list": "read"}
    openapi_spec_tag = "Queues"
    openapi_spec_component_schemas = (ValidatorQueueItemSchema, ValidatorQueueSchema)
    openapi_spec_methods = {"get_list": _queue_doc(
        "The validator's NIK queue, oldest deadline first (Validator, Admin Sistem)", "ValidatorQueue",
        [_query(VALIDATOR_FILTER, {"type": "string", "enum": list(validation.QUEUE_FILTERS)},
                "terlambat: late; segera: due within two hours; saya: claimed by me")])}
    allow_browser_login = False

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def get_list(self):
        """The validator's NIK queue.
        ---
        get:
          responses:
            200:
              description: One page
        """
        def build(actor):
            only = _choice(VALIDATOR_FILTER, validation.QUEUE_FILTERS)
            token, size = _page_args(validation.QUEUE_ORDER, validation.QUEUE_PAGE)
            page = validation.queue(actor, cursor=token, limit=size, only=only)
            rows = [{"id": r.id, "ticket": r.ticket, "title": r.title, "opd": r.opd_name,
                     "submitted_at": iso(r.submitted_at), "validation_deadline": iso(r.deadline),
                     "overdue": r.overdue, "seconds_left": r.seconds_left, "siak_verdict": r.siak_verdict,
                     "siak_label": validation.siak_label(r.siak_verdict), "holder": r.holder,
                     "held_by_me": r.held_by_me, "claimed_until": iso(r.claim_expires_at), "lapor_id": r.lapor_id}
                    for r in page.rows]
            return self.response(200, **{"result": rows, cursor.NEXT: page.next_cursor, "total": page.total,
                                         "total_capped": page.capped})

        return _run(build)


class OpdQueueApi(BaseApi):
    """The OPD desk's queue (/staf/opd/): to answer (tab menunggu) or answered, late, due today, returned."""

    resource_name = "opd_queue"
    route_base = "/api/v1/queue/opd"
    class_permission_name = "OpdQueueApi"
    method_permission_name = {"get_list": "read"}
    openapi_spec_tag = "Queues"
    openapi_spec_component_schemas = (OpdQueueSchema,)
    openapi_spec_methods = {"get_list": _queue_doc(
        "The OPD desk's queue (Admin OPD: its own OPD; Pimpinan, Admin Sistem: every OPD)", "OpdQueue", [
            _query("tab", {"type": "string", "enum": list(desk.TABS)},
                   f"{desk.TAB_WAITING}: to answer, nearest deadline first (default); "
                   f"{desk.TAB_ANSWERED}: answered, newest first"),
            _query("terlambat", {"type": "string", "enum": ["1"]}, "1: only late ones"),
            _query("tenggat", {"type": "string", "enum": ["hari-ini"]}, "hari-ini: due before the end of today (WIB)"),
            _query("dialihkan", {"type": "string", "enum": ["1"]},
                   "1: only those that came after a return (bukan wewenang) or a re-route"),
            _query("q", {"type": "string", "maxLength": 100}, "A ticket, or words of the title"),
            _query("opd", {"type": "string", "maxLength": 32}, "OPD code (ignored for an Admin OPD)"),
        ])}
    allow_browser_login = False

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def get_list(self):
        """The OPD desk's queue.
        ---
        get:
          responses:
            200:
              description: One page
        """
        def build(actor):
            _choice("tab", desk.TABS)
            for name, value in OPD_FLAGS.items():
                _choice(name, (value,))
            flt = desk.filter_from_args(request.args, cursor=None)
            order = desk.WAITING_ORDER if flt.tab == desk.TAB_WAITING else desk.ANSWERED_ORDER
            flt.cursor, size = _page_args(order, desk.PAGE_SIZE)
            page = desk.desk_page(actor, flt, page_size=size)
            return self.response(200, **{"result": [view_summary(v) for v in page.rows], cursor.NEXT: page.next_cursor,
                                         "total": page.count, "total_capped": page.count_capped})

        return _run(build)


class DispatchQueueApi(BaseApi):
    """The dispatch queue (/staf/disposisi/): complaints returned "bukan wewenang", with the OPD's reason."""

    resource_name = "dispatch_queue"
    route_base = "/api/v1/queue/dispatch"
    class_permission_name = "DispatchQueueApi"
    method_permission_name = {"get_list": "read"}
    openapi_spec_tag = "Queues"
    openapi_spec_component_schemas = (DispatchItemSchema, DispatchQueueSchema)
    openapi_spec_methods = {"get_list": _queue_doc(
        "The dispatch queue, oldest deadline first (Validator, Admin Sistem); re-route with "
        "POST /complaint/{pk}/reroute", "DispatchQueue", [])}
    allow_browser_login = False

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def get_list(self):
        """The dispatch queue.
        ---
        get:
          responses:
            200:
              description: One page
        """
        def build(actor):
            token, size = _page_args(desk.WAITING_ORDER, desk.PAGE_SIZE)
            page = desk.dispatch_page(actor, token, page_size=size)
            rows = [{**view_summary(r.complaint),
                     "returned_by": {"code": r.returned_by.code, "name": r.returned_by.name} if r.returned_by else None,
                     "returned_at": iso(r.returned_at), "return_reason": r.reason} for r in page.rows]
            return self.response(200, **{"result": rows, cursor.NEXT: page.next_cursor, "total": page.count,
                                         "total_capped": page.count_capped})

        return _run(build)


class DisputeApi(BaseApi):
    """The Pimpinan's disputes (/staf/sanggahan/): the queue and the decision."""

    resource_name = "dispute"
    route_base = "/api/v1"
    class_permission_name = "DisputeApi"
    method_permission_name = {"get_list": "read", "decide": "decide"}
    openapi_spec_tag = "Queues"
    openapi_spec_component_schemas = (DisputeItemSchema, DisputeQueueSchema, DisputeDecisionSchema)
    openapi_spec_methods = {"get_list": _queue_doc(
        "Disputed answers, oldest dispute first (Pimpinan, Admin Sistem)", "DisputeQueue", [])}
    allow_browser_login = False

    @expose("/queue/disputes/", methods=["GET"])
    @protect()
    @safe
    def get_list(self):
        """The Pimpinan's dispute queue.
        ---
        get:
          responses:
            200:
              description: One page
        """
        def build(actor):
            token, size = _page_args(citizen.DISPUTE_ORDER, citizen.DISPUTE_PAGE)
            page = citizen.disputed(actor, cursor=token, limit=size)
            rows = [{**view_summary(r.complaint), "answer": r.complaint.answer.text if r.complaint.answer else None,
                     "dispute_reason": r.reason, "rating": r.rating, "disputed_at": iso(r.at)} for r in page.rows]
            return self.response(200, **{"result": rows, cursor.NEXT: page.next_cursor})

        return _run(build)

    @expose("/complaint/<int:pk>/dispute", methods=["POST"])
    @protect()
    @safe
    def decide(self, pk: int):
        """Decide a disputed complaint (the dispute screen's "Simpan keputusan").
        ---
        post:
          summary: Re-open to the same OPD, re-route, or close with a reason (Pimpinan)
          parameters:
          - in: path
            name: pk
            required: true
            schema: {type: integer}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/DisputeDecision'}
                example: {outcome: reopen, reason: Mohon ditindaklanjuti dengan penambahan petugas.}
          responses:
            200:
              description: Decided; the complaint's state and OPD now
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/DeskResult'}
                  example: {id: 41, ticket: LMJ-2026-000041, state: diteruskan, opd: DINKESP2KB,
                            answer_deadline: '2026-03-20T02:00:00Z'}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              description: The complaint is not disputed (any more)
        """
        data, refused = _load(DisputeDecisionSchema())
        if refused is not None:
            return refused
        return _run(lambda actor: self.response(200, **_summary(
            citizen.decide_dispute(pk, actor, data["outcome"], data["reason"], data["opd"]))))


def register(appbuilder) -> None:
    for api in (ValidatorQueueApi, OpdQueueApi, DispatchQueueApi, DisputeApi):
        appbuilder.add_api(api)

