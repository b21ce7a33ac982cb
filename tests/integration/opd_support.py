"""Helpers shared by the OPD desk tests (tests/integration/test_opd_*.py)."""

from __future__ import annotations

import sqlalchemy as sa

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


def login(app, username: str, password: str):
    """A test client signed in as `username` (each client is one browser)."""
    client = app.test_client()
    response = client.post("/login/", data={"username": username, "password": password})
    assert response.status_code == 302, f"login of {username} failed"
    return client
