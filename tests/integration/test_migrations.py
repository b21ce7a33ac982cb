"""Migrations: upgrade from an empty database, and no drift between models and migrations."""

import re
import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def test_upgrade_from_empty_database_creates_every_table(app):
    from app.extensions import db

    tables = set(sa.inspect(db.engine).get_table_names())
    expected = {t.name for t in db.metadata.sorted_tables}
    assert expected <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_do_not_drift(app):
    """The session database was built by `flask db upgrade`; comparing it with the models must find
    nothing: a model change without a migration fails here."""
    from app.extensions import db

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models differ from migrations: {diff}"


def test_downgrade_and_upgrade_again(tmp_path):
    """A fresh SQLite database goes up, fully down and up again (rollback path is usable)."""
    from flask_migrate import downgrade, upgrade

    from tests.conftest import build_app

    url = f"sqlite:///{tmp_path / 'm.db'}"
    other = build_app(url)
    with other.app_context():
        directory = other.extensions["migrate"].directory
        upgrade(directory=directory, revision="heads")
        from app.extensions import db

        assert "complaint" in sa.inspect(db.engine).get_table_names()
        downgrade(directory=directory, revision="base")
        assert "complaint" not in sa.inspect(db.engine).get_table_names()
        upgrade(directory=directory, revision="heads")
        assert "complaint" in sa.inspect(db.engine).get_table_names()
        db.session.remove()
        db.engine.dispose()


def test_the_tables_the_dashboard_reads_by_index_are_vacuumed_early_on_postgresql(app):
    """0031_autovacuum: after ~1% of complaint has changed, not PostgreSQL's default 20% (the dashboard's
    index-only scans read the heap for every page changed since the last vacuum)."""
    from app.extensions import db

    with db.engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            assert conn.dialect.name == "sqlite"  # nothing to set: SQLite has no autovacuum of this kind
            return
        options = dict(conn.execute(sa.text(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN "
            "('complaint', 'summary_complaint_day', 'status_event', 'routing') AND relkind = 'r'")).all())
    assert "autovacuum_vacuum_scale_factor=0.01" in options["complaint"]
    assert "fillfactor=85" in options["complaint"]  # 0029's setting kept beside them
    assert "autovacuum_vacuum_insert_scale_factor=0.01" in options["status_event"]
    assert "autovacuum_vacuum_scale_factor=0.02" in options["summary_complaint_day"]
    assert "autovacuum_vacuum_insert_scale_factor=0.01" in options["routing"]


# --------------------------------------------------------------------------- 0010_invariants

INVARIANTS = "0010_invariants"
BEFORE_INVARIANTS = "0008_merge"
# The tables 0010_invariants changes and the rows the data tests seed in them, ordered by primary key.
DATA_TABLES = {"opd": "id", "ab_user": "id", "complaint": "id", "status_event": "id", "nik_check": "id",
               "routing": "id", "answer": "id", "attachment": "id", "internal_note": "id", "outbox": "id",
               "audit_log": "id", "registry_entry": "id", "complaint_version": "id, transaction_id"}


def _literals(sql: str) -> set[str]:
    return set(re.findall(r"'([^']*)'", sql))


def test_check_constraints_match_the_models(app):
    """Alembic's comparison ignores CHECKs: every table's CHECKs (names, and the values they list) are
    compared here, so a value added to an enum without its migration fails on both databases."""
    from app.extensions import db

    inspector = sa.inspect(db.engine)
    checked = 0
    for table in db.metadata.sorted_tables:
        model = {c.name: _literals(str(c.sqltext)) for c in table.constraints if isinstance(c, sa.CheckConstraint)}
        stored = {c["name"]: _literals(c["sqltext"]) for c in inspector.get_check_constraints(table.name)}
        assert stored == model, table.name
        checked += len(model)
    assert checked >= 20


@pytest.fixture
def scratch_url(database_url, tmp_path):
    """An empty database of the session's kind (SQLite file or PostgreSQL database), dropped afterwards."""
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    name = f"{url.database}_m{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                             "AND pid <> pg_backend_pid()"), {"n": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@contextmanager
def _migrated_app(url, monkeypatch, old_names: bool = False):
    """An app on `url` upgraded to the revision before 0010_invariants; with `old_names`, the way an
    installation built before the naming convention was (PostgreSQL's default names, unnamed on SQLite)."""
    from flask_migrate import upgrade

    from app.extensions import db
    from tests.conftest import build_app

    other = build_app(url)
    with other.app_context():
        directory = other.extensions["migrate"].directory
        with monkeypatch.context() as patch:
            if old_names:
                patch.setattr(db.metadata, "naming_convention", sa.MetaData().naming_convention)
            upgrade(directory=directory, revision=BEFORE_INVARIANTS)
        try:
            yield other, directory
        finally:
            db.session.remove()
            db.engine.dispose()


