"""OPD suggestion (issue 18): gathers the training data, trains, stores and loads the versioned model.
The engine itself is pure (app/routing); this module is the only one that touches the database for it.

What the model learns from, and never more: each active OPD's duties and keywords; the public (masked)
title and text of answered complaints, labelled with the OPD that answered them after any re-routing
(the `Routing` hop with outcome "answered"); and "bukan wewenang" returns (hops with outcome "returned")
as negative evidence for the returning OPD. Confidential (rahasia) complaints are left out: they are
never public, and a model is a published artefact of what it learnt from.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import undefer

from .. import audit, routing
from ..extensions import db
from ..models import Complaint, Opd, Routing, RoutingModel
from ..timeutil import utcnow
from ..workflow import Visibility
from .common import Actor, Invalid, setting, unit_of_work

log = logging.getLogger(__name__)

HOLDOUT_MIN = 50  # answered complaints needed before a version is measured on the newest of them
HOLDOUT_SHARE = 0.1
_CHUNK = 900  # ids per IN (…) list


@dataclass(frozen=True)
class Trained:
    version: int
    answered: int
    returns: int
    cold_documents: int
    size_bytes: int
    metrics: dict | None
    seconds: float


# --------------------------------------------------------------------------- training data


def opd_infos() -> list[routing.OpdInfo]:
    rows = db.session.scalars(sa.select(Opd).where(Opd.active.is_(True)).order_by(Opd.code))
    return [routing.OpdInfo(o.code, o.name, o.kind, o.duties or "", o.keywords or "") for o in rows]


def training_examples(limit: int | None = None) -> list[routing.Example]:
    """The newest `limit` answered complaints (oldest first) and the returns among them or still open."""
    limit = limit or setting("ROUTING_TRAIN_LIMIT")
    answered = db.session.execute(
        sa.select(Routing.complaint_id, Opd.code).join(Opd, Opd.id == Routing.opd_id)
        .where(Routing.outcome == "answered").order_by(Routing.id.desc()).limit(limit)).all()
    returned = db.session.execute(
        sa.select(Routing.complaint_id, Opd.code).join(Opd, Opd.id == Routing.opd_id)
        .where(Routing.outcome == "returned").order_by(Routing.id.desc()).limit(limit)).all()
    final: dict[int, str] = {}
    order: list[int] = []
    for complaint_id, code in reversed(answered):  # oldest first; a later answer wins
        if complaint_id not in final:
            order.append(complaint_id)
        final[complaint_id] = code
    returns: dict[int, list[str]] = {}
    for complaint_id, code in returned:
        returns.setdefault(complaint_id, []).append(code)
    order += [cid for cid in sorted(returns) if cid not in final]

    texts: dict[int, str] = {}
    for start in range(0, len(order), _CHUNK):
        chunk = order[start:start + _CHUNK]
        rows = db.session.execute(
            sa.select(Complaint.id, Complaint.public_title, Complaint.public_text)
            .where(Complaint.id.in_(chunk), Complaint.visibility != Visibility.RAHASIA,
                   Complaint.public_text.is_not(None)))
        for cid, title, text in rows:
            texts[cid] = f"{title or ''}. {text}"
    return [routing.Example(texts[cid], final.get(cid), tuple(returns.get(cid, ())))
            for cid in order if cid in texts]


# --------------------------------------------------------------------------- training and storage


def _measure(opds, history) -> dict | None:
    """Top-1/top-3 on the newest answered complaints, for a model trained on the older ones, and
    the cold start's figures on the same complaints (so Admin Sistem sees what learning adds)."""
    answered = [e for e in history if e.opd]
    if len(answered) < HOLDOUT_MIN:
        return None
    held = answered[-max(10, int(len(answered) * HOLDOUT_SHARE)):]
    held_ids = {id(e) for e in held}
    older = [e for e in history if id(e) not in held_ids]
    places = routing.read_places()
    rows = [routing.Labelled(e.text, frozenset({e.opd})) for e in held]
    learnt = routing.evaluate(routing.train(opds, older, desa_rows=places), rows)
    cold = routing.evaluate(routing.train(opds, (), desa_rows=places), rows)
    return {"n": learnt.total, "top1": round(learnt.top1_rate, 4), "top3": round(learnt.top3_rate, 4),
            "cold_top1": round(cold.top1_rate, 4), "cold_top3": round(cold.top3_rate, 4)}


def train_and_store(actor: Actor | None = None) -> Trained:
    """Train on everything known now and store it as the next version (older versions beyond
    ROUTING_KEEP_VERSIONS are removed)."""
    started = time.monotonic()
    opds = opd_infos()
    if not opds:
        raise Invalid(_("Belum ada OPD aktif: model saran OPD tidak dapat dilatih."))
    history = training_examples()
    metrics = _measure(opds, history)
    model = routing.train(opds, history, desa_rows=routing.read_places())
    payload = model.to_bytes()
    report = model.report
    with unit_of_work():
        version = newest_version() + 1
        db.session.add(RoutingModel(
            version=version, trained_at=utcnow(), answered=report.answered, returns=report.returns,
            cold_documents=report.cold_documents, size_bytes=len(payload),
            sha256=hashlib.sha256(payload).hexdigest(), metrics=json.dumps(metrics) if metrics else None,
            payload=payload))
        keep = setting("ROUTING_KEEP_VERSIONS")
        db.session.execute(sa.delete(RoutingModel).where(RoutingModel.version <= version - keep))
        audit.record("system", "routing.train", actor=actor or Actor.system(),
                     detail={"version": version, "answered": report.answered, "returns": report.returns,
                             "metrics": metrics})
    return Trained(version, report.answered, report.returns, report.cold_documents, len(payload), metrics,
                   round(time.monotonic() - started, 2))


