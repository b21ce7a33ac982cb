"""SLA watch and control dashboard: indexes for the sweep's look-back on late decisions, the
validator figures and the outbox screen.

Revision ID: 0007_sla
Revises: 0001
"""

from alembic import op

revision = "0007_sla"
down_revision = "0001"
branch_labels = None
depends_on = None

# (table, name, columns). The answer sweep and the per-OPD figures read through the OPD desk's
# indexes (0004_opd: ix_complaint_desk_deadline, ix_complaint_answered, ix_routing_routed_at).
INDEXES = [
    # Late NIK decisions caught by the sweep's look-back; the validator figures of the dashboard.
    ("complaint", "ix_complaint_validated", ["validated_at"]),
    # The outbox screen: newest first within a status.
    ("outbox", "ix_outbox_status_id", ["status", "id"]),
]


def upgrade():
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for table, name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
