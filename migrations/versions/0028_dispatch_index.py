"""Issue 13 (speed): the dashboard's dispatch figures without a sequential scan of status_event.

`ix_status_event_to_state_at` on (to_state, at): the waits that began in a period are the events into the
dispatch queue in that period, an index range instead of every event of every complaint (at 1,000,000
complaints the dashboard spent 0.7 s of its 1.2 s there). A plain index rather than a partial one: the
query's state is a bound parameter, which a partial index's predicate cannot match in a generic plan.

Revision ID: 0028_dispatch_index
Revises: 0027_similar_index
"""

from alembic import op

revision = "0028_dispatch_index"
down_revision = "0027_similar_index"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_status_event_to_state_at", "status_event", ["to_state", "at"], if_not_exists=True)


def downgrade():
    op.drop_index("ix_status_event_to_state_at", table_name="status_event", if_exists=True)
