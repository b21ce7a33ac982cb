"""EXPLAIN ANALYZE of each scenario's main query (issue 13, item 5).

One request of the scenario runs in process (Flask's test client on the bench database, the page cache
off so the public pages reach their queries); its statements are timed; the slowest SELECT is explained
with its own parameters (`EXPLAIN (ANALYZE, BUFFERS)`, in a transaction that is rolled back). The report
keeps its time, the plan, and every sequential scan of a big table in it: the issue allows none of
`complaint`, `status_event` or `audit_log` on any page.
"""

from __future__ import annotations

import re
import time

BIG_TABLES = ("complaint", "status_event", "audit_log", "answer", "outbox", "complaint_version",
              "summary_complaint_day")
_SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")


def _capture(engine, run) -> tuple[object, list[tuple[float, str, object]]]:
    import sqlalchemy as sa

    captured: list[tuple[float, str, object]] = []

    def before(conn, _cursor, _statement, _params, _context, _many):
        conn.info.setdefault("bench_t0", []).append(time.perf_counter())

    def after(conn, _cursor, statement, params, _context, many):
        started = conn.info["bench_t0"].pop()
        if not many:
            captured.append(((time.perf_counter() - started) * 1000, statement, params))

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        result = run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)
    return result, captured


def explain(engine, statement: str, params) -> list[str]:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
        return [row[0] for row in cursor.fetchall()]
    finally:
        raw.rollback()
        raw.close()


def explain_scenarios(app, scenarios, ctx: dict) -> list[dict]:
    from app.extensions import db

    from .small import FlaskHttp

    with app.app_context():
        engine = db.engine
    rows = []
    for scenario in scenarios:
        http = FlaskHttp(app, https=True)
        row = {"name": scenario.name}
        try:
            client = scenario.setup(http, ctx) if scenario.setup else {}
            scenario.step(http, ctx, client, 0)  # warm-up (per-process caches)
            ok, captured = _capture(engine, lambda: scenario.step(http, ctx, client, 1))
        except Exception as exc:  # noqa: BLE001 - a scenario that cannot run in process is reported, not fatal
            rows.append({**row, "error": f"{exc.__class__.__name__}: {exc}"[:300]})
            continue
        selects = [c for c in captured if c[1].lstrip().upper().startswith(("SELECT", "WITH"))]
        row.update(answered_as_expected=bool(ok), statements=len(captured),
                   statements_ms=round(sum(c[0] for c in captured), 1))
        if selects:
            ms, statement, params = max(selects, key=lambda c: c[0])
            plan = explain(engine, statement, params)
            text = "\n".join(plan)
            row.update(main_ms=round(ms, 1), main_sql=" ".join(statement.split())[:2000], plan=plan,
                       seq_scans=sorted({t for t in _SEQ_SCAN.findall(text) if t in BIG_TABLES}),
                       execution_ms=_execution_ms(text))
        rows.append(row)
    return rows


def _execution_ms(plan_text: str) -> float | None:
    found = re.search(r"Execution Time: ([\d.]+) ms", plan_text)
    return float(found.group(1)) if found else None


def markdown(rows: list[dict]) -> list[str]:
    lines = ["", "Main query per scenario (the slowest SELECT of one request, page cache off; full plans in the "
                 "JSON):", "",
             "| scenario | statements (ms) | main query ms | its execution in EXPLAIN ANALYZE ms | "
             "sequential scan of a big table | plan's top line |", "|---|---|---|---|---|---|"]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['name']} | – | – | – | – | not run in process: {row['error'][:80]} |")
            continue
        top = (row.get("plan") or ["–"])[0].split("  (")[0].strip()
        lines.append(f"| {row['name']} | {row['statements']} ({row['statements_ms']}) | {row.get('main_ms', '–')} | "
                     f"{row.get('execution_ms', '–')} | {', '.join(row.get('seq_scans') or []) or 'none'} | {top} |")
    return lines
