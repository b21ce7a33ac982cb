"""Issue 13 (speed): the complaints waiting past their answer deadline, per OPD, from the index alone.

The dashboard counts them per OPD ("overdue now") and in all. `ix_complaint_desk_deadline` (state,
answer_deadline, id) finds them, but the OPD is on the heap, so PostgreSQL read the whole of
`ix_complaint_queue_opd` instead (60 ms at 1,000,000 complaints, 22,086 of them late). The same index with
the OPD carried (`INCLUDE (opd_id)`) answers both from the index. PostgreSQL only: SQLite has no INCLUDE,
and its index stays as it was.

Revision ID: 0030_overdue_opd_index
Revises: 0029_complaint_fillfactor
"""

from alembic import op

revision = "0030_overdue_opd_index"
down_revision = "0029_complaint_fillfactor"
branch_labels = None
depends_on = None

COLUMNS = ["state", "answer_deadline", "id"]


def _rebuild(include):
    # Built beside the old one, then swapped: the desks' queues keep an index all along.
    op.create_index("ix_complaint_desk_deadline_new", "complaint", COLUMNS, postgresql_include=include)
    op.drop_index("ix_complaint_desk_deadline", table_name="complaint")
    op.execute("ALTER INDEX ix_complaint_desk_deadline_new RENAME TO ix_complaint_desk_deadline")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _rebuild(["opd_id"])


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _rebuild([])
