""""Saya tidak tahu OPD-nya" and the notices the citizen chooses (issue 17, items 2 and 5): a complaint may
have no OPD until it is dispatched (complaint.opd_id nullable; a validated complaint waiting in the dispatch
queue without an OPD has no routing yet), and the complainant's choice of notices (notify_email,
notify_phone; old rows keep today's behaviour: both on).

Revision ID: 0021_citizen_dispatch
Revises: 0020_merge

Everything below is frozen text: it must not follow later edits of the models.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_citizen_dispatch"
down_revision = "0020_merge"
branch_labels = None
depends_on = None

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}

VALIDATED = "'diteruskan', 'perlu_disposisi', 'dijawab', 'selesai', 'disanggah'"
OLD_ROUTED = f"state NOT IN ({VALIDATED}) OR (routed_at IS NOT NULL AND answer_deadline IS NOT NULL)"
NEW_ROUTED = (f"state NOT IN ({VALIDATED}) OR (routed_at IS NOT NULL AND answer_deadline IS NOT NULL) "
              "OR (state = 'perlu_disposisi' AND opd_id IS NULL)")
OPD_HELD = "opd_id IS NOT NULL OR state IN ('menunggu_verifikasi', 'tidak_valid', 'perlu_disposisi')"


def upgrade():
    with op.batch_alter_table("complaint", naming_convention=NAMING_CONVENTION) as batch:
        batch.alter_column("opd_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("notify_email", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("notify_phone", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.drop_constraint(op.f("ck_complaint_routed"), type_="check")
        batch.create_check_constraint(op.f("ck_complaint_routed"), NEW_ROUTED)
        batch.create_check_constraint(op.f("ck_complaint_opd_held"), OPD_HELD)


def downgrade():
    bind = op.get_bind()
    # The old schema cannot hold a complaint without an OPD; the migration does not invent one.
    waiting = bind.execute(sa.text("SELECT count(*) FROM complaint WHERE opd_id IS NULL")).scalar()
    if waiting:
        raise RuntimeError(f"Downgrade refused: {waiting} complaints have no OPD yet (dispatch queue).")
    with op.batch_alter_table("complaint", naming_convention=NAMING_CONVENTION) as batch:
        batch.drop_constraint(op.f("ck_complaint_opd_held"), type_="check")
        batch.drop_constraint(op.f("ck_complaint_routed"), type_="check")
        batch.create_check_constraint(op.f("ck_complaint_routed"), OLD_ROUTED)
        batch.drop_column("notify_phone")
        batch.drop_column("notify_email")
        batch.alter_column("opd_id", existing_type=sa.Integer(), nullable=False)
