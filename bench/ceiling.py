"""The ceiling: the least a Flask app can do to serve the same public pages from the same data (one psycopg
connection per worker, one query per page, a plain Jinja template, no ORM, no FAB, no session). `make bench`
runs it under the same gunicorn settings as the app; a scenario's ratio is app req/s / ceiling req/s.

    BENCH_CEILING_DSN=postgresql://postgres@127.0.0.1:5432/db gunicorn -c bench/gunicorn_conf.py bench.ceiling:app
"""

from __future__ import annotations

import os
import time

import psycopg
from flask import Flask, abort, render_template_string, request

app = Flask(__name__)
_conn = None
_stats: dict = {}

PUBLISHED = "c.published_at IS NOT NULL AND c.visibility <> 'rahasia' AND c.state IN " \
            "('diteruskan', 'perlu_disposisi', 'dijawab', 'selesai')"
LIST = """<!doctype html><html lang="id"><head><meta charset="utf-8"><title>Pengaduan</title></head><body>
<form><input name="q" value="{{ q }}"><select name="opd">{% for o in opds %}<option>{{ o[0] }}</option>{% endfor %}
</select></form><ol>{% for r in rows %}<li><a href="/complaint/{{ r[0] }}">{{ r[1] }}</a> {{ r[4] }} {{ r[5] }}
<p>{{ r[2][:240] }}</p><time>{{ r[3].strftime('%d/%m/%Y %H:%M') }} WIB</time></li>{% endfor %}</ol></body></html>"""
DETAIL = """<!doctype html><html lang="id"><head><meta charset="utf-8"><title>{{ c[1] }}</title></head><body>
<h1>{{ c[1] }}</h1><p>{{ c[2] }}</p><p>{{ c[3] }} · {{ c[4] }}</p>{% for a in answers %}<blockquote>{{ a[0] }}
</blockquote>{% endfor %}<ol>{% for e in events %}<li>{{ e[0] }} {{ e[1] }}</li>{% endfor %}</ol></body></html>"""
STATS = """<!doctype html><html lang="id"><body><table>{% for r in rows %}<tr><td>{{ r[0] }}</td><td>{{ r[1] }}</td>
<td>{{ r[2] }}</td></tr>{% endfor %}</table></body></html>"""


def _db():
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(os.environ["BENCH_CEILING_DSN"], autocommit=True)
        _conn.execute("SET jit = off")
    return _conn


@app.get("/list")
def published_list():
    where, params = [PUBLISHED], []
    if request.args.get("opd"):
        where.append("o.code = %s")
        params.append(request.args["opd"])
    if request.args.get("q"):
        where.append("(coalesce(c.public_title, '') || ' ' || coalesce(c.public_text, '')) ILIKE %s")
        params.append(f"%{request.args['q']}%")
    rows = _db().execute(
        "SELECT c.ticket, c.public_title, c.public_text, c.published_at, c.state, o.name FROM complaint c "
        "JOIN opd o ON o.id = c.opd_id WHERE " + " AND ".join(where) +
        " ORDER BY c.published_at DESC, c.id DESC LIMIT 21", params).fetchall()
    opds = _db().execute("SELECT name FROM opd WHERE active ORDER BY name").fetchall()
    return render_template_string(LIST, rows=rows, opds=opds, q=request.args.get("q", ""))


@app.get("/complaint/<ticket>")
def detail(ticket):
    c = _db().execute("SELECT c.id, c.public_title, c.public_text, c.state, o.name FROM complaint c JOIN opd o "
                      "ON o.id = c.opd_id WHERE c.ticket = %s AND " + PUBLISHED, (ticket,)).fetchone()
    if c is None:
        abort(404)
    answers = _db().execute("SELECT public_text FROM answer WHERE complaint_id = %s", (c[0],)).fetchall()
    events = _db().execute("SELECT at, action FROM status_event WHERE complaint_id = %s AND public ORDER BY at",
                           (c[0],)).fetchall()
    return render_template_string(DETAIL, c=c, answers=answers, events=events)


@app.get("/stats")
def stats():
    hit = _stats.get("rows")
    if hit is None or time.monotonic() - hit[0] > 60:  # the app caches its statistics for 60 s too
        rows = _db().execute("SELECT opd_id, state, count(*) FROM complaint WHERE submitted_at >= "
                             "date_trunc('year', now()) GROUP BY opd_id, state").fetchall()
        hit = _stats["rows"] = (time.monotonic(), rows)
    return render_template_string(STATS, rows=hit[1])
