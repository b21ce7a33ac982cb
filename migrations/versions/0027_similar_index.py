"""Issue 18, part 2 (speed): similar complaints from a GiST trigram index (PostgreSQL only; SQLite no-op).

`ix_complaint_similar_text`: GiST over (opd_id, submitted_at, the bounded public title + text with
gist_trgm_ops), the same expression as app.models.SIMILAR_KEY, so services.similar asks the index for the
nearest texts (`ORDER BY key <-> :q`) among one OPD's complaints of the window: the index holds every
complaint's trigrams, and similarity() is no longer computed again for each candidate. btree_gist gives the
GiST operator classes for the integer and timestamp columns (a trusted extension since PostgreSQL 13).

Revision ID: 0027_similar_index
Revises: 0026_merge
"""

from alembic import op

revision = "0027_similar_index"
down_revision = "0026_merge"
branch_labels = None
depends_on = None

# Must stay the expression of app.models.SIMILAR_KEY (services.similar's query uses that one).
SIMILAR_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_complaint_similar_text ON complaint USING gist "
    "(opd_id, submitted_at, "
    "(substr((coalesce(public_title, '') || ' ') || coalesce(public_text, ''), 1, 1000)) gist_trgm_ops)"
)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(SIMILAR_INDEX)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_complaint_similar_text")
    # btree_gist and pg_trgm stay: other objects may use them, and dropping an extension is the DBA's call.