def routing_train_job() -> str:
    """Scheduler entry (app/jobs.py JOBS id "routing_train")."""
    done = train_and_store()
    log.info("routing: version %d trained on %d answered complaint(s) and %d return(s) in %.1f s",
             done.version, done.answered, done.returns, done.seconds)
    return f"version {done.version}"


def newest_version() -> int:
    """The newest stored model's version; 0 when none is stored."""
    return db.session.scalar(sa.select(sa.func.max(RoutingModel.version))) or 0


def first_model_job() -> str:
    """Scheduler entry (app/jobs.py JOBS id "routing_first"): store a model when none is stored yet (a new
    installation, a restored database without one), so the web workers load it instead of each training
    a cold start of its own (seconds of work and scikit-learn's 100 MB in every worker)."""
    if newest_version():
        return "a model is stored"
    return routing_train_job()


# --------------------------------------------------------------------------- the model in use


class _Cache:
    """One per app and process: the loaded model and when the table was last asked for a newer one."""

    def __init__(self):
        self.lock = threading.Lock()
        self.model: routing.Model | None = None
        self.version: int | None = None  # None: nothing loaded; 0: a cold start built in memory
        self.checked = float("-inf")


def _cache() -> _Cache:
    return current_app.extensions.setdefault("routing_model", _Cache())


def _load(version: int) -> routing.Model:
    row = db.session.scalar(sa.select(RoutingModel).where(RoutingModel.version == version)
                            .options(undefer(RoutingModel.payload)))
    if hashlib.sha256(row.payload).hexdigest() != row.sha256:
        raise ValueError(f"routing model version {version}: checksum mismatch")
    return routing.Model.from_bytes(row.payload)


def current_model() -> routing.Model:
    """The newest stored model, loaded once per process and replaced when a newer version is stored
    (looked for at most every ROUTING_RELOAD_SECONDS). With none stored yet, a cold start built from
    the OPD table (trained here: the scheduler's "routing_first" job stores one within a minute of its
    start). Safe to call from many threads; the model itself is read-only."""
    cache = _cache()
    now = time.monotonic()
    if cache.model is not None and now - cache.checked < setting("ROUTING_RELOAD_SECONDS"):
        return cache.model
    with cache.lock:
        if cache.model is not None and now - cache.checked < setting("ROUTING_RELOAD_SECONDS"):
            return cache.model
        newest = newest_version()
        if newest != cache.version:
            try:
                model = _load(newest) if newest else cold_start_model()
            except (ValueError, KeyError, OSError) as exc:  # a damaged row: keep serving what we have
                log.error("routing: cannot load model version %s: %s", newest, exc)
                model = cache.model or cold_start_model()
            cache.model, cache.version = model, newest
        cache.checked = time.monotonic()
        return cache.model


def cold_start_model() -> routing.Model:
    return routing.train(opd_infos(), (), desa_rows=routing.read_places())


def suggest(text: str, k: int = 3) -> list[routing.Suggestion]:
    """The k most likely OPDs for a complaint text, best first."""
    return current_model().suggest(text or "", k=k)


# What one suggestion request may hold: a title and a text of the form together (app/services/complaints.py
# LIMITS), and the separator the form's script puts between them.
TEXT_LIMIT = 200 + 4000 + 2


def suggest_for_input(value) -> list[routing.Suggestion]:
    """`POST /pengaduan/saran-opd`: the value the citizen typed, through the input boundary, then the top 3.
    Stores nothing and logs nothing of the text; a refused value is `Invalid` with a message for "teks"."""
    from ..inputs import Problem, clean_text

    try:
        text = clean_text(value, limit=TEXT_LIMIT, multiline=True, required=True)
    except Problem as problem:
        message = problem.text(_)
        raise Invalid(message, code=problem.code, errors={"teks": message}) from None
    return suggest(text)


def suggest_for_view(view, exclude=(), k: int = 3) -> list[routing.Suggestion]:
    """The suggestions a desk shows for a complaint (`disclosure.ComplaintView`): computed on its public,
    masked version, which every desk may see, so a suggestion never carries what its viewer may not.
    `exclude`: OPD codes not to suggest (the dispatch queue leaves out the OPD that returned it)."""
    text = " ".join(part for part in (view.public_title, view.public_text) if part)
    if not text.strip():
        return []
    found = suggest(text, k=k + len(exclude))
    return [s for s in found if s.code not in set(exclude)][:k]


def evaluate_file(path: str | Path, cold_start: bool = False) -> routing.Evaluation:
    """Top-1/top-3 of the current model (or of a fresh cold start) on a labelled TSV (`opd`, `text`)."""
    try:
        rows = routing.parse_labelled(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(_("Berkas tidak dapat dibaca: %(error)s", error=exc)) from exc
    except ValueError as exc:
        raise Invalid(_("Format berkas salah: %(error)s", error=exc)) from exc
    if not rows:
        raise Invalid(_("Berkas tidak berisi pengaduan."))
    model = cold_start_model() if cold_start else current_model()
    return routing.evaluate(model, rows)
