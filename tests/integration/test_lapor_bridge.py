"""The SP4N-LAPOR! bridge against a local fake of LAPOR! over real HTTP (pytest-httpserver): import into the
NIK queue, re-import without duplicates, malformed payloads refused and logged with nothing half stored,
answers and "bukan wewenang" pushed back through the outbox, LAPOR! down (retries, then dead, visible to
Admin Sistem), and one imported report through the whole SOP on the desks with its answer pushed back."""

from __future__ import annotations

import json
import logging
import socket
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine
from werkzeug import Response

from app import lapor
from app.extensions import db
from app.models import AuditLog, Complaint, LaporImport, Outbox
from app.services import answer, decide_nik, return_to_dispatch
from app.services import lapor as bridge
from app.services.outbox import deliver_due
from app.workflow import State
from tests.conftest import PASSWORD, VALID_NIK, VALID_NIK_F
from tests.integration.opd_support import api_headers, login

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)
LIST = "/api/v1/laporan/disposisi"
TOKEN = "token-uji-lapor"


def report(tracking_id="LPR-1001", **changes) -> dict:
    """A record as the fake LAPOR! serves it (the shape of app/lapor.IMPORT_FIELDS)."""
    record = {
        "tracking_id": tracking_id,
        "judul": f"Jalan rusak di desa ({tracking_id})",
        "isi": f"Jalan desa berlubang sejak dua bulan, mohon diperbaiki ({tracking_id}).",
        "pelapor": {"nama": "Siti Aminah", "nik": VALID_NIK_F, "telepon": "0813-1111-2222",
                    "email": "siti@contoh.id"},
        "lokasi": "Desa Sukodono",
        "anonim": False,
        "rahasia": False,
        "tanggal_lapor": "2026-03-01T09:00:00+07:00",
    }
    for key, value in changes.items():
        if key.startswith("pelapor_"):
            record["pelapor"][key[8:]] = value
        else:
            record[key] = value
    return record


def serve_list(httpserver, records, **kwargs) -> None:
    httpserver.clear_all_handlers() if kwargs.pop("clear", False) else None
    httpserver.expect_request(LIST, method="GET").respond_with_json({"data": records, "halaman_berikutnya": None},
                                                                    **kwargs)


def push_path(tracking_id: str) -> str:
    return f"/api/v1/laporan/{tracking_id}/tindak-lanjut"


@pytest.fixture
def lapor_http(app, monkeypatch, httpserver):
    """LAPOR_MODE=http against the local fake; the outbox delivers only the lapor channel."""
    for key, value in {"LAPOR_MODE": "http", "LAPOR_BASE_URL": httpserver.url_for("/"), "LAPOR_TOKEN": TOKEN,
                       "LAPOR_ALLOW_INSECURE": True, "LAPOR_RETRIES": 1, "LAPOR_BACKOFF_SECONDS": 0.0,
                       "LAPOR_TIMEOUT": 2.0, "LAPOR_DEFAULT_OPD": "DINKESP2KB", "LAPOR_LOOKBACK_DAYS": 14,
                       "OUTBOX_MAX_ATTEMPTS": 3, "OUTBOX_BACKOFF_SECONDS": 60, "OUTBOX_BACKOFF_MAX_SECONDS": 3600,
                       "SMTP_HOST": None, "WEBHOOK_URL": None}.items():
        monkeypatch.setitem(app.config, key, value)
    return httpserver


def imported(lapor_id: str) -> Complaint | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Complaint).join(LaporImport, LaporImport.complaint_id == Complaint.id)
                             .where(LaporImport.lapor_id == lapor_id))


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def lapor_rows() -> list[Outbox]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Outbox).where(Outbox.channel == "lapor").order_by(Outbox.id)))


# --------------------------------------------------------------------------- import


