"""History log (issue 7): a row for every kind of event, append-only, written with its action."""

from __future__ import annotations

import csv
import io
import json
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import services
from app.extensions import db
from app.models import Answer, AuditLog, Complaint, Opd, Staff
from app.services import records
from app.timeutil import utcnow
from app.workflow import State
from tests.conftest import PASSWORD, build_app
from tests.paging_support import next_url


def rows(**where) -> list[AuditLog]:
    db.session.expire_all()
    query = sa.select(AuditLog).order_by(AuditLog.id)
    for key, value in where.items():
        query = query.where(getattr(AuditLog, key) == value)
    return list(db.session.scalars(query))


def detail(row: AuditLog) -> dict:
    return json.loads(row.detail) if row.detail else {}


def routed(submission, actor):
    complaint = services.submit(submission()).complaint
    services.decide_nik(complaint.id, actor("validator"), valid=True)
    return complaint


# --------------------------------------------------------------------------- sign-in, sign-out, lockout


def test_sign_in_success_failure_and_sign_out_are_logged(client, auth):
    auth.login("pimpinan", "salah-sandi")
    [failed] = rows(action="login.failed")
    assert (failed.kind, failed.username, failed.role) == ("auth", "pimpinan", "Pimpinan")
    assert detail(failed) == {"username_tried": "pimpinan", "reason": "password"}
    assert failed.ip == "127.0.0.1" and failed.path == "/login/"

    auth.login("pimpinan")
    [login] = rows(action="login")
    assert (login.kind, login.username, login.role) == ("auth", "pimpinan", "Pimpinan")
    assert login.user_id is not None

    client.post("/logout/")  # sign-out is a POST (a GET only asks)
    [logout] = rows(action="logout")
    assert (logout.username, logout.user_id) == ("pimpinan", login.user_id)


def test_failed_sign_in_with_an_unknown_username_records_the_name_tried(client, auth):
    auth.login("orang.asing", "apa-saja-123")
    [failed] = rows(action="login.failed")
    assert failed.username == "orang.asing" and failed.user_id is None
    assert detail(failed) == {"username_tried": "orang.asing", "reason": "unknown_user"}


def test_sign_in_to_an_inactive_account_is_logged_as_failed(client, auth):
    db.session.execute(sa.update(Staff).where(Staff.username == "validator2").values(active=False))
    db.session.commit()
    auth.login("validator2")
    [failed] = rows(action="login.failed")
    assert detail(failed)["reason"] == "inactive" and failed.username == "validator2"


def test_lockout_is_logged(app, client, auth):
    # The lockout itself is the security feature's (app/services/security.py); its row is asserted here.
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        auth.login("validator2", "salah-sandi")
    [lockout] = rows(action="lockout")
    assert lockout.kind == "auth" and lockout.username == "validator2"
    assert len(rows(action="login.failed")) == app.config["LOGIN_MAX_FAILURES"]


# --------------------------------------------------------------------------- staff requests


def test_every_staff_request_is_logged_with_who_what_and_how_long(client, auth, submission, actor):
    complaint = routed(submission, actor)
    auth.login("pimpinan")
    response = client.get(f"/riwayat/pengaduan/{complaint.id}", headers={"User-Agent": "UjiBrowser/1.0"})
    assert response.status_code == 200
    [row] = [r for r in rows(kind="request") if r.path == f"/riwayat/pengaduan/{complaint.id}"]
    assert (row.username, row.role, row.method, row.endpoint) == ("pimpinan", "Pimpinan", "GET",
                                                                   "HistoryLogView.complaint")
    assert (row.complaint_id, row.status, row.ip, row.user_agent) == (complaint.id, 200, "127.0.0.1",
                                                                      "UjiBrowser/1.0")
    assert row.duration_ms is not None and row.duration_ms >= 0


def test_a_refused_staff_request_is_logged_with_its_status(client, auth):
    auth.login("opd.dinkes")
    refused = client.get("/riwayat/")
    assert refused.status_code == 403  # signed in without the right: refused, not sent to sign in
    [row] = [r for r in rows(kind="request") if r.path == "/riwayat/"]
    assert row.username == "opd.dinkes" and row.status == 403


def test_anonymous_public_requests_are_not_staff_requests(client):
    client.get("/")
    client.get("/health")
    client.get("/tidak-ada")
    assert rows(kind="request") == []


