"""Hostile input on the staff desks: the validator's decision, the OPD desk (answer, edit, return, note,
export, queue filters), dispatch, the history log and its CSV, the recap and its exports, the control
dashboard, the outbox, the registry import, and every integer in a staff URL."""

from __future__ import annotations

import io

import sqlalchemy as sa

from .corpus import CURSORS, DATES, INTEGERS, SHORT, TEXT, form, text_values, url

ENDPOINTS = {
    "ValidatorDeskView.queue", "ValidatorDeskView.check", "ValidatorDeskView.decide", "ValidatorDeskView.attachment",
    "ValidatorStatsView.stats", "RegistryImportView.form", "RegistryImportView.upload",
    "OpdDeskView.queue", "OpdDeskView.detail", "OpdDeskView.add_note", "OpdDeskView.answer", "OpdDeskView.edit_answer",
    "OpdDeskView.return_complaint", "OpdDeskView.attachment", "OpdDeskView.versions", "OpdDeskView.export",
    "DispatchView.queue", "DispatchView.reroute",
    "HistoryLogView.index", "HistoryLogView.export_csv", "HistoryLogView.find_complaint", "HistoryLogView.complaint",
    "HistoryLogView.account", "RecapView.index", "RecapView.export_xlsx", "RecapView.export_csv",
    "ControlDashboardView.index", "OutboxView.list", "OutboxView.resend", "StaffIndexView.index",
}

ALWAYS_REFUSED = ("nul", "nul_only", "controls", "c1", "rtl_override", "rtl_isolate", "noncharacter")


def _version(complaint_id: int) -> int:
    from app.extensions import db
    from app.models import Complaint

    version = db.session.scalar(sa.select(Complaint.version).where(Complaint.id == complaint_id))
    db.session.rollback()
    return version


def _state(complaint_id: int):
    from app.extensions import db
    from app.models import Complaint

    state = db.session.scalar(sa.select(Complaint.state).where(Complaint.id == complaint_id))
    db.session.rollback()
    return state


def _sweep(probe, client, *, make, path, base, fields, corpus=TEXT, label, ignore=(), refused=ALWAYS_REFUSED,
           refusal_codes=(400,)):
    """POST `base(target)` with one field replaced by each corpus value. A value that must be refused
    gets one of `refusal_codes` and changes nothing; a success that moved the complaint on (its state
    changed) uses it up, so the next value gets a fresh one from `make`."""
    from app.extensions import db

    from .corpus import fingerprint

    target = make()
    start = _state(target.id)
    for field in fields:
        for name, value in corpus.items():
            before = fingerprint(db) if name in refused else None
            response = probe.call(client, "POST", path(target), label=f"{label} {field}={name}", ignore=ignore,
                                  **form({**base(target), field: value}))
            if response is not None and before is not None:
                if response.status_code not in refusal_codes:
                    probe.fail(f"{label} {field}={name}: expected {refusal_codes}, got {response.status_code}")
                after = fingerprint(db)
                changed = {k: (before[k], after[k]) for k in before if k not in ignore and before[k] != after[k]}
                if changed:
                    probe.fail(f"{label} {field}={name}: refused, but the database changed: {changed}")
            if _state(target.id) != start:
                target = make()


def test_validator_decision(app, clients, probe, world):
    client = clients["validator"]

    def base(complaint):
        return {"decision": "valid", "remark": "Cocok dengan SIAK.", "version": _version(complaint.id),
                "public_title": "Jalan berlubang di depan pasar", "public_text": "Mohon segera diperbaiki.",
                "public_edit_reason": "Merapikan judul."}

    path = lambda c: f"/staf/validasi/{c.id}/keputusan"  # noqa: E731
    # A refused decision shows the page again, which renews the validator's claim (a version bump).
    _sweep(probe, client, make=world.waiting, path=path, base=base, fields=("remark", "public_text"),
           label="decision", ignore=("complaint_version",))
    _sweep(probe, client, make=world.waiting, path=path, base=base, fields=("public_title", "public_edit_reason"),
           corpus=SHORT, label="decision", ignore=("complaint_version",))
    _sweep(probe, client, make=world.waiting, path=path, base=base, fields=("decision", "version"),
           corpus={**SHORT, **{f"int {v[:12]}": v for v in INTEGERS}}, label="decision",
           ignore=("complaint_version",), refused=())
    probe.assert_clean()


