"""Citizens' portal: trigram index for the public text search (PostgreSQL only).

Revision ID: 0002_portal
Revises: 0001
"""

from alembic import op

revision = "0002_portal"
down_revision = "0001"
branch_labels = None
depends_on = None

# Must stay the expression of app.models.PUBLIC_SEARCH_TEXT (the portal's query uses that one).
SEARCH_INDEX = (
    "CREATE INDEX ix_complaint_public_search ON complaint USING gin "
    "(((coalesce(public_title, '') || ' ') || coalesce(public_text, '')) gin_trgm_ops)"
)
# Finer statistics of the indexed expression: the planner's estimate of how common a searched word is
# decides between this index (rare word) and the newest-first index with a filter (common word).
SEARCH_STATISTICS = "ALTER INDEX ix_complaint_public_search ALTER COLUMN 1 SET STATISTICS 1000"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: the search scans; there is no trigram index to build
    # Ships with PostgreSQL (contrib); creating it needs a superuser or a trusted-extension grant.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(SEARCH_INDEX)
    op.execute(SEARCH_STATISTICS)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_complaint_public_search")
    # pg_trgm stays: other objects may use it, and dropping an extension is the DBA's call.