def test_import_puts_disposed_reports_into_the_nik_queue_with_their_tracking_id(lapor_http, app):
    serve_list(lapor_http, [report("LPR-1001"), report("LPR-1002", anonim=True, pelapor_nik=VALID_NIK,
                                                       pelapor_nama="Budi Santoso")])
    with time_machine.travel(T0, tick=False):
        result = bridge.pull()
    assert (result.imported, result.already, result.refused, result.error) == (2, 0, 0, None)

    first, second = imported("LPR-1001"), imported("LPR-1002")
    assert first.channel == second.channel == "lapor"
    assert first.state is second.state is State.MENUNGGU_VERIFIKASI
    assert first.opd.code == "DINKESP2KB"  # LAPOR_DEFAULT_OPD: the report named no unit of ours
    assert (first.visibility.value, second.visibility.value) == ("publik", "anonim")
    assert first.validation_deadline == T0.replace(tzinfo=None) + timedelta(hours=24)  # counts from arrival
    assert first.public_title == "Jalan rusak di desa (LPR-1001)"
    assert first.nik_structural_ok

    # What was asked of LAPOR!: the bearer token, the look-back window.
    [(request, _)] = lapor_http.log
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.args["sejak"] == (T0 - timedelta(days=14)).isoformat()
    assert request.args["halaman"] == "1"

    # The validator's queue shows LAPOR!'s tracking ID next to the ticket.
    validator = login(app, "validator", PASSWORD)
    page = validator.get("/staf/validasi/").get_data(as_text=True)
    assert "LAPOR! LPR-1001" in page and "LAPOR! LPR-1002" in page
    detail = app.test_client().get(f"/api/v1/complaint/{first.id}", headers=api_headers("validator")).get_json()
    assert (detail["result"]["channel"], detail["result"]["lapor_id"]) == ("lapor", "LPR-1001")


def test_importing_twice_creates_nothing(lapor_http):
    serve_list(lapor_http, [report("LPR-2001"), report("LPR-2002")])
    assert bridge.pull().imported == 2
    complaints, links, events = count(Complaint), count(LaporImport), count(AuditLog)
    again = bridge.pull()
    assert (again.imported, again.already, again.refused) == (0, 2, 0)
    assert (count(Complaint), count(LaporImport)) == (complaints, links)
    # Only the pull itself is logged the second time, no new complaint.
    db.session.expire_all()
    new = db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id.desc()).limit(count(AuditLog) - events)).all()
    assert new == ["lapor.pull"]


def test_the_tracking_id_is_unique_in_the_database(lapor_http):
    serve_list(lapor_http, [report("LPR-3001")])
    bridge.pull()
    db.session.add(LaporImport(lapor_id="LPR-3001", status="refused", problem="x",
                               first_seen_at=T0.replace(tzinfo=None), last_seen_at=T0.replace(tzinfo=None)))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_unit_lapor_names_is_used_when_it_is_one_of_ours(lapor_http):
    serve_list(lapor_http, [report("LPR-3101", instansi_tujuan={"kode": "DPUTR"}),
                            report("LPR-3102", instansi_tujuan={"kode": "KEMENTERIAN-X"})])
    bridge.pull()
    assert imported("LPR-3101").opd.code == "DPUTR"
    assert imported("LPR-3102").opd.code == "DINKESP2KB"


def test_malformed_reports_are_refused_logged_and_nothing_is_half_stored(lapor_http, caplog):
    bad_nik = "12345"
    serve_list(lapor_http, [
        report("LPR-4001"),  # fine
        report("LPR-4002", pelapor_nik=bad_nik),  # the structural NIK check refuses it
        report("LPR-4003", judul=None),  # a required field missing
        report("LPR-4004", pelapor_telepon="bukan nomor"),  # the input boundary refuses it
        report("LPR-4005", anonim="mungkin"),  # not a yes/no
        {"judul": "tanpa tracking ID"},  # cannot even be named
        ["bukan", "objek"],
    ])
    complaints, events = count(Complaint), count(AuditLog)
    with caplog.at_level(logging.WARNING, logger="app.services.lapor"):
        result = bridge.pull()
    assert (result.imported, result.refused) == (1, 6)
    assert count(Complaint) == complaints + 1  # only LPR-4001
    assert imported("LPR-4001") is not None
    db.session.expire_all()
    rows = {r.lapor_id: r for r in db.session.scalars(sa.select(LaporImport).where(LaporImport.status == "refused"))}
    assert set(rows) == {"LPR-4002", "LPR-4003", "LPR-4004", "LPR-4005"}
    assert all(r.complaint_id is None for r in rows.values())
    assert rows["LPR-4002"].problem.startswith("nik: ")
    assert rows["LPR-4003"].problem == "title: wajib ada"
    assert rows["LPR-4004"].problem.startswith("phone: ")
    assert rows["LPR-4005"].problem.startswith("anonim: ")
    # No complaint row, timeline event or notice for any refused report (nothing half stored).
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)
                             .where(Complaint.title.like("%LPR-400%"))) == 1
    # Logged: one history row per refusal, naming fields, never the values.
    refusals = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "lapor.import_refused")).all()
    assert len(refusals) == 6
    assert all(bad_nik not in (r.detail or "") and "bukan nomor" not in (r.detail or "") for r in refusals)
    assert sum("refused" in m for m in caplog.messages) == 6

    # The same refusals on the next pull: no new history rows, the rows are seen again.
    before = count(AuditLog)
    assert bridge.pull().refused == 6
    assert count(AuditLog) == before + 3  # the pull's own row and the two nameless records' refusals
    # LAPOR! corrects a report: the next pull imports it.
    serve_list(lapor_http, [report("LPR-4003")], clear=True)
    assert bridge.pull().imported == 1
    row = db.session.scalar(sa.select(LaporImport).where(LaporImport.lapor_id == "LPR-4003"))
    assert (row.status, row.problem, row.complaint_id is not None) == ("imported", None, True)


