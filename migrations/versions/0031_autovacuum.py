"""Issue 13 (speed): autovacuum early enough on the tables the supervisors' pages read from their indexes alone.

The dashboard's overdue counts and open dispatch waits are index-only scans; they stay index-only while the
visibility map says the heap pages are all-visible. Every update clears its page's bit, and PostgreSQL's
default waits for 20% of a table to be dead (200,000 rows at 1,000,000 complaints) before vacuuming it.
Measured at 1,000,000 complaints after one catch-up sweep (24,708 flags): the dashboard's SQL went from 75
to 254 ms (the overdue count per OPD 3 → 70 ms, the open waits 17 → 65 ms) until a VACUUM. With these
settings autovacuum runs after about 1% of a table has changed: complaint and the summary table are
updated all day; status_event and routing are appended to (the insert threshold, PostgreSQL 13+).

PostgreSQL only; the numbers are per table storage parameters, changed later with ALTER TABLE … SET.

Revision ID: 0031_autovacuum
Revises: 0030_overdue_opd_index
"""

from alembic import op

revision = "0031_autovacuum"
down_revision = "0030_overdue_opd_index"
branch_labels = None
depends_on = None

SETTINGS = {
    "complaint": {"autovacuum_vacuum_scale_factor": 0.01, "autovacuum_analyze_scale_factor": 0.02,
                  "autovacuum_vacuum_insert_scale_factor": 0.01},
    "summary_complaint_day": {"autovacuum_vacuum_scale_factor": 0.02, "autovacuum_analyze_scale_factor": 0.05},
    "status_event": {"autovacuum_vacuum_insert_scale_factor": 0.01, "autovacuum_analyze_scale_factor": 0.02},
    "routing": {"autovacuum_vacuum_scale_factor": 0.01, "autovacuum_vacuum_insert_scale_factor": 0.01,
                "autovacuum_analyze_scale_factor": 0.02},
}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, settings in SETTINGS.items():
        values = ", ".join(f"{name} = {value}" for name, value in settings.items())
        op.execute(f"ALTER TABLE {table} SET ({values})")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, settings in SETTINGS.items():
        op.execute(f"ALTER TABLE {table} RESET ({', '.join(settings)})")
