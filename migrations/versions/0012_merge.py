"""Merge the issue 11/12 branches (sessions and sign-in throttle, database invariants, OPD-suggestion models)
into one head.

Revision ID: 0012_merge
Revises: 0009_sessions, 0010_invariants, 0011_routing_model
"""

revision = "0012_merge"
down_revision = ("0009_sessions", "0010_invariants", "0011_routing_model")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