@pytest.mark.parametrize("body, content_type, error", [
    ("<html>maintenance</html>", "text/html", "bukan JSON"),
    (json.dumps({"laporan": []}), "application/json", "tanpa daftar"),
    (json.dumps([1, 2]), "application/json", "tanpa daftar"),
])
def test_an_unreadable_list_imports_nothing_and_is_logged(lapor_http, body, content_type, error):
    lapor_http.expect_request(LIST).respond_with_data(body, content_type=content_type)
    complaints = count(Complaint)
    result = bridge.pull()
    assert result.imported == 0 and error in result.error
    assert count(Complaint) == complaints and count(LaporImport) == 0
    db.session.expire_all()
    failed = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "lapor.pull_failed"))
    assert error in json.loads(failed.detail)["error"]


def test_pages_are_followed(lapor_http):
    lapor_http.expect_request(LIST, query_string={"sejak": (T0 - timedelta(days=14)).isoformat(), "halaman": "1"}
                              ).respond_with_json({"data": [report("LPR-5001")], "halaman_berikutnya": 2})
    lapor_http.expect_request(LIST, query_string={"sejak": (T0 - timedelta(days=14)).isoformat(), "halaman": "2"}
                              ).respond_with_json({"data": [report("LPR-5002")], "halaman_berikutnya": None})
    with time_machine.travel(T0, tick=False):
        assert bridge.pull().imported == 2


def test_off_by_default_pulls_nothing(app, monkeypatch, httpserver):
    monkeypatch.setitem(app.config, "LAPOR_MODE", "off")
    assert bridge.pull() == bridge.PullReport()
    assert httpserver.log == []


# --------------------------------------------------------------------------- push


def _import_and_route(lapor_http, actor, tracking_id="LPR-6001") -> Complaint:
    serve_list(lapor_http, [report(tracking_id)], clear=True)
    bridge.pull()
    complaint = imported(tracking_id)
    decide_nik(complaint.id, actor("validator"), valid=True)
    return imported(tracking_id)


