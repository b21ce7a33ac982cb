"""Logs as JSON lines, and the request id that ties nginx's access log, the app's log lines and the
history log together.

The request id is nginx's `X-Request-ID` (deploy/nginx/pengaduan.conf sets it from `$request_id`, so a
client cannot choose it behind nginx) when it looks like one, or a new one made here; it goes back in the
response's `X-Request-ID` header, into every log line written during the request, and into the
`request_id` column of every history-log row (app/audit/).

LOG_FORMAT=json (the default in production) writes one JSON object per line on stderr: time (UTC, ISO
8601), level, logger, message, request_id, and the traceback when there is one; journald and logrotate
keep them. LOG_FORMAT=text is the classic one-line format (the default for `make run` and tests).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import datetime, timezone

from flask import Flask, has_request_context, request

_ENVIRON_KEY = "lpo.request_id"
# What an id from outside may look like: nginx's $request_id is 32 hex digits; other proxies use UUIDs.
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")

access_log = logging.getLogger("app.access")


def request_id() -> str | None:
    """The current request's id, or None outside a request."""
    if not has_request_context():
        return None
    environ = request.environ
    value = environ.get(_ENVIRON_KEY)
    if value is None:
        given = (request.headers.get("X-Request-ID") or "").strip()
        value = given if _VALID_ID.fullmatch(given) else uuid.uuid4().hex
        environ[_ENVIRON_KEY] = value
    return value


def _install_record_factory() -> None:
    """Every log record, whichever handler writes it, gets `request_id` when it is made (None outside
    a request)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_lpo", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            record.request_id = request_id()
        except Exception:  # noqa: BLE001 - a log line must never fail
            record.request_id = None
        return record

    factory._lpo = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields given with `extra={...}` are included."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def configure_logging(log_format: str) -> None:
    """The root logger's handler for this process (once: a second app in the process keeps it)."""
    _install_record_factory()
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_lpo", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler._lpo = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        if root.level == logging.WARNING:  # Python's default: nothing set it yet
            root.setLevel(logging.INFO)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))


def _before_request() -> None:
    request.environ["lpo.started"] = time.perf_counter()
    request_id()


def _after_request(response):
    response.headers["X-Request-ID"] = request_id()
    started = request.environ.get("lpo.started")
    # The path without its query string: a query may hold what someone searched for.
    access_log.info("%s %s %s", request.method, request.path, response.status_code,
                    extra={"method": request.method, "path": request.path, "status": response.status_code,
                           "duration_ms": int((time.perf_counter() - started) * 1000) if started else None,
                           "client": request.remote_addr})
    return response


def init_app(app: Flask) -> None:
    """Register first, so every later hook (the history log's) sees the id."""
    configure_logging(app.config["LOG_FORMAT"])
    app.before_request_funcs.setdefault(None, []).insert(0, _before_request)
    app.after_request(_after_request)
