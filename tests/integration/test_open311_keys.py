"""Open311 API keys (issue 15): Admin Sistem's screen (create shows the key once, list, revoke), the command
(`flask open311 key create|revoke|list`), a key stored only as its hash, each change in the history log.
Who reaches the screen at all is in the permission matrix (tests/permission_expectations.py)."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD
from tests.integration.opd_support import login

KEY = re.compile(r'<code id="api-key">(o311_[A-Za-z0-9_\-]+)</code>')


def _rows():
    from app.extensions import db
    from app.models import Open311Key

    return db.session.scalars(sa.select(Open311Key).order_by(Open311Key.id)).all()


def _history(action):
    from app.extensions import db
    from app.models import AuditLog

    return db.session.scalars(sa.select(AuditLog).where(AuditLog.action == action)).all()


def test_admin_creates_a_key_that_is_shown_once_and_stored_hashed(app):
    admin = login(app, "admin", PASSWORD)
    response = admin.post("/staf/open311/buat", data={"name": "  Aplikasi Kecamatan  "})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    api_key = KEY.search(response.get_data(as_text=True)).group(1)
    [row] = _rows()
    assert row.name == "Aplikasi Kecamatan"  # through the input boundary (trimmed)
    assert row.key_hash == hashlib.sha256(api_key.encode()).hexdigest()
    assert row.created_by.username == "admin" and row.revoked_at is None
    listing = admin.get("/staf/open311/").get_data(as_text=True)
    assert "Aplikasi Kecamatan" in listing and api_key not in listing  # never shown again
    [created] = _history("open311.key.create")
    assert created.username == "admin" and json.loads(created.detail) == {"name": "Aplikasi Kecamatan"}
    assert api_key not in (created.detail or "")


def test_a_name_is_unique_and_required(app):
    admin = login(app, "admin", PASSWORD)
    assert admin.post("/staf/open311/buat", data={"name": "wa-center"}).status_code == 200
    again = admin.post("/staf/open311/buat", data={"name": "wa-center"})
    assert again.status_code == 409 and "sudah dipakai" in again.get_data(as_text=True)
    assert not KEY.search(again.get_data(as_text=True))
    empty = admin.post("/staf/open311/buat", data={"name": "   "})
    assert empty.status_code == 400 and "Wajib diisi." in empty.get_data(as_text=True)
    assert len(_rows()) == 1


def test_admin_revokes_a_key_and_requests_with_it_are_refused(app):
    admin = login(app, "admin", PASSWORD)
    api_key = KEY.search(admin.post("/staf/open311/buat", data={"name": "lapor-desa"}).get_data(as_text=True)).group(1)
    [row] = _rows()
    response = admin.post(f"/staf/open311/{row.id}/cabut")
    assert response.status_code == 303
    assert _rows()[0].revoked_at is not None
    assert 'data-active="tidak"' in admin.get("/staf/open311/").get_data(as_text=True)
    again = admin.post(f"/staf/open311/{row.id}/cabut", follow_redirects=True)
    assert "sudah dicabut" in again.get_data(as_text=True)
    assert len(_history("open311.key.revoke")) == 1
    refused = app.test_client().post("/open311/v2/requests.json", data={"api_key": api_key})
    assert refused.status_code == 403


def test_other_roles_cannot_use_the_service_either(app, actor):
    from app.services import Forbidden
    from app.services.open311 import create_key

    for username in ("validator", "pimpinan", "opd.dinkes"):
        with pytest.raises(Forbidden):
            create_key("x", actor(username))
    assert _rows() == []


def test_the_command_creates_lists_and_revokes(app, runner):
    created = runner.invoke(args=["open311", "key", "create", "aplikasi-warga"])
    assert created.exit_code == 0, created.output
    api_key = re.search(r"^o311_\S+$", created.output, re.M).group(0)
    assert _rows()[0].key_hash == hashlib.sha256(api_key.encode()).hexdigest()
    duplicate = runner.invoke(args=["open311", "key", "create", "aplikasi-warga"])
    assert duplicate.exit_code != 0 and "sudah dipakai" in duplicate.output
    listed = runner.invoke(args=["open311", "key", "list"])
    assert listed.exit_code == 0 and "aplikasi-warga\taktif" in listed.output and api_key not in listed.output
    revoked = runner.invoke(args=["open311", "key", "revoke", "aplikasi-warga"])
    assert revoked.exit_code == 0 and "dicabut" in revoked.output
    assert "aplikasi-warga\tdicabut" in runner.invoke(args=["open311", "key", "list"]).output
    unknown = runner.invoke(args=["open311", "key", "revoke", "tidak-ada"])
    assert unknown.exit_code != 0 and "tidak ditemukan" in unknown.output
    assert [json.loads(r.detail)["name"] for r in _history("open311.key.create")] == ["aplikasi-warga"]
    assert _history("open311.key.revoke")[0].username == "baris-perintah"
