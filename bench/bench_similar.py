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
            print(f"{total:,} complaints; window {similar.WINDOW_DAYS} days, at most {similar.CANDIDATES} candidates")
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
            complaint = db.session.get(Complaint, routed)
            key = similar.text_key(complaint.public_title, complaint.public_text)
            base = similar._base(opd, complaint, similar.utcnow())
            newest = (base.add_columns(similar._key_sql().label("k")).order_by(Complaint.submitted_at.desc())
                      .limit(similar.CANDIDATES).subquery())
            score = sa.func.similarity(newest.c.k, sa.literal(key, sa.Text)).label("s")
            query = (sa.select(newest.c.id, score).where(score >= similar.MIN_SCORE)
                     .order_by(score.desc(), newest.c.id.desc()).limit(similar.SQL_SHORTLIST))
            compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
            print("\nEXPLAIN ANALYZE (OPD desk):")
            for (line,) in db.session.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")):
                print("  " + line)
            db.session.remove()
            db.engine.dispose()
    finally:
        if not args.database and not args.keep:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
