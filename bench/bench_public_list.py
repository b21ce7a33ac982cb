"""Benchmark of the public complaint list (/pengaduan/): keyset page vs OFFSET page + count(*).

Seeds N complaints (default 200,000) into a fresh PostgreSQL database with one set-based
INSERT … SELECT generate_series, then times, with the portal's own query (app/services/portal.py):

- the first page and a page deep in the list (90 % of the way) with the keyset cursor;
- the same deep page the usual way: OFFSET plus a count(*) of the whole filtered list (what FAB list
  pages do, FAB-NOTES #15);
- a filtered page (one OPD), a text search (common and rare word) and the statistics page's query.

Prints the median of several runs and the ratio OFFSET+count / keyset. Not part of the test suite.
Usage (see bench/README.md):
    .venv/bin/python bench/bench_public_list.py [N] [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("APP_MODE", "test")
os.environ.setdefault("INSTANCE_DIR", tempfile.mkdtemp(prefix="lpo-bench-"))

import sqlalchemy as sa  # noqa: E402

WORDS = ("jalan rusak lampu mati sampah menumpuk air keruh pdam antrean puskesmas sekolah guru bantuan sosial "
         "jembatan banjir drainase pasar pedagang parkir liar izin usaha pelayanan lambat petugas kantor desa "
         "kecamatan pupuk subsidi petani sawah irigasi listrik padam sinyal internet ambulans rumah sakit obat "
         "bpjs kartu keluarga akta kelahiran").split()

SEED = """
WITH o AS (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n FROM opd),
     w AS (SELECT CAST(:words AS text[]) AS words, CAST(:nwords AS int) AS n),
     base AS (
       SELECT g,
              CAST(:now AS timestamp) - (:n - g) * interval '2 minutes' AS submitted,
              CASE WHEN g % 10 = 0 THEN 'menunggu_verifikasi'
                   WHEN g % 10 = 1 THEN 'tidak_valid'
                   WHEN g % 3 = 0 THEN 'diteruskan'
                   WHEN g % 3 = 1 THEN 'dijawab'
                   ELSE 'selesai' END AS state,
              CASE WHEN g % 20 = 3 THEN 'rahasia' WHEN g % 2 = 0 THEN 'anonim' ELSE 'publik' END AS visibility
       FROM generate_series(1, :n) AS g)
INSERT INTO complaint (ticket, pin_hash, channel, name, nik_encrypted, nik_hash, phone, opd_id, title, text,
                       public_title, public_text, visibility, state, nik_structural_ok, submitted_at,
                       validation_deadline, validated_at, routed_at, answer_deadline, answered_at, closed_at,
                       published_at, validation_overdue, answer_overdue, version)
SELECT 'BNC-' || lpad(g::text, 9, '0'), 'x', 'web', 'Warga ' || g, 'x', md5(g::text), '0812',
       o.ids[1 + g % o.n],
       t.title, t.body, t.title, t.body,
       b.visibility, b.state, true, b.submitted,
       b.submitted + interval '24 hours',
       CASE WHEN b.state <> 'menunggu_verifikasi' THEN b.submitted + interval '3 hours' END,
       CASE WHEN b.state NOT IN ('menunggu_verifikasi', 'tidak_valid') THEN b.submitted + interval '3 hours' END,
       CASE WHEN b.state NOT IN ('menunggu_verifikasi', 'tidak_valid') THEN b.submitted + interval '7 days' END,
       CASE WHEN b.state IN ('dijawab', 'selesai') THEN b.submitted + (g % 9) * interval '1 day' END,
       CASE WHEN b.state IN ('dijawab', 'selesai', 'tidak_valid') THEN b.submitted + interval '4 days' END,
       CASE WHEN b.state NOT IN ('menunggu_verifikasi', 'tidak_valid') AND b.visibility <> 'rahasia'
            THEN b.submitted + interval '3 hours' END,
       false, b.state IN ('dijawab', 'selesai') AND g % 9 > 7, 1
