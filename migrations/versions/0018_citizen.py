"""Closing the loop with the citizen (issue 17): the complainant's reply to an answer (citizen_reply), the
state "disanggah" (disputed, waiting for the Pimpinan) and the actions "dispute" and "reopen" in the CHECKs.

Revision ID: 0018_citizen
Revises: 0012_merge

Everything below is frozen text: it must not follow later edits of the models.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_citizen"
down_revision = "0012_merge"
branch_labels = None
depends_on = None

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}

OLD_STATES = "'menunggu_verifikasi', 'tidak_valid', 'diteruskan', 'perlu_disposisi', 'dijawab', 'selesai'"
NEW_STATES = OLD_STATES + ", 'disanggah'"
OLD_VALIDATED = "'diteruskan', 'perlu_disposisi', 'dijawab', 'selesai'"
NEW_VALIDATED = OLD_VALIDATED + ", 'disanggah'"
OLD_ANSWERED = "'dijawab', 'selesai'"
NEW_ANSWERED = OLD_ANSWERED + ", 'disanggah'"
OLD_ACTIONS = "'submit', 'validate', 'invalidate', 'answer', 'return', 'reroute', 'close', 'claim'"
NEW_ACTIONS = "'submit', 'validate', 'invalidate', 'answer', 'return', 'reroute', 'close', 'dispute', 'reopen', 'claim'"


def _checks(states, validated, answered, actions):
    return {
        "complaint": [
            ("ck_complaint_state", f"state IN ({states})"),
            ("ck_complaint_published_validated",
             f"published_at IS NULL OR (validated_at IS NOT NULL AND state IN ({validated}))"),
            ("ck_complaint_routed",
             f"state NOT IN ({validated}) OR (routed_at IS NOT NULL AND answer_deadline IS NOT NULL)"),
            ("ck_complaint_answered_at", f"state NOT IN ({answered}) OR answered_at IS NOT NULL"),
        ],
        "status_event": [
            ("ck_status_event_from_state", f"from_state IN ({states})"),
            ("ck_status_event_to_state", f"to_state IN ({states})"),
            ("ck_status_event_action", f"action IN ({actions})"),
        ],
    }


def _replace(checks):
    for table, pairs in checks.items():
        with op.batch_alter_table(table, naming_convention=NAMING_CONVENTION) as batch:
            for name, condition in pairs:
                batch.drop_constraint(op.f(name), type_="check")
                batch.create_check_constraint(op.f(name), condition)


def upgrade():
    _replace(_checks(NEW_STATES, NEW_VALIDATED, NEW_ANSWERED, NEW_ACTIONS))
    op.create_table(
        "citizen_reply",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("complaint_id", sa.Integer(), sa.ForeignKey("complaint.id", ondelete="CASCADE"), nullable=False),
        sa.Column("answer_id", sa.Integer(), sa.ForeignKey("answer.id", ondelete="CASCADE"), nullable=False),
        sa.Column("opd_id", sa.Integer(), sa.ForeignKey("opd.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("public_reason", sa.Text(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("public_comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_citizen_reply_rating")),
        sa.CheckConstraint("accepted OR reason IS NOT NULL", name=op.f("ck_citizen_reply_dispute_reason")),
        sa.UniqueConstraint("answer_id", name=op.f("uq_citizen_reply_answer_id")),
    )
    op.create_index(op.f("ix_citizen_reply_complaint_id"), "citizen_reply", ["complaint_id"])
    op.create_index(op.f("ix_citizen_reply_opd_id"), "citizen_reply", ["opd_id"])
    op.create_index(op.f("ix_citizen_reply_created_at"), "citizen_reply", ["created_at"])


def downgrade():
    op.drop_table("citizen_reply")
    bind = op.get_bind()
    # The old CHECKs would refuse these rows; the timeline is not the migration's to rewrite.
    used = bind.execute(sa.text("SELECT count(*) FROM status_event WHERE action IN ('dispute', 'reopen') "
                                "OR to_state = 'disanggah'")).scalar()
    if used:
        raise RuntimeError(f"Downgrade refused: {used} timeline events of disputes exist.")
    _replace(_checks(OLD_STATES, OLD_VALIDATED, OLD_ANSWERED, OLD_ACTIONS))
