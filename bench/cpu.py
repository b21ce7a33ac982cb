"""Where a scenario's CPU time goes: the app's workers, the database server, the load driver (issue 13: a
missed target's report says why, measured).

Read from /proc (Linux) around a measured run: the user + system time of the gunicorn master's children,
of every PostgreSQL server process (backends and the writers their commits wake), of this process (the
driver's threads), and the machine's busy and idle time. Divided by the steps the run made, the sum says
whether a rate is bound by the CPUs (idle near 0: cores / CPU per step is the most this machine can do) or
by waiting (locks, I/O) while CPUs are idle.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _processes():
    """(pid, command name, parent pid, CPU seconds) of every process /proc shows."""
    for stat in PROC.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended meanwhile
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        yield int(stat.parent.name), name, int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def _machine() -> tuple[float, float]:
    """(all CPU seconds, idle CPU seconds) since boot, over every core."""
    values = [int(v) for v in (PROC / "stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) / _TICK, (values[3] + values[4]) / _TICK  # idle + iowait


@dataclass
class Sample:
    app: float
    database: float
    driver: float
    total: float
    idle: float


class Meter:
    """`sample()` before and after a run; `per_step(before, after, steps)` the CPU milliseconds per step."""

    def __init__(self, app_master: int, database: bool = True):
        self.app_master, self.database = app_master, database
        self.available = (PROC / "stat").exists()

    def sample(self) -> Sample | None:
        if not self.available:
            return None
        app = database = 0.0
        for _pid, name, parent, seconds in _processes():
            if parent == self.app_master:
                app += seconds
            elif self.database and name.startswith("postgres"):
                database += seconds
        own = resource.getrusage(resource.RUSAGE_SELF)
        total, idle = _machine()
        return Sample(app, database, own.ru_utime + own.ru_stime, total, idle)

    @staticmethod
    def per_step(before: Sample | None, after: Sample | None, steps: int) -> dict | None:
        if before is None or after is None or steps <= 0:
            return None
        total = after.total - before.total
        per = {key: round(1000 * (getattr(after, key) - getattr(before, key)) / steps, 2)
               for key in ("app", "database", "driver")}
        per["busy"] = round(1000 * (total - (after.idle - before.idle)) / steps, 2)
        per["idle_share"] = round((after.idle - before.idle) / total, 3) if total > 0 else None
        return per


def why(cpu: dict | None, cpus: int) -> str:
    """One sentence for the report: bound by the CPUs (and the most they allow here), or by waiting."""
    if not cpu:
        return ""
    parts = f"app {cpu['app']:g}, database {cpu['database']:g}, driver {cpu['driver']:g}"
    idle = cpu.get("idle_share")
    if idle is not None and idle < 0.15 and cpu["busy"] > 0:
        most = cpus * 1000 / cpu["busy"]
        return (f"CPU-bound: {cpu['busy']:g} ms of CPU per step ({parts}), {idle * 100:.0f}% idle: "
                f"≤ {most:.0f}/s on {cpus} cores")
    return f"{cpu['busy']:g} ms of CPU per step ({parts}), {idle * 100:.0f}% idle: waiting, not CPU-bound"


def python_speed() -> float:
    """Seconds for a fixed pure-Python loop, best of three: how fast this machine's cores are, so that two
    reports from different machines can be compared (the absolute targets depend on it, the ratios less)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        sum(i * i for i in range(3_000_000))
        best = min(best, time.perf_counter() - start)
    return round(best, 3)
