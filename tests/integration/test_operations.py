"""Operations (issue 19): /health and its figures, the Admin Sistem health page, the request id in the
response, the logs and the history log, JSON log lines, the scheduler's heartbeat."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import timedelta

import sqlalchemy as sa
import time_machine

from app.extensions import db
from app.models import AuditLog, Outbox, SchedulerHeartbeat
from app.timeutil import utcnow

FIGURES = {"database", "scheduler", "outbox", "disk"}


def _health(client):
    response = client.get("/health")
    body = response.get_json()
    return response, {"status": body["status"], **body["checks"]}


def test_health_answers_every_figure_without_a_session(client):
    response, body = _health(client)
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert FIGURES <= set(body)
    assert response.get_json()["database"] == "ok"  # the top-level figure monitoring read before
    assert body["database"]["ok"] is True and body["database"]["dialect"] in {"sqlite", "postgresql"}
    assert body["scheduler"]["heartbeat_age_seconds"] is None  # no scheduler ran in this test
    assert body["outbox"]["due"] == 0 and body["disk"]["free_mb"] > 0
    assert "redis" not in body  # memory:// in tests: nothing to reach
    assert "Set-Cookie" not in response.headers  # no session for the probe
    assert response.headers["Cache-Control"] == "no-store"
    # No history-log row for the probe (it is called every few seconds).
    assert db.session.scalars(sa.select(AuditLog.action).where(AuditLog.path == "/health")).all() == []


def test_health_is_503_when_the_attachment_disk_is_nearly_full(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "HEALTH_DISK_MIN_MB", 10**9)  # a petabyte: never free
    response, body = _health(client)
    assert response.status_code == 503
    assert body["status"] == "degraded" and body["disk"]["ok"] is False and body["database"]["ok"] is True


def test_health_checks_redis_when_it_holds_the_rate_limits(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/15")
    response, body = _health(client)
    assert response.status_code == 200 and body["redis"] == {"ok": True}
    monkeypatch.setitem(app.config, "RATELIMIT_STORAGE_URI", "redis://127.0.0.1:1/0")  # nothing listens
    started = time.monotonic()
    response, body = _health(client)
    assert response.status_code == 503 and body["redis"]["ok"] is False
    assert time.monotonic() - started < 3  # a one-second timeout, not a hanging probe


def test_health_reads_the_scheduler_heartbeat_age(app, client, monkeypatch):
    from app.services.health import beat

    monkeypatch.setitem(app.config, "HEALTH_SCHEDULER_MAX_SECONDS", 120)
    response, body = _health(client)
    assert response.status_code == 503 and body["scheduler"]["heartbeat_age_seconds"] is None
    now = utcnow()
    with time_machine.travel(now, tick=False):
        beat()
    with time_machine.travel(now + timedelta(seconds=100), tick=False):
        response, body = _health(client)
        assert response.status_code == 200 and body["scheduler"] == {
            "ok": True, "heartbeat_age_seconds": 100, "max_seconds": 120}
    with time_machine.travel(now + timedelta(seconds=121), tick=False):
        response, body = _health(client)
        assert response.status_code == 503 and body["scheduler"]["ok"] is False


def test_health_reports_the_outbox_backlog(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "HEALTH_OUTBOX_MAX_MINUTES", 30)
    now = utcnow()
    for minutes, status in ((45, "pending"), (5, "pending"), (-10, "pending"), (90, "dead")):
        db.session.add(Outbox(channel="email", recipient="warga@example.org", template="t", subject="s",
                              body="b", status=status, next_attempt_at=now - timedelta(minutes=minutes)))
    db.session.commit()
    response, body = _health(client)
    assert body["outbox"]["due"] == 2 and body["outbox"]["dead"] == 1
    assert body["outbox"]["oldest_due_minutes"] >= 45
    assert response.status_code == 503 and body["outbox"]["ok"] is False
    assert "warga@example.org" not in response.get_data(as_text=True)  # counts only, never a recipient


def test_admin_sistem_page_shows_the_same_figures(app, client, auth, monkeypatch):
    monkeypatch.setitem(app.config, "HEALTH_DISK_MIN_MB", 10**9)
    auth.login("admin")
    page = client.get("/staf/kesehatan-sistem/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Kesehatan sistem" in text and 'data-check="disk"' in text and 'data-check="scheduler"' in text
    assert "bermasalah" in text and "belum pernah berdetak" in text


def test_only_admin_sistem_sees_the_health_page(client, auth):
    auth.login("pimpinan")
    page = client.get("/staf/kesehatan-sistem/")
    assert page.status_code in {302, 403}
    assert "Kesehatan sistem</h2>" not in page.get_data(as_text=True)


def test_request_id_from_nginx_reaches_the_response_and_the_history_log(client, auth):
    auth.login("admin")
    given = "0123456789abcdef0123456789abcdef"
    response = client.get("/staf/kesehatan-sistem/", headers={"X-Request-ID": given})
    assert response.headers["X-Request-ID"] == given
    rows = db.session.scalars(sa.select(AuditLog).where(AuditLog.path == "/staf/kesehatan-sistem/")).all()
    assert [r.request_id for r in rows] == [given]
    # Sign-in rows carry their request's id too.
    login = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "login")).one()
    assert login.request_id and len(login.request_id) == 32


def test_a_malformed_request_id_is_replaced(client):
    for bad in ("x" * 200, "a b c d e f g h", "<script>", ""):
        got = client.get("/health", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert got != bad and len(got) == 32 and int(got, 16) >= 0


def test_log_lines_are_json_with_the_request_id(client, caplog):
    from app.logs import JsonFormatter

    caplog.set_level(logging.INFO, logger="app.access")
    client.get("/pengaduan/", headers={"X-Request-ID": "req-abcdef-123456"})
    records = [r for r in caplog.records if r.name == "app.access"]
    assert records, "no access line"
    record = records[-1]
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-abcdef-123456"
    assert line["method"] == "GET" and line["path"] == "/pengaduan/" and line["status"] == 200
    assert line["level"] == "INFO" and line["logger"] == "app.access" and line["time"].endswith("+00:00")


def test_every_log_line_carries_the_request_id(app):
    import io

    from app.logs import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("app.test_operations")
    logger.addHandler(handler)
    try:
        with app.test_request_context("/", headers={"X-Request-ID": "abcdef0123456789"}):
            logger.warning("inside %s", "a request")
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    inside, outside = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert inside["request_id"] == "abcdef0123456789" and inside["message"] == "inside a request"
    assert outside["request_id"] is None


def _noop():
    return None


def test_the_leading_scheduler_writes_its_heartbeat(app):
    from app.jobs import JobSpec, SchedulerProcess

    process = SchedulerProcess(app, [JobSpec("noop", f"{__name__}:_noop", trigger="cron",
                                             trigger_args={"hour": 3})],
                               retry_seconds=0.1, heartbeat_seconds=0.1)
    thread = threading.Thread(target=process.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        beats = set()
        while time.monotonic() < deadline and len(beats) < 3:
            db.session.rollback()
            row = db.session.get(SchedulerHeartbeat, "leader")
            if row is not None:
                beats.add(row.beat_at)
            time.sleep(0.05)
        assert len(beats) >= 3, beats  # the first at lock time, then one per heartbeat
    finally:
        process.stop()
        thread.join(10)


def test_static_collect_fingerprints_both_folders_and_a_second_run_changes_nothing(app, runner, tmp_path, database_url):
    import hashlib

    from tests.conftest import build_app

    dest = tmp_path / "static"
    result = runner.invoke(args=["static", "collect", str(dest)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((dest / "manifest.json").read_text())
    css = manifest["static"]["public/portal.css"]
    digest = hashlib.sha256((dest / "public" / "portal.css").read_bytes()).hexdigest()[:12]
    assert css == f"public/portal.{digest}.css" and (dest / css).read_bytes() == (dest / "public/portal.css").read_bytes()
    assert any(name.startswith("css/") for name in manifest["appbuilder.static"])
    assert (dest / "appbuilder" / manifest["appbuilder.static"]["js/ab_keep_tab.js"]).is_file()
    before = {p: p.stat().st_mtime_ns for p in dest.rglob("*") if p.is_file()}
    assert runner.invoke(args=["static", "collect", str(dest)]).exit_code == 0
    assert {p: p.stat().st_mtime_ns for p in dest.rglob("*") if p.is_file()} == before

    # With STATIC_MANIFEST, url_for gives the fingerprinted names (nginx serves them for a year).
    other = build_app(database_url, STATIC_MANIFEST=str(dest / "manifest.json"))
    with other.test_request_context("/"):
        from flask import url_for

        assert url_for("static", filename="public/portal.css") == f"/static/{css}"
        fab = manifest["appbuilder.static"]["js/ab_keep_tab.js"]
        assert url_for("appbuilder.static", filename="js/ab_keep_tab.js") == f"/static/appbuilder/{fab}"
        assert url_for("static", filename="unknown.txt") == "/static/unknown.txt"


def test_a_missing_static_manifest_is_a_clear_start_up_error(monkeypatch, tmp_path):
    import pytest

    from config import ConfigError, build_config

    monkeypatch.setenv("STATIC_MANIFEST", str(tmp_path / "nope.json"))
    with pytest.raises(ConfigError, match="STATIC_MANIFEST"):
        build_config()
