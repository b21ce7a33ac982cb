"""Backup and restore (issue 14, item 7): `flask backup create | verify | restore`, on SQLite and PostgreSQL.

A seeded database (complaints with attachments, decisions, an answer, the history log) is backed up
through the CLI, restored into a new empty database and attachment folder, and a second app on the
restored copy serves the same complaints, attachments and history log. A tampered backup fails verify;
a restore into a database or folder that is not empty is refused and changes nothing.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD, build_app, text_of

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" \
      b"trailer<</Root 1 0 R>>\n%%EOF\n"


class _FileLike:
    def __init__(self, filename, data):
        self.filename, self.stream = filename, io.BytesIO(data)


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def seeded(app, submission, actor):
    """Three complaints: one answered with files on both sides, one refused, one waiting."""
    from app import storage
    from app.services import answer, decide_nik, submit

    first = submit(submission(title="Lampu jalan mati"), files=storage.prepare([_FileLike("foto.png", _png())]))
    decide_nik(first.complaint.id, actor("validator"), valid=True)
    answer(first.complaint.id, actor("opd.dinkes"), "Lampu sudah kami ganti.",
           files=storage.prepare([_FileLike("bukti.pdf", PDF)]))
    second = submit(submission(title="Saluran tersumbat", nik="3508105207850002"))
    decide_nik(second.complaint.id, actor("validator"), valid=False, remark="NIK tidak terdaftar.")
    third = submit(submission(title="Trotoar rusak", nik="3508011203900002"),
                   files=storage.prepare([_FileLike("lokasi.pdf", PDF)]))
    return {"answered": (first.complaint.ticket, first.pin), "refused": second.complaint.ticket,
            "waiting": (third.complaint.ticket, third.pin)}


@contextmanager
def _empty_database(app, tmp_path):
    """A new, empty database on the same kind of server as the session's, dropped afterwards."""
    from app.extensions import db

    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"lpo_restore_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                         {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _all_rows(url: str) -> dict[str, list]:
    """Every row of every table, in a comparable form."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
            return {t: sorted(repr(tuple(r)) for r in conn.execute(sa.text(f'SELECT * FROM "{t}"'))) for t in tables}
    finally:
        engine.dispose()


def _backup(runner, directory: Path):
    result = runner.invoke(args=["backup", "create", str(directory)])
    assert result.exit_code == 0, result.output
    return json.loads((directory / "manifest.json").read_text())


def test_backup_restored_into_a_new_database_serves_the_same_complaints_files_and_history(
        app, runner, seeded, tmp_path):
    from app.extensions import db

    before = _all_rows(db.engine.url.render_as_string(hide_password=False))
    manifest = _backup(runner, tmp_path / "cadangan")
    assert manifest["database"] == db.engine.dialect.name
    assert manifest["tables"]["complaint"] == 3 and manifest["tables"]["attachment"] == 3
    assert manifest["tables"]["audit_log"] == len(before["audit_log"]) > 0
    assert manifest["alembic_revision"] and manifest["app_version"]
    assert len([f for f in manifest["files"] if f.startswith("attachments/")]) == 3
    verified = runner.invoke(args=["backup", "verify", str(tmp_path / "cadangan")])
    assert verified.exit_code == 0 and "Cadangan utuh" in verified.output, verified.output

    uploads = tmp_path / "uploads-restored"
    with _empty_database(app, tmp_path) as target:
        restored = runner.invoke(args=["backup", "restore", str(tmp_path / "cadangan"), "--database-url", target,
                                       "--upload-dir", str(uploads)])
        assert restored.exit_code == 0, restored.output
        assert _all_rows(target) == before  # every row of every table, the history log included
        for name in {p.name for p in Path(app.config["UPLOAD_DIR"]).iterdir()} & {p.name for p in uploads.iterdir()}:
            assert (uploads / name).read_bytes() == (Path(app.config["UPLOAD_DIR"]) / name).read_bytes()
        assert len(list(uploads.iterdir())) == 3

        second = build_app(target, UPLOAD_DIR=str(uploads))
        try:
            _serves_the_same(app, second, seeded)
        finally:
            with second.app_context():
                db.session.remove()
                db.engine.dispose()


def _serves_the_same(app, second, seeded):
    ticket, pin = seeded["answered"]
    pages = {}
    for which in (app, second):
        client = which.test_client()
        assert client.post("/lacak", data={"ticket": ticket, "pin": pin}).status_code == 303
        tracked = client.get("/lacak/hasil")
        assert tracked.status_code == 200
        html = tracked.get_data(as_text=True)
        links = sorted(set(re.findall(r'/lacak/lampiran/(\d+)', html)))
        files = [client.get(f"/lacak/lampiran/{n}").data for n in links]
        public = which.test_client().get(f"/pengaduan/{ticket}")
        staff = which.test_client()
        assert staff.post("/login/", data={"username": "pimpinan", "password": PASSWORD}).status_code == 302
        complaint_id = re.search(r"/riwayat/pengaduan/(\d+)",
                                               staff.get(f"/riwayat/pengaduan?tiket={ticket}").headers["Location"])
        history = staff.get(f"/riwayat/pengaduan/{complaint_id.group(1)}")
        assert history.status_code == 200
        pages[which] = (text_of(tracked), links, files, public.status_code, text_of(public), text_of(history))
    old, new = pages[app], pages[second]
    assert new[:5] == old[:5]
    assert "Lampu sudah kami ganti." in new[0] and len(new[2]) == 2 and new[2][0]
    # The history page grows with each view (views of personal data are logged); the seeded part is the same.
    for line in ("Lampu jalan mati", "validator", "opd.dinkes"):
        assert line in new[5]


def test_a_tampered_backup_fails_verify_and_is_not_restored(app, runner, seeded, tmp_path):
    directory = tmp_path / "cadangan"
    manifest = _backup(runner, directory)
    attachment = directory / next(f for f in manifest["files"] if f.startswith("attachments/"))
    data = bytearray(attachment.read_bytes())
    data[len(data) // 2] ^= 0x01
    attachment.write_bytes(bytes(data))
    result = runner.invoke(args=["backup", "verify", str(directory)])
    assert result.exit_code != 0 and "checksum sha256 tidak cocok" in result.output, result.output

    with _empty_database(app, tmp_path) as target:
        refused = runner.invoke(args=["backup", "restore", str(directory), "--database-url", target,
                                      "--upload-dir", str(tmp_path / "u")])
        assert refused.exit_code != 0 and "tidak utuh" in refused.output
        assert _all_rows(target) == {} and not (tmp_path / "u").exists()


def test_a_changed_dump_an_extra_file_or_a_lost_file_fail_verify(app, runner, seeded, tmp_path):
    directory = tmp_path / "cadangan"
    manifest = _backup(runner, directory)
    dump = directory / manifest["dump"]
    with dump.open("ab") as handle:
        handle.write(b"\0")
    (directory / "attachments" / "extra.pdf").write_bytes(PDF)
    lost = next(f for f in manifest["files"] if f.startswith("attachments/"))
    (directory / lost).unlink()
    result = runner.invoke(args=["backup", "verify", str(directory)])
    assert result.exit_code != 0
    for expected in (f"berkas {manifest['dump']}: ukuran", "attachments/extra.pdf tidak tercatat",
                     f"berkas {lost} hilang"):
        assert expected in result.output, result.output


def test_restore_refuses_a_database_or_folder_that_is_not_empty(app, runner, seeded, tmp_path):
    from app.extensions import db

    directory = tmp_path / "cadangan"
    _backup(runner, directory)
    current = db.engine.url.render_as_string(hide_password=False)
    before = _all_rows(current)
    refused = runner.invoke(args=["backup", "restore", str(directory), "--database-url", current,
                                  "--upload-dir", str(tmp_path / "u")])
    assert refused.exit_code != 0, refused.output
    assert "tidak kosong" in refused.output or "sudah ada" in refused.output, refused.output
    assert _all_rows(current) == before

    full = tmp_path / "penuh"
    full.mkdir()
    (full / "lain.pdf").write_bytes(PDF)
    with _empty_database(app, tmp_path) as target:
        refused = runner.invoke(args=["backup", "restore", str(directory), "--database-url", target,
                                      "--upload-dir", str(full)])
        assert refused.exit_code != 0 and "Folder lampiran" in refused.output and "tidak kosong" in refused.output
        assert _all_rows(target) == {} and [p.name for p in full.iterdir()] == ["lain.pdf"]


def test_backup_into_a_folder_that_holds_files_is_refused(app, runner, tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "lama.txt").write_text("lama")
    result = runner.invoke(args=["backup", "create", str(tmp_path / "x")])
    assert result.exit_code != 0 and "sudah berisi berkas" in result.output
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["lama.txt"]
