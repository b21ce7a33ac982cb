"""REST API (FAB, JWT-authenticated) under /api/v1/: one module per area, registered by `register_apis`."""

from __future__ import annotations

from flask import current_app, jsonify, make_response


def current_actor():
    """The services' Actor for the JWT's user."""
    from ..services import Actor

    return Actor.from_user(current_app.appbuilder.sm.current_user)


def refusal(status: int, message: str, code: str = "invalid", errors: dict | None = None):
    """The one error body of our endpoints: {"message", "code", "errors"}.

    Not FAB's self.response(): its first parameter is named `code`, the very field we send."""
    return make_response(jsonify(message=str(message), code=code, errors=errors or {}), status)


def service_refusal(exc):
    """A service's refusal (services.common.ServiceError) as that body. The handlers catch it themselves:
    FAB's @safe would turn it into a 500."""
    return refusal(exc.status, exc.message, exc.code, exc.errors)


def register_apis(appbuilder) -> None:
    from .complaints import register as register_complaints

    register_complaints(appbuilder)
    from .desk import register as register_desk

    register_desk(appbuilder)
    from .records import register as register_records

    register_records(appbuilder)
    from .queues import register as register_queues

    register_queues(appbuilder)
    correct_fab_docs(appbuilder)


_MESSAGE_OR_FIELDS = {"type": "object", "properties": {"message": {
    "oneOf": [{"type": "string"}, {"type": "object", "additionalProperties": {"type": "array", "items": {
        "type": "string"}}}],
    "description": "A sentence, or the messages per field of the body"}}}
_MENU_ITEM = {"type": "object", "properties": {"name": {"type": "string"}, "label": {"type": "string"},
                                               "icon": {"type": "string"}, "url": {"type": "string"},
                                               "childs": {"type": "array", "items": {"oneOf": [
                                                   {"type": "object"}, {"type": "string",
                                                                        "description": "'-': a separator"}]}}}}
# Where Flask-AppBuilder's own operations document something else than they answer (found by the
# schemathesis run, tests/integration/hostile/test_schemathesis.py): corrected on our instances.
FAB_DOC_CORRECTIONS = {
    "SecurityApi": {"login": {"post": {"responses": {
        "200": {"description": "Authentication successful", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"access_token": {"type": "string"},
                                             "refresh_token": {"type": "string"}}}}}},
        "400": {"description": "The body is not JSON or a field is wrong",
                "content": {"application/json": {"schema": _MESSAGE_OR_FIELDS}}},
        "401": {"$ref": "#/components/responses/401"}, "500": {"$ref": "#/components/responses/500"}}}}},
    "OpenApi": {"get": {"get": {"responses": {
        "200": {"description": "The OpenAPI document", "content": {"application/json": {"schema": {"type": "object"}}}},
        "401": {"$ref": "#/components/responses/401"}, "403": {"$ref": "#/components/responses/403"},
        "404": {"$ref": "#/components/responses/404"}, "500": {"$ref": "#/components/responses/500"}}}}},
    "MenuApi": {"get_menu_data": {"get": {"responses": {
        "200": {"description": "The menu the caller may see", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"result": {"type": "array", "items": _MENU_ITEM}}}}}},
        "401": {"$ref": "#/components/responses/401"}, "403": {"$ref": "#/components/responses/403"}}}}},
}


def correct_fab_docs(appbuilder) -> None:
    for view in appbuilder.baseviews:
        corrections = FAB_DOC_CORRECTIONS.get(type(view).__name__)
        if corrections:
            view.openapi_spec_methods = {**getattr(view, "openapi_spec_methods", {}), **corrections}
