"""Issue 13 (speed): the dashboard's twelve-month trend from the summary's index alone.

The trend sums received, answered and flagged per day over a year of `summary_complaint_day` (a third of its
195,017 rows at 1,000,000 complaints), optionally for one OPD. Without an index that carries the three
figures PostgreSQL read the table in a parallel sequential scan: 35–39 ms. (day, opd_id) carrying them
(`INCLUDE`) is an index-only scan: 13 ms. The summary's updates were hardly ever HOT before (4,926 of
280,972), so the index adds one entry per update and takes none away. SQLite has no INCLUDE: there the
index is (day, opd_id) alone, which its small tables do not need but keeps one schema.

Revision ID: 0033_summary_trend_index
Revises: 0032_duplicate_check_index
"""

from alembic import op

revision = "0033_summary_trend_index"
down_revision = "0032_duplicate_check_index"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_summary_day_trend", "summary_complaint_day", ["day", "opd_id"],
                    postgresql_include=["received", "answered", "flagged"])


def downgrade():
    op.drop_index("ix_summary_day_trend", table_name="summary_complaint_day")
