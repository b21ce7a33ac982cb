"""Set-based generator of a realistic history: N complaints over three years across every OPD and state, with
their status events, routings, answers and history-log rows, in a handful of INSERT … SELECT statements
(PostgreSQL: generate_series; SQLite: a recursive CTE). No ORM row by row.

The rows satisfy the database's CHECK constraints (migration 0010_invariants): a state's timestamps are set
exactly when the state needs them, rahasia complaints are never published, one open routing per complaint.

Shape (by the complaint's number g and its age):
- submitted evenly over three years up to now; 1 in 20 has an invalid NIK (tidak_valid);
- the last day: a quarter still awaits the NIK check; the last two weeks: routed, some returned (perlu
  disposisi), the rest answered; older: closed (selesai) or answered, a few left routed and overdue;
- every complaint: a `submit` event; validated ones a `validate` (or `invalidate`) event and a routing;
  answered ones an answer, an `answer` event, closed ones a `close` event; one history-log row per event.

Staff accounts for the staff scenarios are made through the service (`create_staff`), see STAFF.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

import sqlalchemy as sa

WORDS = ("jalan rusak lampu mati sampah menumpuk air keruh pdam antrean puskesmas sekolah guru bantuan sosial "
         "jembatan banjir drainase pasar pedagang parkir liar izin usaha pelayanan lambat petugas kantor desa "
         "kecamatan pupuk subsidi petani sawah irigasi listrik padam sinyal internet ambulans rumah sakit obat "
         "bpjs kartu keluarga akta kelahiran").split()
RARE_WORD = "kenanga"  # in one complaint of 5,000 (the rare-word search)
BENCH_PIN = "BENCH234"  # every generated complaint's tracking PIN (the tracking scenario)
BENCH_NIK = "3508011203850001"
PASSWORD = "bench-kata-sandi-2026"
STAFF = [("bench.admin", "Admin Sistem", None), ("bench.validator", "Validator", None),
         ("bench.pimpinan", "Pimpinan", None), ("bench.opd", "Admin OPD", "DPUTR")]
SPAN_SECONDS = 3 * 365 * 86400
TEXTS = 97  # distinct bodies; each complaint adds its own numbers


def _numbers(dialect: str) -> str:
    if dialect == "postgresql":
        return "SELECT g FROM generate_series(1, :n) AS s(g)"
    return "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :n) SELECT g FROM s"


def _at(dialect: str, seconds: str) -> str:
    """A timestamp :t0 + `seconds` (an SQL integer expression), as the app stores it on each database."""
    if dialect == "postgresql":
        return f"(CAST(:t0 AS timestamp) + ({seconds}) * interval '1 second')"
    return f"(datetime(:t0, '+' || ({seconds}) || ' seconds') || '.000000')"


def _complaint_sql(dialect: str) -> str:
    sub = "(b.g * :step)"  # seconds after t0
    age = "(:span - b.g * :step)"
    inner_age = "(:span - g * :step)"
    state = f"""CASE WHEN g % 20 = 1 THEN 'tidak_valid'
                     WHEN {inner_age} < 86400 AND g % 4 = 0 THEN 'menunggu_verifikasi'
                     WHEN {inner_age} < 1209600 AND g % 5 IN (0, 1) THEN 'diteruskan'
                     WHEN {inner_age} < 1209600 AND g % 5 = 2 THEN 'perlu_disposisi'
                     WHEN {inner_age} < 1209600 THEN 'dijawab'
                     WHEN g % 50 = 2 THEN 'diteruskan'
                     WHEN g % 50 = 3 THEN 'perlu_disposisi'
                     WHEN g % 3 = 0 THEN 'dijawab'
                     ELSE 'selesai' END"""
    concat_no = "CAST(b.g AS TEXT)"
    return f"""
INSERT INTO complaint (ticket, pin_hash, channel, name, nik_encrypted, nik_hash, phone, opd_id, title, text,
                       public_title, public_text, visibility, state, nik_structural_ok, submitted_at,
                       validation_deadline, validated_at, routed_at, answer_deadline, answered_at, closed_at,
                       published_at, validation_overdue, answer_overdue, version)
