"""A deliberate override (issue 16, item 7): marking a NIK valid when SIAK said "not found" or "mismatch"
needs a reason, stored with the decision (nik_check.override_reason) and enforced by a CHECK.

Decisions taken before this revision had no reason to give: they are marked with a fixed text rather than
refused, so the CHECK holds for every row and the dashboard still counts them as overrides.

Revision ID: 0017_staff
Revises: 0012_merge
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_staff"
down_revision = "0012_merge"
branch_labels = None
depends_on = None

# Frozen copies (they must not follow later edits of the models).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}
OVERRIDE_CHECK = ("result <> 'valid' OR siak_verdict IS NULL OR siak_verdict NOT IN ('NOT_FOUND', 'MISMATCH') "
                  "OR override_reason IS NOT NULL")
EARLIER = "Diputuskan sebelum alasan wajib dicatat (revisi 0017)."


def upgrade():
    with op.batch_alter_table("nik_check", naming_convention=NAMING_CONVENTION) as batch:
        batch.add_column(sa.Column("override_reason", sa.Text(), nullable=True))
    op.execute(sa.text("UPDATE nik_check SET override_reason = :text WHERE result = 'valid' "
                       "AND siak_verdict IN ('NOT_FOUND', 'MISMATCH')").bindparams(text=EARLIER))
    with op.batch_alter_table("nik_check", naming_convention=NAMING_CONVENTION) as batch:
        batch.create_check_constraint(op.f("ck_nik_check_override_reason"), OVERRIDE_CHECK)


def downgrade():
    with op.batch_alter_table("nik_check", naming_convention=NAMING_CONVENTION) as batch:
        batch.drop_constraint(op.f("ck_nik_check_override_reason"), type_="check")
        batch.drop_column("override_reason")
