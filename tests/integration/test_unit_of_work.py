"""The one transaction of a service: it does not nest, and effects outside the database (files) follow
its outcome: written files go with a rollback, deleted files wait for the commit."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditLog, Complaint

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class _FileLike:
    def __init__(self, filename, data):
        self.filename, self.stream = filename, io.BytesIO(data)


def _system_rows(action: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.action == action))


def test_a_unit_inside_a_unit_is_refused_and_nothing_of_the_outer_one_is_kept(app):
    from app import audit
    from app.services.common import Actor, NestedUnitOfWork, unit_of_work

    with pytest.raises(NestedUnitOfWork):
        with unit_of_work():
            audit.record("system", "uji.luar", actor=Actor.system())
            with unit_of_work():
                audit.record("system", "uji.dalam", actor=Actor.system())
    assert _system_rows("uji.luar") == 0 and _system_rows("uji.dalam") == 0
    # The session is usable again: the refused units left nothing open.
    with unit_of_work():
        audit.record("system", "uji.sesudah", actor=Actor.system())
    assert _system_rows("uji.sesudah") == 1


def test_a_service_called_inside_another_unit_is_refused(app, actor):
    """The composed case: a read service that logs (it commits its history row) cannot run inside
    another service's transaction; it would commit that transaction half-way."""
    from app.services.common import NestedUnitOfWork, unit_of_work
    from app.services.records import log_event

    with pytest.raises(NestedUnitOfWork):
        with unit_of_work():
            log_event("system", "uji.bersarang")
    assert _system_rows("uji.bersarang") == 0


def test_hooks_run_after_the_outcome_and_only_for_it(app):
    from app import audit
    from app.services.common import Actor, unit_of_work

    seen: list[str] = []

    def in_db() -> str:
        # What a hook sees: the commit has happened (its rows are readable on another connection).
        with db.engine.connect() as conn:
            n = conn.execute(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "uji.hook")).scalar()
        return f"rows={n}"

    with unit_of_work() as unit:
        audit.record("system", "uji.hook", actor=Actor.system())
        unit.after_commit(lambda: seen.append("commit " + in_db()))
        unit.after_rollback(lambda: seen.append("rollback"))
        assert seen == []
    assert seen == ["commit rows=1"]

    seen.clear()
    with pytest.raises(ZeroDivisionError):
        with unit_of_work() as unit:
            unit.after_commit(lambda: seen.append("commit"))
            unit.after_rollback(lambda: seen.append("rollback"))
            1 / 0
    assert seen == ["rollback"]


def test_a_failing_hook_does_not_undo_the_commit_or_stop_the_others(app, caplog):
    from app import audit
    from app.services.common import Actor, unit_of_work

    seen = []

    def broken():
        raise OSError("disk gone")

    with unit_of_work() as unit:
        audit.record("system", "uji.hook2", actor=Actor.system())
        unit.after_commit(broken)
        unit.after_commit(lambda: seen.append("second"))
    assert seen == ["second"]
    assert _system_rows("uji.hook2") == 1
    assert "hook after the commit failed" in caplog.text


def test_files_are_stored_only_inside_a_transaction(app):
    from app import storage

    upload = storage.prepare([_FileLike("a.pdf", PDF)])[0]
    complaint = Complaint(id=1)
    with pytest.raises(RuntimeError, match="unit_of_work"):
        upload.save_for(complaint)


def test_retention_deletes_files_only_after_its_batch_committed(app, submission, actor, monkeypatch):
    """A batch that fails after the files were chosen keeps rows and files; the next run does both."""
    from app.extensions import db
    from app.services import retention

    from .test_security_personal_data import _closed_complaint

    old_id, files = _closed_complaint(submission, actor, months_ago=25)
    upload_dir = Path(app.config["UPLOAD_DIR"])
    assert files and all((upload_dir / n).exists() for n in files)

    real_record = retention.audit.record

    def fail(kind, action, **kwargs):
        if action == "retention.anonymise":
            raise RuntimeError("history log unavailable")
        return real_record(kind, action, **kwargs)

    monkeypatch.setattr(retention.audit, "record", fail)
    with pytest.raises(RuntimeError, match="history log unavailable"):
        retention.run()
    assert all((upload_dir / n).exists() for n in files)
    db.session.expire_all()
    assert db.session.get(Complaint, old_id).anonymised_at is None

    monkeypatch.setattr(retention.audit, "record", real_record)
    report = retention.run()
    assert report.complaint_ids == [old_id] and report.files_deleted == len(files)
    assert not any((upload_dir / n).exists() for n in files)


# --------------------------------------------------------------------------- FAB's own commits


def test_a_permission_sync_that_fab_cannot_write_fails_loudly_and_a_rerun_repairs_it(app, runner, monkeypatch):
    """FAB logs and swallows its write errors; `flask roles sync` must fail instead of reporting success."""
    from app.workflow import Role

    sm = app.appbuilder.sm
    role = sm.find_role(Role.PIMPINAN.value)
    pvm = sm.find_permission_view_menu("can_read", "HistoryLog")
    assert pvm in role.permissions
    sm.del_permission_role(role, pvm)  # now the sync has something to add

    def refuse():
        raise sa.exc.OperationalError("COMMIT", {}, Exception("database is read-only"))

    monkeypatch.setattr(db.session, "commit", refuse)  # FAB commits through the scoped session
    result = runner.invoke(args=["roles", "sync"])
    assert result.exit_code == 1
    assert "Sinkronisasi hak akses gagal" in result.output and "database is read-only" in result.output
    assert "Roles synced" not in result.output

    monkeypatch.undo()
    result = runner.invoke(args=["roles", "sync"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert pvm in sm.find_role(Role.PIMPINAN.value).permissions
