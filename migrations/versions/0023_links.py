"""Similar complaints and "the same problem" (issue 18, parts 2 and 3): complaint.linked_to_id (the earlier
complaint whose answer answers this one), answer.main_answer_id (the main complaint's answer a linked one
copies), the actions "link" and "unlink" in the timeline's CHECK, and the index of the similar-complaints
look-up (one OPD's complaints of the last 90 days: services.similar).

Revision ID: 0023_links
Revises: 0020_merge

Everything below is frozen text: it must not follow later edits of the models.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_links"
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
OLD_ACTIONS = "'submit', 'validate', 'invalidate', 'answer', 'return', 'reroute', 'close', 'dispute', 'reopen', 'claim'"
NEW_ACTIONS = OLD_ACTIONS + ", 'link', 'unlink'"


def _actions(actions: str) -> None:
    with op.batch_alter_table("status_event", naming_convention=NAMING_CONVENTION) as batch:
        batch.drop_constraint(op.f("ck_status_event_action"), type_="check")
        batch.create_check_constraint(op.f("ck_status_event_action"), f"action IN ({actions})")


def upgrade():
    with op.batch_alter_table("complaint", naming_convention=NAMING_CONVENTION) as batch:
        batch.add_column(sa.Column("linked_to_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_complaint_linked_to_id"), "complaint", ["linked_to_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_index(op.f("ix_complaint_linked_to_id"), ["linked_to_id"])
        batch.create_index("ix_complaint_similar", ["opd_id", "submitted_at"])
    op.add_column("complaint_version", sa.Column("linked_to_id", sa.Integer(), autoincrement=False, nullable=True))
    op.create_index(op.f("ix_complaint_version_linked_to_id"), "complaint_version", ["linked_to_id"])
    with op.batch_alter_table("answer", naming_convention=NAMING_CONVENTION) as batch:
        batch.add_column(sa.Column("main_answer_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_answer_main_answer_id"), "answer", ["main_answer_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_index(op.f("ix_answer_main_answer_id"), ["main_answer_id"])
    op.add_column("answer_version", sa.Column("main_answer_id", sa.Integer(), autoincrement=False, nullable=True))
    op.create_index(op.f("ix_answer_version_main_answer_id"), "answer_version", ["main_answer_id"])
    _actions(NEW_ACTIONS)


def downgrade():
    bind = op.get_bind()
    used = bind.execute(sa.text("SELECT count(*) FROM status_event WHERE action IN ('link', 'unlink')")).scalar()
    if used:
        raise RuntimeError(f"Downgrade refused: {used} timeline events of linked complaints exist.")
    _actions(OLD_ACTIONS)
    for table, column in (("answer_version", "main_answer_id"), ("complaint_version", "linked_to_id")):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
        with op.batch_alter_table(table, naming_convention=NAMING_CONVENTION) as batch:
            batch.drop_column(column)
    with op.batch_alter_table("answer", naming_convention=NAMING_CONVENTION) as batch:
        batch.drop_index(op.f("ix_answer_main_answer_id"))
        batch.drop_constraint(op.f("fk_answer_main_answer_id"), type_="foreignkey")
        batch.drop_column("main_answer_id")
    with op.batch_alter_table("complaint", naming_convention=NAMING_CONVENTION) as batch:
        batch.drop_index("ix_complaint_similar")
        batch.drop_index(op.f("ix_complaint_linked_to_id"))
        batch.drop_constraint(op.f("fk_complaint_linked_to_id"), type_="foreignkey")
        batch.drop_column("linked_to_id")
