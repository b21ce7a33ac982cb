"""The OPD desk through its pages: queue order and badges, answer flow (one transaction, public at
once, notification queued), answer rules, attachments, editing with a reason and the versions page,
internal notes, the export, and who may do what."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
import time_machine
from PIL import Image

from app import services
from app.extensions import db
from app.models import Answer, Attachment, AuditLog, Complaint, InternalNote, Outbox, StatusEvent
from app.services import desk
from app.services.sql import capped_count
from app.services.common import unit_of_work
from app.timeutil import utcnow
from app.workflow import State
from tests.conftest import PASSWORD, VALID_NIK_F, text_of
from tests.integration.opd_support import login, routed


MONDAY_10_WIB = datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc)


def _count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _fresh(complaint_id) -> Complaint:
    db.session.expire_all()
    return db.session.get(Complaint, complaint_id)


def _set_deadline(complaint_id, deadline, overdue=False):
    with unit_of_work():  # arranging the scene: the test plays the SLA sweep
        c = db.session.get(Complaint, complaint_id)
        c.answer_deadline, c.answer_overdue = deadline, overdue


def _png(color=(10, 120, 10)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (6, 6), color).save(out, format="PNG")
    return out.getvalue()


# --------------------------------------------------------------------------- queue


def test_queue_nearest_deadline_first_with_time_left_and_overdue_badge(app, submission, actor):
    with time_machine.travel(MONDAY_10_WIB, tick=False) as clock:
        now = utcnow()
        late = routed(submission, actor, title="Tiga terlambat")
        soon = routed(submission, actor, title="Dua besok", nik=VALID_NIK_F)
        later = routed(submission, actor, title="Satu lusa depan")
        _set_deadline(late.id, now - timedelta(hours=5), overdue=True)
        _set_deadline(soon.id, now + timedelta(days=1, hours=2))
        _set_deadline(later.id, now + timedelta(days=5))
        routed(submission, actor, "DPUTR", title="Milik DPUTR")
        clock.shift(timedelta(minutes=1))  # the page is read a minute later: counted down, not rounded up
        client = login(app, "opd.dinkes", PASSWORD)
        body = text_of(client.get("/staf/opd/"))
        assert body.index("Tiga terlambat") < body.index("Dua besok") < body.index("Satu lusa depan")
        assert "Milik DPUTR" not in body
        assert "Terlambat" in body and "terlambat 5 jam 1 menit" in body
        assert "1 hari 1 jam lagi" in body and "4 hari 23 jam lagi" in body
        only_late = text_of(client.get("/staf/opd/?terlambat=1"))
        assert "Tiga terlambat" in only_late and "Dua besok" not in only_late
        # Search by words of the public title, and by ticket.
        assert "Dua besok" in text_of(client.get("/staf/opd/?q=besok")) and \
            "Satu lusa" not in text_of(client.get("/staf/opd/?q=besok"))
        assert "Dua besok" in text_of(client.get(f"/staf/opd/?q={soon.ticket}"))


def test_answered_tab_and_keyset_pages(app, submission, actor, monkeypatch):
    made = [routed(submission, actor, title=f"Antre {i}") for i in range(5)]
    services.answer(made[0].id, actor("opd.dinkes"), "Sudah.")
    monkeypatch.setattr(desk, "PAGE_SIZE", 2)
    client = login(app, "opd.dinkes", PASSWORD)
    seen, url = [], "/staf/opd/?tab=menunggu"
    while url:
        response = client.get(url)
        page = desk.desk_page(services.Actor.from_user(_staff("opd.dinkes")), desk.QueueFilter(), page_size=2)
        assert page.count == 4 and not page.count_capped
        html = response.get_data(as_text=True)
        seen += [c.ticket for c in made if c.ticket in html]
        marker = 'id="next-page" href="'
        url = html.split(marker, 1)[1].split('"', 1)[0].replace("&amp;", "&") if marker in html else None
    assert sorted(seen) == sorted(c.ticket for c in made[1:])  # each waiting complaint once, none twice
    answered = text_of(client.get("/staf/opd/?tab=dijawab"))
    assert made[0].ticket in answered and made[1].ticket not in answered


def test_queue_counts_are_capped_not_full_table_counts(app, submission, actor):
    for i in range(3):
        routed(submission, actor, title=f"Hitung {i}")
    query = desk._desk_query(services.Actor.from_user(_staff("opd.dinkes")), desk.QueueFilter())
    assert capped_count(query, cap=2) == (2, True)
    assert capped_count(query, cap=10) == (3, False)


def _staff(username):
    from app.models import Staff

    return db.session.scalar(sa.select(Staff).where(Staff.username == username))


# --------------------------------------------------------------------------- answer


def test_answer_flow_state_timeline_public_page_and_notification(app, submission, actor):
    c = routed(submission, actor, email="warga@contoh.id", visibility="publik")
    events_before = _count(StatusEvent, StatusEvent.complaint_id == c.id)
    client = login(app, "opd.dinkes", PASSWORD)
    text = "Petugas pendaftaran ditambah mulai Senin. Hubungi 0812-1111-0000 bila masih antre."
    response = client.post(f"/staf/opd/{c.id}/jawab", data={"text": text})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/staf/opd/{c.id}")
    c = _fresh(c.id)
    assert c.state is State.DIJAWAB and c.answered_at is not None
    assert c.current_answer.text == text and "0812-1111-0000" not in c.current_answer.public_text
    events = db.session.scalars(sa.select(StatusEvent).where(StatusEvent.complaint_id == c.id)
                                .order_by(StatusEvent.id)).all()
    assert len(events) == events_before + 1 and events[-1].to_state is State.DIJAWAB
    mail = db.session.scalar(sa.select(Outbox).where(Outbox.complaint_id == c.id, Outbox.template == "answered"))
    assert mail is not None and mail.recipient == "warga@contoh.id" and mail.status == "pending"
    # The public page shows the answer at once (masked), with no waiting job in between.
    public = app.test_client().get(f"/pengaduan/{c.ticket}")
    assert public.status_code == 200
    page = text_of(public)
    assert "Petugas pendaftaran ditambah mulai Senin." in page and "0812-1111-0000" not in page
    # The desk shows it too, in the answered tab, and offers no second answer form.
    detail = client.get(f"/staf/opd/{c.id}").get_data(as_text=True)
    assert 'id="answer-form"' not in detail and "Petugas pendaftaran" in detail
    assert c.ticket in client.get("/staf/opd/?tab=dijawab").get_data(as_text=True)
    assert client.post(f"/staf/opd/{c.id}/jawab", data={"text": "Lagi."}).status_code == 409
    assert _count(Answer, Answer.complaint_id == c.id) == 1


def test_bad_answers_get_a_clear_message_and_change_nothing(app, submission, actor):
    c = routed(submission, actor)
    client = login(app, "opd.dinkes", PASSWORD)
    for text, message in (("   ", "Jawaban wajib diisi."), ("x" * 10_001, "Maksimal 10000 karakter")):
        response = client.post(f"/staf/opd/{c.id}/jawab", data={"text": text})
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    # A refused file refuses the whole answer; the typed text is kept in the form.
    response = client.post(f"/staf/opd/{c.id}/jawab", data={
        "text": "Jawaban dengan berkas.", "attachments": [(io.BytesIO(b"MZ not a picture"), "virus.exe")]},
        content_type="multipart/form-data")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "bukan JPEG, PNG atau PDF" in html and "Jawaban dengan berkas." in html
    assert _fresh(c.id).state is State.DITERUSKAN
    assert _count(Answer) == 0 and _count(Attachment) == 0
    assert client.post(f"/staf/opd/{c.id}/jawab", data={"text": "x" * 10_000}).status_code == 302


def test_answer_with_attachment_is_stored_and_downloadable_by_the_desk(app, submission, actor):
    c = routed(submission, actor)
    client = login(app, "opd.dinkes", PASSWORD)
    response = client.post(f"/staf/opd/{c.id}/jawab", data={
        "text": "Foto hasil perbaikan terlampir.", "attachments": [(io.BytesIO(_png()), "hasil.png")]},
        content_type="multipart/form-data")
    assert response.status_code == 302
    att = db.session.scalar(sa.select(Attachment).where(Attachment.complaint_id == c.id))
    assert att.answer_id == _fresh(c.id).current_answer.id and att.content_type == "image/png"
    download = client.get(f"/staf/opd/{c.id}/lampiran/{att.id}")
    assert download.status_code == 200 and download.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert "attachment" in download.headers["Content-Disposition"]
    logged = _count(AuditLog, AuditLog.action == "attachment.download", AuditLog.complaint_id == c.id)
    assert logged == 1
    assert login(app, "opd.dputr", PASSWORD).get(f"/staf/opd/{c.id}/lampiran/{att.id}").status_code == 404


def test_edit_needs_a_reason_and_pimpinan_sees_every_version(app, submission, actor):
    c = routed(submission, actor)
    services.answer(c.id, actor("opd.dinkes"), "Jadwal perbaikan: Senin.")
    client = login(app, "opd.dinkes", PASSWORD)
    refused = client.post(f"/staf/opd/{c.id}/ubah-jawaban", data={"text": "Jadwal perbaikan: Selasa.", "reason": ""})
    assert refused.status_code == 400 and "Alasan perubahan wajib diisi." in refused.get_data(as_text=True)
    assert _fresh(c.id).current_answer.text == "Jadwal perbaikan: Senin."
    done = client.post(f"/staf/opd/{c.id}/ubah-jawaban",
                       data={"text": "Jadwal perbaikan: Selasa.", "reason": "Salah ketik hari."})
    assert done.status_code == 302
    reply = _fresh(c.id).current_answer
    assert [v.text for v in reply.versions] == ["Jadwal perbaikan: Senin.", "Jadwal perbaikan: Selasa."]
    assert client.get(f"/staf/opd/{c.id}/versi").status_code == 403  # versions are for supervisors
    boss = login(app, "pimpinan", PASSWORD)
    page = boss.get(f"/staf/opd/{c.id}/versi")
    assert page.status_code == 200
    body = text_of(page)
    assert body.index("Jadwal perbaikan: Senin.") < body.index("Jadwal perbaikan: Selasa.")
    assert "Salah ketik hari." in body and "Versi 2" in body
    # The public page shows the current version only.
    public = text_of(app.test_client().get(f"/pengaduan/{c.ticket}"))
    assert "Selasa" in public and "Jadwal perbaikan: Senin." not in public


def test_pimpinan_reads_but_does_not_answer_or_return(app, submission, actor):
    c = routed(submission, actor)
    boss = login(app, "pimpinan", PASSWORD)
    page = boss.get(f"/staf/opd/{c.id}").get_data(as_text=True)
    assert c.ticket in page and 'id="answer-form"' not in page and 'id="return-form"' not in page
    assert boss.post(f"/staf/opd/{c.id}/jawab", data={"text": "Dari pimpinan."}).status_code == 403
    assert boss.post(f"/staf/opd/{c.id}/kembalikan", data={"reason": "x"}).status_code == 403
    assert _fresh(c.id).state is State.DITERUSKAN
    # Supervisors see every OPD's queue and may narrow it to one OPD.
    routed(submission, actor, "DPUTR", title="Jalan DPUTR")
    everything = text_of(boss.get("/staf/opd/"))
    assert c.public_title in everything and "Jalan DPUTR" in everything
    only = text_of(boss.get("/staf/opd/?opd=DPUTR"))
    assert "Jalan DPUTR" in only and c.public_title not in only


def test_the_desk_needs_a_sign_in_and_the_right_role(app, submission, actor):
    c = routed(submission, actor)
    anonymous = app.test_client()
    for url in ("/staf/opd/", f"/staf/opd/{c.id}", "/staf/opd/ekspor.csv", "/staf/disposisi/"):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/login/" in response.headers["Location"]
        assert c.ticket not in response.get_data(as_text=True)
    validator = login(app, "validator", PASSWORD)
    assert validator.get("/staf/opd/").status_code == 403
    assert validator.get(f"/staf/opd/{c.id}").status_code == 403


# --------------------------------------------------------------------------- notes


def test_internal_notes_are_for_staff_who_see_the_complaint_never_public(app, submission, actor):
    c = routed(submission, actor, visibility="publik")
    client = login(app, "opd.dinkes", PASSWORD)
    assert client.post(f"/staf/opd/{c.id}/catatan", data={"text": "  "}).status_code == 400
    assert client.post(f"/staf/opd/{c.id}/catatan", data={"text": "n" * 2001}).status_code == 400
    assert _count(InternalNote) == 0
    response = client.post(f"/staf/opd/{c.id}/catatan", data={"text": "Koordinasi dengan Puskesmas Senduro."})
    assert response.status_code == 302
    assert "Koordinasi dengan Puskesmas Senduro." in client.get(f"/staf/opd/{c.id}").get_data(as_text=True)
    boss = login(app, "pimpinan", PASSWORD)
    assert "Koordinasi dengan Puskesmas Senduro." in boss.get(f"/staf/opd/{c.id}").get_data(as_text=True)
    boss.post(f"/staf/opd/{c.id}/catatan", data={"text": "Mohon diprioritaskan."})
    notes = db.session.scalars(sa.select(InternalNote).where(InternalNote.complaint_id == c.id)).all()
    assert [n.text for n in notes] == ["Koordinasi dengan Puskesmas Senduro.", "Mohon diprioritaskan."]
    public = app.test_client()
    services.answer(c.id, actor("opd.dinkes"), "Selesai ditangani.")
    page = public.get(f"/pengaduan/{c.ticket}")
    assert page.status_code == 200 and "Selesai ditangani." in page.get_data(as_text=True)
    assert "Koordinasi" not in page.get_data(as_text=True) and "diprioritaskan" not in page.get_data(as_text=True)
    assert login(app, "opd.dputr", PASSWORD).post(f"/staf/opd/{c.id}/catatan", data={"text": "x"}).status_code == 404


# --------------------------------------------------------------------------- export


def test_export_is_scoped_and_neutralises_formulas(app, submission, actor):
    evil = routed(submission, actor, title="=HYPERLINK(\"http://jahat.example\",\"klik\")", visibility="publik",
                  name="+Nama Formula")
    other = routed(submission, actor, "DPUTR", title="@SUM(A1:A9) milik DPUTR", nik=VALID_NIK_F)
    client = login(app, "opd.dinkes", PASSWORD)
    response = client.get("/staf/opd/ekspor.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Tiket" and len(rows) == 2
    row = dict(zip(rows[0], rows[1]))
    assert row["Tiket"] == evil.ticket
    assert row["Judul"].startswith("'=HYPERLINK(")
    assert row["Pengadu"] == "'+Nama Formula"
    # Words from the one label table, never state or visibility codes (issue 16, item 5).
    assert row["Status"] == "Diteruskan ke OPD" and row["Visibilitas"] == "Publik"
    assert row["Terlambat"] in ("Ya", "Tidak")
    assert other.ticket not in response.get_data(as_text=True)
    assert _count(AuditLog, AuditLog.action == "complaint.export") == 1
    # A supervisor's export spans every OPD.
    everything = login(app, "pimpinan", PASSWORD).get("/staf/opd/ekspor.csv").get_data(as_text=True)
    assert evil.ticket in everything and other.ticket in everything
