"""Records: history-log indexes for the filter screens, the changed-record column, and (PostgreSQL)
a trigger that keeps the history log append-only.

Revision ID: 0006_records
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_records"
down_revision = "0001"
branch_labels = None
depends_on = None

# (name, columns): each screen filter leads an index with the time.
INDEXES = [
    ("ix_audit_log_action_at", ["action", "at"]),
    ("ix_audit_log_user_at", ["user_id", "at"]),
    ("ix_audit_log_username_at", ["username", "at"]),
    ("ix_audit_log_role_at", ["role", "at"]),
    ("ix_audit_log_complaint_at", ["complaint_id", "at"]),
    ("ix_audit_log_target_at", ["target", "at"]),
]
# Single-column indexes made redundant by the composites above (same leading column).
REPLACED = [("ix_audit_log_action", ["action"]), ("ix_audit_log_user_id", ["user_id"]),
            ("ix_audit_log_complaint_id", ["complaint_id"])]

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Archive old months as described in README.md (Riwayat akses).';
END
$$
"""
TRIGGER = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()
"""


def upgrade():
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target", sa.String(length=64), nullable=True))
        for name, _ in REPLACED:
            batch_op.drop_index(name)
        for name, columns in INDEXES:
            batch_op.create_index(name, columns, unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(TRIGGER_FUNCTION)
        op.execute(TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_refuse_change()")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        for name, _ in INDEXES:
            batch_op.drop_index(name)
        for name, columns in REPLACED:
            batch_op.create_index(name, columns, unique=False)
        batch_op.drop_column("target")
