"""The benchmark's CPU accounting (bench/cpu.py): the report's "why" for a missed rate is read from it."""

import os

import pytest

from bench.cpu import Meter, Sample, why

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="reads Linux's /proc")


def test_a_busy_loop_in_this_process_counts_as_the_driver_and_as_busy_machine_time():
    meter = Meter(app_master=-1, database=False)
    before = meter.sample()
    total = sum(i * i for i in range(2_000_000))
    after = meter.sample()
    per = Meter.per_step(before, after, 1)
    assert total > 0 and per["driver"] > 0 and per["busy"] > 0
    assert per["app"] == 0 and per["database"] == 0


def test_the_sentence_says_cpu_bound_and_the_most_the_cores_allow_or_waiting():
    per = Meter.per_step(Sample(0, 0, 0, 0, 0), Sample(0.8, 0.1, 0.1, 2.0, 0.1), 100)
    assert per == {"app": 8.0, "database": 1.0, "driver": 1.0, "busy": 19.0, "idle_share": 0.05}
    assert why(per, 2) == ("CPU-bound: 19 ms of CPU per step (app 8, database 1, driver 1), 5% idle: "
                           "≤ 105/s on 2 cores")
    idle = Meter.per_step(Sample(0, 0, 0, 0, 0), Sample(0.2, 0, 0, 2.0, 1.6), 100)
    assert why(idle, 2).endswith("80% idle: waiting, not CPU-bound")
    assert why(None, 2) == "" and Meter.per_step(None, None, 10) is None