FROM base AS b CROSS JOIN o CROSS JOIN w
CROSS JOIN LATERAL (
  SELECT 'Keluhan ' || w.words[1 + (g * 7) % w.n] || ' ' || w.words[1 + (g * 13) % w.n]
           || ' di desa ' || (g % 300) AS title,
         (SELECT string_agg(w.words[1 + abs(hashtext(g || '-' || k)) % w.n], ' ')
            FROM generate_series(1, 15 + g % 30) AS k)
           || ' rt ' || (g % 97) || ' no ' || (g % 1013)
           || CASE WHEN g % 5000 = 7 THEN ' kenanga' ELSE '' END AS body
) AS t
"""


def _timed(fn, runs: int) -> float:
    fn()  # warm the cache and the plan
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=200_000, help="complaints to seed (default 200000)")
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL",
                                                        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
                        help="a PostgreSQL server (any database on it); a scratch database is created there")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    args = parser.parse_args()

    server = sa.engine.make_url(args.url)
    if server.get_backend_name() != "postgresql":
        sys.exit("The benchmark needs PostgreSQL (the keyset/OFFSET difference is what it measures).")
    server = server.set(drivername="postgresql+psycopg")
    name = f"lpo_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        run(url, args)
    finally:
        if args.keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(url: str, args) -> None:
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.models import Complaint
    from app.services import portal
    from app.services.accounts import import_opds
    from app.timeutil import utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        import_opds(None)
        db.session.commit()
        start = time.perf_counter()
        db.session.execute(sa.text(SEED), {"n": args.n, "now": utcnow(), "words": list(WORDS), "nwords": len(WORDS)})
        db.session.commit()
        seeded = time.perf_counter() - start
        db.session.execute(sa.text("ANALYZE complaint"))
        db.session.commit()
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Complaint))
        published = db.session.scalar(sa.select(sa.func.count()).select_from(portal._item_query().subquery()))
        print(f"seeded {total:,} complaints ({published:,} published) in {seeded:.1f} s on "
              f"{db.session.scalar(sa.text('SELECT version()')).split(',')[0]}")

        size = portal.PAGE_SIZE
        deep = int(published * 0.9)
        order = (Complaint.published_at.desc(), Complaint.id.desc())
        # The cursor a visitor would hold after paging that far (found once, not timed).
        at, ident = db.session.execute(portal._item_query().with_only_columns(Complaint.published_at, Complaint.id)
                                       .order_by(*order).offset(deep - 1).limit(1)).one()
        cursor = portal.LIST_ORDER.token(at, ident)

        def keyset_first():
            return portal.published_page(size=size)

        def keyset_deep():
            page = portal.published_page(cursor=cursor, size=size)
            assert len(page.items) == size
            return page

        def offset_deep():
            rows = db.session.execute(portal._item_query().order_by(*order).offset(deep).limit(size + 1)).all()
            count = db.session.scalar(sa.select(sa.func.count()).select_from(portal._item_query().subquery()))
            assert len(rows) == size + 1 and count == published
            return rows, count

        opd_code = db.session.scalar(sa.text("SELECT code FROM opd ORDER BY id LIMIT 1"))
        results = {
            "keyset, first page": _timed(keyset_first, args.runs),
            f"keyset, deep page (row {deep:,})": _timed(keyset_deep, args.runs),
            f"OFFSET {deep:,} + count(*)": _timed(offset_deep, args.runs),
            "keyset, filtered by one OPD": _timed(
                lambda: portal.published_page(portal.PublicFilter(opd_code=opd_code), size=size), args.runs),
            "search, common word (\"jembatan\")": _timed(
                lambda: portal.published_page(portal.PublicFilter(q="jembatan"), size=size), args.runs),
            "search, rare word (\"kenanga\")": _timed(
                lambda: portal.published_page(portal.PublicFilter(q="kenanga"), size=size), args.runs),
            "statistics of the current year": _timed(portal.statistics, max(3, args.runs // 2)),
        }
        width = max(len(k) for k in results)
        for label, ms in results.items():
            print(f"{label:<{width}}  {ms:9.2f} ms")
        keyset = results[f"keyset, deep page (row {deep:,})"]
        offset = results[f"OFFSET {deep:,} + count(*)"]
        print(f"ratio OFFSET+count / keyset (deep page): {offset / keyset:.1f}x")

        query = portal._item_query().where(
            portal.PUBLIC_SEARCH_TEXT.ilike("%kenanga%", escape="\\")).order_by(*order).limit(size + 1)
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = db.session.execute(sa.text("EXPLAIN " + str(compiled))).scalars().all()
        print("plan of the rare-word search:")
        for line in plan:
            print("   ", line)
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
