"""The SP4N-LAPOR! bridge: complaints imported from LAPOR! (channel 'lapor'), follow-ups pushed back through
the outbox (channel 'lapor'), and one row per LAPOR! report seen (unique tracking ID: idempotent import).

Revision ID: 0016_lapor
Revises: 0012_merge

Everything below is frozen text: it must not follow later edits of the models.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_lapor"
down_revision = "0012_merge"
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

# table -> (constraint, condition before, condition after)
CHECKS = (
    ("complaint", "ck_complaint_channel", "channel IN ('web', 'api', 'open311')",
     "channel IN ('web', 'api', 'open311', 'lapor')"),
    ("outbox", "ck_outbox_channel", "channel IN ('email', 'webhook')",
     "channel IN ('email', 'webhook', 'lapor')"),
)


def _replace_checks(which: int) -> None:
    for table, name, *conditions in CHECKS:
        with op.batch_alter_table(table, naming_convention=NAMING_CONVENTION) as batch:
            batch.drop_constraint(op.f(name), type_="check")
            batch.create_check_constraint(op.f(name), conditions[which])


def upgrade():
    _replace_checks(1)
    op.create_table(
        "lapor_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lapor_id", sa.String(64), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("problem", sa.String(500), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_lapor_import"),
        sa.UniqueConstraint("lapor_id", name="uq_lapor_import_lapor_id"),
        sa.UniqueConstraint("complaint_id", name="uq_lapor_import_complaint_id"),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"], name="fk_lapor_import_complaint_id",
                                ondelete="SET NULL"),
        sa.CheckConstraint("status IN ('imported', 'refused')", name=op.f("ck_lapor_import_status")),
        sa.CheckConstraint("status <> 'refused' OR (complaint_id IS NULL AND problem IS NOT NULL)",
                           name=op.f("ck_lapor_import_refused_problem")),
        sa.CheckConstraint("status <> 'imported' OR imported_at IS NOT NULL", name=op.f("ck_lapor_import_imported_at")),
    )
    op.create_index("ix_lapor_import_status_seen", "lapor_import", ["status", "last_seen_at"])


def downgrade():
    bind = op.get_bind()
    lapor = bind.execute(sa.text("SELECT count(*) FROM complaint WHERE channel = 'lapor'")).scalar()
    pushes = bind.execute(sa.text("SELECT count(*) FROM outbox WHERE channel = 'lapor'")).scalar()
    if lapor or pushes:
        raise RuntimeError(f"0016_lapor: {lapor} complaint(s) and {pushes} outbox row(s) use the 'lapor' channel; "
                           "the downgrade would have to change them. Nothing was downgraded.")
    op.drop_index("ix_lapor_import_status_seen", table_name="lapor_import")
    op.drop_table("lapor_import")
    _replace_checks(0)
