"""OPD suggestion in the application (issue 18): what it learns from the database, the versioned store,
the per-process model, `flask routing train|evaluate`, the nightly job and the Admin Sistem screens."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import services
from app.extensions import db
from app.models import AuditLog, Opd, RoutingModel
from app.services import routing as routing_service
from tests.conftest import PASSWORD
from tests.integration.opd_support import login, routed

EVAL_TSV = Path(__file__).resolve().parent.parent / "data" / "routing_eval.tsv"


@pytest.fixture
def fresh_cache(app, monkeypatch):
    """Every call to current_model() looks at the table again, and nothing is left from earlier tests."""
    monkeypatch.setitem(app.config, "ROUTING_RELOAD_SECONDS", 0)
    app.extensions.pop("routing_model", None)
    yield
    app.extensions.pop("routing_model", None)


def _rerouted_and_answered(submission, actor, **changes):
    """Sent to the health office, returned as "bukan wewenang", re-routed to public works, answered."""
    c = routed(submission, actor, "DINKESP2KB", **changes)
    services.return_to_dispatch(c.id, actor("opd.dinkes"), "Bukan wewenang kami, ini urusan jalan.")
    services.reroute(c.id, actor("validator"), "DPUTR")
    services.answer(c.id, actor("opd.dputr"), "Sudah kami tambal minggu ini.")
    return c


def test_training_data_is_the_final_opd_with_the_return_as_negative(submission, actor):
    _rerouted_and_answered(submission, actor, title="Jalan berlubang", text="Jalan di dusun kami berlubang besar.")
    direct = routed(submission, actor, "DINKESP2KB", title="Puskesmas", text="Antrean puskesmas lama sekali.")
    services.answer(direct.id, actor("opd.dinkes"), "Kami tambah petugas.")
    # Returned and not yet re-routed: only negative evidence.
    waiting = routed(submission, actor, "DPUTR", title="KTP", text="KTP saya belum jadi.")
    services.return_to_dispatch(waiting.id, actor("opd.dputr"), "Bukan wewenang.")
    # Still open, never returned: nothing to learn yet.
    routed(submission, actor, "DPUTR", title="Jembatan", text="Jembatan retak.")

    examples = {e.text: e for e in routing_service.training_examples()}
    assert set(examples) == {"Jalan berlubang. Jalan di dusun kami berlubang besar.",
                             "Puskesmas. Antrean puskesmas lama sekali.", "KTP. KTP saya belum jadi."}
    assert examples["Jalan berlubang. Jalan di dusun kami berlubang besar."].opd == "DPUTR"
    assert examples["Jalan berlubang. Jalan di dusun kami berlubang besar."].returned_by == ("DINKESP2KB",)
    assert examples["Puskesmas. Antrean puskesmas lama sekali."].opd == "DINKESP2KB"
    assert examples["KTP. KTP saya belum jadi."].opd is None
    assert examples["KTP. KTP saya belum jadi."].returned_by == ("DPUTR",)


def test_training_uses_the_masked_public_text_and_leaves_confidential_complaints_out(submission, actor):
    c = routed(submission, actor, "DPUTR", title="Saluran mampet",
               text="Saluran depan rumah mampet, hubungi saya di 081234567890 atau NIK 3508011203900001.")
    services.answer(c.id, actor("opd.dputr"), "Sudah dibersihkan.")
    secret = routed(submission, actor, "DPUTR", title="Rahasia", text="Jalan rusak di depan rumah.",
                    visibility="rahasia")
    services.answer(secret.id, actor("opd.dputr"), "Sudah.")

    (example,) = routing_service.training_examples()
    assert "Saluran mampet" in example.text
    assert "081234567890" not in example.text and "3508011203900001" not in example.text


def test_train_and_store_keeps_versions_and_records_it(app, submission, actor, monkeypatch):
    monkeypatch.setitem(app.config, "ROUTING_KEEP_VERSIONS", 2)
    _rerouted_and_answered(submission, actor, title="Jalan rusak", text="Jalan desa rusak parah.")
    first = routing_service.train_and_store()
    second = routing_service.train_and_store()
    third = routing_service.train_and_store()
    assert (first.version, second.version, third.version) == (1, 2, 3)
    assert third.answered == 1 and third.returns == 1 and third.cold_documents > 1000
    rows = db.session.scalars(sa.select(RoutingModel).order_by(RoutingModel.version)).all()
    assert [r.version for r in rows] == [2, 3]  # older versions beyond ROUTING_KEEP_VERSIONS are gone
    assert rows[-1].size_bytes == third.size_bytes > 0 and rows[-1].trained_at is not None
    assert rows[-1].metrics is None  # too little history to measure
    logged = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "routing.train")).all()
    assert [json.loads(r.detail)["version"] for r in logged] == [1, 2, 3]


def test_with_enough_history_a_version_is_measured_on_the_newest_answers(app, monkeypatch):
    from app.routing import Example

    history = [Example(f"jalan desa rusak berlubang nomor {i}", "DPUTR") for i in range(40)]
    history += [Example(f"antrean puskesmas lama sekali nomor {i}", "DINKESP2KB") for i in range(40)]
    monkeypatch.setattr(routing_service, "training_examples", lambda limit=None: history)
    done = routing_service.train_and_store()
    assert done.metrics["n"] == 10 and done.metrics["top1"] == 1.0
    assert {"top3", "cold_top1", "cold_top3"} <= set(done.metrics)


def test_the_process_loads_the_newest_version_and_keeps_serving_when_one_is_damaged(fresh_cache, submission,
                                                                                      actor):
    # Nothing stored yet: a cold start built from the OPD table.
    assert routing_service.suggest("jalan berlubang di desa")[0].code == "DPUTR"
    assert routing_service.current_model() is routing_service.current_model()

    routing_service.train_and_store()
    stored = routing_service.current_model()
    assert stored.report.cold_documents > 0 and routing_service.current_model() is stored

    # A newer version whose bytes do not match its checksum is not loaded; the previous one still serves.
    good = db.session.scalar(sa.select(RoutingModel).options(sa.orm.undefer(RoutingModel.payload)))
    db.session.add(RoutingModel(version=good.version + 1, answered=0, returns=0, cold_documents=0,
                                size_bytes=3, sha256=good.sha256, payload=b"bad"))
    db.session.commit()
    assert routing_service.current_model() is stored
    assert routing_service.suggest("KTP belum jadi")[0].code == "DISPENDUKCAPIL"


def test_a_newer_version_replaces_the_loaded_one(fresh_cache, app, monkeypatch):
    from app.routing import Example

    text = "pohon besar miring di pinggir jalan mau roboh"
    before = routing_service.suggest(text)[0].code
    assert before != "BPBD"
    history = [Example(f"pohon {kind} di pinggir jalan mau tumbang {i}", "BPBD", ("DLH",))
               for i in range(12) for kind in ("besar", "tua", "miring")]
    monkeypatch.setattr(routing_service, "training_examples", lambda limit=None: history)
    routing_service.train_and_store()
    assert routing_service.suggest(text)[0].code == "BPBD"


def test_training_and_suggesting_need_no_network(fresh_cache, submission, actor, monkeypatch):
    _rerouted_and_answered(submission, actor, title="Jalan rusak", text="Jalan desa rusak parah.")

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    routing_service.train_and_store()
    assert routing_service.suggest("jalan berlubang di desa")[0].code == "DPUTR"


# --------------------------------------------------------------------------- command line and scheduler


def test_cli_train_then_evaluate(runner, fresh_cache):
    trained = runner.invoke(args=["routing", "train"])
    assert trained.exit_code == 0, trained.output
    assert "Model saran OPD versi 1" in trained.output
    result = runner.invoke(args=["routing", "evaluate", str(EVAL_TSV)])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("202 pengaduan: top-1 ") and "top-3 " in last
    top1 = float(last.split("top-1 ")[1].split("%")[0])
    assert top1 >= 70.0
    cold = runner.invoke(args=["routing", "evaluate", "--cold-start", "--misses", str(EVAL_TSV)])
    assert cold.exit_code == 0 and "←" in cold.output


def test_cli_evaluate_refuses_a_bad_file_with_a_message(runner, tmp_path):
    bad = tmp_path / "salah.tsv"
    bad.write_text("kode\tisi\nDLH\tsampah\n", encoding="utf-8")
    result = runner.invoke(args=["routing", "evaluate", str(bad)])
    assert result.exit_code != 0 and "Format berkas salah" in result.output
    missing = runner.invoke(args=["routing", "evaluate", str(tmp_path / "tidak-ada.tsv")])
    assert missing.exit_code != 0 and "tidak dapat dibaca" in missing.output


def test_the_nightly_training_job_is_registered_and_runs(app):
    from app.jobs import find, resolve, run_job

    spec = find("routing_train")
    assert spec.trigger == "cron" and spec.trigger_args == {"hour": 1, "minute": 15}
    assert resolve(spec) is routing_service.routing_train_job
    assert run_job(app, spec) == "version 1"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoutingModel)) == 1


def test_the_scheduler_stores_a_first_model_so_no_web_worker_trains(app):
    # With no model stored each web worker trained a cold start of its own on its first suggestion
    # (seconds, and scikit-learn's 100 MB in every worker). The job that runs when the scheduler starts
    # stores one; once one is stored it does nothing, however often it runs.
    from app.jobs import find, resolve, run_job

    spec = find("routing_first")
    assert spec.trigger == "interval" and resolve(spec) is routing_service.first_model_job
    assert run_job(app, spec) == "version 1"
    assert run_job(app, spec) == "a model is stored"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoutingModel)) == 1
    with app.app_context():
        assert routing_service.current_model().suggest("jalan berlubang di desa")[0].code == "DPUTR"
        assert routing_service._cache().version == 1  # the stored model, not a cold start built here


# --------------------------------------------------------------------------- OPD data and screens


def test_import_fills_duties_and_keeps_what_admin_wrote(app):
    from app.services.accounts import import_opds

    dputr = db.session.scalar(sa.select(Opd).where(Opd.code == "DPUTR"))
    original = (dputr.duties, dputr.keywords)
    assert "jembatan" in dputr.duties and "jalan berlubang" in dputr.keywords
    try:
        dputr.duties, dputr.keywords = "Tugas yang ditulis Admin Sistem.", None
        db.session.commit()
        import_opds(None)
        db.session.refresh(dputr)
        assert dputr.duties == "Tugas yang ditulis Admin Sistem."
        assert dputr.keywords == original[1]
    finally:
        dputr.duties, dputr.keywords = original
        db.session.commit()


def test_admin_edits_duties_and_keywords_on_the_opd_screen(app):
    dispar = db.session.scalar(sa.select(Opd).where(Opd.code == "DISPAR"))
    original = (dispar.duties, dispar.keywords)
    admin = login(app, "admin", PASSWORD)
    try:
        form = admin.get(f"/opdview/edit/{dispar.id}").get_data(as_text=True)
        assert "Tugas dan fungsi" in form and "Kata kunci" in form
        saved = admin.post(f"/opdview/edit/{dispar.id}", data={
            "code": "DISPAR", "name": dispar.name, "kind": dispar.kind, "active": "y", "email": "",
            "duties": "Mengelola destinasi wisata.", "keywords": "wisata; pantai; air terjun"})
        assert saved.status_code == 302
        db.session.expire_all()
        dispar = db.session.get(Opd, dispar.id)
        assert (dispar.duties, dispar.keywords) == ("Mengelola destinasi wisata.", "wisata; pantai; air terjun")
        shown = admin.get(f"/opdview/show/{dispar.id}").get_data(as_text=True)
        assert "Mengelola destinasi wisata." in shown
    finally:
        dispar.duties, dispar.keywords = original
        db.session.commit()


def test_admin_sees_when_each_model_was_trained_and_on_how_much(app):
    routing_service.train_and_store()
    page = login(app, "admin", PASSWORD).get("/routingmodelview/list/").get_data(as_text=True)
    assert "Model saran OPD" in page and "Dilatih (WIB)" in page and "WIB" in page
    assert "Pengaduan terjawab" in page and "Ukuran (bita)" in page
    assert login(app, "pimpinan", PASSWORD).get("/routingmodelview/list/").status_code in (302, 403)
