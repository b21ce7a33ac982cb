"""Issue 13: indexes that match the supervisors' and the desks' queries.

- the queue indexes end with `id`, the keyset's tie-breaker (the validator queue orders by
  (validation_deadline, id), the OPD desk by (answer_deadline, id)), so a page is read from the index in order;
- `complaint.routed_at`, the recap's period, had none: the recap read the whole table (issue 13). (The
  dashboard's answered_at, routing.routed_at and (state, answer_deadline, id) indexes exist since 0004_opd.)

Revision ID: 0013_perf
Revises: 0012_merge
"""

from alembic import op

revision = "0013_perf"
down_revision = "0012_merge"
branch_labels = None
depends_on = None

NEW = [("ix_complaint_routed", "complaint", ["routed_at"])]
# (name, columns before, columns after)
WIDENED = [
    ("ix_complaint_queue_validation", ["state", "validation_deadline"], ["state", "validation_deadline", "id"]),
    ("ix_complaint_queue_opd", ["opd_id", "state", "answer_deadline"], ["opd_id", "state", "answer_deadline", "id"]),
]


def upgrade():
    for name, _before, after in WIDENED:
        op.drop_index(name, table_name="complaint")
        op.create_index(name, "complaint", after)
    for name, table, columns in NEW:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in reversed(NEW):
        op.drop_index(name, table_name=table)
    for name, before, _after in reversed(WIDENED):
        op.drop_index(name, table_name="complaint")
        op.create_index(name, "complaint", before)
