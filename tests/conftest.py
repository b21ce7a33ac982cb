"""Shared fixtures, in the way of Flask's flaskr tutorial: `app`, `client`, `runner`, `auth`.

One app (and one migrated database) per test session: building a FAB app is slow (FAB-NOTES #20).
Each test starts from the same seeded state: the rows it wrote are removed afterwards.

The database is SQLite by default; set TEST_DATABASE_URL to a PostgreSQL URL to run on PostgreSQL
(a fresh database is created on that server for the session and dropped at the end).

Contexts and sessions, as in production:
- The test body runs in one app context (`_isolate`) with its own database session: use it to arrange
  (through the services, or rows followed by `db.session.commit()`) and to assert.
- Every request of a test client (`client`, `app.test_client()`, `opd_support.login`) and every CLI
  command of `runner` runs in an app context of its own, with its own `g` and its own session: it sees
  only what the test committed, and two clients are two browsers. Commit before a request; an
  uncommitted write of the test is invisible to it (and on SQLite it blocks the request's writes).
- After each request or command the test's session is expired: objects the test holds are read again
  on their next use, so an assertion sees what the request committed.
- Time: freeze it with `time_machine.travel(moment, tick=False)` wherever a figure depends on "now"
  (WIB days, months, years, time left). Sign in inside the same travel as the requests that follow:
  a session's idle time counts from its sign-in.
"""

from __future__ import annotations

import contextlib
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
from flask.testing import FlaskCliRunner, FlaskClient  # noqa: E402

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
    "PUBLIC_OPD_CACHE_SECONDS": 0,  # tests change OPDs in the database directly; the cache has its own test
}


class RequestClient(FlaskClient):
    """The test client: every request runs in an app context of its own, as in production.

    A test runs inside the app context of `_isolate` (for its set-up and asserts), and Flask 3.1 reuses
    an app context that is already open for a request: without this, `g` (Flask-Login's cached user,
    FAB's `g.user`, Flask-JWT-Extended's user) would outlive the request and the request would share the
    test's database session (Flask-SQLAlchemy scopes it per app context). With it, a request sees only
    what was committed, commits only its own work, and two clients are two people.

    After each request the test's own session is expired, so an object the test holds is read again
    from the database on its next use: it shows what the request committed, never a stale copy.
    The body is read before the request's context closes (a streamed CSV needs it). `with client:`
    still keeps the last request's contexts for inspection until the block ends.
    """

    def open(self, *args, **kwargs):
        # Contexts kept by the previous request of a `with client:` block go before this one opens.
        self._context_stack.close()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
            response.get_data()
        _expire_test_session()
        return response


def fresh_context_wsgi(app):
    """`app` as a WSGI callable whose every request runs in an app context of its own (what RequestClient
    does), for third-party clients that drive the app through WSGI (schemathesis, Open311 client libraries)."""

    def call(environ, start_response):
        with app.app_context():
            body = b"".join(app.wsgi_app(environ, start_response))
        _expire_test_session()
        return [body]

    return call


class CommandRunner(FlaskCliRunner):
    """The CLI runner: each command runs in an app context (and database session) of its own, like
    `flask …` in a process of its own; the test's session is expired afterwards (see RequestClient)."""

    def invoke(self, cli=None, args=None, **kwargs):
        with self.app.app_context():
            result = super().invoke(cli, args, **kwargs)
        _expire_test_session()
        return result


def _expire_test_session() -> None:
    from flask import has_app_context

    if has_app_context():
        from app.extensions import db

        db.session.expire_all()


def build_app(url: str, **overrides):
    from app import create_app

    settings = {**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": str(_TMP / "uploads"), **overrides}
    app = create_app(settings)
    app.test_client_class = RequestClient
    app.test_cli_runner_class = CommandRunner
    return app


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
        # The set-up's own rows (history of the accounts made above): the first test starts as clean as the rest.
        _clean(app)
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
    from app.services import public_cache

    public_cache.bump()  # the rows above went without the services: no cached public page may outlive them


@pytest.fixture(autouse=True)
def _isolate(request):
    """Run each test inside an app context (its own database session, for set-up and asserts; each
    request and CLI command gets another, see RequestClient) and wipe what it wrote afterwards."""
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