def test_validator_blank_remark_is_refused_for_tidak_valid(app, clients, probe, world):
    client = clients["validator"]
    complaint = world.waiting()
    client.get(f"/staf/validasi/{complaint.id}")
    for label in ("blank", "zero_width_only", "invisible_only", "nul_only"):
        data = {"decision": "tidak_valid", "remark": TEXT[label], "version": _version(complaint.id)}
        response = probe.call(client, "POST", f"/staf/validasi/{complaint.id}/keputusan", label=f"remark {label}",
                              ignore=("complaint_version",), **form(data))
        assert response is not None and response.status_code == 400
    probe.assert_clean()


def test_staff_queue_cursors(app, clients, probe, world):
    """Broken, forged and out-of-range page links of the validator's queue, the OPD desk and dispatch."""
    world.waiting(claimed=False)
    world.routed()
    world.returned()
    for cursor in [*CURSORS, *SHORT.values()]:
        probe.call(clients["validator"], "GET", url("/staf/validasi/", {"setelah": cursor}), label="queue cursor")
        probe.call(clients["admin"], "GET", url("/staf/disposisi/", {"after": cursor}), label="dispatch cursor")
        for role in ("opd.dinkes", "admin"):
            probe.call(clients[role], "GET", url("/staf/opd/", {"after": cursor}), label=f"{role} desk cursor")
    probe.assert_clean()


def test_validator_stats_and_registry_import(app, clients, probe, world):
    for value in [*INTEGERS, *SHORT.values()]:
        probe.call(clients["pimpinan"], "GET", url("/staf/statistik-validasi/", {"hari": value}), label="stats hari")
    csvs = {
        "nul": b"nik,nama\n3508011203900001,Bu\x00di\n",
        "controls": b"nik,nama\n3508011203900001,Bu\x01\x1bdi\n",
        "bad utf-8": b"nik,nama\n3508011203900001,\xff\xfe\n",
        "long name": b"nik,nama\n3508011203900001," + b"a" * 10_000 + b"\n",
        "ancient date": b"nik,nama,tanggal_lahir\n3508011203900001,Budi,0001-01-01\n",
        "far date": b"nik,nama,tanggal_lahir\n3508011203900001,Budi,9999-12-31\n",
        "formula": b"nik,nama\n3508011203900001,=HYPERLINK(\"http://x\")\n",
        "huge nik": b"nik,nama\n" + b"9" * 5000 + b",Budi\n",
        "rtl": "nik,nama\n3508011203900001,Bu\u202edi\n".encode(),
        "emoji": "nik,nama\n3508011203900001,Budi 👍\n".encode(),
        "empty": b"",
        "only header": b"nik,nama\n",
        "many columns": b"nik,nama\n" + b",".join([b"x"] * 5000) + b"\n",
        "quote bomb": b'nik,nama\n"3508011203900001,"Budi\n',
        "binary": bytes(range(256)) * 40,
    }
    for label, content in csvs.items():
        probe.call(clients["admin"], "POST", "/staf/registri-siak/", label=f"registry {label}",
                   data={"file": (io.BytesIO(content), "registri.csv")}, content_type="multipart/form-data")
    probe.call(clients["admin"], "POST", "/staf/registri-siak/", label="registry no file", data={},
               content_type="multipart/form-data")
    for label, value in text_values(SHORT):
        probe.call(clients["admin"], "GET", url("/staf/registri-siak/", {"x": value}), label=f"registry page {label}")
    probe.assert_clean()


def test_opd_desk_answer_edit_return_and_note(app, clients, probe, world):
    client = clients["opd.dinkes"]
    _sweep(probe, client, make=world.routed, path=lambda c: f"/staf/opd/{c.id}/jawab",
           base=lambda c: {"text": "Sudah diperbaiki."}, fields=("text",), label="answer")
    answered = world.answered()
    _sweep(probe, client, make=lambda: answered, path=lambda c: f"/staf/opd/{c.id}/ubah-jawaban",
           base=lambda c: {"text": "Jawaban yang dirapikan.", "reason": "Salah ketik."}, fields=("text", "reason"),
           label="edit answer")
    _sweep(probe, client, make=world.routed, path=lambda c: f"/staf/opd/{c.id}/kembalikan",
           base=lambda c: {"reason": "Bukan wewenang kami."}, fields=("reason",), label="return")
    routed = world.routed()
    _sweep(probe, client, make=lambda: routed, path=lambda c: f"/staf/opd/{c.id}/catatan",
           base=lambda c: {"text": "Dicek ke lapangan."}, fields=("text",), label="note")
    probe.assert_clean()


