"""Issue 13, public side: the statistics snapshot the scheduler stores (both databases), and whole-word
search through a tsvector GIN index beside the trigram one (PostgreSQL only).

- `public_statistics`: one row per year, the figures as JSON with the time they were computed
  (services.portal.store_statistics; the page reads the row and never the complaints);
- `ix_complaint_public_words`: GIN over to_tsvector('simple', public title + text), the same expression as
  app.models.PUBLIC_SEARCH_WORDS, so the portal's whole-word query uses it. Only the public renderings are
  indexed: a word that was masked out of a complaint (or a rahasia complaint's text) is never in it.

Revision ID: 0025_search
Revises: 0020_merge
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_search"
down_revision = "0020_merge"
branch_labels = None
depends_on = None

# Must stay the expression of app.models.PUBLIC_SEARCH_WORDS (the portal's query uses that one).
WORDS_INDEX = (
    "CREATE INDEX ix_complaint_public_words ON complaint USING gin "
    "(to_tsvector('simple'::regconfig, ((coalesce(public_title, '') || ' ') || coalesce(public_text, ''))))"
)


def upgrade():
    op.create_table(
        "public_statistics",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_public_statistics"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(WORDS_INDEX)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_complaint_public_words")
    op.drop_table("public_statistics")