def test_an_answer_is_pushed_back_through_the_outbox_never_inside_the_request(lapor_http, actor):
    complaint = _import_and_route(lapor_http, actor)
    lapor_http.expect_request(push_path("LPR-6001"), method="POST").respond_with_json({"status": "ok"})
    reply = answer(complaint.id, actor("opd.dinkes"), "Jalan sudah ditambal pada 5 Maret. Hubungi 0812-9999-8888.")
    [row] = lapor_rows()
    assert (row.status, row.recipient, row.template, row.attempts) == ("pending", "LPR-6001", "lapor_answer", 0)
    assert not any(r.path.endswith("tindak-lanjut") for r, _ in lapor_http.log)  # not sent by the answer itself

    assert deliver_due().sent == 1
    pushes = [r for r, _ in lapor_http.log if r.method == "POST"]
    assert len(pushes) == 1
    sent = pushes[0].get_json()
    assert sent == {"tracking_id": "LPR-6001", "jenis": "tindak_lanjut", "isi": reply.public_text,
                    "nomor_tiket_daerah": complaint.ticket}
    assert "0812-9999-8888" not in sent["isi"]  # the public rendering: personal data masked
    assert pushes[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert pushes[0].headers["Idempotency-Key"] == row.idempotency_key  # the notice's one key (migration 0014)
    assert lapor_rows()[0].status == "sent"
    assert deliver_due().sent == 0  # delivered once


def test_a_bukan_wewenang_return_is_pushed_back(lapor_http, actor):
    complaint = _import_and_route(lapor_http, actor, "LPR-6101")
    lapor_http.expect_request(push_path("LPR-6101"), method="POST").respond_with_json({"status": "ok"}, status=201)
    return_to_dispatch(complaint.id, actor("opd.dinkes"), "Jalan kabupaten adalah urusan DPUTR.")
    assert deliver_due().sent == 1
    [push] = [r for r, _ in lapor_http.log if r.method == "POST"]
    assert push.get_json()["jenis"] == "bukan_wewenang"
    assert push.get_json()["isi"] == "Jalan kabupaten adalah urusan DPUTR."


def test_web_complaints_push_nothing(lapor_http, actor, published):
    complaint = published()
    answer(complaint.id, actor("opd.dinkes"), "Sudah ditangani.")
    assert lapor_rows() == []


def test_lapor_down_retries_with_backoff_then_dead_and_visible_to_admin_sistem(lapor_http, actor, app):
    complaint = _import_and_route(lapor_http, actor, "LPR-7001")
    calls = []

    def unavailable(request):
        calls.append(request)
        return Response("maintenance", status=503)

    lapor_http.expect_request(push_path("LPR-7001"), method="POST").respond_with_handler(unavailable)
    with time_machine.travel(T0, tick=False) as clock:
        answer(complaint.id, actor("opd.dinkes"), "Sudah diperbaiki.")
        assert deliver_due().retried == 1
        [row] = lapor_rows()
        assert (row.status, row.attempts) == ("pending", 1)
        assert len(calls) == 2  # LAPOR_RETRIES=1 inside one run
        assert "HTTP 503" in row.last_error and "2 percobaan" in row.last_error
        assert row.next_attempt_at == T0.replace(tzinfo=None) + timedelta(seconds=60)
        assert deliver_due().retried == 0  # not due yet

        clock.shift(timedelta(seconds=61))
        assert deliver_due().retried == 1
        row = lapor_rows()[0]
        assert row.attempts == 2 and row.next_attempt_at == T0.replace(tzinfo=None) + timedelta(seconds=61 + 120)

        clock.shift(timedelta(seconds=121))
        assert deliver_due().dead == 1
        row = lapor_rows()[0]
        assert (row.status, row.attempts) == ("dead", 3)
        assert len(calls) == 6

        admin = login(app, "admin", PASSWORD)
        page = admin.get("/staf/kotak-keluar/?status=dead").get_data(as_text=True)
        assert f'data-id="{row.id}" data-status="dead"' in page
        assert 'id="lapor-failing"' in page
        assert "0 menunggu, 1 gagal" in page


def test_a_batch_stops_trying_once_lapor_is_unreachable(lapor_http, actor, app, monkeypatch):
    first = _import_and_route(lapor_http, actor, "LPR-7101")
    second = _import_and_route(lapor_http, actor, "LPR-7102")
    answer(first.id, actor("opd.dinkes"), "Sudah.")
    answer(second.id, actor("opd.dinkes"), "Sudah juga.")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    monkeypatch.setitem(app.config, "LAPOR_BASE_URL", f"http://127.0.0.1:{closed}/")
    assert deliver_due().retried == 2
    errors = [r.last_error for r in lapor_rows()]
    assert errors[0].startswith("Koneksi ke LAPOR! gagal")
    assert "tidak dicoba" in errors[1]


def test_a_failed_pull_is_visible_on_the_outbox_screen(lapor_http, app):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    app.config["LAPOR_BASE_URL"] = f"http://127.0.0.1:{closed}/"
    with time_machine.travel(T0, tick=False):
        result = bridge.pull()
    assert result.error.startswith("Koneksi ke LAPOR! gagal setelah 2 percobaan")
    serve_list(lapor_http, [report("LPR-8001", pelapor_nik="999")])
    app.config["LAPOR_BASE_URL"] = lapor_http.url_for("/")
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):  # an older success does not hide the failure
        bridge.pull()
    admin = login(app, "admin", PASSWORD)
    page = admin.get("/staf/kotak-keluar/").get_data(as_text=True)
    assert 'id="lapor-failing"' in page
    assert "Koneksi ke LAPOR! gagal" in page
    assert 'data-lapor-id="LPR-8001"' in page  # the refused report, with its problem
    # Not for other roles.
    assert login(app, "validator", PASSWORD).get("/staf/kotak-keluar/").status_code in (302, 403)


