"""OPD desk: indexes for the desk queues, the answered tab and the per-OPD time recap.

Revision ID: 0004_opd
Revises: 0001
"""

from alembic import op

revision = "0004_opd"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_complaint_desk_deadline", "complaint", ["state", "answer_deadline", "id"]),
    ("ix_complaint_desk_answered", "complaint", ["opd_id", "answered_at", "id"]),
    ("ix_complaint_answered", "complaint", ["answered_at", "id"]),
    ("ix_routing_routed_at", "routing", ["routed_at"]),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
