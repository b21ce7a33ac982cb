"""Merge the branches of the second round of issues 13-18 into one head.

Revision ID: 0026_merge
Revises: 0021_citizen_dispatch, 0023_links, 0024_summaries, 0025_search
"""

revision = "0026_merge"
down_revision = ("0021_citizen_dispatch", "0023_links", "0024_summaries", "0025_search")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