def test_blank_answers_leave_the_complaint_unanswered(app, clients, probe, world):
    """The bug this suite was written for: an answer of U+200B made the complaint dijawab."""
    from app.extensions import db
    from app.models import Complaint
    from app.workflow import State

    client = clients["opd.dinkes"]
    complaint = world.routed()
    for label in ("blank", "zero_width_only", "invisible_only", "nul_only"):
        response = probe.call(client, "POST", f"/staf/opd/{complaint.id}/jawab", label=f"answer {label}",
                              **form({"text": TEXT[label]}))
        assert response is not None and response.status_code == 400
    assert db.session.scalar(sa.select(Complaint.state).where(Complaint.id == complaint.id)) is State.DITERUSKAN
    probe.assert_clean()


def test_opd_queue_filters_and_export(app, clients, probe, world):
    world.routed()
    world.answered()
    for role, paths in (("opd.dinkes", ("/staf/opd/", "/staf/opd/ekspor.csv")), ("admin", ("/staf/opd/",))):
        for name in ("tab", "q", "opd", "terlambat"):
            for label, value in text_values(SHORT):
                for path in paths:
                    extra = {"tab": "dijawab"} if path.endswith(".csv") and name != "tab" else {}
                    probe.call(clients[role], "GET", url(path, {**extra, name: value}),
                               label=f"{role} {path} {name}={label}")
    probe.assert_clean()


def test_dispatch_queue_and_reroute(app, clients, probe, world):
    client = clients["admin"]
    path, base = (lambda c: f"/staf/disposisi/{c.id}/teruskan"), (lambda c: {"opd": "DPUTR", "note": "Urusan."})
    # The dispatch form refuses with a flash and a redirect, as it answers a success.
    _sweep(probe, client, make=world.returned, path=path, base=base, fields=("opd", "note"), label="reroute",
           refusal_codes=(302, 303))
    # "back" only chooses where to go afterwards (the detail page or the queue); nothing of it is stored.
    _sweep(probe, client, make=world.returned, path=path, base=base, fields=("back",), corpus=SHORT,
           label="reroute", refused=())
    probe.assert_clean()


def test_history_log_filters_and_csv(app, clients, probe, world):
    client = clients["pimpinan"]
    complaint = world.routed()
    client.get("/staf/")
    text_filters = ("pengguna", "peran", "aksi", "jenis", "tiket")
    for path in ("/riwayat/", "/riwayat/csv"):
        for name in text_filters:
            for label, value in text_values(SHORT):
                probe.call(client, "GET", url(path, {name: value}), label=f"{path} {name}={label}")
        for name in ("dari", "sampai"):
            for value in DATES:
                response = probe.call(client, "GET", url(path, {name: value}), label=f"{path} {name}={value[:20]!r}")
                if response is not None and path == "/riwayat/" and value in ("0001-01-01", "9999-12-31"):
                    if "Tanggal harus antara 01-01-2000 dan 31-12-2100." not in response.get_data(as_text=True):
                        probe.fail(f"{path} {name}={value}: the page does not say the allowed range")
        for value in [*INTEGERS, *SHORT.values()]:
            probe.call(client, "GET", url(path, {"sebelum": value}), label=f"{path} sebelum={value[:20]!r}")
    for label, value in text_values(SHORT):
        probe.call(client, "GET", url("/riwayat/pengaduan", {"tiket": value}), label=f"find ticket {label}")
    probe.call(client, "GET", url("/riwayat/pengaduan", {"tiket": complaint.ticket.lower()}), label="find ticket")
    probe.assert_clean()


def test_recap_filters_and_exports(app, clients, probe, world):
    client = clients["pimpinan"]
    world.answered()
    for path in ("/rekap/", "/rekap/xlsx", "/rekap/csv"):
        for name in ("periode", "kelompok"):
            for label, value in text_values(SHORT):
                probe.call(client, "GET", url(path, {name: value}), label=f"{path} {name}={label}")
        for value in DATES:
            # Every period kind at the edges of the calendar; the malformed dates once.
            kinds = ("hari", "minggu", "bulan", "tahun") if value[:4] in ("0001", "9999", "2000", "2100") else ("hari",)
            for kind in kinds:
                probe.call(client, "GET", url(path, {"periode": kind, "tanggal": value}),
                           label=f"{path} {kind} tanggal={value[:20]!r}")
            for name, other in (("dari", "sampai"), ("sampai", "dari")):
                probe.call(client, "GET", url(path, {"periode": "rentang", name: value, other: "2026-01-01"}),
                           label=f"{path} rentang {name}={value[:20]!r}")
    response = probe.call(client, "GET", url("/rekap/", {"periode": "hari", "tanggal": "9999-12-31"}),
                          label="recap far date")
    assert response is not None and response.status_code in (200, 400)
    assert "Tanggal harus antara 01-01-2000 dan 31-12-2100." in response.get_data(as_text=True)
    probe.assert_clean()


