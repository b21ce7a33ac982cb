"""Rate limits switched on for one test: the Flask-Limiter object of app/extensions.py is shared by every app
of the process (its `enabled` flag and storage follow the last app built), so a test starts with empty
counters and the flag is put back for the other tests."""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def limits_on():
    from app.extensions import limiter

    was_enabled = limiter.enabled
    limiter.enabled = True
    limiter.reset()
    try:
        yield
    finally:
        limiter.reset()
        limiter.enabled = was_enabled
