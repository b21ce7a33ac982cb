"""Similar complaints at scale (issue 18): the time of `services.similar.similar_to` on PostgreSQL.

Seeds N complaints with bench/generate.py into a scratch database (or reuses one with --database, e.g. one
kept by an earlier run), migrates it to the head, and times the look-up of the OPD desk (Admin OPD of DPUTR)
and of the validator's check page (a complaint still awaiting the NIK check), median and worst of --runs
runs each, then prints EXPLAIN ANALYZE of the PostgreSQL query. Target: under 100 ms at 1,000,000.

    .venv/bin/python -m bench.bench_similar --n 1000000               # seeds, measures, drops
    .venv/bin/python -m bench.bench_similar --database bench_similar  # an existing, seeded database
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
import uuid


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL",
                                                        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--database", help="an existing seeded database on the server (kept)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--sample", type=int, default=30, help="complaints of several OPDs timed (p50/p95)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    import sqlalchemy as sa
    from cryptography.fernet import Fernet

    server = sa.engine.make_url(args.url).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = args.database or f"lpo_bench_similar_{uuid.uuid4().hex[:8]}"
    if not args.database:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    instance = tempfile.mkdtemp(prefix="lpo-bench-similar-")
    os.environ.update({"APP_MODE": "production", "DATABASE_URL": url, "INSTANCE_DIR": instance,
                       "SECRET_KEY": secrets.token_urlsafe(48),
                       "NIK_HMAC_KEY": os.environ.get("NIK_HMAC_KEY", "bench-similar-hmac-key-0123456789abcdef"),
                       "NIK_ENCRYPTION_KEY": os.environ.get("NIK_ENCRYPTION_KEY", Fernet.generate_key().decode()),
                       "RATELIMIT_ENABLED": "false", "SIAK_MODE": "fake",
                       "UPLOAD_DIR": os.path.join(instance, "uploads")})
    try:
        from flask_migrate import upgrade

        from app import create_app
        from app.extensions import db
        from app.models import Complaint, Staff
        from app.services import Actor, similar
        from app.workflow import State

        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            if not args.database:
                from .small import prepare

                db.session.remove()
                print(prepare(app, args.n)["loaded"], flush=True)
            upgrade(directory=app.extensions["migrate"].directory, revision="heads")
            db.session.execute(sa.text("ANALYZE complaint"))
            db.session.commit()
            total = db.session.scalar(sa.text("SELECT count(*) FROM complaint"))

            def actor(username):
                return Actor.from_user(db.session.scalar(sa.select(Staff).where(Staff.username == username)))

            opd = actor("bench.opd")
            routed = db.session.scalar(sa.select(Complaint.id).where(
                Complaint.opd_id == opd.opd_id, Complaint.state == State.DITERUSKAN)
                .order_by(Complaint.submitted_at.desc()).limit(1))
            waiting = db.session.scalar(sa.select(Complaint.id).where(Complaint.state == State.MENUNGGU_VERIFIKASI)
                                        .order_by(Complaint.submitted_at.desc()).limit(1))
            print(f"{total:,} complaints; window {similar.WINDOW_DAYS} days, shortlist {similar.SQL_SHORTLIST}")
            for label, cid, who in (("OPD desk (Admin OPD DPUTR)", routed, opd),
                                    ("validator's check page", waiting, actor("bench.validator"))):
                if cid is None:
                    print(f"{label}: no complaint to read")
                    continue
                try:
                    found = similar.similar_to(cid, who)  # warm-up
                except Exception as exc:  # noqa: BLE001 - a bench reports and goes on
                    print(f"{label}: {exc.__class__.__name__}: {exc}")
                    db.session.rollback()
                    continue
                times = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    similar.similar_to(cid, who)
                    times.append((time.perf_counter() - started) * 1000)
                    db.session.rollback()
                print(f"{label}: median {statistics.median(times):.1f} ms, worst {max(times):.1f} ms, "
                      f"{len(found)} found, best {found[0].score if found else '-'}")
            print(f"{args.sample} complaints of several OPDs (each its OPD's desk): "
                  + sample(db, similar, Complaint, State, opd, args.sample), flush=True)
            complaint = db.session.get(Complaint, routed)
            key = similar.text_key(complaint.public_title, complaint.public_text)
            query = similar.postgresql_query(similar._base(opd, complaint, similar.utcnow()), key)
            db.session.execute(sa.select(sa.func.set_config("pg_trgm.similarity_threshold", str(similar.MIN_SCORE),
                                                            True)))
            compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
            print("\nEXPLAIN ANALYZE (OPD desk):")
            # (compiled for psycopg: the `%` operator is written `%%`, which the driver reads as `%`)
            explain = f"EXPLAIN (ANALYZE, BUFFERS) {compiled}"
            for (line,) in db.session.connection().exec_driver_sql(explain):
                print("  " + line)
            db.session.remove()
            db.engine.dispose()
    finally:
        if not args.database and not args.keep:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0


def sample(db, similar, Complaint, State, desk, n: int) -> str:
    """p50/p95 of `similar_to` over `n` recent routed complaints taken round-robin from the OPDs, each read
    by an Admin OPD of its own OPD (`desk` with that OPD)."""
    import dataclasses

    import sqlalchemy as sa

    ranked = (sa.select(Complaint.id, sa.func.row_number().over(
        partition_by=Complaint.opd_id, order_by=Complaint.submitted_at.desc()).label("r"))
        .where(Complaint.state == State.DITERUSKAN, Complaint.opd_id.is_not(None)).subquery())
    ids = list(db.session.scalars(sa.select(ranked.c.id).where(ranked.c.r <= 5)
                                  .order_by(ranked.c.r, ranked.c.id).limit(n)))
    times = []
    for cid in ids:
        who = dataclasses.replace(desk, opd_id=db.session.get(Complaint, cid).opd_id)
        similar.similar_to(cid, who)  # warm-up
        db.session.rollback()
        started = time.perf_counter()
        similar.similar_to(cid, who)
        times.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    if not times:
        return "none"
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return f"p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, worst {times[-1]:.1f} ms"


if __name__ == "__main__":
    raise SystemExit(main())
