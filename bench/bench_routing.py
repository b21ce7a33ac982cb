"""OPD suggestion: latency of `Model.suggest` and training time (see bench/README.md).

    .venv/bin/python bench/bench_routing.py                  # 500 texts of 4,000 characters, 20,000 history
    .venv/bin/python bench/bench_routing.py --texts 2000 --history 50000

No database: the engine alone (app/routing), on the shipped OPD data and the test sets' complaints.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.routing import Example, OpdInfo, read_places, train  # noqa: E402


def _opds() -> list[OpdInfo]:
    with (ROOT / "app" / "data" / "opd-lumajang.csv").open(encoding="utf-8") as f:
        return [OpdInfo(r["kode"], r["nama"], r["jenis"], r["tugas"], r["kata_kunci"]) for r in csv.DictReader(f)]


def _complaints() -> list[tuple[str, str]]:
    out = []
    for name in ("routing_eval.tsv", "routing_history.tsv"):
        with (ROOT / "tests" / "data" / name).open(encoding="utf-8") as f:
            out += [(r["opd"].split("|")[0], r["text"]) for r in csv.DictReader(f, delimiter="\t")]
    return out


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=500)
    parser.add_argument("--chars", type=int, default=4000)
    parser.add_argument("--history", type=int, default=20000)
    args = parser.parse_args()
    rng = random.Random(18)
    opds, places, complaints = _opds(), read_places(), _complaints()

    started = time.perf_counter()
    cold = train(opds, desa_rows=places)
    print(f"cold start: trained in {time.perf_counter() - started:.2f} s, {len(cold.to_bytes()) / 1024:.0f} KiB")

    texts = []
    for _ in range(args.texts):
        text = ""
        while len(text) < args.chars:
            text += rng.choice(complaints)[1] + " "
        texts.append(text[: args.chars])
    cold.suggest(texts[0])
    for label, batch in ((f"{args.chars} characters", texts), ("as written", [t for _, t in complaints])):
        wall, cpu = [], []
        for text in batch:
            t0, c0 = time.perf_counter(), time.thread_time()
            cold.suggest(text)
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
        # Wall time includes waiting for a core on a busy machine; CPU time is the work itself.
        print(f"suggest, {label} ({len(batch)} texts): wall p50 {statistics.median(wall):.1f} ms, "
              f"p95 {_percentile(wall, 0.95):.1f} ms; CPU p50 {statistics.median(cpu):.1f} ms, "
              f"p95 {_percentile(cpu, 0.95):.1f} ms")

    # A history of the given size: the test sets' complaints, each with a few words shuffled in from
    # another complaint of the same OPD, so that the texts differ as real ones do.
    by_opd: dict[str, list[str]] = {}
    for code, text in complaints:
        by_opd.setdefault(code, []).append(text)
    history = []
    for _ in range(args.history):
        code, text = rng.choice(complaints)
        words = rng.choice(by_opd[code]).split()
        extra = " ".join(rng.sample(words, min(4, len(words))))
        returned = (rng.choice(list(by_opd)),) if rng.random() < 0.1 else ()
        history.append(Example(f"{text} {extra}", code, tuple(c for c in returned if c != code)))
    started = time.perf_counter()
    learnt = train(opds, history, desa_rows=places)
    print(f"history of {args.history}: trained in {time.perf_counter() - started:.1f} s, "
          f"{len(learnt.to_bytes()) / 1024:.0f} KiB, {learnt.report.features} features")


if __name__ == "__main__":
    main()
