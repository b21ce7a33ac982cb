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


def register_apis(appbuilder) -> None:
    from .complaints import register as register_complaints

    register_complaints(appbuilder)
    from .desk import register as register_desk

    register_desk(appbuilder)
