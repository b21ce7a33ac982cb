"""The permission matrix (issue 6, item 7): every route of `app.url_map`, called as anonymous and as
each role (two OPD admins of different OPDs), must answer what `tests/permission_expectations.py`
says. A route without an expectation fails the test, so nothing is added unguarded.

The same crawl checks that no page but the validator's desk shows a full NIK.

Set MATRIX_PRINT=1 to print the observed outcomes as table rows (for adding a route: review them,
never paste them blindly).
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD, VALID_NIK, VALID_NIK_F
from tests.permission_expectations import (
    CALLERS, DENY, NF, OK, REDIR, SKIP_ENDPOINTS, everyone, expectation_for,
)


REDIRECT_CODES = {301, 302, 303, 307, 308}


def outcome(response) -> str | int:
    status = response.status_code
    if status in (401, 403):
        return DENY
    if status in REDIRECT_CODES:
        path = urlparse(response.headers.get("Location", "")).path
        return DENY if path.rstrip("/") == "/login" else REDIR
    if status == 404:
        return NF
    if 200 <= status < 300:
        return OK
    return status


# --------------------------------------------------------------------------- the seeded world


@pytest.fixture
def world(app, submission, actor):
    """Complaints in the states the desks work on, plus one throw-away row per FAB model, so that a
    delete by an allowed role removes nothing the rest of the matrix needs."""
    from datetime import date

    from flask_appbuilder.security.sqla.models import Group, Permission, PermissionView, Role, ViewMenu

    from app.extensions import db
    from app.models import Attachment, Complaint, NonWorkingDay, Opd, Staff
    from app.services import decide_nik, return_to_dispatch, submit
    from app.storage import get_storage

    validator = actor("validator")
    routed = submit(submission(title="Matriks diteruskan", visibility="publik", email="m@contoh.id")).complaint
    decide_nik(routed.id, validator, valid=True)
    waiting = submit(submission(title="Matriks menunggu", nik=VALID_NIK_F)).complaint
    returned = submit(submission(title="Matriks dikembalikan")).complaint
    decide_nik(returned.id, validator, valid=True)
    return_to_dispatch(returned.id, actor("opd.dinkes"), "Bukan wewenang kami.")
    get_storage().put("0123456789abcdef0123456789abcdef.pdf", b"%PDF-1.4 matriks")
    attachment = Attachment(complaint_id=routed.id, original_name="bukti.pdf",
                            stored_name="0123456789abcdef0123456789abcdef.pdf", content_type="application/pdf",
                            size=16, sha256="0" * 64)
    db.session.add(attachment)

    sm = app.appbuilder.sm
    victim_role = Role(name="Matriks Korban")
    victim_user = Staff(first_name="Korban", last_name="Matriks", username="matriks.korban",
                        email="korban@uji.go.id", active=True, password="x", roles=[victim_role])
    permission = Permission(name="can_matriks")
    view_menu = ViewMenu(name="MatriksKorban")
    pvm = PermissionView(permission=permission, view_menu=view_menu)
    group = Group(name="Matriks Korban")
    day = NonWorkingDay(day=date(2031, 1, 2), description="Matriks")
    db.session.add_all([victim_role, victim_user, permission, view_menu, pvm, group, day])
    db.session.commit()
    opd = db.session.scalar(sa.select(Opd).where(Opd.code == "DISPAR"))
    from app.models import Outbox

    outbox = db.session.scalar(sa.select(Outbox.id).where(Outbox.complaint_id == routed.id).limit(1))
    try:
        yield {
            "complaint": routed.id, "waiting": waiting.id, "returned": returned.id,
            "ticket": routed.ticket, "attachment": attachment.id, "outbox": outbox,
            "user": db.session.scalar(sa.select(Staff.id).where(Staff.username == "validator")),
            "models": {Complaint: routed.id, Staff: victim_user.id, sm.user_model: victim_user.id,
                       Role: victim_role.id, Permission: permission.id, ViewMenu: view_menu.id,
                       PermissionView: pvm.id, Group: group.id, NonWorkingDay: day.id, Opd: opd.id},
        }
    finally:
        db.session.rollback()
        db.session.execute(sa.text("DELETE FROM ab_user_role WHERE user_id IN (SELECT id FROM ab_user "
                                   "WHERE username = 'matriks.korban')"))
        db.session.execute(sa.text("DELETE FROM ab_user WHERE username = 'matriks.korban'"))
        for table, column, value in (("ab_permission_view_role", "permission_view_id", pvm.id),
                                     ("ab_permission_view", "id", pvm.id),
                                     ("ab_permission", "name", "can_matriks"),
                                     ("ab_view_menu", "name", "MatriksKorban"),
                                     ("ab_group", "name", "Matriks Korban"),
                                     ("ab_role", "name", "Matriks Korban")):
            db.session.execute(sa.text(f"DELETE FROM {table} WHERE {column} = :v"), {"v": value})
        db.session.commit()


def _view_for(app, endpoint):
    name = endpoint.split(".")[0]
    return next((v for v in app.appbuilder.baseviews if v.endpoint == name), None)


def _static_file(folder):
    for root, _, files in os.walk(folder or ""):
        for name in sorted(files):
            return os.path.relpath(os.path.join(root, name), folder)
    return "tidak-ada.css"


def resolve(app, rule, world, overrides):
    """A real URL for `rule`: seeded ids for its parameters."""
    values = {}
    for name in rule.arguments:
        if name in overrides:
            value = overrides[name]
            values[name] = world[value] if isinstance(value, str) and value in world else value
        elif name == "pk":
            view = _view_for(app, rule.endpoint)
            model = getattr(getattr(view, "datamodel", None), "obj", None)
            values[name] = world["models"].get(model, world["complaint"])
        elif name in ("complaint_id",):
            values[name] = world["complaint"]
        elif name == "outbox_id":
            values[name] = world["outbox"]
        elif name == "attachment_id":
            values[name] = world["attachment"]
        elif name == "user_id":
            values[name] = world["user"]
        elif name == "ticket":
            values[name] = world["ticket"]
        elif name in ("locale", "code"):
            values[name] = "id"
        elif name == "version":
            values[name] = "v1"
        elif name == "name":  # FAB action name
            view = _view_for(app, rule.endpoint)
            values[name] = next(iter(getattr(view, "actions", {}) or {}), "tidak-ada")
        elif name == "filename":
            if rule.endpoint == "static":
                values[name] = _static_file(app.static_folder)
            elif rule.endpoint == "appbuilder.static":
                values[name] = "css/ab.css"
            else:
                values[name] = "tidak-ada.csv"
        elif name == "group_by":
            values[name] = "username"
        else:
            raise AssertionError(f"{rule.endpoint}: no value for URL parameter <{name}>; add it to the "
                                 f"expectation's params or to resolve() in {__file__}")
    return rule.build(values, append_unknown=False)[1]


def _calls(app):
    """(method, rule) pairs in a safe order: reads first, then writes, deletes and sign-out last."""
    calls = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            calls.append((method, rule))

    def order(item):
        method, rule = item
        last = rule.endpoint.endswith((".delete", ".logout", "track_logout"))
        return (last, method != "GET", rule.endpoint, rule.rule)

    return sorted(calls, key=order)


def _sign_in(app, username):
    client = app.test_client()
    client.post("/login/", data={"username": username, "password": PASSWORD})
    token = client.post("/api/v1/security/login", json={"username": username, "password": PASSWORD,
                                                         "provider": "db"}).get_json()["access_token"]
    return client, token


def _signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def test_every_route_has_an_expectation(app):
    missing = sorted({f"({method!r}, {rule.endpoint!r}),  # {rule.rule}" for method, rule in _calls(app)
                      if rule.endpoint not in SKIP_ENDPOINTS and expectation_for(method, rule.endpoint) is None})
    assert not missing, ("Routes without an expectation in tests/permission_expectations.py "
                         "(add a row for each):\n  " + "\n  ".join(missing))


def test_permission_matrix(app, world):
    clients = {"anon": (app.test_client(), None)}
    for caller in CALLERS[1:]:
        clients[caller] = _sign_in(app, caller)
    mismatches, nik_leaks, observed = [], [], []
    niks = (VALID_NIK, VALID_NIK_F)
    for method, rule in _calls(app):
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        expect = expectation_for(method, rule.endpoint)
        if expect is None:
            if not os.environ.get("MATRIX_PRINT"):
                continue  # reported by test_every_route_has_an_expectation
            expect = everyone("?")  # observe only, to draft the row
        url = resolve(app, rule, world, expect.params)
        row = {}
        for caller in CALLERS:
            client, token = clients[caller]
            headers = {"Authorization": f"Bearer {token}"} if token and rule.rule.startswith("/api/") else {}
            kwargs = {"headers": headers}
            if method != "GET":
                kwargs["json" if expect.json is not None else "data"] = (
                    expect.json if expect.json is not None else dict(expect.data or {}))
            wanted = expect.outcomes[caller]
            try:
                response = client.open(url, method=method, **kwargs)
            except Exception as exc:  # the test app propagates errors: a crash is a 500 to the user
                from app.extensions import db

                db.session.rollback()
                row[caller] = 500
                mismatches.append(f"{method} {rule.endpoint} {url} as {caller}: expected {wanted}, "
                                  f"got an exception {exc.__class__.__name__}: {exc}")
                continue
            got = outcome(response)
            row[caller] = got
            if got != wanted and not (isinstance(wanted, tuple) and got in wanted):
                mismatches.append(f"{method} {rule.endpoint} {url} as {caller}: expected {wanted}, "
                                  f"got {got} ({response.status_code})")
            body = response.get_data()
            response.close()
            if not expect.full_nik and any(n.encode() in body for n in niks):
                nik_leaks.append(f"{method} {url} as {caller}")
            if caller != "anon" and not _signed_in(client):  # the call signed out: sign in again
                clients[caller] = _sign_in(app, caller)
        observed.append(f"    ({method!r}, {rule.endpoint!r}): {row},  # {url}")
    if os.environ.get("MATRIX_PRINT"):
        print("\n".join(observed))
    assert not mismatches, "Permission matrix mismatches:\n  " + "\n  ".join(mismatches)
    assert not nik_leaks, ("A full NIK is shown outside the validator's desk (use nik.mask / the "
                           "masked_nik filter):\n  " + "\n  ".join(nik_leaks))


def test_outcome_classification():
    """The matrix is only as good as its reading of a response."""

    class R:
        def __init__(self, status, location=None):
            self.status_code, self.headers = status, ({"Location": location} if location else {})

    assert outcome(R(302, "http://localhost/login/?next=%2Fx")) == DENY
    assert outcome(R(302, "/staf/")) == REDIR
    assert outcome(R(401)) == outcome(R(403)) == DENY
    assert outcome(R(404)) == NF and outcome(R(200)) == OK and outcome(R(500)) == 500
    assert re.fullmatch(r"\w+", DENY)
