"""Storage faults (issue 14, item 5): an attachment that cannot be written leaves no complaint (or answer)
without its files and no orphan files; the citizen gets a clear message and the form keeps what was typed.

Two real faults, no monkeypatching: the attachment folder replaced by a file (every write fails: folder
gone or not writable), and a real 64 KiB tmpfs (the first file fits, the second hits ENOSPC mid-write).
The tmpfs needs the right to mount (root, as in CI); without it that test is skipped and says why.
"""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Answer, Attachment, AuditLog, Complaint, Outbox, StatusEvent
from app.workflow import State
from tests.conftest import PASSWORD, text_of
from tests.integration.opd_support import login, routed

PDF_HEAD = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
SMALL_PDF = PDF_HEAD + b"trailer<</Root 1 0 R>>\n%%EOF\n"
MESSAGE = "Lampiran tidak dapat disimpan karena gangguan penyimpanan di server"


def big_pdf(size: int) -> bytes:
    return PDF_HEAD + b"%" + os.urandom(size // 2).hex().encode()[: size] + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def counts() -> dict[str, int]:
    db.session.expire_all()
    return {m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Complaint, StatusEvent, Attachment, Answer, Outbox)} | {
        "submit_log": db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                                        .where(AuditLog.action == "complaint.submit"))}


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def post_form(client, form: dict, files: list[tuple[str, bytes]]):
    data = dict(form)
    data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/pengaduan/baru", data=data, content_type="multipart/form-data")


def assert_form_kept(response, form: dict):
    html = response.get_data(as_text=True)
    assert MESSAGE in " ".join(text_of(response).split())
    assert f'value="{form["title"]}"' in html and form["text"] in html and 'value="0812-3456-7890"' in html


def test_attachment_folder_that_cannot_be_written_stores_nothing_and_keeps_the_form(
        app, client, complaint_form, monkeypatch, tmp_path):
    blocked = tmp_path / "uploads"
    blocked.write_text("not a folder")  # the folder is gone and a file sits in its place
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(blocked))
    before = counts()
    form = complaint_form(email="budi@contoh.id")
    response = post_form(client, form, [("surat.pdf", SMALL_PDF)])
    assert response.status_code == 503
    assert_form_kept(response, form)
    assert counts() == before
    assert blocked.read_text() == "not a folder"

    # The store is back: the same form goes through.
    blocked.unlink()
    again = post_form(client, form, [("surat.pdf", SMALL_PDF)])
    assert again.status_code == 303
    assert counts()["complaint"] == before["complaint"] + 1 and len(files_in(blocked)) == 1


@pytest.fixture
def tiny_disk(tmp_path):
    mount = tmp_path / "kecil"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a 64 KiB tmpfs needs CAP_SYS_ADMIN (root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_midway_removes_the_files_already_written_and_stores_nothing(
        app, client, complaint_form, monkeypatch, tiny_disk):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tiny_disk))
    before = counts()
    form = complaint_form()
    # The first file fits in 64 KiB, the second (~120 KiB) runs out of space while being written.
    response = post_form(client, form, [("kecil.pdf", SMALL_PDF), ("besar.pdf", big_pdf(120_000))])
    assert response.status_code == 503
    assert_form_kept(response, form)
    assert counts() == before
    assert files_in(tiny_disk) == []  # neither the first file nor half of the second (.part)

    fits = post_form(client, form, [("kecil.pdf", SMALL_PDF)])
    assert fits.status_code == 303 and len(files_in(tiny_disk)) == 1


def test_an_answer_whose_file_cannot_be_stored_is_not_saved_and_the_desk_keeps_the_text(
        app, submission, actor, monkeypatch, tiny_disk):
    complaint = routed(submission, actor)
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tiny_disk))
    before = counts()
    desk = login(app, "opd.dinkes", PASSWORD)
    text = "Saluran sudah kami bersihkan bersama warga pada hari Senin."
    response = desk.post(f"/staf/opd/{complaint.id}/jawab", content_type="multipart/form-data",
                         data={"text": text, "attachments": [(io.BytesIO(big_pdf(120_000)), "bukti.pdf")]})
    assert response.status_code == 503
    assert MESSAGE in " ".join(text_of(response).split()) and text in response.get_data(as_text=True)
    assert counts() == before and files_in(tiny_disk) == []
    db.session.expire_all()
    assert db.session.get(Complaint, complaint.id).state == State.DITERUSKAN
