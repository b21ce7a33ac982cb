"""OPD suggestion: each OPD's duties and keywords (the cold start), and the versioned trained models.

Revision ID: 0011_routing_model
Revises: 0008_merge
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_routing_model"
down_revision = "0008_merge"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("opd") as batch:
        batch.add_column(sa.Column("duties", sa.Text(), nullable=True))
        batch.add_column(sa.Column("keywords", sa.Text(), nullable=True))
    op.create_table(
        "routing_model",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False, unique=True),
        sa.Column("trained_at", sa.DateTime(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("returns", sa.Integer(), nullable=False),
        sa.Column("cold_documents", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
    )


def downgrade():
    op.drop_table("routing_model")
    with op.batch_alter_table("opd") as batch:
        batch.drop_column("keywords")
        batch.drop_column("duties")
