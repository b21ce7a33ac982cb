"""Open311 GeoReport v2 server (issue 15, item 1): the API keys, and the key that delivered a complaint.

- open311_key: one named key per integrating channel, stored as its SHA-256; revoked, never deleted.
- complaint.channel_source (and its Continuum copy): the name of the Open311 key that delivered it.

Revision ID: 0015_open311
Revises: 0012_merge
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_open311"
down_revision = "0012_merge"
branch_labels = None
depends_on = None

# A copy of app.extensions.NAMING_CONVENTION as of this revision (batch mode on SQLite rebuilds the table
# and must see its constraints under these names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}


def upgrade():
    op.create_table(
        "open311_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["ab_user.id"], name=op.f("fk_open311_key_created_by_id"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_key_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_open311_key_name")),
    )
    # A nullable column needs no table rebuild on SQLite (ALTER TABLE … ADD COLUMN).
    op.add_column("complaint", sa.Column("channel_source", sa.String(length=64), nullable=True))
    op.add_column("complaint_version", sa.Column("channel_source", sa.String(length=64), autoincrement=False,
                                                 nullable=True))


def downgrade():
    for table in ("complaint_version", "complaint"):
        with op.batch_alter_table(table, naming_convention=NAMING_CONVENTION) as batch:
            batch.drop_column("channel_source")
    op.drop_table("open311_key")
