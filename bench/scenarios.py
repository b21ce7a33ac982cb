"""The benchmark's scenarios: one place for what each one requests, as whom, and its target (issue 13).

A scenario runs through an `Http` (the Flask test client in `make bench-small`, HTTP to gunicorn in
`make bench`): `setup` once per simulated client (sign-in, CSRF token), then `step` once per measured
request; a step returns True when the answer was the expected one.
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass, field
from typing import Callable

from .generate import BENCH_PIN, PASSWORD

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class Http:
    """What a scenario needs from a client: GET and POST a path, the status and the body as text."""

    def get(self, path: str, headers: dict | None = None) -> tuple[int, str]:
        raise NotImplementedError

    def post(self, path: str, data: dict, json: bool = False) -> tuple[int, str]:
        raise NotImplementedError


def csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    return (found.group(1) or found.group(2)) if found else ""


def sign_in(http: Http, username: str) -> dict:
    _status, html = http.get("/login/")
    status, _body = http.post("/login/", {"username": username, "password": PASSWORD, "csrf_token": csrf_token(html)})
    if status not in (200, 302, 303):
        raise RuntimeError(f"sign-in of {username} answered {status}")
    return {}


@dataclass
class Scenario:
    name: str
    step: Callable[[Http, dict, dict, int], bool]
    who: str | None = None  # staff username, None for the public
    p95_ms: float | None = None  # target at 1 client
    ratio: float | None = None  # target share of the ceiling's req/s at 16 clients
    ceiling: str | None = None  # the ceiling app's path for the same page
    per_second: float | None = None  # target sustained rate (submission)
    setup: Callable[[Http, dict], dict] | None = None
    concurrency: int = 16
    notes: str = ""
    ceiling_step: Callable[[Http, dict, dict, int], bool] | None = None  # when the ceiling's path varies too
    state: dict = field(default_factory=dict)


def _get(path_of: Callable[[dict], str], expect: int = 200):
    def step(http: Http, ctx: dict, client: dict, i: int) -> bool:
        status, _body = http.get(path_of(ctx))
        return status == expect
    return step


_spread = itertools.count()


def _spread_ticket(ctx: dict) -> str:
    """The next of SPREAD published complaints, in turn: a page the shared page cache rarely holds."""
    tickets = ctx["spread_tickets"]
    return tickets[next(_spread) % len(tickets)]


SPREAD = 20_000


def _track_setup(http: Http, ctx: dict) -> dict:
    _status, html = http.get("/lacak")
    return {"csrf": csrf_token(html)}


def _track(http: Http, ctx: dict, client: dict, i: int) -> bool:
    status, _body = http.post("/lacak", {"ticket": ctx["ticket"], "pin": BENCH_PIN, "csrf_token": client["csrf"]})
    return status == 303


_submissions = itertools.count(1)
# Each run's texts are its own: a run against a kept database (--reuse) would otherwise send the texts of the
# run before it again, which the duplicate check rightly refuses (409) within DUPLICATE_WINDOW_MINUTES.
_RUN = secrets.token_hex(3)


def _nik(n: int) -> str:
    """The n-th citizen's NIK: Kecamatan Lumajang (350801), born on day 1-28 of March 1985, serial 0001-9999.
    Each submission comes from its own citizen, as at a real portal (one NIK sending 100 a second would
    measure the duplicate check against one person's history, not the submission)."""
    return f"350801{(n // 9999) % 28 + 1:02d}0385{n % 9999 + 1:04d}"


def _submit(http: Http, ctx: dict, client: dict, i: int) -> bool:
    _status, html = http.get("/pengaduan/baru")
    n = next(_submissions)
    status, _body = http.post("/pengaduan/baru", {
        "name": "Warga Beban", "nik": _nik(n), "phone": "0812-3456-7890", "opd": ctx["opd"],
        "title": f"Uji beban pengaduan {_RUN}-{n}",
        "text": f"Jalan rusak di depan rumah nomor {n} (uji {_RUN}), mohon diperbaiki.",
        "visibility": "anonim", "consent": "ya", "csrf_token": csrf_token(html)})
    if status not in (302, 303):
        return False
    status, _body = http.get("/pengaduan/terkirim")
    return status == 200


def _api_setup(http: Http, ctx: dict) -> dict:
    import json as _json

    status, body = http.post("/api/v1/security/login", {"username": "bench.pimpinan", "password": PASSWORD,
                                                          "provider": "db"}, json=True)
    if status != 200:
        raise RuntimeError(f"API sign-in answered {status}: {body[:200]}")
    return {"auth": {"Authorization": "Bearer " + _json.loads(body)["access_token"]}}


def _api_list(http: Http, ctx: dict, client: dict, i: int) -> bool:
    status, _body = http.get("/api/v1/complaint/", headers=client["auth"])
    return status == 200


def _staff(username: str):
    def setup(http: Http, ctx: dict) -> dict:
        return sign_in(http, username)
    return setup


def all_scenarios() -> list[Scenario]:
    return [
        Scenario("public list, first page", _get(lambda c: "/pengaduan/"), p95_ms=10, ratio=0.5,
                 ceiling="/list"),
        Scenario("public list by OPD", _get(lambda c: f"/pengaduan/?opd={c['opd']}"), p95_ms=10, ratio=0.5,
                 ceiling="/list?opd={opd}"),
        Scenario("public list by state", _get(lambda c: "/pengaduan/?status=dijawab"), p95_ms=10, ratio=0.5),
        Scenario("public list, deep page", _get(lambda c: f"/pengaduan/?setelah={c['deep_cursor']}"), p95_ms=10,
                 ratio=0.5),
        Scenario("public complaint page", _get(lambda c: f"/pengaduan/{c['published_ticket']}"), p95_ms=10,
                 ratio=0.5, ceiling="/complaint/{published_ticket}"),
        Scenario("public complaint page, a different one each time", _get(lambda c: f"/pengaduan/{_spread_ticket(c)}"),
                 p95_ms=10, ratio=0.5, ceiling_step=_get(lambda c: f"/complaint/{_spread_ticket(c)}"),
                 notes=f"{SPREAD:,} published complaints in turn, so the page is rendered, not read from the cache"),
        Scenario("public search, rare word", _get(lambda c: "/pengaduan/?q=kenanga"), p95_ms=20,
                 ceiling="/list?q=kenanga"),
        Scenario("statistics", _get(lambda c: "/statistik"), p95_ms=10, ceiling="/stats"),
        Scenario("tracking (POST ticket + PIN)", _track, p95_ms=20, setup=_track_setup),
        Scenario("submission (GET form + POST + receipt)", _submit, per_second=100, concurrency=8),
        Scenario("validator queue", _get(lambda c: "/staf/validasi/"), who="bench.validator", p95_ms=30,
                 setup=_staff("bench.validator")),
        Scenario("OPD queue", _get(lambda c: "/staf/opd/"), who="bench.opd", p95_ms=30, setup=_staff("bench.opd")),
        Scenario("dispatch queue", _get(lambda c: "/staf/disposisi/"), who="bench.admin", p95_ms=30,
                 setup=_staff("bench.admin")),
        Scenario("control dashboard", _get(lambda c: "/staf/kendali/"), who="bench.pimpinan", p95_ms=150,
                 setup=_staff("bench.pimpinan")),
        Scenario("monthly recap (screen)", _get(lambda c: "/rekap/"), who="bench.pimpinan", p95_ms=300,
                 setup=_staff("bench.pimpinan")),
        Scenario("monthly recap (XLSX)", _get(lambda c: "/rekap/xlsx"), who="bench.pimpinan", p95_ms=300,
                 setup=_staff("bench.pimpinan")),
        Scenario("history log", _get(lambda c: "/riwayat/"), who="bench.admin", p95_ms=30,
                 setup=_staff("bench.admin")),
        Scenario("FAB list: users", _get(lambda c: "/users/list/"), who="bench.admin", p95_ms=30,
                 setup=_staff("bench.admin")),
        Scenario("FAB list: OPD", _get(lambda c: "/opdview/list/"), who="bench.admin", p95_ms=30,
                 setup=_staff("bench.admin")),
        Scenario("REST list: complaints", _api_list, who="bench.pimpinan", p95_ms=30, setup=_api_setup),
    ]


def context() -> dict:
    """Values the scenarios need from the generated data (inside an app context)."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Complaint
    from app.services import portal

    order = (Complaint.published_at.desc(), Complaint.id.desc())
    published = db.session.scalar(sa.select(sa.func.count()).select_from(portal._item_query().subquery()))
    at, ident = db.session.execute(portal._item_query().with_only_columns(Complaint.published_at, Complaint.id)
                                   .order_by(*order).offset(max(0, int(published * 0.9) - 1)).limit(1)).one()
    ticket = db.session.scalar(portal._item_query().with_only_columns(Complaint.ticket).order_by(*order).limit(1))
    spread = list(db.session.scalars(portal._item_query().with_only_columns(Complaint.ticket)
                                     .order_by(sa.func.random()).limit(SPREAD)))
    return {"opd": "DPUTR", "deep_cursor": portal.LIST_ORDER.token(at, ident), "published_ticket": ticket,
            "spread_tickets": spread,
            "ticket": db.session.scalar(sa.select(Complaint.ticket).where(Complaint.ticket.like("BNC-%"))
                                        .order_by(Complaint.id.desc()).limit(1)),
            "published": published}
