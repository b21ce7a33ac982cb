"""Reliability (issue 14): idempotent outbox delivery, SIAK retries with backoff.

- outbox.idempotency_key: one key per notice, sent with every attempt (Message-ID, Idempotency-Key);
  existing rows get "outbox-<id>", the key the webhook carried before.
- outbox.claimed_at / interrupted: a claim that was never recorded is seen at the next claim.
- complaint.siak_attempts / siak_next_check_at: the SIAK pre-check retries with backoff; complaints
  waiting on an unavailable SIAK are asked again at once after the upgrade.
- complaint.submission_key: the public form's idempotency token; a retried POST finds its complaint.

Revision ID: 0014_reliability
Revises: 0012_merge
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_reliability"
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


def upgrade():
    with op.batch_alter_table("outbox", naming_convention=NAMING_CONVENTION) as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("interrupted", sa.Integer(), server_default="0", nullable=False))
    op.execute("UPDATE outbox SET idempotency_key = 'outbox-' || CAST(id AS VARCHAR(20))")
    with op.batch_alter_table("outbox", naming_convention=NAMING_CONVENTION) as batch:
        batch.alter_column("idempotency_key", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint("uq_outbox_idempotency_key", ["idempotency_key"])
    with op.batch_alter_table("complaint", naming_convention=NAMING_CONVENTION) as batch:
        batch.add_column(sa.Column("siak_attempts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("siak_next_check_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("submission_key", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_complaint_submission_key", ["submission_key"])


def downgrade():
    with op.batch_alter_table("complaint", naming_convention=NAMING_CONVENTION) as batch:
        batch.drop_constraint("uq_complaint_submission_key", type_="unique")
        batch.drop_column("submission_key")
        batch.drop_column("siak_next_check_at")
        batch.drop_column("siak_attempts")
    with op.batch_alter_table("outbox", naming_convention=NAMING_CONVENTION) as batch:
        batch.drop_constraint("uq_outbox_idempotency_key", type_="unique")
        batch.drop_column("interrupted")
        batch.drop_column("claimed_at")
        batch.drop_column("idempotency_key")
