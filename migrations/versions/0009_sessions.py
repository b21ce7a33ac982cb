"""Sessions that end when they should, and a lockout per account and client address.

- ab_user.session_version: carried in each session and API token; raised on sign-out, password change
  and deactivation, which ends every session and token of the account.
- ab_user.last_lockout_at / attack_seen_at: sign-in bookkeeping (see app/services/security.py).
- sign_in_throttle: failed sign-ins and the lockout per (account, address); replaces the account-wide
  ab_user.locked_until, which let anyone on the internet lock a validator out.

Revision ID: 0009_sessions
Revises: 0008_merge
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_sessions"
down_revision = "0008_merge"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ab_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("last_lockout_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("attack_seen_at", sa.DateTime(), nullable=True))
        batch_op.drop_column("locked_until")
    op.create_table(
        "sign_in_throttle",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=True),
        sa.Column("locked_at", sa.DateTime(), nullable=True),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["ab_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "ip"),
    )


def downgrade():
    op.drop_table("sign_in_throttle")
    with op.batch_alter_table("ab_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
        batch_op.drop_column("attack_seen_at")
        batch_op.drop_column("last_lockout_at")
        batch_op.drop_column("session_version")