def test_the_request_row_is_written_even_when_the_view_raised(database_url):
    other = build_app(database_url)

    def boom():
        raise RuntimeError("uji galat")

    other.add_url_rule("/staf/uji-galat", "uji_galat", boom)
    with other.app_context():
        client = other.test_client()
        client.post("/login/", data={"username": "admin", "password": PASSWORD})
        with pytest.raises(RuntimeError):
            client.get("/staf/uji-galat")
        row = db.session.scalar(sa.select(AuditLog).where(AuditLog.endpoint == "uji_galat"))
        assert row is not None
        assert (row.username, row.status, detail(row)) == ("admin", 500, {"error": "RuntimeError"})
        db.session.remove()
        db.engine.dispose()


# --------------------------------------------------------------------------- domain actions


def test_each_domain_action_writes_its_row_in_its_transaction(submission, actor):
    from app.services.desk import add_note

    complaint = services.submit(submission()).complaint
    services.claim(complaint.id, actor("validator"))
    services.decide_nik(complaint.id, actor("validator"), valid=True)
    add_note(complaint.id, actor("opd.dinkes"), "Perlu cek lapangan.")
    services.return_to_dispatch(complaint.id, actor("opd.dinkes"), "Bukan kewenangan kami.")
    services.reroute(complaint.id, actor("admin"), "DINKESP2KB")
    services.answer(complaint.id, actor("opd.dinkes"), "Sudah ditangani.")
    services.edit_answer(complaint.id, actor("opd.dinkes"), "Sudah ditangani minggu ini.", "Tanggal diperjelas")
    services.close_answered(complaint.id, services.Actor.system())
    invalid = services.submit(submission()).complaint
    services.decide_nik(invalid.id, actor("validator"), valid=False, remark="NIK tidak terdaftar.")
    actions = [(r.action, r.username) for r in rows(kind="action")]
    assert actions == [
        ("complaint.submit", None), ("complaint.claim", "validator"), ("complaint.decide", "validator"),
        ("note.add", "opd.dinkes"), ("complaint.return", "opd.dinkes"), ("complaint.reroute", "admin"),
        ("complaint.answer", "opd.dinkes"), ("answer.edit", "opd.dinkes"), ("complaint.close", "sistem"),
        ("complaint.submit", None), ("complaint.decide", "validator")]
    assert all(r.complaint_id in (complaint.id, invalid.id) for r in rows(kind="action"))


def test_viewing_a_full_nik_is_logged_and_answers_who_looked_and_when(client, auth, submission, actor):
    from app.services.disclosure import Screen, present

    complaint = services.submit(submission()).complaint
    services.claim(complaint.id, actor("validator"))
    with services.unit_of_work():  # validator's claim ran out; validator2 opens it
        db.session.get(Complaint, complaint.id).claim_expires_at = utcnow() - timedelta(minutes=1)
    opened = services.claim(complaint.id, actor("validator2"))
    assert present(opened, actor("validator2"), Screen.VALIDATOR_CHECK, log=False).nik == "3508011203900001"
    viewers = [r.username for r in rows(action="nik.view", complaint_id=complaint.id)]
    assert viewers[-1] == "validator2" and set(viewers) <= {"validator", "validator2"}

    auth.login("pimpinan")
    page = client.get(f"/riwayat/?aksi=nik.view&tiket={complaint.ticket}").get_data(as_text=True)
    assert "validator2" in page and complaint.ticket in page and "3508011203900001" not in page
    record_page = client.get(f"/riwayat/pengaduan/{complaint.id}").get_data(as_text=True)
    assert 'id="nik-views"' in record_page and "validator2" in record_page
    assert "3508011203900001" not in record_page


def test_account_and_role_changes_are_logged_as_diffs_in_their_transaction(app, actor):
    from app.services.accounts import create_staff

    sm = app.appbuilder.sm
    user = create_staff(username="kasi.uji", email="kasi.uji@uji.go.id", first_name="Validator2", last_name="Uji",
                        role="Validator", password=PASSWORD)
    assert [r.action for r in rows(kind="action")] == ["user.create"]  # the service's row, not a second one
    user.first_name = "Vira"
    user.roles = [sm.find_role("Pimpinan")]
    user.password = "pbkdf2:tidak-pernah-dicatat"
    db.session.commit()
    [row] = rows(action="user.update")
    assert row.target == f"user:{user.id}"
    changes = detail(row)
    assert changes["first_name"] == ["Validator2", "Vira"]
    assert changes["roles"] == {"+": ["Pimpinan"], "-": ["Validator"]}
    assert changes["password"] == "***" and "tidak-pernah-dicatat" not in row.detail
    # Sign-in bookkeeping is not an account change.
    user.login_count = 7
    db.session.commit()
    assert len(rows(action="user.update")) == 1


