"""Merge the feature branches (portal, OPD desk, records, SLA) into one head.

Revision ID: 0008_merge
Revises: 0002_portal, 0004_opd, 0006_records, 0007_sla
"""

revision = "0008_merge"
down_revision = ("0002_portal", "0004_opd", "0006_records", "0007_sla")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
