"""Scheduled jobs: thin shims, each calling one service. The scheduler process (`flask scheduler run`)
registers every entry of JOBS with an explicit id, max_instances=1 and coalesce=True."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # "module:function", imported when the scheduler starts; called inside an app context
    trigger: str = "interval"  # APScheduler trigger name
    trigger_args: dict[str, Any] = field(default_factory=dict)  # e.g. {"minutes": 5}
    description: str = ""


# Feature modules append their jobs here (one line each).
JOBS: list[JobSpec] = []
