"""`flask personal-data rescan` (issue 11, item 6) on a database seeded with what an older detector left:
NIKs in clear in texts, answers and versions, unmasked phones and e-mails in public renderings, and anonim
names in public renderings written before names were masked at write time."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy_continuum import version_class

from app import services
from app.crypto import SEALED_NIK
from app.extensions import db
from app.models import Answer, AuditLog, Complaint

NIK_IN_TEXT = "3508046112880583"
# Written the ways the old detector missed: en dashes between the groups, an obfuscated e-mail.
DASHED = "\u2013".join((NIK_IN_TEXT[:4], NIK_IN_TEXT[4:8], NIK_IN_TEXT[8:12], NIK_IN_TEXT[12:]))
OLD_TEXT = f"NIK saya {DASHED}, hubungi 0812-3456-7890. Salam, Sumiati."


def _old_database(submission, actor):
    """Complaints stored the way an older version stored them (written with Core, as it did)."""
    made = services.submit(submission(name="Sumiati Rahayu", visibility="anonim", title="Keluhan bu Sumiati",
                                      text="Antrean lama.")).complaint
    services.decide_nik(made.id, actor("validator"), valid=True)
    reply = services.answer(made.id, actor("opd.dinkes"), "Sudah kami tindak lanjuti.")
    version_before = db.session.get(Complaint, made.id).version
    c, a = Complaint.__table__, Answer.__table__
    db.session.execute(sa.update(c).where(c.c.id == made.id).values(
        title="Keluhan bu Sumiati", text=OLD_TEXT, public_title="Keluhan bu Sumiati",
        public_text=f"NIK saya {DASHED}, hubungi 0812-3456-7890 atau sumiati [at] gmail [dot] com. Salam, Sumiati."))
    db.session.execute(sa.update(a).where(a.c.id == reply.id).values(
        text=f"Untuk NIK {NIK_IN_TEXT}: sudah ditangani.", public_text="Tulis ke sumiati@contoh.id ya."))
    cv, av = version_class(Complaint).__table__, version_class(Answer).__table__
    db.session.execute(sa.update(cv).where(cv.c.id == made.id).values(text=OLD_TEXT))
    db.session.execute(sa.update(av).where(av.c.id == reply.id).values(text=f"NIK {NIK_IN_TEXT}"))
    db.session.commit()
    return made.id, reply.id, version_before


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _raw_texts(complaint_id, answer_id) -> str:
    c, a = Complaint.__table__, Answer.__table__
    cv, av = version_class(Complaint).__table__, version_class(Answer).__table__
    parts = [*db.session.execute(sa.select(c.c.title, c.c.text, c.c.public_title, c.c.public_text)
                                 .where(c.c.id == complaint_id)).one(),
             *db.session.execute(sa.select(a.c.text, a.c.public_text).where(a.c.id == answer_id)).one()]
    parts += [t for (t,) in db.session.execute(sa.select(cv.c.text).where(cv.c.id == complaint_id))]
    parts += [t for (t,) in db.session.execute(sa.select(av.c.text).where(av.c.id == answer_id))]
    return "\n".join(p or "" for p in parts)


def test_rescan_repairs_an_old_database_and_a_second_run_changes_nothing(app, runner, submission, actor):
    complaint_id, answer_id, version_before = _old_database(submission, actor)
    assert NIK_IN_TEXT in _digits(_raw_texts(complaint_id, answer_id))

    dry = runner.invoke(args=["personal-data", "rescan", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would change" in dry.output and "complaint.text: 1" in dry.output
    assert NIK_IN_TEXT in _digits(_raw_texts(complaint_id, answer_id))  # a dry run writes nothing

    done = runner.invoke(args=["personal-data", "rescan"])
    assert done.exit_code == 0, done.output
    for line in ("complaint.text: 1", "complaint.public_title: 1", "complaint.public_text: 1", "answer.text: 1",
                 "answer.public_text: 1", "answer_version.text: 1"):
        assert line in done.output
    db.session.expire_all()
    raw = _raw_texts(complaint_id, answer_id)
    assert NIK_IN_TEXT not in _digits(raw)
    public = db.session.get(Complaint, complaint_id).public_text
    assert "0812-3456-7890" not in public and "gmail" not in public
    row = db.session.get(Complaint, complaint_id)
    assert "Sumiati" not in row.public_title and "Sumiati" not in row.public_text  # anonim: the name too
    assert "Sumiati" in row.title  # the original keeps it for those who may read it
    assert SEALED_NIK.search(row.text)
    assert services.complaints.cipher().unseal_niks(row.text) == OLD_TEXT  # sealed, not lost
    assert row.version == version_before  # the rescan is nobody's edit
    reply = db.session.get(Answer, answer_id)
    assert "sumiati@contoh.id" not in reply.public_text and SEALED_NIK.search(reply.text)
    log = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "personal_data.rescan")).one()
    assert json.loads(log.detail)["changed"]["complaint.text"] == 1

    again = runner.invoke(args=["personal-data", "rescan"])
    assert again.exit_code == 0 and "0 field(s) changed" in again.output
    db.session.expire_all()
    assert _raw_texts(complaint_id, answer_id) == raw
