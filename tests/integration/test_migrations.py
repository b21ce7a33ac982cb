"""Migrations: upgrade from an empty database, and no drift between models and migrations."""

import sqlalchemy as sa
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