def test_dashboard_filters(app, clients, probe, world):
    client = clients["pimpinan"]
    world.routed()
    for name in ("dari", "sampai"):
        for value in DATES:
            probe.call(client, "GET", url("/staf/kendali/", {name: value}), label=f"dashboard {name}={value[:20]!r}")
    for label, value in text_values(SHORT):
        probe.call(client, "GET", url("/staf/kendali/", {"opd": value}), label=f"dashboard opd={label}")
    probe.call(client, "GET", url("/staf/kendali/", {"dari": "2000-01-01", "sampai": "2100-12-31"}),
               label="dashboard widest")
    probe.assert_clean()


def test_outbox_screen_and_resend(app, clients, probe, world):
    from app.extensions import db
    from app.models import Outbox

    client = clients["admin"]
    world.routed()
    outbox_id = db.session.scalar(sa.select(Outbox.id).limit(1))
    db.session.rollback()
    for label, value in text_values(SHORT):
        probe.call(client, "GET", url("/staf/kotak-keluar/", {"status": value}), label=f"outbox status={label}")
    for value in INTEGERS:
        probe.call(client, "GET", url("/staf/kotak-keluar/", {"sebelum": value}),
                   label=f"outbox sebelum={value[:20]!r}")
    for label, value in text_values(SHORT):
        probe.call(client, "POST", f"/staf/kotak-keluar/{outbox_id}/kirim-ulang", label=f"resend status={label}",
                   ignore=("outbox",), **form({"status": value}))
    for label, value in text_values(SHORT):
        probe.call(client, "GET", url("/staf/", {"x": value}), label=f"staff home ?x={label}")
    probe.assert_clean()


def test_every_integer_in_a_staff_url(app, clients, probe, world):
    """Every route with an <int:…> parameter (derived from the URL map), every hostile integer in each
    such parameter: a 404 (out of range or not a number) or an answer for an id that exists."""
    from urllib.parse import quote

    from werkzeug.routing import IntegerConverter

    from tests.integration.opd_support import api_headers

    complaint = world.routed()
    role_of = {"OpdDeskView": "opd.dinkes", "ValidatorDeskView": "validator", "public": "anon",
               "ComplaintApi": "validator", "ComplaintDeskApi": "opd.dinkes", "ComplaintDeskApi.reroute": "admin",
               "OpdDeskView.versions": "pimpinan"}
    checked = 0
    for rule in app.url_map.iter_rules():
        names = [n for n, c in rule._converters.items() if isinstance(c, IntegerConverter)]
        if not names:
            continue
        role = role_of.get(rule.endpoint, role_of.get(rule.endpoint.split(".")[0], "admin"))
        extra = {"headers": api_headers(role)} if rule.rule.startswith("/api/") else {}
        method = "GET" if "GET" in rule.methods else "POST"
        for name in names:
            for value in INTEGERS:
                values = {n: complaint.id for n in rule.arguments}
                path = rule.build(values, append_unknown=False)[1]
                # Replace the one parameter by the hostile value, encoded as a client would.
                segments = rule.rule.replace(f"<int:{name}>", quote(value, safe="") or "%20")
                for other in rule.arguments - {name}:
                    segments = segments.replace(f"<int:{other}>", str(complaint.id))
                segments = segments.replace("<string:name>", "x").replace("<pk>", str(complaint.id))
                response = probe.call(clients[role], method, segments, label=f"{rule.endpoint} {name}",
                                      **(form({}) if method == "POST" else {}), **extra)
                checked += 1
                in_range = value.isascii() and value.isdigit() and len(value) < 11 and int(value) <= 2**31 - 1
                if response is not None and not in_range and response.status_code != 404:
                    probe.fail(f"{rule.endpoint} {name}={value[:20]!r}: expected 404, got {response.status_code}"
                               f" ({path})")
    assert checked > 100
    probe.assert_clean()
