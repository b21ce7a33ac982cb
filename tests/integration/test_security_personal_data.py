"""Personal data (issue 6, items 4 and 6): the NIK never in clear in the database file or a dump, key
rotation, history-log rows for personal-data views, retention."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import timedelta

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from tests.conftest import VALID_NIK, text_of
from tests.pii_corpus import NIK_ROWS

# Structurally valid Lumajang NIKs used by no other test, so their digits can only come from here.
NIKS = ["3508016706920417", "3508046112880583"]


def _raw_database_bytes(app) -> bytes:
    """The bytes a thief would get: the SQLite file (+ journal) or a pg_dump of the database."""
    from app.extensions import db

    db.session.remove()
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        db.engine.dispose()  # close connections so everything is in the file
        data = b""
        for suffix in ("", "-wal", "-journal"):
            path = url.database + suffix
            if os.path.exists(path):
                with open(path, "rb") as handle:
                    data += handle.read()
        return data
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run(["pg_dump", "--no-owner", "--dbname", libpq], check=True, capture_output=True,
                          timeout=60).stdout


def test_the_raw_database_never_contains_a_nik(app, submission, actor):
    from app.services import decide_nik, submit

    tickets = []
    for index, nik in enumerate(NIKS):
        typed = f"{nik[:2]}.{nik[2:4]}.{nik[4:6]}.{nik[6:12]}.{nik[12:]}" if index else nik
        result = submit(submission(nik=typed, name=f"Warga Rahasia {index}", email=f"warga{index}@contoh.id",
                                   address="Jl. Kenanga 7, Lumajang"))
        tickets.append(result.complaint.ticket)
        decide_nik(result.complaint.id, actor("validator"), valid=bool(index), remark=None if index else "Uji")
    raw = _raw_database_bytes(app)
    for ticket in tickets:
        assert ticket.encode() in raw, "the dump must hold the complaints, or this test proves nothing"
    assert b"Warga Rahasia 0" in raw  # (the name is stored in clear; only the NIK is encrypted)
    for nik in NIKS:
        assert nik.encode() not in raw
        assert nik.encode("utf-16-le") not in raw


def _digits_in(raw: bytes) -> str:
    """Every digit in the raw bytes, read as UTF-8 and as UTF-16, full-width and other digits as 0-9."""
    from app.textfold import fold

    return "".join(re.sub(r"[^0-9]", "", fold(raw.decode(encoding, errors="ignore")).text)
                   for encoding in ("utf-8", "utf-16-le"))


def test_the_raw_database_holds_no_nik_digits_however_the_nik_was_written(app, submission):
    """Issue 11: every NIK/KK writing of the corpus (tests/data/pii_corpus.tsv), typed in a complaint's text
    and title, is absent from the database file or dump, compared digits only."""
    from app.nik import normalize
    from app.services import submit

    tickets = []
    for row in NIK_ROWS:
        # A title is one line: the boundary refuses tabs and line breaks there.
        title = f"Korpus {row.line}: {row.text}" if not any(c in row.text for c in "\n\r\t") else "Korpus"
        text = f"Data saya ({row.line}):\n{row.text}\nTerima kasih."
        tickets.append(submit(submission(title=title[:200], text=text)).complaint.ticket)
    raw = _raw_database_bytes(app)
    for ticket in tickets:
        assert ticket.encode() in raw, "the dump must hold the complaints, or this test proves nothing"
    digits = _digits_in(raw)
    leaked = sorted({normalize(value) for row in NIK_ROWS for value in row.expected if normalize(value) in digits})
    assert leaked == []


# --------------------------------------------------------------------------- forged seal markers (issue 11)

FORGED = "\u27e6NIK:gAAAAABmZm9yZ2VkLXRva2Vu\u27e7"


def _track(client, ticket: str, pin: str) -> str:
    assert client.post("/lacak", data={"ticket": ticket, "pin": pin}).status_code == 303
    page = client.get("/lacak/hasil")
    assert page.status_code == 200
    return text_of(page)


def test_markers_typed_into_the_form_are_stored_as_brackets(client, complaint_form):
    from app.crypto import SEALED_NIK
    from app.extensions import db
    from app.models import Complaint

    typed = f"Saya menulis {FORGED} dan NIK saya 3508 0112 0390 0001."
    assert client.post("/pengaduan/baru", data=complaint_form(text=typed)).status_code == 303
    complaint = db.session.scalar(sa.select(Complaint).order_by(Complaint.id.desc()).limit(1))
    assert len(SEALED_NIK.findall(complaint.text)) == 1  # the real NIK only
    assert "[NIK:gAAAAABmZm9yZ2VkLXRva2Vu]" in complaint.text and "3508 0112" not in complaint.text


def test_a_complaint_already_holding_forged_markers_opens_on_the_validator_desk_and_the_tracking_page(
        app, client, auth, submission):
    """Stored before markers were neutralised: the desk and the tracking page show a label, not a 500."""
    from app.extensions import db
    from app.models import Complaint
    from app.services import submit

    done = submit(submission(text="Keluhan dengan NIK 3508 0112 0390 0001 di dalamnya."))
    complaint_id = done.complaint.id
    sealed = done.complaint.text
    db.session.execute(sa.update(Complaint).where(Complaint.id == complaint_id)
                       .values(text=f"{sealed} Lalu {FORGED} yang diketik warga."))
    db.session.commit()

    tracked = _track(client, done.complaint.ticket, done.pin)
    assert "NIK 3508 0112 0390 0001 di dalamnya." in tracked  # the complainant's own text, as typed
    assert "Lalu [NIK disembunyikan] yang diketik warga." in tracked

    auth.login("validator")
    desk = client.get(f"/staf/validasi/{complaint_id}")
    assert desk.status_code == 200
    desk_text = text_of(desk)
    assert "3508 0112 0390 0001" in desk_text and "[NIK disembunyikan]" in desk_text


# --------------------------------------------------------------------------- key rotation


def test_rotate_key_re_encrypts_every_nik_in_batches_and_is_idempotent(app, runner, submission, monkeypatch):
    from app.crypto import NikCipher
    from app.extensions import db
    from app.models import Complaint
    from app.services import submit
    from app.services.retention import run as retention_run  # noqa: F401  (erased rows are counted apart)
    from app.services.security import ERASED

    for index in range(5):
        submit(submission(title=f"Rotasi {index}"))
    erased = submit(submission(title="Sudah dihapus")).complaint.id
    db.session.execute(sa.update(Complaint).where(Complaint.id == erased).values(nik_encrypted=ERASED))
    db.session.commit()

    old_key, new_key = app.config["NIK_ENCRYPTION_KEY"], Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, "NIK_ENCRYPTION_KEY", new_key)
    monkeypatch.setitem(app.config, "NIK_ENCRYPTION_OLD_KEYS", (old_key,))
    result = runner.invoke(args=["nik", "rotate-key", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "5 dienkripsi ulang, 0 sudah memakai kunci baru, 1 sudah dihapus" in result.output

    only_new = NikCipher(new_key, app.config["NIK_HMAC_KEY"])
    tokens = db.session.scalars(sa.select(Complaint.nik_encrypted).where(Complaint.id != erased)).all()
    assert [only_new.decrypt(t) for t in tokens] == [VALID_NIK] * 5

    again = runner.invoke(args=["nik", "rotate-key"])
    assert "0 dienkripsi ulang, 5 sudah memakai kunci baru" in again.output

    # A token no configured key opens is reported, not skipped silently.
    stranger = Fernet(Fernet.generate_key()).encrypt(b"3508011203900001").decode()
    db.session.execute(sa.update(Complaint).where(Complaint.id == erased).values(nik_encrypted=stranger))
    db.session.commit()
    failed = runner.invoke(args=["nik", "rotate-key"])
    assert failed.exit_code != 0 and f"id pengaduan: {erased}" in failed.output


# --------------------------------------------------------------------------- history log of personal-data views


def _pii_rows(action):
    from app.extensions import db
    from app.models import AuditLog

    return db.session.scalars(sa.select(AuditLog).where(AuditLog.kind == "pii", AuditLog.action == action)).all()


def test_personal_data_views_are_logged_and_anonim_hides_the_identity_from_the_opd(submission, actor):
    """disclosure.present: a view that shows the complainant's identity writes a history row; an OPD gets
    no identity for an anonim complaint (and nothing is logged, nothing was shown)."""
    from app.extensions import db
    from app.services import NotFound, decide_nik, get_visible, submit, unit_of_work
    from app.services.disclosure import Screen, present

    anonim = submit(submission(visibility="anonim", email="ani@contoh.id")).complaint
    publik = submit(submission(visibility="publik", title="Publik")).complaint
    for complaint in (anonim, publik):
        decide_nik(complaint.id, actor("validator"), valid=True)

    def view(complaint_id, username):
        with unit_of_work():
            return present(get_visible(complaint_id, actor(username)), actor(username), Screen.OPD_DESK)

    assert view(publik.id, "opd.dinkes").complainant.phone == "0812-3456-7890"
    assert view(anonim.id, "opd.dinkes").complainant is None
    assert view(anonim.id, "pimpinan").complainant.email == "ani@contoh.id"
    rows = _pii_rows("complaint.personal.view")
    assert [(r.username, r.complaint_id) for r in rows] == [("opd.dinkes", publik.id), ("pimpinan", anonim.id)]
    assert '"screen": "opd_desk"' in rows[0].detail and "contact" in rows[0].detail

    with pytest.raises(NotFound):  # another OPD's complaint: not found, and nothing logged
        get_visible(publik.id, actor("opd.dputr"))
    db.session.rollback()
    assert len(_pii_rows("complaint.personal.view")) == 2


def test_a_full_nik_is_only_for_the_validator_and_each_view_is_logged(submission, actor):
    from app.services import Forbidden, claim, submit
    from app.services.disclosure import Screen, present

    complaint = submit(submission()).complaint
    opened = claim(complaint.id, actor("validator"))
    assert present(opened, actor("validator"), Screen.VALIDATOR_CHECK, log=False).nik == VALID_NIK
    for username in ("admin", "pimpinan", "opd.dinkes"):
        with pytest.raises(Forbidden):
            present(complaint, actor(username), Screen.VALIDATOR_CHECK, log=False)
    assert [r.username for r in _pii_rows("nik.view")] == ["validator"]
    # Elsewhere a validator gets it masked, supervisors and the OPD not at all.
    assert present(complaint, actor("validator"), Screen.API, log=False).nik == (
        "3508\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u20220001")
    assert present(complaint, actor("pimpinan"), Screen.API, log=False).nik is None


def test_the_validator_desk_logs_the_full_nik_it_shows(app, submission, client, auth):
    """The desk (issue 4) shows the full NIK; each display must leave a history row."""
    from app.services import submit

    complaint = submit(submission()).complaint
    auth.login("validator")
    page = client.get(f"/staf/validasi/{complaint.id}")
    assert page.status_code == 200
    assert VALID_NIK in page.get_data(as_text=True)
    rows = [r for r in _pii_rows("nik.view") if r.complaint_id == complaint.id]
    assert rows and rows[0].username == "validator"


# --------------------------------------------------------------------------- retention


def _closed_complaint(submission, actor, *, months_ago, with_files=True, **changes):
    from app.extensions import db
    from app.models import Attachment, Complaint
    from app.services import decide_nik, submit
    from app.storage import get_storage
    from app.timeutil import utcnow

    complaint = submit(submission(email="lama@contoh.id", address="Dusun Krajan RT 1", **changes)).complaint
    decide_nik(complaint.id, actor("validator"), valid=False, remark="NIK tidak terdaftar")
    stored = []
    if with_files:
        for index, answer_id in enumerate((None, None)):
            name = f"{complaint.id:04d}{index}aa.pdf"
            get_storage().put(name, b"%PDF-1.4 ktp pengadu")
            db.session.add(Attachment(complaint_id=complaint.id, answer_id=answer_id, original_name="ktp.pdf",
                                      stored_name=name, content_type="application/pdf", size=20, sha256="0" * 64))
            stored.append(name)
    db.session.execute(sa.update(Complaint).where(Complaint.id == complaint.id)
                       .values(closed_at=utcnow() - timedelta(days=int(months_ago * 30.5))))
    db.session.commit()
    return complaint.id, stored


def test_retention_anonymises_old_closed_complaints_and_keeps_the_statistics(app, runner, submission, actor):
    from app.extensions import db
    from app.models import Attachment, Complaint, NikCheck, Outbox, StatusEvent

    old_id, old_files = _closed_complaint(submission, actor, months_ago=25)
    recent_id, recent_files = _closed_complaint(submission, actor, months_ago=23, title="Masih baru")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Outbox)
                             .where(Outbox.complaint_id == old_id)) > 0

    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "1 pengaduan dianonimkan, 2 berkas dihapus" in result.output

    db.session.expire_all()
    old = db.session.get(Complaint, old_id)
    assert (old.name, old.phone, old.email, old.address) == ("Dihapus", None, None, None)
    assert old.nik_encrypted == old.nik_hash == "dihapus" and old.anonymised_at is not None
    # What the statistics count is kept.
    assert old.state.value == "tidak_valid" and old.opd.code == "DINKESP2KB" and old.submitted_at
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StatusEvent)
                             .where(StatusEvent.complaint_id == old_id)) >= 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NikCheck)
                             .where(NikCheck.complaint_id == old_id)) == 1
    # The files are gone from storage, the notices with the e-mail address too.
    upload_dir = app.config["UPLOAD_DIR"]
    assert not any(os.path.exists(os.path.join(upload_dir, n)) for n in old_files)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)
                             .where(Attachment.complaint_id == old_id)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Outbox)
                             .where(Outbox.complaint_id == old_id)) == 0

    recent = db.session.get(Complaint, recent_id)
    assert recent.name == "Budi Santoso" and recent.email == "lama@contoh.id"
    assert all(os.path.exists(os.path.join(upload_dir, n)) for n in recent_files)

    again = runner.invoke(args=["retention", "run"])
    assert "0 pengaduan dianonimkan" in again.output


def test_retention_period_is_configurable_and_open_complaints_are_never_touched(app, submission, actor,
                                                                                 monkeypatch):
    from app.extensions import db
    from app.models import Complaint
    from app.services import submit
    from app.services.retention import run

    old_id, _ = _closed_complaint(submission, actor, months_ago=7, with_files=False)
    open_id = submit(submission(title="Masih menunggu")).complaint.id
    from app.timeutil import utcnow

    db.session.execute(sa.update(Complaint).where(Complaint.id == open_id)
                       .values(submitted_at=utcnow() - timedelta(days=3000)))
    db.session.commit()
    monkeypatch.setitem(app.config, "RETENTION_MONTHS", 6)
    report = run()
    assert report.complaint_ids == [old_id]
    assert db.session.get(Complaint, open_id).name == "Budi Santoso"


def test_retention_is_a_daily_scheduled_job():
    from app.jobs import JOBS

    job = next(j for j in JOBS if j.id == "retention")
    assert job.func == "app.services.retention:retention_job" and job.trigger == "cron"
