"""Operations (issue 19): the request id in the history log, and the scheduler's heartbeat.

Revision ID: 0019_deploy
Revises: 0012_merge
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_deploy"
down_revision = "0012_merge"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("request_id", sa.String(64), nullable=True))
    op.create_index("ix_audit_log_request_id", "audit_log", ["request_id"])
    op.create_table(
        "scheduler_heartbeat",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("beat_at", sa.DateTime(), nullable=False),
        sa.Column("host", sa.String(128), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_scheduler_heartbeat"),
    )


def downgrade():
    op.drop_table("scheduler_heartbeat")
    op.drop_index("ix_audit_log_request_id", table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("request_id")