def test_user_created_on_the_user_screen_is_logged(client, auth):
    auth.login("admin")
    role = db.session.scalar(sa.text("SELECT id FROM ab_role WHERE name = 'Pimpinan'"))
    response = client.post("/users/add", data={
        "first_name": "Kasi", "last_name": "Baru", "username": "kasi.baru", "active": "y",
        "email": "kasi.baru@uji.go.id", "roles": [str(role)], "password": "Sandi-Panjang-Sekali-2026!",
        "conf_password": "Sandi-Panjang-Sekali-2026!"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]  # saved: back to the list
    created = db.session.scalar(sa.select(Staff).where(Staff.username == "kasi.baru"))
    assert created is not None, response.get_data(as_text=True)[:500]
    [row] = rows(action="user.create")
    assert (row.username, row.target) == ("admin", f"user:{created.id}")
    assert detail(row)["roles"] == ["Pimpinan"]
    assert detail(row)["password"] == "***" and "Sandi-Panjang-Sekali-2026!" not in row.detail


def test_settings_changes_on_the_opd_screen_are_logged(client, auth):
    opd = db.session.scalar(sa.select(Opd).where(Opd.code == "DPUTR"))
    auth.login("admin")
    # The whole form, as a browser sends it (a field left out would be saved empty).
    response = client.post(f"/opdview/edit/{opd.id}", data={
        "code": opd.code, "name": opd.name, "kind": opd.kind, "active": "y", "email": "dputr@uji.go.id",
        "duties": opd.duties or "", "keywords": opd.keywords or ""})
    assert response.status_code == 302
    [row] = rows(action="opd.update")
    assert (row.username, row.role, row.target) == ("admin", "Admin Sistem", f"opd:{opd.id}")
    assert detail(row)["email"] == [None, "dputr@uji.go.id"]
    db.session.execute(sa.update(Opd).where(Opd.id == opd.id).values(email=None))
    db.session.commit()


def test_exports_are_logged_before_the_file_is_served(client, auth):
    auth.login("pimpinan")
    for url in ("/riwayat/csv?aksi=login", "/rekap/xlsx?periode=bulan&kelompok=opd",
                "/rekap/csv?periode=tahun&kelompok=state"):
        response = client.get(url)
        assert response.status_code == 200 and response.get_data()  # read to the end: streams close
        response.close()
    exports = [(r.action, detail(r)["format"], r.username) for r in rows(kind="action")]
    assert exports == [("export.history", "csv", "pimpinan"), ("export.recap", "xlsx", "pimpinan"),
                       ("export.recap", "csv", "pimpinan")]
    assert detail(rows(action="export.history")[0])["aksi"] == "login"


# --------------------------------------------------------------------------- append-only, same transaction


def test_the_history_log_cannot_be_edited_or_deleted(app, client, auth):
    # No screen or API edits it: the records views answer GET only, and no model view serves the table.
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("HistoryLogView.")]
    assert rules and all(set(r.methods) <= {"GET", "HEAD", "OPTIONS"} for r in rules)
    assert not [v for v in app.appbuilder.baseviews
                if getattr(getattr(v, "datamodel", None), "obj", None) is AuditLog]
    auth.login("admin")
    assert client.post("/riwayat/").status_code == 405
    assert client.delete("/riwayat/").status_code == 405
    if db.engine.dialect.name == "postgresql":
        # …and on PostgreSQL the database itself refuses UPDATE and DELETE (trigger of migration 0006).
        records.log_event("system", "uji")
        for statement in ("UPDATE audit_log SET action = 'diubah'", "DELETE FROM audit_log"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                db.session.execute(sa.text(statement))
            db.session.rollback()
        assert [r.action for r in rows(action="uji")] == ["uji"]


@contextmanager
def failing_history_log():
    """Make every INSERT into the history log fail in the database itself."""
    if db.engine.dialect.name == "postgresql":
        create = ["CREATE FUNCTION uji_tolak() RETURNS trigger LANGUAGE plpgsql AS "
                  "$$ BEGIN RAISE EXCEPTION 'riwayat gagal ditulis'; END $$",
                  "CREATE TRIGGER uji_tolak BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION uji_tolak()"]
        drop = ["DROP TRIGGER uji_tolak ON audit_log", "DROP FUNCTION uji_tolak()"]
    else:
        create = ["CREATE TRIGGER uji_tolak BEFORE INSERT ON audit_log "
                  "BEGIN SELECT RAISE(ABORT, 'riwayat gagal ditulis'); END"]
        drop = ["DROP TRIGGER uji_tolak"]
    with db.engine.begin() as conn:
        for statement in create:
            conn.execute(sa.text(statement))
    try:
        yield
    finally:
        db.session.rollback()
        with db.engine.begin() as conn:
            for statement in drop:
                conn.execute(sa.text(statement))


def test_an_action_whose_history_row_cannot_be_written_is_rolled_back(submission, actor):
    complaint = routed(submission, actor)  # written before the log breaks
    opd_actor = actor("opd.dinkes")
    with failing_history_log():
        with pytest.raises(sa.exc.DBAPIError, match="riwayat gagal ditulis"):
            services.answer(complaint.id, opd_actor, "Jawaban yang tidak boleh tersimpan.")
        db.session.expire_all()
        assert db.session.get(Complaint, complaint.id).state is State.DITERUSKAN
        assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 0
        # An account change goes the same way: no row, no change.
        user = db.session.scalar(sa.select(Staff).where(Staff.username == "validator2"))
        user.first_name = "Tidak Tersimpan"
        with pytest.raises(sa.exc.DBAPIError):
            db.session.commit()
        db.session.rollback()
    assert db.session.scalar(sa.select(Staff.first_name).where(Staff.username == "validator2")) == "Validator2"


# --------------------------------------------------------------------------- screens and CSV


def test_history_screen_filters_and_pages_newest_first(client, auth):
    for i in range(55):
        records.log_event("auth", "login.failed", username=f"tamu{i:02d}")
    records.log_event("auth", "login.failed", username="dicari")
    auth.login("pimpinan")
    first = client.get("/riwayat/?aksi=login.failed").get_data(as_text=True)
    assert first.count('data-action="login.failed"') == 50
    assert first.index("dicari") < first.index("tamu54")
    older = rows(username="tamu05")[0]
    second = client.get(next_url(first)).get_data(as_text=True)
    assert second.count('data-action="login.failed"') == 6 and older.username in second
    assert next_url(second) is None
    only = client.get("/riwayat/?pengguna=dicari").get_data(as_text=True)
    assert only.count('data-action="login.failed"') == 1
    bad = client.get("/riwayat/?dari=2026-13-45&tiket=TIDAK-ADA")
    assert bad.status_code == 200
    text = bad.get_data(as_text=True)
    assert "Tanggal tidak valid" in text and "Tiket tidak ditemukan" in text
    assert 'data-action=' not in text


PAYLOADS = ["=HYPERLINK(\"http://jahat\")", "+1+2", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def test_formula_payloads_come_out_neutralised_in_the_history_csv(client, auth):
    for payload in PAYLOADS:
        auth.login(payload, "apa-saja")
    auth.login("pimpinan")
    response = client.get("/riwayat/csv?aksi=login.failed")
    assert response.headers["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    names = {row["pengguna"] for row in table}
    assert names == {"'" + p.strip() for p in PAYLOADS if p.strip()[:1] in "=+-@"} | \
        {p.strip() for p in PAYLOADS if p.strip()[:1] not in "=+-@"}
    for row in table:
        for value in row.values():
            assert not value[:1] in ("=", "+", "-", "@", "\t", "\r"), value


def test_neutraliser_covers_every_formula_prefix():
    from app.exports import neutralise

    for payload in ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1"]:
        assert neutralise(payload) == "'" + payload
    assert neutralise("Dinas Kesehatan") == "Dinas Kesehatan"
    assert neutralise(-3) == -3 and neutralise(0.5) == 0.5 and neutralise(None) is None
