"""Invariants the database enforces: CHECKs on enumerated columns and across columns, at most one open
routing per complaint, foreign keys with deliberate ON DELETE rules, and one naming convention for
constraints (see the docstring of app/models.py).

Revision ID: 0010_invariants
Revises: 0008_merge

Before changing anything the upgrade looks for existing rows that would be refused and stops with a list
of them (table, constraint, ids): the data is the operator's to correct, not the migration's to guess.

Constraint names: a database built from revision 0001 since the convention exists already has its names
(Alembic names the constraints it creates after the target metadata's convention). An older one has
PostgreSQL's defaults (`complaint_pkey`, `opd_code_key`, `answer_author_id_fkey`): on PostgreSQL the
upgrade renames every primary-key, unique and foreign-key constraint to the convention (ALTER TABLE …
RENAME CONSTRAINT: a catalogue change, no rewrite); on SQLite the old constraints are unnamed, and batch
mode with `naming_convention` sees them under the convention's names. The downgrade keeps the names,
which are what 0001 now creates. On SQLite the tables that change are recreated by batch mode (foreign
keys off while migrating, migrations/env.py).

Everything below is frozen text: it must not follow later edits of the models.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_invariants"
down_revision = "0008_merge"
branch_labels = None
depends_on = None

# A copy of app.extensions.NAMING_CONVENTION as of this revision.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}

STATES = "'menunggu_verifikasi', 'tidak_valid', 'diteruskan', 'perlu_disposisi', 'dijawab', 'selesai'"
VALIDATED = "'diteruskan', 'perlu_disposisi', 'dijawab', 'selesai'"
VERDICTS = ("'MATCH', 'MISMATCH', 'NOT_FOUND', 'INACTIVE', 'DECEASED', 'UNAVAILABLE', 'NOT_CONFIGURED', "
            "'CONFIG_ERROR'")

# table -> [(constraint name, condition)]
CHECKS = {
    "complaint": [
        ("ck_complaint_state", f"state IN ({STATES})"),
        ("ck_complaint_visibility", "visibility IN ('publik', 'anonim', 'rahasia')"),
        ("ck_complaint_channel", "channel IN ('web', 'api', 'open311')"),
        ("ck_complaint_siak_verdict", f"siak_verdict IN ({VERDICTS})"),
        ("ck_complaint_rahasia_unpublished", "visibility <> 'rahasia' OR published_at IS NULL"),
        ("ck_complaint_published_validated",
         f"published_at IS NULL OR (validated_at IS NOT NULL AND state IN ({VALIDATED}))"),
        ("ck_complaint_validated_at", "state = 'menunggu_verifikasi' OR validated_at IS NOT NULL"),
        ("ck_complaint_routed",
         f"state NOT IN ({VALIDATED}) OR (routed_at IS NOT NULL AND answer_deadline IS NOT NULL)"),
        ("ck_complaint_answered_at", "state NOT IN ('dijawab', 'selesai') OR answered_at IS NOT NULL"),
        ("ck_complaint_closed_at", "state NOT IN ('tidak_valid', 'dijawab', 'selesai') OR closed_at IS NOT NULL"),
    ],
    "status_event": [
        ("ck_status_event_from_state", f"from_state IN ({STATES})"),
        ("ck_status_event_to_state", f"to_state IN ({STATES})"),
        ("ck_status_event_action",
         "action IN ('submit', 'validate', 'invalidate', 'answer', 'return', 'reroute', 'close', 'claim')"),
        ("ck_status_event_actor_role",
         "actor_role IN ('Publik', 'Validator', 'Admin OPD', 'Pimpinan', 'Admin Sistem', 'Sistem')"),
    ],
    "nik_check": [
        ("ck_nik_check_result", "result IN ('valid', 'tidak_valid')"),
        ("ck_nik_check_siak_verdict", f"siak_verdict IN ({VERDICTS})"),
        ("ck_nik_check_invalid_remark", "result <> 'tidak_valid' OR remark IS NOT NULL"),
    ],
    "routing": [
        ("ck_routing_outcome", "outcome IN ('answered', 'returned', 'rerouted')"),
        ("ck_routing_ended_outcome",
         "(ended_at IS NULL AND outcome IS NULL) OR (ended_at IS NOT NULL AND outcome IS NOT NULL)"),
    ],
    "outbox": [
        ("ck_outbox_status", "status IN ('pending', 'sent', 'dead')"),
        ("ck_outbox_channel", "channel IN ('email', 'webhook')"),
        ("ck_outbox_sent_at", "status <> 'sent' OR sent_at IS NOT NULL"),
    ],
    "audit_log": [("ck_audit_log_kind", "kind IN ('auth', 'request', 'action', 'pii', 'system')")],
    "registry_entry": [("ck_registry_entry_status", "status IN ('aktif', 'meninggal', 'tidak_aktif')")],
}

# (table, column, referred table, ON DELETE). Every other foreign key keeps its rule.
FOREIGN_KEYS = [
    ("complaint", "opd_id", "opd", "RESTRICT"),
    ("complaint", "claimed_by_id", "ab_user", "SET NULL"),
    ("status_event", "complaint_id", "complaint", "CASCADE"),
    ("status_event", "actor_id", "ab_user", "RESTRICT"),
    ("status_event", "opd_id", "opd", "RESTRICT"),
    ("nik_check", "complaint_id", "complaint", "CASCADE"),
    ("nik_check", "validator_id", "ab_user", "RESTRICT"),
    ("routing", "complaint_id", "complaint", "CASCADE"),
    ("routing", "opd_id", "opd", "RESTRICT"),
    ("answer", "complaint_id", "complaint", "CASCADE"),
    ("answer", "opd_id", "opd", "RESTRICT"),
    ("answer", "author_id", "ab_user", "RESTRICT"),
    ("attachment", "complaint_id", "complaint", "CASCADE"),
    ("attachment", "answer_id", "answer", "CASCADE"),
    ("internal_note", "complaint_id", "complaint", "CASCADE"),
    ("internal_note", "author_id", "ab_user", "RESTRICT"),
    ("outbox", "complaint_id", "complaint", "CASCADE"),
    ("ab_user", "opd_id", "opd", "RESTRICT"),
]

OPEN_ROUTING = "ix_routing_open"
OPEN_ROUTING_WHERE = "ended_at IS NULL"


def _tables() -> list[str]:
    seen = list(CHECKS)
    seen += [t for t, *_ in FOREIGN_KEYS if t not in seen]
    return seen


def upgrade():
    bind = op.get_bind()
    _refuse_invalid_rows(bind)
    if bind.dialect.name == "postgresql":
        _rename_to_convention(bind)
    for table in _tables():
        with op.batch_alter_table(table, naming_convention=NAMING_CONVENTION) as batch:
            for fk_table, column, referred, ondelete in FOREIGN_KEYS:
                if fk_table == table:
                    name = f"fk_{table}_{column}"
                    batch.drop_constraint(name, type_="foreignkey")
                    batch.create_foreign_key(name, referred, [column], ["id"], ondelete=ondelete)
            for name, condition in CHECKS.get(table, []):
                batch.create_check_constraint(op.f(name), condition)
    op.create_index(OPEN_ROUTING, "routing", ["complaint_id"], unique=True,
                    sqlite_where=sa.text(OPEN_ROUTING_WHERE), postgresql_where=sa.text(OPEN_ROUTING_WHERE))


def downgrade():
    op.drop_index(OPEN_ROUTING, table_name="routing")
    for table in reversed(_tables()):
        with op.batch_alter_table(table, naming_convention=NAMING_CONVENTION) as batch:
            for name, _condition in CHECKS.get(table, []):
                batch.drop_constraint(op.f(name), type_="check")
            for fk_table, column, referred, _ondelete in FOREIGN_KEYS:
                if fk_table == table:
                    name = f"fk_{table}_{column}"
                    batch.drop_constraint(name, type_="foreignkey")
                    batch.create_foreign_key(name, referred, [column], ["id"])


# --------------------------------------------------------------------------- existing data


def _refuse_invalid_rows(bind) -> None:
    """Stop before any change when existing rows would be refused, and say which."""
    problems = []
    for table, checks in CHECKS.items():
        for name, condition in checks:
            ids = bind.execute(sa.text(
                f"SELECT id FROM {table} WHERE NOT ({condition}) ORDER BY id LIMIT 10")).scalars().all()
            if ids:
                problems.append(f"{table}: {name} ({condition}) refused by id {', '.join(map(str, ids))}")
    doubled = bind.execute(sa.text(
        f"SELECT complaint_id FROM routing WHERE {OPEN_ROUTING_WHERE} GROUP BY complaint_id "
        "HAVING count(*) > 1 ORDER BY complaint_id LIMIT 10")).scalars().all()
    if doubled:
        problems.append(f"routing: {OPEN_ROUTING} (one open routing per complaint) refused for complaint_id "
                        + ", ".join(map(str, doubled)))
    if bind.dialect.name == "sqlite":
        # SQLite did not enforce foreign keys before this revision; PostgreSQL always has.
        for table, rowid, parent, _ in bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()[:20]:
            problems.append(f"{table}: rowid {rowid} refers to a missing row of {parent}")
    if problems:
        raise RuntimeError("0010_invariants: existing rows break invariants the database is about to enforce; "
                           "correct them and run the upgrade again:\n  " + "\n  ".join(problems))


# --------------------------------------------------------------------------- constraint names (PostgreSQL)


def _convention_name(kind: str, table: str, columns: list[str]) -> str:
    return f"pk_{table}" if kind == "pk" else f"{kind}_{table}_{'_'.join(columns)}"


def _rename_to_convention(bind) -> None:
    inspector = sa.inspect(bind)
    quote = bind.dialect.identifier_preparer.quote
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        current = []
        pk = inspector.get_pk_constraint(table)
        if pk.get("name"):
            current.append(("pk", pk["name"], pk["constrained_columns"]))
        current += [("uq", u["name"], u["column_names"]) for u in inspector.get_unique_constraints(table)]
        current += [("fk", f["name"], f["constrained_columns"]) for f in inspector.get_foreign_keys(table)]
        for kind, name, columns in current:
            wanted = _convention_name(kind, table, columns)
            if len(wanted) > 63:
                raise RuntimeError(f"constraint name too long for PostgreSQL: {wanted}")
            if name != wanted:
                op.execute(f"ALTER TABLE {quote(table)} RENAME CONSTRAINT {quote(name)} TO {quote(wanted)}")
