"""The supervisors' figures from summaries (issue 13): `summary_complaint_day` (per WIB day × current OPD ×
state × visibility × channel, kept by app/services/summary.py in the transaction of each change), filled
here from the complaints already stored; and indexes for the recap's remaining live filters (deadlines,
closes by silence).

Revision ID: 0024_summaries
Revises: 0020_merge

Everything below is frozen text: it must not follow later edits of the models or of the service.
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_summaries"
down_revision = "0020_merge"
branch_labels = None
depends_on = None

METRICS = ("received", "flagged", "checked", "valid", "invalid", "checked_in_time", "check_seconds", "routed",
           "answered", "answered_in_time", "answer_timed", "answer_seconds")
INDEXES = [("ix_complaint_validation_deadline", "complaint", ["validation_deadline"]),
           ("ix_complaint_answer_deadline", "complaint", ["answer_deadline"]),
           ("ix_status_event_action_at", "status_event", ["action", "at"])]


def _backfill(dialect: str) -> str:
    if dialect == "postgresql":
        def day(column):
            return f"CAST({column} + interval '7 hours' AS DATE)"

        def seconds(start, end):
            return f"(EXTRACT(epoch FROM {end}) - EXTRACT(epoch FROM {start}))"
    else:
        def day(column):
            return f"date({column}, '+7 hours')"

        def seconds(start, end):
            return f"((julianday({end}) - julianday({start})) * 86400.0)"
    dims = "COALESCE(opd_id, 0) AS opd_id, CAST(state AS VARCHAR(32)) AS state, " \
           "CAST(visibility AS VARCHAR(16)) AS visibility, CAST(channel AS VARCHAR(16)) AS channel"

    def part(day_column, **values):
        columns = ", ".join(f"{values.get(m, '0')} AS {m}" for m in METRICS)
        return f"SELECT {day(day_column)} AS day, {dims}, {columns} FROM complaint WHERE {day_column} IS NOT NULL"

    flagged = "CASE WHEN validation_overdue OR answer_overdue THEN 1 ELSE 0 END"
    parts = " UNION ALL ".join([
        part("submitted_at", received="1", flagged=flagged),
        part("validated_at", checked="1", valid="CASE WHEN state <> 'tidak_valid' THEN 1 ELSE 0 END",
             invalid="CASE WHEN state = 'tidak_valid' THEN 1 ELSE 0 END",
             checked_in_time="CASE WHEN validated_at <= validation_deadline THEN 1 ELSE 0 END",
             check_seconds=seconds("submitted_at", "validated_at")),
        part("routed_at", routed="1"),
        part("answered_at", answered="1",
             answered_in_time="CASE WHEN answered_at <= answer_deadline THEN 1 ELSE 0 END",
             answer_timed="CASE WHEN routed_at IS NOT NULL THEN 1 ELSE 0 END",
             answer_seconds=f"COALESCE({seconds('routed_at', 'answered_at')}, 0)"),
    ])
    key = "day, opd_id, state, visibility, channel"
    sums = ", ".join(f"SUM({m})" for m in METRICS)
    return (f"INSERT INTO summary_complaint_day ({key}, {', '.join(METRICS)}) "
            f"SELECT {key}, {sums} FROM ({parts}) AS p GROUP BY {key}")


def upgrade():
    columns = [sa.Column("day", sa.Date, nullable=False), sa.Column("opd_id", sa.Integer, nullable=False),
               sa.Column("state", sa.String(32), nullable=False), sa.Column("visibility", sa.String(16), nullable=False),
               sa.Column("channel", sa.String(16), nullable=False)]
    for name in METRICS:
        kind = sa.Float if name.endswith("seconds") else sa.Integer
        columns.append(sa.Column(name, kind, nullable=False, server_default="0"))
    op.create_table("summary_complaint_day", *columns,
                    sa.PrimaryKeyConstraint("day", "opd_id", "state", "visibility", "channel",
                                            name="pk_summary_complaint_day"))
    for name, table, cols in INDEXES:
        op.create_index(name, table, cols)
    op.execute(_backfill(op.get_bind().dialect.name))


def downgrade():
    for name, table, _cols in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_table("summary_complaint_day")
