"""Issue 13 (speed): room on complaint's pages for HOT updates (fillfactor 85).

The scheduler's bulk flag changes (overdue flags, reminder times) touch no indexed column, but with full
pages PostgreSQL writes every such row to a new page and updates all 23 of complaint's indexes (GIN and
GiST text indexes among them): 24,705 overdue flags took 4.6 s at 1,000,000 complaints, 266 of 99,142
updates were HOT. With free room on each page the row stays on its page and no index is touched.

It applies to pages written from now on; an existing table gets it on its next rewrite (`VACUUM FULL
complaint` or pg_repack, in a maintenance window). PostgreSQL only.

Revision ID: 0029_complaint_fillfactor
Revises: 0028_dispatch_index
"""

from alembic import op

revision = "0029_complaint_fillfactor"
down_revision = "0028_dispatch_index"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE complaint SET (fillfactor = 85)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE complaint RESET (fillfactor)")