def _seed(engine) -> None:
    """Valid rows of every kind, in plain SQL (the models may be ahead of this revision)."""
    from tests.integration import sql_rows as rows
    from app.workflow import State

    with engine.begin() as conn:
        for code in ("DINKESP2KB", "DPUTR"):
            rows.insert(conn, "opd", code=code, name=f"Dinas {code}", kind="dinas", active=True)
        for username, opd in (("validator", None), ("opd.dinkes", rows.opd_id(conn))):
            rows.insert(conn, "ab_user", first_name=username, last_name="Uji", username=username,
                        email=f"{username}@uji.go.id", active=True, opd_id=opd)
        # The states 0010_invariants knows (0018_citizen adds "disanggah").
        for state in [s for s in State if s is not State.DISANGGAH]:
            complaint_id = rows.insert(conn, "complaint", **rows.complaint_row(conn, state))
            rows.insert(conn, "status_event", **rows.event_row(conn, complaint_id))
        rows.insert(conn, "complaint", **rows.complaint_row(conn, State.DITERUSKAN, visibility="rahasia",
                                                            published_at=None))
        complaint_id = rows.complaint_with_every_part(conn)
        rows.insert(conn, "routing", **rows.routing_row(conn, complaint_id, ended_at=rows.T0, outcome="returned"))
        rows.insert(conn, "nik_check", **rows.nik_check_row(conn, complaint_id, result="tidak_valid", remark="Salah."))
        rows.insert(conn, "outbox", **rows.outbox_row(conn, status="sent", sent_at=rows.T0))
        rows.insert(conn, "audit_log", **rows.audit_row(kind="pii", action="nik.view", complaint_id=complaint_id))
        rows.insert(conn, "registry_entry", **rows.registry_row(status="meninggal"))
        conn.execute(sa.text("INSERT INTO complaint_version (id, state, transaction_id, operation_type) "
                             "VALUES (:c, 'menunggu_verifikasi', 1, 0)"), {"c": complaint_id})


def _dump(engine) -> dict:
    with engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY {key}"))]
                for t, key in DATA_TABLES.items()}


def _check_names(engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_check_constraints(table)}


def test_the_invariants_migration_upgrades_a_database_holding_data_and_back(scratch_url, monkeypatch):
    from flask_migrate import downgrade, upgrade

    from app.extensions import db

    with _migrated_app(scratch_url, monkeypatch, old_names=True) as (_, directory):
        _seed(db.engine)
        before = _dump(db.engine)
        assert all(before.values())
        assert _check_names(db.engine, "complaint") == set()
        old_pk = {"postgresql": "opd_pkey", "sqlite": None}[db.engine.dialect.name]
        assert sa.inspect(db.engine).get_pk_constraint("opd")["name"] == old_pk

        upgrade(directory=directory, revision=INVARIANTS)
        assert _dump(db.engine) == before
        inspector = sa.inspect(db.engine)
        assert "ck_complaint_rahasia_unpublished" in _check_names(db.engine, "complaint")
        assert {f["name"]: f["options"].get("ondelete") for f in inspector.get_foreign_keys("answer")} == {
            "fk_answer_complaint_id": "CASCADE", "fk_answer_opd_id": "RESTRICT", "fk_answer_author_id": "RESTRICT"}
        if db.engine.dialect.name == "postgresql":  # renamed from PostgreSQL's defaults
            assert inspector.get_pk_constraint("opd")["name"] == "pk_opd"
            assert [u["name"] for u in inspector.get_unique_constraints("opd")] == ["uq_opd_code"]
            assert {f["name"] for f in inspector.get_foreign_keys("ab_user_role")} == {
                "fk_ab_user_role_user_id", "fk_ab_user_role_role_id"}
        with pytest.raises(IntegrityError, match="ck_complaint_state"), db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE complaint SET state = 'hilang'"))

        downgrade(directory=directory, revision=BEFORE_INVARIANTS)
        assert _dump(db.engine) == before
        assert _check_names(db.engine, "complaint") == set()
        assert "ix_routing_open" not in {i["name"] for i in sa.inspect(db.engine).get_indexes("routing")}

        upgrade(directory=directory, revision=INVARIANTS)
        assert _dump(db.engine) == before
        assert "ix_routing_open" in {i["name"] for i in sa.inspect(db.engine).get_indexes("routing")}


def test_the_invariants_migration_names_the_rows_that_break_them_and_changes_nothing(scratch_url, monkeypatch):
    from alembic import command
    from flask import current_app

    from app.extensions import db
    from tests.integration import sql_rows as rows
    from app.workflow import State

    with _migrated_app(scratch_url, monkeypatch) as (_, directory):
        _seed(db.engine)
        with db.engine.begin() as conn:
            slip = rows.insert(conn, "complaint", **rows.complaint_row(conn, State.DITERUSKAN, visibility="rahasia"))
        orphan = None
        with db.engine.connect() as conn:
            if db.engine.dialect.name == "sqlite":  # SQLite did not enforce foreign keys before 0010
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                orphan = rows.insert(conn, "status_event", **rows.event_row(conn, 424242))
                conn.commit()
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            else:  # PostgreSQL always did: there can be no such row to find
                with pytest.raises(IntegrityError):
                    rows.insert(conn, "status_event", **rows.event_row(conn, 424242))
                conn.rollback()
        before = _dump(db.engine)

        config = current_app.extensions["migrate"].migrate.get_config(directory)
        with pytest.raises(RuntimeError) as refused:  # alembic's own command: Flask-Migrate's exits instead
            command.upgrade(config, INVARIANTS)
        message = str(refused.value)
        rule = "ck_complaint_rahasia_unpublished (visibility <> 'rahasia' OR published_at IS NULL)"
        assert f"complaint: {rule} refused by id {slip}" in message
        if orphan is not None:
            assert f"status_event: rowid {orphan} refers to a missing row of complaint" in message
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == BEFORE_INVARIANTS
        assert _check_names(db.engine, "complaint") == set()
        assert _dump(db.engine) == before