SELECT 'BNC-' || {concat_no}, :pin_hash, CASE WHEN b.g % 7 = 0 THEN 'api' ELSE 'web' END,
       'Warga ' || {concat_no}, :nik_encrypted, :nik_hash, '0812-3456-7890',
       o.id, t.title, t.body || ' rt ' || (b.g % 97) || ' no ' || (b.g % 1013)
                   || CASE WHEN b.g % 5000 = 7 THEN ' {RARE_WORD}' ELSE '' END,
       t.title, t.body || ' rt ' || (b.g % 97) || ' no ' || (b.g % 1013)
                   || CASE WHEN b.g % 5000 = 7 THEN ' {RARE_WORD}' ELSE '' END,
       b.visibility, b.state, TRUE, {_at(dialect, sub)},
       {_at(dialect, sub + " + 86400")},
       CASE WHEN b.state <> 'menunggu_verifikasi' THEN {_at(dialect, sub + " + 3 * 3600")} END,
       CASE WHEN b.state NOT IN ('menunggu_verifikasi', 'tidak_valid') THEN {_at(dialect, sub + " + 3 * 3600")} END,
       CASE WHEN b.state NOT IN ('menunggu_verifikasi', 'tidak_valid')
            THEN {_at(dialect, sub + " + 3 * 3600 + 7 * 86400")} END,
       CASE WHEN b.state IN ('dijawab', 'selesai') THEN {_at(dialect, sub + " + 3 * 3600 + (b.g % 9) * 86400")} END,
       CASE WHEN b.state = 'tidak_valid' THEN {_at(dialect, sub + " + 3 * 3600")}
            WHEN b.state IN ('dijawab', 'selesai') THEN {_at(dialect, sub + " + 3 * 3600 + (b.g % 9) * 86400")} END,
       CASE WHEN b.state NOT IN ('menunggu_verifikasi', 'tidak_valid') AND b.visibility <> 'rahasia'
            THEN {_at(dialect, sub + " + 3 * 3600")} END,
       FALSE,
       (b.state IN ('dijawab', 'selesai') AND b.g % 9 > 7) OR (b.state = 'diteruskan' AND {age} > 8 * 86400),
       1
FROM (SELECT g, {state} AS state,
             CASE WHEN g % 20 = 3 THEN 'rahasia' WHEN g % 2 = 0 THEN 'anonim' ELSE 'publik' END AS visibility,
             1 + g % :nopd AS opd_no, g % {TEXTS} AS text_no
      FROM ({_numbers(dialect)}) AS numbers) AS b