# --------------------------------------------------------------------------- the whole SOP


def test_an_imported_report_goes_through_the_whole_sop_on_the_desks_and_its_answer_is_pushed(lapor_http, app):
    serve_list(lapor_http, [report("LPR-9001", anonim=True)])
    lapor_http.expect_request(push_path("LPR-9001"), method="POST").respond_with_json({"status": "ok"})
    assert bridge.pull().imported == 1
    complaint = imported("LPR-9001")

    # Validator: opens it (claim), sees the tracking ID, decides Valid with the public version unchanged.
    validator = login(app, "validator", PASSWORD)
    check = validator.get(f"/staf/validasi/{complaint.id}")
    assert check.status_code == 200 and "LAPOR! LPR-9001" in check.get_data(as_text=True)
    complaint = imported("LPR-9001")
    decided = validator.post(f"/staf/validasi/{complaint.id}/keputusan", data={
        "decision": "valid", "remark": "", "version": str(complaint.version), "public_title": complaint.public_title,
        "public_text": complaint.public_text, "public_edit_reason": ""})
    assert decided.status_code == 302
    complaint = imported("LPR-9001")
    assert complaint.state is State.DITERUSKAN and complaint.opd.code == "DINKESP2KB"

    # The OPD: sees the tracking ID in its queue and on the complaint, answers.
    opd = login(app, "opd.dinkes", PASSWORD)
    assert "LAPOR! LPR-9001" in opd.get("/staf/opd/").get_data(as_text=True)
    assert "LAPOR! LPR-9001" in opd.get(f"/staf/opd/{complaint.id}").get_data(as_text=True)
    answered = opd.post(f"/staf/opd/{complaint.id}/jawab", data={"text": "Perbaikan dijadwalkan pekan depan."})
    assert answered.status_code in (302, 303)
    assert imported("LPR-9001").state is State.DIJAWAB

    # The scheduler's outbox run pushes the answer back to LAPOR!.
    assert deliver_due().sent == 1
    [push] = [r for r, _ in lapor_http.log if r.method == "POST"]
    assert push.get_json() == {"tracking_id": "LPR-9001", "jenis": "tindak_lanjut",
                               "isi": "Perbaikan dijadwalkan pekan depan.", "nomor_tiket_daerah": complaint.ticket}
    # The public never sees the tracking ID.
    public = app.test_client().get(f"/pengaduan/{complaint.ticket}").get_data(as_text=True)
    assert "LPR-9001" not in public.replace("(LPR-9001)", "")


def _reporter_notices(complaint_id: int) -> list[Outbox]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Outbox).where(Outbox.complaint_id == complaint_id,
                                                           Outbox.channel == "email").order_by(Outbox.id)))


def test_an_imported_report_through_the_rest_api_notices_point_to_lapor_and_the_answer_is_pushed(lapor_http, app):
    """The whole SOP through the staff REST API (claim, NIK valid, answer). The reporter never used our form
    and holds no PIN: each notice names the LAPOR! report and says the follow-up is there, never a PIN or
    our tracking page; the answer itself reaches LAPOR! through the outbox."""
    serve_list(lapor_http, [report("LPR-7001")])
    lapor_http.expect_request(push_path("LPR-7001"), method="POST").respond_with_json({"status": "ok"})
    assert bridge.pull().imported == 1
    complaint = imported("LPR-7001")
    client = app.test_client()

    claimed = client.post(f"/api/v1/complaint/{complaint.id}/claim", headers=api_headers("validator"))
    assert claimed.status_code == 200
    decided = client.post(f"/api/v1/complaint/{complaint.id}/decision", headers=api_headers("validator"),
                          json={"valid": True, "version": claimed.get_json()["result"]["version"]})
    assert decided.status_code == 200, decided.get_json()
    answered = client.post(f"/api/v1/complaint/{complaint.id}/answer", headers=api_headers("opd.dinkes"),
                           json={"text": "Lubang jalan ditambal pada 9 Maret."})
    assert answered.status_code == 200 and imported("LPR-7001").state is State.DIJAWAB

    notices = _reporter_notices(complaint.id)
    assert [n.template for n in notices] == ["lapor_reporter_submitted", "lapor_reporter_routed",
                                             "lapor_reporter_answered"]
    assert {n.recipient for n in notices} == {"siti@contoh.id"}
    for notice in notices:
        text = f"{notice.subject}\n{notice.body}"
        assert "LPR-7001" in text and "SP4N-LAPOR!" in notice.body
        assert "PIN" not in text and "/lacak" not in text  # no PIN the reporter never got, no tracking page

    assert deliver_due().sent == 1
    [push] = [r for r, _ in lapor_http.log if r.method == "POST"]
    assert push.get_json()["isi"] == "Lubang jalan ditambal pada 9 Maret."


