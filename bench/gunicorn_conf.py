"""gunicorn settings of `make bench` (production-like: 4 sync workers, no access log, no reload).
BENCH_PORT picks the port."""

import gc
import os

bind = f"127.0.0.1:{os.environ.get('BENCH_PORT', '18080')}"
workers = int(os.environ.get("BENCH_WORKERS", "4"))
worker_class = "sync"
accesslog = None
errorlog = "-"
loglevel = "warning"
timeout = 60
keepalive = 2


def post_worker_init(worker):
    # The app and its imports are built; frozen, the collector never walks those objects again, so a full
    # collection in a request is short (issue 13 saw 100-160 ms p99 spikes from full collections).
    if os.environ.get("BENCH_GC_FREEZE", "1") == "1":
        gc.freeze()
