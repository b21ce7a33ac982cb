"""`make bench-small`: every scenario on SQLite with 20,000 generated complaints, in process (Flask's test
client), in well under five minutes.

It counts the SQL statements each scenario's request makes (a SQLAlchemy `before_cursor_execute` listener)
and compares them with `bench/query_counts.json`: more statements than recorded fails (a query-count
regression: an N+1, a lost cache); fewer is reported so the file can be lowered with `--update`. Timings are
printed for a person to read and never fail the run.

    .venv/bin/python -m bench.small [--n 20000] [--runs 15] [--update]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COUNTS = Path(__file__).resolve().parent / "query_counts.json"


class FlaskHttp:
    """The scenarios' Http over Flask's test client; `https=True` as production's Secure cookies need, with the
    Referer Flask-WTF checks on an https POST (WTF_CSRF_SSL_STRICT), as a browser sends it."""

    def __init__(self, app, https: bool = False):
        self.client = app.test_client()
        self.base = {"base_url": "https://localhost"} if https else {}
        self.referer = {"Referer": "https://localhost/"} if https else {}

    def get(self, path, headers=None):
        response = self.client.get(path, headers=headers or {}, **self.base)
        return response.status_code, response.get_data().decode("utf-8", "replace")

    def post(self, path, data, json=False):
        body = {"json": data} if json else {"data": data}
        response = self.client.post(path, headers=self.referer, **self.base, **body)
        return response.status_code, response.get_data().decode("utf-8", "replace")


def build(url: str):
    os.environ.setdefault("APP_MODE", "test")
    os.environ.setdefault("INSTANCE_DIR", tempfile.mkdtemp(prefix="lpo-bench-"))
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "SIAK_MODE": "fake",
                       "UPLOAD_DIR": os.path.join(os.environ["INSTANCE_DIR"], "uploads")})


def prepare(app, n: int) -> dict:
    from flask_migrate import upgrade

    from app.extensions import db
    from app.services.accounts import import_opds, sync_permissions
    from app.timeutil import utcnow

    from .generate import generate
    from .scenarios import context

    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        sync_permissions()
        import_opds(None)
        db.session.commit()
        loaded = generate(n, utcnow())
        # The nightly model a regency with this history has (the scheduler's routing_train job): the desks'
        # OPD suggestions load it, as in production, instead of each worker training a cold start.
        from app.services.routing import train_and_store

        loaded["routing_model_seconds"] = train_and_store().seconds
        ctx = context()
        db.session.remove()
    return {"loaded": loaded, "ctx": ctx}


def measure(app, scenario, ctx: dict, runs: int, show: bool = False) -> dict:
    import sqlalchemy as sa

    from app.extensions import db

    http = FlaskHttp(app)
    client = scenario.setup(http, ctx) if scenario.setup else {}
    if not scenario.step(http, ctx, client, 0):  # the warm-up request (fills per-process caches)
        raise RuntimeError(f"{scenario.name}: the first request did not answer as expected")
    with app.app_context():
        engine = db.engine
    count = [0]

    def on_execute(_conn, _cursor, statement, *_args, **_kwargs):
        count[0] += 1
        if show:
            print(f"  [{scenario.name}] {' '.join(statement.split())[:300]}")

    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        ok = scenario.step(http, ctx, client, 1)
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
    if not ok:
        raise RuntimeError(f"{scenario.name}: the counted request did not answer as expected")
    samples = []
    for i in range(runs):
        start = time.perf_counter()
        ok = scenario.step(http, ctx, client, i + 2)
        samples.append((time.perf_counter() - start) * 1000)
        if not ok:
            raise RuntimeError(f"{scenario.name}: request {i + 2} did not answer as expected")
    samples.sort()
    return {"queries": count[0], "p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.95))], 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--show", help="print the SQL of the scenarios whose name contains this")
    parser.add_argument("--update", action="store_true", help="write the measured counts to query_counts.json")
    args = parser.parse_args(argv)

    from .scenarios import all_scenarios

    started = time.perf_counter()
    folder = tempfile.mkdtemp(prefix="lpo-bench-small-")
    app = build(f"sqlite:///{folder}/bench.db")
    prepared = prepare(app, args.n)
    print(f"loaded {prepared['loaded']['counts']} in {prepared['loaded']['seconds']} s")
    expected = json.loads(COUNTS.read_text()) if COUNTS.exists() else {}
    results, failures = {}, []
    for scenario in all_scenarios():
        got = measure(app, scenario, prepared["ctx"], args.runs,
                      show=bool(args.show) and args.show in scenario.name)
        results[scenario.name] = got
        limit = expected.get(scenario.name)
        if limit is None:
            verdict = "new"
            if not args.update:
                failures.append(f"{scenario.name}: no recorded query count (run with --update)")
        elif got["queries"] > limit:
            verdict = f"REGRESSION (> {limit})"
            failures.append(f"{scenario.name}: {got['queries']} SQL statements, recorded {limit}")
        elif got["queries"] < limit:
            verdict = f"fewer (was {limit})"
        else:
            verdict = "ok"
        results[scenario.name]["verdict"] = verdict
    width = max(len(name) for name in results)
    print(f"\n| {'scenario':<{width}} | queries | p50 ms | p95 ms | query count |")
    print(f"|{'-' * (width + 2)}|---------|--------|--------|-------------|")
    for name, got in results.items():
        print(f"| {name:<{width}} | {got['queries']:>7} | {got['p50_ms']:>6} | {got['p95_ms']:>6} | {got['verdict']} |")
    print(f"\nSQLite, {args.n:,} complaints, {time.perf_counter() - started:.0f} s in all (timings never fail the run)")
    if args.update:
        COUNTS.write_text(json.dumps({k: v["queries"] for k, v in results.items()}, indent=2,
                                     ensure_ascii=False) + "\n")
        print(f"wrote {COUNTS.relative_to(ROOT)}")
        return 0
    for failure in failures:
        print("FAIL:", failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
