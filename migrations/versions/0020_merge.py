"""Merge the branches of issues 13-19 into one head.

Revision ID: 0020_merge
Revises: 0013_perf, 0014_reliability, 0015_open311, 0016_lapor, 0017_staff, 0018_citizen, 0019_deploy
"""

revision = "0020_merge"
down_revision = ("0013_perf", "0014_reliability", "0015_open311", "0016_lapor", "0017_staff", "0018_citizen", "0019_deploy",)
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
