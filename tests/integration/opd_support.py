"""Helpers shared by the OPD desk tests (tests/integration/test_opd_*.py)."""

from __future__ import annotations

import sqlalchemy as sa

from flask.testing import FlaskClient

from app import services
from app.extensions import db
from app.models import Staff


def routed(submission, actor, opd_code: str = "DINKESP2KB", **changes):
    """A complaint submitted, validated by `validator` and so routed to `opd_code`."""
    complaint = services.submit(submission(opd_code=opd_code, **changes)).complaint
    services.decide_nik(complaint.id, actor("validator"), valid=True)
    return db.session.get(type(complaint), complaint.id)


def api_headers(username: str) -> dict:
    """A JWT for `username`, minted exactly as FAB's /api/v1/security/login mints it."""
    from flask_jwt_extended import create_access_token

    user = db.session.scalar(sa.select(Staff).where(Staff.username == username))
    return {"Authorization": f"Bearer {create_access_token(identity=str(user.id), fresh=True)}"}


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    The suite's autouse fixture keeps one app context open per test, and Flask reuses an open app
    context for a request: `g` (where Flask-Login caches the signed-in user) would then outlive the
    request, and a second client in the same test would act as the first client's user.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
            response.get_data()  # read a streamed body while its context is alive
            return response


def login(app, username: str, password: str) -> FreshContextClient:
    client = FreshContextClient(app, app.response_class, use_cookies=True)
    response = client.post("/login/", data={"username": username, "password": password})
    assert response.status_code == 302, f"login of {username} failed"
    return client
