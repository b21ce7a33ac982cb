"""Issue 13 (speed): the duplicate check of a submission through (nik_hash, submitted_at).

A submission is refused as a duplicate when the same NIK sent the same text within DUPLICATE_WINDOW_MINUTES
(services.complaints._store). With an index on nik_hash alone PostgreSQL chose ix_complaint_submitted and
read every complaint of the window, from every citizen: with 9,391 submitted in the last hour (the bench's)
80 ms per submission, inside the submission's transaction. (nik_hash, submitted_at) reads that NIK's
submissions of the window only; it also serves every look-up by nik_hash alone, which replaces
ix_complaint_nik_hash.

Revision ID: 0032_duplicate_check_index
Revises: 0031_autovacuum
"""

from alembic import op

revision = "0032_duplicate_check_index"
down_revision = "0031_autovacuum"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_complaint_nik_submitted", "complaint", ["nik_hash", "submitted_at"])
    op.drop_index("ix_complaint_nik_hash", table_name="complaint")


def downgrade():
    op.create_index("ix_complaint_nik_hash", "complaint", ["nik_hash"])
    op.drop_index("ix_complaint_nik_submitted", table_name="complaint")
