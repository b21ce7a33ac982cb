"""The validator's desk (SOP rows 4-5) through the browser routes: queue, opening (claim), decision,
the personal data shown before publishing, statistics and the registry import."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine

from app import services
from app.extensions import db
from app.models import AuditLog, Complaint, NikCheck, Outbox, RegistryEntry
from app.services import validation
from app.services.common import unit_of_work
from app.workflow import State
from tests.conftest import PASSWORD, VALID_NIK, VALID_NIK_F, text_of

DESK = "/staf/validasi/"
MONDAY_10_WIB = datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc)


def submit(submission, **kw) -> Complaint:
    return services.submit(submission(**kw)).complaint


def nik_checks(complaint_id=None) -> int:
    query = sa.select(sa.func.count(NikCheck.id))
    if complaint_id is not None:
        query = query.where(NikCheck.complaint_id == complaint_id)
    return db.session.scalar(query)


def fresh(complaint_id) -> Complaint:
    db.session.expire_all()
    return db.session.get(Complaint, complaint_id)


def signed_in(app, username):
    """A separate browser (own cookie jar) signed in as one user."""
    client = app.test_client()
    assert client.post("/login/", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def decide(client, complaint_id, **form):
    version = fresh(complaint_id).version
    return client.post(f"{DESK}{complaint_id}/keputusan", data={"version": version, **form})


# --------------------------------------------------------------------------- who may enter


@pytest.mark.parametrize("username", ["opd.dinkes", "pimpinan"])
def test_admin_opd_and_pimpinan_get_403_everywhere_on_the_desk(client, auth, submission, username):
    c = submit(submission)
    auth.login(username)
    assert client.get(DESK).status_code == 403
    opened = client.get(f"{DESK}{c.id}")
    assert opened.status_code == 403
    assert VALID_NIK not in opened.get_data(as_text=True)
    assert client.post(f"{DESK}{c.id}/keputusan", data={"decision": "valid", "version": c.version}).status_code == 403
    assert fresh(c.id).state is State.MENUNGGU_VERIFIKASI and nik_checks() == 0


def test_anonymous_is_sent_to_the_login_page(client, submission):
    c = submit(submission)
    for response in (client.get(DESK), client.get(f"{DESK}{c.id}"),
                     client.post(f"{DESK}{c.id}/keputusan", data={"decision": "valid"})):
        assert response.status_code == 302 and "/login/" in response.headers["Location"]
        assert VALID_NIK not in response.get_data(as_text=True)
    assert fresh(c.id).state is State.MENUNGGU_VERIFIKASI and nik_checks() == 0


def test_admin_sistem_sees_the_queue_but_cannot_open_a_nik(client, auth, submission):
    c = submit(submission)
    auth.login("admin")
    assert client.get(DESK).status_code == 200
    opened = client.get(f"{DESK}{c.id}")
    assert opened.status_code == 403 and VALID_NIK not in opened.get_data(as_text=True)
    assert fresh(c.id).claimed_by_id is None


# --------------------------------------------------------------------------- the queue


def test_queue_oldest_deadline_first_with_time_left_and_overdue_badge(client, auth, submission):
    with time_machine.travel(MONDAY_10_WIB, tick=False) as clock:
        newer = submit(submission, title="Pengaduan baru")
        older = submit(submission, title="Pengaduan lama")
        with unit_of_work():  # backdate one complaint past its 24-hour deadline
            row = db.session.get(Complaint, older.id)
            row.submitted_at -= timedelta(hours=30)
            row.validation_deadline -= timedelta(hours=30)
        decided = submit(submission, title="Sudah diputuskan")
        services.decide_nik(decided.id, services.Actor.from_user(_user("validator2")), valid=True)
        clock.shift(timedelta(minutes=1, seconds=30))
        auth.login("validator")
        page = client.get(DESK)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert body.index(older.ticket) < body.index(newer.ticket)
    assert decided.ticket not in body
    text = " ".join(text_of(page).split())
    assert "Terlambat" in text and "lewat 6 jam 1 menit" in text  # minutes are counted down, never up
    assert "23 jam 58 menit lagi" in text
    assert "Menunggu: 2 pengaduan." in text
    assert VALID_NIK not in body  # the queue never shows a NIK


def test_queue_pages_by_keyset_and_survives_a_bad_cursor(actor, submission):
    made = [submit(submission) for _ in range(5)]
    validator = actor("validator")
    first = validation.queue(validator, limit=2)
    assert [r.id for r in first.rows] == [made[0].id, made[1].id] and first.next_cursor
    second = validation.queue(validator, cursor=first.next_cursor, limit=2)
    third = validation.queue(validator, cursor=second.next_cursor, limit=2)
    assert [r.id for r in second.rows + third.rows] == [c.id for c in made[2:]]
    assert third.next_cursor is None and first.total == 5
    assert [r.id for r in validation.queue(validator, cursor="bukan-kursor", limit=2).rows] == [made[0].id,
                                                                                                made[1].id]


def _user(username):
    from app.models import Staff

    return db.session.scalar(sa.select(Staff).where(Staff.username == username))


# --------------------------------------------------------------------------- opening = claiming


def test_opening_claims_shows_full_nik_and_logs_the_view(client, auth, submission):
    c = submit(submission, nik=VALID_NIK_F, name="Siti Aminah")
    auth.login("validator")
    page = client.get(f"{DESK}{c.id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert VALID_NIK_F in body and "Siti Aminah" in body
    text = text_of(page)
    assert "Perempuan" in text and "12-07-1985" in text and "Kabupaten Lumajang" in text
    assert "sesuai aturan" in text
    assert "Belum ada hasil SIAK" in text
    row = fresh(c.id)
    assert row.claimed_by.username == "validator" and row.claim_expires_at > row.claimed_at
    assert row.claim_expires_at - row.claimed_at == timedelta(minutes=10)
    views = db.session.scalars(sa.select(AuditLog).where(AuditLog.kind == "pii", AuditLog.action == "nik.view",
                                                         AuditLog.complaint_id == c.id)).all()
    assert len(views) == 1 and views[0].username == "validator"


def test_a_second_validator_sees_who_holds_the_claim_and_no_nik(app, submission):
    c = submit(submission)
    first, second = signed_in(app, "validator"), signed_in(app, "validator2")
    assert first.get(f"{DESK}{c.id}").status_code == 200
    held = second.get(f"{DESK}{c.id}")
    assert held.status_code == 409
    assert "Sedang diperiksa oleh Validator Uji" in text_of(held)
    assert VALID_NIK not in held.get_data(as_text=True)
    queue = text_of(second.get(DESK))
    assert "Validator Uji" in queue and "Ditahan" in queue
    refused = second.post(f"{DESK}{c.id}/keputusan", data={"decision": "valid", "version": fresh(c.id).version})
    assert refused.status_code == 409 and "sedang diperiksa oleh validator lain" in text_of(refused)
    assert nik_checks() == 0


def test_claim_expires_after_claim_minutes(app, submission):
    c = submit(submission)
    first, second = signed_in(app, "validator"), signed_in(app, "validator2")
    start = datetime.now().astimezone()
    with time_machine.travel(start, tick=False) as clock:
        assert first.get(f"{DESK}{c.id}").status_code == 200
        stale_version = fresh(c.id).version
        clock.shift(timedelta(minutes=9, seconds=59))
        assert second.get(f"{DESK}{c.id}").status_code == 409
        clock.shift(timedelta(seconds=2))  # ten minutes and a second: the claim has lapsed
        taken = second.get(f"{DESK}{c.id}")
        assert taken.status_code == 200 and VALID_NIK in taken.get_data(as_text=True)
        assert fresh(c.id).claimed_by.username == "validator2"
        late = first.post(f"{DESK}{c.id}/keputusan", data={"decision": "valid", "version": stale_version})
        assert late.status_code == 409
        assert nik_checks() == 0 and fresh(c.id).state is State.MENUNGGU_VERIFIKASI


# --------------------------------------------------------------------------- deciding


def test_valid_decision_routes_publishes_and_stores_the_work_time(client, auth, submission):
    c = submit(submission, email="budi@contoh.id")
    auth.login("validator")
    start = datetime.now().astimezone()
    with time_machine.travel(start, tick=False) as clock:
        client.get(f"{DESK}{c.id}")
        clock.shift(timedelta(minutes=4))
        done = decide(client, c.id, decision="valid")
        # (still inside the travel: a session cookie signed "in the future" is refused on return)
        assert done.status_code == 302 and done.headers["Location"].endswith(DESK)
        assert "NIK valid, diteruskan ke" in text_of(client.get(DESK))
    row = fresh(c.id)
    assert row.state is State.DITERUSKAN and row.published_at is not None and row.claimed_by_id is None
    check = db.session.scalar(sa.select(NikCheck).where(NikCheck.complaint_id == c.id))
    assert check.result == "valid" and check.work_seconds == 240
    assert row.public_edit_reason is None  # nothing was edited
    assert db.session.scalar(sa.select(Outbox.template).where(Outbox.complaint_id == c.id)
                             .order_by(Outbox.id.desc())) == "routed"


def test_tidak_valid_needs_a_remark_and_is_never_published(client, auth, submission):
    c = submit(submission, email="budi@contoh.id")
    auth.login("validator")
    client.get(f"{DESK}{c.id}")
    refused = decide(client, c.id, decision="tidak_valid", remark="   ")
    assert refused.status_code == 400
    assert "Catatan wajib diisi untuk keputusan Tidak valid." in text_of(refused)
    assert fresh(c.id).state is State.MENUNGGU_VERIFIKASI and nik_checks() == 0
    done = decide(client, c.id, decision="tidak_valid", remark="NIK tidak terdaftar di SIAK.")
    assert done.status_code == 302
    row = fresh(c.id)
    assert row.state is State.TIDAK_VALID and row.published_at is None and row.closed_at is not None
    check = db.session.scalar(sa.select(NikCheck).where(NikCheck.complaint_id == c.id))
    assert check.result == "tidak_valid" and check.remark == "NIK tidak terdaftar di SIAK."
    notice = db.session.scalar(sa.select(Outbox).where(Outbox.complaint_id == c.id, Outbox.template == "invalid"))
    assert notice is not None and "NIK tidak terdaftar di SIAK." in notice.body


def test_no_choice_is_a_clear_message_and_changes_nothing(client, auth, submission):
    c = submit(submission)
    auth.login("validator")
    client.get(f"{DESK}{c.id}")
    response = decide(client, c.id, remark="lupa memilih")
    assert response.status_code == 400 and "Pilih keputusan terlebih dahulu." in text_of(response)
    assert "lupa memilih" in response.get_data(as_text=True)  # what was typed is kept
    assert fresh(c.id).state is State.MENUNGGU_VERIFIKASI and nik_checks() == 0


def test_a_stale_form_gets_a_clear_message(client, auth, submission):
    c = submit(submission)
    auth.login("validator")
    client.get(f"{DESK}{c.id}")
    old = fresh(c.id).version
    client.get(f"{DESK}{c.id}")  # reopened in another tab: the claim renewal bumps the version
    response = client.post(f"{DESK}{c.id}/keputusan", data={"decision": "valid", "version": old})
    assert response.status_code == 409 and "baru saja diputuskan" in text_of(response)
    assert nik_checks() == 0


def test_personal_data_is_highlighted_and_the_public_edit_needs_a_reason(client, auth, submission):
    original = "Antrean lama. Hubungi saya 0812-3456-7890 atau budi@contoh.id, NIK 3508011203900001."
    c = submit(submission, text=original)
    auth.login("validator")
    page = client.get(f"{DESK}{c.id}").get_data(as_text=True)
    assert re.search(r'<mark class="pii pii-phone" title="\[nomor telepon disembunyikan\]"[^>]*>0812-3456-7890</mark>',
                     page)
    assert '<mark class="pii pii-email"' in page and '<mark class="pii pii-nik"' in page
    assert "[nomor telepon disembunyikan] atau [e-mail disembunyikan]" in page  # the public version beside it
    edited = "Antrean lama di loket pendaftaran. [nomor telepon disembunyikan]"
    refused = decide(client, c.id, decision="valid", public_text=edited, public_title=fresh(c.id).public_title)
    assert refused.status_code == 400 and "Alasan perubahan versi publik wajib diisi." in text_of(refused)
    assert fresh(c.id).state is State.MENUNGGU_VERIFIKASI
    done = decide(client, c.id, decision="valid", public_text=edited, public_title=fresh(c.id).public_title,
                  public_edit_reason="Menghapus sisa data pribadi.")
    assert done.status_code == 302
    row = fresh(c.id)
    assert row.public_text == edited and row.public_edit_reason == "Menghapus sisa data pribadi."
    from app.services.complaints import cipher

    assert cipher().unseal_niks(row.text) == original  # the original stays for staff (its NIK sealed at rest)
    assert "3508011203900001" not in row.text


def test_tidak_valid_ignores_public_edits(client, auth, submission):
    c = submit(submission)
    auth.login("validator")
    client.get(f"{DESK}{c.id}")
    before = fresh(c.id).public_text
    decide(client, c.id, decision="tidak_valid", remark="NIK milik orang lain.", public_text="diubah")
    assert fresh(c.id).public_text == before


# --------------------------------------------------------------------------- statistics


def test_own_statistics_share_within_24h_and_median_work_time(app, client, auth, actor, submission):
    # The periods are WIB days ending today: the decisions and the reading happen on one fixed day, so
    # a run near midnight WIB cannot put the decisions on a day the figures do not cover.
    with time_machine.travel(MONDAY_10_WIB, tick=False) as clock:
        made = [submit(submission) for _ in range(3)]
        with unit_of_work():  # the third one is decided after its 24-hour deadline
            row = db.session.get(Complaint, made[2].id)
            row.validation_deadline = row.submitted_at - timedelta(minutes=1)
        validator = actor("validator")
        for complaint, minutes in zip(made, (4, 15, 8)):
            services.claim(complaint.id, validator)
            clock.shift(timedelta(minutes=minutes))
            services.decide_nik(complaint.id, validator, valid=True)
        days, mine = validation.validator_stats(validator)
        assert days == 30 and len(mine) == 1
        stats = mine[0]
        assert (stats.checks, stats.within_24h, stats.within_work_standard) == (3, 2, 2)
        assert stats.median_work_seconds == pytest.approx(480, abs=1)
        auth.login("validator")
        text = " ".join(text_of(client.get("/staf/statistik-validasi/")).split())
        assert "Validator Uji 3 66,7% (2) 8 menit sesuai standar 66,7% (2)" in text
        # validator2 sees only their own (empty) numbers; Pimpinan sees every validator.
        assert [(s.username, s.checks) for s in validation.validator_stats(actor("validator2"))[1]] == [
            ("validator2", 0)]
        everyone = {s.name: s.checks for s in validation.validator_stats(actor("pimpinan"), days=7)[1]}
        assert everyone == {"Validator Uji": 3, "Validator2 Uji": 0}
        assert signed_in(app, "pimpinan").get("/staf/statistik-validasi/?hari=7").status_code == 200
        assert signed_in(app, "opd.dinkes").get("/staf/statistik-validasi/").status_code == 403


# --------------------------------------------------------------------------- offline registry import


def _upload(client, text: str, name="registri.csv"):
    return client.post("/staf/registri-siak/", data={"file": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")


def test_registry_import_stores_only_the_hmac_and_updates_by_nik(client, auth):
    auth.login("admin")
    csv_text = f"nik,nama,tanggal_lahir,status\n{VALID_NIK},Budi Santoso,1990-03-12,aktif\n" \
               f"{VALID_NIK_F};Siti Aminah;;meninggal\n".replace(";", ",")
    response = _upload(client, csv_text)
    assert response.status_code == 200 and "2 baru, 0 diubah, 0 tetap" in text_of(response)
    rows = db.session.scalars(sa.select(RegistryEntry)).all()
    assert len(rows) == 2
    for row in rows:
        assert VALID_NIK not in (row.nik_hash, row.name) and VALID_NIK_F != row.nik_hash
        assert len(row.nik_hash) == 64
    again = _upload(client, f"{VALID_NIK},Budi Santoso,1990-03-12,tidak_aktif\n{VALID_NIK_F},Siti Aminah,,meninggal\n")
    assert "0 baru, 1 diubah, 1 tetap" in text_of(again)
    assert validation.registry_lookup(VALID_NIK).status == "tidak_aktif"


def test_registry_import_refuses_a_bad_file_whole(client, auth):
    auth.login("admin")
    response = _upload(client, f"{VALID_NIK},Budi Santoso\n12345,Salah Ketik\n")
    assert response.status_code == 400
    text = text_of(response)
    assert "Baris 2: NIK harus 16 digit" in text and "12345" not in text
    assert db.session.scalar(sa.select(sa.func.count(RegistryEntry.id))) == 0
    assert _upload(client, "").status_code == 400


def test_only_admin_sistem_reaches_the_registry_import(app):
    for username in ("validator", "pimpinan", "opd.dinkes"):
        client = signed_in(app, username)
        assert client.get("/staf/registri-siak/").status_code == 403
        assert _upload(client, f"{VALID_NIK},Budi\n").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(RegistryEntry.id))) == 0


# --------------------------------------------------------------------------- attachments


def test_validator_downloads_an_attachment_and_the_download_is_logged(app, client, auth, submission):
    from PIL import Image
    from werkzeug.datastructures import FileStorage

    from app import storage

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    uploads = storage.prepare([FileStorage(stream=io.BytesIO(buffer.getvalue()), filename="foto-jalan.png")])
    c = services.submit(submission(), files=uploads).complaint
    attachment = fresh(c.id).attachments[0]
    url = f"{DESK}{c.id}/lampiran/{attachment.id}"
    assert signed_in(app, "opd.dinkes").get(url).status_code == 403
    auth.login("validator")
    assert url in client.get(f"{DESK}{c.id}").get_data(as_text=True)
    response = client.get(url)
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    assert response.data.startswith(b"\x89PNG")
    assert client.get(f"{DESK}{c.id}/lampiran/{attachment.id + 999}").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(
        AuditLog.kind == "pii", AuditLog.action == "attachment.download", AuditLog.complaint_id == c.id)) == 1