def test_a_form_complaint_keeps_its_receipt_with_the_pin_and_tracking_page(lapor_http, submission):
    """The contrast: only imported complaints get the LAPOR! wording."""
    from app.services import submit

    complaint = submit(submission(email="warga@contoh.id")).complaint
    [notice] = _reporter_notices(complaint.id)
    assert notice.template == "submitted" and "PIN" in notice.body and "/lacak" in notice.body


def test_an_imported_report_declared_invalid_tells_the_reporter_to_follow_it_on_lapor(lapor_http, actor):
    serve_list(lapor_http, [report("LPR-7002")])
    bridge.pull()
    complaint = imported("LPR-7002")
    decide_nik(complaint.id, actor("validator"), valid=False, remark="NIK tidak terdaftar.")
    invalid = _reporter_notices(complaint.id)[-1]
    assert invalid.template == "lapor_reporter_invalid"
    assert "LPR-7002" in invalid.body and "NIK tidak terdaftar." in invalid.body and "PIN" not in invalid.body


# --------------------------------------------------------------------------- the pure parts


def test_the_fake_and_file_adapters(tmp_path):
    fake = lapor.FakeLaporAdapter([report("A-1")])
    assert fake.list_disposed(T0).records == (report("A-1"),)
    item = lapor.PushItem("A-1", "answer", "Teks", "LMJ-2026-000001", "outbox-1")
    assert fake.push(item) is None and fake.pushed == [item]
    fake.down = True
    assert isinstance(fake.push(item), lapor.Unreachable) and fake.list_disposed(T0).error

    inbox, outbox = tmp_path / "masuk", tmp_path / "keluar"
    inbox.mkdir()
    (inbox / "ekspor.json").write_text(json.dumps({"data": [report("F-1")]}), encoding="utf-8")
    files = lapor.FileLaporAdapter(inbox, outbox)
    assert [r["tracking_id"] for r in files.list_disposed(T0).records] == ["F-1"]
    assert files.push(item) is None
    assert json.loads((outbox / "outbox-1.json").read_text(encoding="utf-8"))["jenis"] == "tindak_lanjut"
    (inbox / "rusak.json").write_text("{", encoding="utf-8")
    assert files.list_disposed(T0).error


def test_build_adapter_by_mode(tmp_path):
    assert isinstance(lapor.build_adapter({}), lapor.NotConfiguredAdapter)
    assert isinstance(lapor.build_adapter({"LAPOR_MODE": "fake"}), lapor.FakeLaporAdapter)
    assert isinstance(lapor.build_adapter({"LAPOR_MODE": "offline", "LAPOR_OFFLINE_DIR": str(tmp_path)}),
                      lapor.FileLaporAdapter)
    http = lapor.build_adapter({"LAPOR_MODE": "http", "LAPOR_BASE_URL": "https://lapor.example",
                               "LAPOR_TOKEN": "rahasia-token-9"})
    assert isinstance(http, lapor.HttpLaporAdapter) and "rahasia-token-9" not in repr(http.config)
    refused = lapor.build_adapter({"LAPOR_MODE": "http", "LAPOR_BASE_URL": "http://lapor.example", "LAPOR_TOKEN": "t"})
    assert isinstance(refused, lapor.NotConfiguredAdapter) and "LAPOR_ALLOW_INSECURE" in refused.reason


def test_parse_report_reads_the_declared_fields():
    parsed = lapor.parse_report(report("X-1", rahasia="ya", anonim=True))
    assert parsed.lapor_id == "X-1" and parsed.visibility == "rahasia"
    assert parsed.reported_at == datetime(2026, 3, 1, 2, 0)  # 09:00 WIB as naive UTC
    with pytest.raises(lapor.MalformedReport) as caught:
        lapor.parse_report(report("X 2", isi=["daftar"]))
    assert caught.value.problems == {"lapor_id": "berisi spasi atau karakter kendali", "text": "bukan teks"}
    assert caught.value.lapor_id is None
