"""Shared fixtures, in the way of Flask's flaskr tutorial: `app`, `client`, `runner`, `auth`.

One app (and one migrated database) per test session: building a FAB app is slow (FAB-NOTES #20).
Each test starts from the same seeded state: the rows it wrote are removed afterwards.

The database is SQLite by default; set TEST_DATABASE_URL to a PostgreSQL URL to run on PostgreSQL
(a fresh database is created on that server for the session and dropped at the end).
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from pathlib import Path

os.environ.setdefault("APP_MODE", "test")
_TMP = Path(tempfile.mkdtemp(prefix="lpo-test-"))
os.environ.setdefault("INSTANCE_DIR", str(_TMP))

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402

# Every rendered template is checked: no complaint row in a context, only the disclosure policy's views.
from tests.disclosure_guard import _install_disclosure_guard, _no_complaint_rows_in_templates  # noqa: E402,F401

PASSWORD = "uji-coba-kata-sandi-2026"
STAFF = [
    # username, role, opd
    ("admin", "Admin Sistem", None),
    ("validator", "Validator", None),
    ("validator2", "Validator", None),
    ("pimpinan", "Pimpinan", None),
    ("opd.dinkes", "Admin OPD", "DINKESP2KB"),
    ("opd.dputr", "Admin OPD", "DPUTR"),
]
# Tables that hold set-up data and survive between tests.
KEEP = {"ab_permission", "ab_view_menu", "ab_permission_view", "ab_role", "ab_permission_view_role",
        "ab_group", "ab_group_role", "ab_user", "ab_user_role", "ab_user_group", "ab_api_key",
        "ab_register_user", "opd", "alembic_version"}


def _database_url() -> tuple[str, object]:
    """The URL for this session and a function that drops what was created."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{_TMP / 'test.db'}", lambda: None
    if base.startswith("postgresql://"):
        base = "postgresql+psycopg://" + base.split("://", 1)[1]
    name = f"lpo_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(base).set(database=name)

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"),
                {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


TEST_SETTINGS = {
    "APP_MODE": "test",
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,  # CSRF has its own tests with it switched on
    "RATELIMIT_ENABLED": False,  # likewise the rate limits
    "SIAK_MODE": "fake",
    "SERVER_NAME": None,
}


def build_app(url: str, **overrides):
    from app import create_app

    settings = {**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": str(_TMP / "uploads"), **overrides}
    return create_app(settings)


@pytest.fixture(scope="session")
def database_url():
    url, drop = _database_url()
    yield url
    drop()


@pytest.fixture(scope="session")
def app(database_url):
    from flask_migrate import upgrade

    from app.services.accounts import create_staff, import_opds, sync_permissions

    app = build_app(database_url)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        sync_permissions()
        import_opds(None)
        for username, role, opd in STAFF:
            create_staff(username=username, email=f"{username}@uji.go.id", first_name=username.split(".")[-1].title(),
                         last_name="Uji", role=role, password=PASSWORD, opd_code=opd)
        app.config["BASE_USER_MAX_ID"] = _max_user_id()
    yield app
    with app.app_context():
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()


def _max_user_id() -> int:
    from app.extensions import db

    return db.session.scalar(sa.text("SELECT max(id) FROM ab_user"))


def _clean(app) -> None:
    from app.extensions import db

    db.session.rollback()
    engine = db.engine
    names = [t.name for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # TRUNCATE skips the history log's row trigger (which refuses DELETE) and resets fast.
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                conn.execute(sa.text(f'DELETE FROM "{name}"'))
        max_id = app.config["BASE_USER_MAX_ID"]
        conn.execute(sa.text("DELETE FROM ab_user_role WHERE user_id > :m"), {"m": max_id})
        conn.execute(sa.text("UPDATE ab_user SET opd_id = NULL WHERE id > :m"), {"m": max_id})
        conn.execute(sa.text("DELETE FROM ab_user WHERE id > :m"), {"m": max_id})
        conn.execute(sa.text("UPDATE ab_user SET active = :t, fail_login_count = 0, last_lockout_at = NULL, "
                             "attack_seen_at = NULL"),
                     {"t": True})
        conn.execute(sa.text("UPDATE opd SET active = :t"), {"t": True})


@pytest.fixture(autouse=True)
def _isolate(request):
    """Run each test inside an app context and wipe what it wrote afterwards."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        yield
        _clean(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username: str = "admin", password: str = PASSWORD):
        return self._client.post("/login/", data={"username": username, "password": password})

    def logout(self):
        return self._client.post("/logout/")  # sign-out is POST-only (a GET only asks to confirm)


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def actor(app):
    """actor("validator") → the services' Actor for a seeded staff account."""
    from app.extensions import db
    from app.models import Staff
    from app.services import Actor

    def make(username: str) -> Actor:
        user = db.session.scalar(sa.select(Staff).where(Staff.username == username))
        return Actor.from_user(user)

    return make


VALID_NIK = "3508011203900001"  # Lumajang, male, born 12-03-1990
VALID_NIK_F = "3508105207850002"  # Lumajang, female, born 12-07-1985


@pytest.fixture
def submission():
    """A SubmitInput factory with sensible, valid defaults."""
    from app.services import SubmitInput

    counter = iter(range(1, 10_000))

    def make(**changes) -> SubmitInput:
        n = next(counter)
        values = dict(name="Budi Santoso", nik=VALID_NIK, phone="0812-3456-7890", opd_code="DINKESP2KB",
                      title=f"Antrean puskesmas {n}", text=f"Antrean terlalu lama, mohon ditambah petugas ({n}).",
                      visibility="anonim", consent=True)
        values.update(changes)
        return SubmitInput(**values)

    return make


def text_of(response) -> str:
    """A response body as text, tags stripped (for 'this must not appear' assertions)."""
    return re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))


@pytest.fixture
def fresh_g(app):
    """Make each test request start with an empty `flask.g`, as in production.

    Tests run inside one app context (see `_isolate`), which requests then share: Flask-Login's cached
    `g._login_user` (or Flask-JWT-Extended's JWT user) from one request leaks into the next, so a second
    client looks signed in as the first and a deactivated user still looks active. Use this fixture whenever a test
    uses several clients or changes an account between requests."""
    from flask import g, request_started

    def clear(sender, **extra):
        for name in list(g):  # Flask-Login's user, Flask-JWT-Extended's JWT user, FAB's g.user, …
            g.pop(name, None)

    request_started.connect(clear, app)
    yield
    request_started.disconnect(clear, app)


@pytest.fixture
def complaint_form():
    """complaint_form(**changes) → the fields of the public form (/pengaduan/baru) for a valid complaint;
    a change of None leaves that field out."""
    counter = iter(range(1, 10_000))

    def make(**changes) -> dict:
        n = next(counter)
        data = {"name": "Budi Santoso", "nik": VALID_NIK, "phone": "0812-3456-7890", "email": "", "address": "",
                "opd": "DINKESP2KB", "title": f"Jalan berlubang {n}",
                "text": f"Jalan di depan pasar berlubang, mohon segera diperbaiki ({n}).", "location": "",
                "visibility": "anonim", "consent": "ya"}
        data.update(changes)
        return {k: v for k, v in data.items() if v is not None}

    return make


@pytest.fixture
def published(submission, actor):
    """published(**changes) → a complaint submitted and validated through the services (so published,
    unless rahasia)."""
    from app.services import decide_nik, submit

    def make(**changes):
        done = submit(submission(**changes))
        return decide_nik(done.complaint.id, actor("validator"), valid=True)

    return make