JOIN bench_opd AS o ON o.no = b.opd_no
JOIN bench_text AS t ON t.no = b.text_no
"""


# (action, from, to, actor role, actor account, the time column, which complaints)
EVENTS = [
    ("submit", None, "menunggu_verifikasi", "Publik", None, "submitted_at", "TRUE"),
    ("invalidate", "menunggu_verifikasi", "tidak_valid", "Validator", "bench.validator", "validated_at",
     "state = 'tidak_valid'"),
    ("validate", "menunggu_verifikasi", "diteruskan", "Validator", "bench.validator", "validated_at",
     "state NOT IN ('menunggu_verifikasi', 'tidak_valid')"),
    ("return", "diteruskan", "perlu_disposisi", "Admin OPD", "bench.opd", "answer_deadline",
     "state = 'perlu_disposisi'"),
    ("answer", "diteruskan", "dijawab", "Admin OPD", "bench.opd", "answered_at", "state IN ('dijawab', 'selesai')"),
    ("close", "dijawab", "selesai", "Sistem", None, "closed_at", "state = 'selesai'"),
]


def _texts() -> list[dict]:
    rnd = random.Random(13)
    rows = []
    for no in range(TEXTS):
        title = f"Keluhan {rnd.choice(WORDS)} {rnd.choice(WORDS)} di desa {no}"
        body = " ".join(rnd.choice(WORDS) for _ in range(15 + no % 30))
        rows.append({"no": no, "title": title, "body": body})
    return rows


def create_staff_accounts() -> dict[str, int]:
    from app.extensions import db
    from app.services.accounts import create_staff

    ids = {}
    for username, role, opd in STAFF:
        staff = create_staff(username=username, email=f"{username}@bench.go.id", first_name=username.split(".")[-1],
                             last_name="Bench", role=role, password=PASSWORD, opd_code=opd)
        ids[username] = getattr(staff, "id", None) or db.session.scalar(
            sa.text("SELECT id FROM ab_user WHERE username = :u"), {"u": username})
    return ids


def generate(n: int, now) -> dict:
    """Load `n` complaints into the app's database (migrated, OPDs imported). Returns counts and seconds."""
    from app.extensions import db
    from app.services import complaints as complaint_service, summary

    started = time.perf_counter()
    staff = create_staff_accounts()
    conn = db.session.connection()
    dialect = conn.dialect.name
    crypt = complaint_service.cipher()
    t0 = now.replace(microsecond=0) - timedelta(seconds=SPAN_SECONDS)
    step = max(1, SPAN_SECONDS // n)
    conn.execute(sa.text("CREATE TEMPORARY TABLE bench_text (no INTEGER PRIMARY KEY, title TEXT, body TEXT)"))
    conn.execute(sa.text("INSERT INTO bench_text (no, title, body) VALUES (:no, :title, :body)"), _texts())
    conn.execute(sa.text("CREATE TEMPORARY TABLE bench_opd (no INTEGER PRIMARY KEY, id INTEGER)"))
    opd_ids = list(conn.execute(sa.text("SELECT id FROM opd WHERE active ORDER BY id")).scalars())
    conn.execute(sa.text("INSERT INTO bench_opd (no, id) VALUES (:no, :id)"),
                 [{"no": i + 1, "id": opd} for i, opd in enumerate(opd_ids)])
    params = {"n": n, "t0": t0, "step": step, "span": SPAN_SECONDS, "nopd": len(opd_ids),
              "pin_hash": complaint_service.hash_pin(BENCH_PIN), "nik_encrypted": crypt.encrypt(BENCH_NIK),
              "nik_hash": crypt.digest(BENCH_NIK)}
    conn.execute(sa.text(_complaint_sql(dialect)), params)
    for action, source, target, role, account, column, where in EVENTS:
        conn.execute(sa.text(
            f"INSERT INTO status_event (complaint_id, from_state, to_state, action, actor_id, actor_role, opd_id, at, "
            f"note, public) SELECT id, :source, :target, :action, :actor, :role, opd_id, {column}, NULL, TRUE "
            f"FROM complaint WHERE ticket LIKE 'BNC-%' AND {where}"),
            {"source": source, "target": target, "action": action, "role": role,
             "actor": staff.get(account) if account else None})
    conn.execute(sa.text(
        "INSERT INTO routing (complaint_id, opd_id, routed_at, deadline, ended_at, outcome, reason) "
        "SELECT id, opd_id, routed_at, answer_deadline, "
        "CASE WHEN state IN ('dijawab', 'selesai') THEN answered_at "
        "     WHEN state = 'perlu_disposisi' THEN answer_deadline END, "
        "CASE WHEN state IN ('dijawab', 'selesai') THEN 'answered' WHEN state = 'perlu_disposisi' THEN 'returned' END, "
        "CASE WHEN state = 'perlu_disposisi' THEN 'Bukan wewenang OPD ini.' END "
        "FROM complaint WHERE ticket LIKE 'BNC-%' AND routed_at IS NOT NULL"))
    conn.execute(sa.text(
        "INSERT INTO answer (complaint_id, opd_id, author_id, text, public_text, created_at) "
        "SELECT id, opd_id, :author, 'Terima kasih, laporan sudah ditindaklanjuti oleh petugas kami.', "
        "'Terima kasih, laporan sudah ditindaklanjuti oleh petugas kami.', answered_at "
        "FROM complaint WHERE ticket LIKE 'BNC-%' AND state IN ('dijawab', 'selesai')"), {"author": staff["bench.opd"]})
    conn.execute(sa.text(
        "INSERT INTO audit_log (at, kind, action, user_id, username, role, complaint_id, detail) "
        "SELECT e.at, 'action', 'complaint.' || e.action, e.actor_id, u.username, e.actor_role, e.complaint_id, NULL "
        "FROM status_event AS e LEFT JOIN ab_user AS u ON u.id = e.actor_id "
        "JOIN complaint AS c ON c.id = e.complaint_id WHERE c.ticket LIKE 'BNC-%'"))
    conn.execute(sa.text("DROP TABLE bench_text"))
    conn.execute(sa.text("DROP TABLE bench_opd"))
    summary.rebuild()  # the supervisors' summary table, set-based, as `flask summary rebuild`
    db.session.commit()
    tables = ("complaint", "status_event", "routing", "answer", "audit_log", "summary_complaint_day")
    if dialect == "postgresql":
        # As autovacuum leaves a running database (PostgreSQL 13+ vacuums after inserts too): statistics and
        # a visibility map, so index-only scans do not visit the heap of rows loaded a moment ago.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as maintenance:
            for table in tables:
                maintenance.execute(sa.text(f"VACUUM (ANALYZE) {table}"))
    else:
        for table in tables:
            db.session.execute(sa.text(f"ANALYZE {table}"))
        db.session.commit()
    counts = {table: db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
              for table in ("complaint", "status_event", "routing", "answer", "audit_log")}
    return {"counts": counts, "seconds": round(time.perf_counter() - started, 1), "opds": len(opd_ids)}
