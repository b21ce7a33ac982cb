"""Hostile input on the citizen loop (issue 17) and the operations page (issue 19): PIN recovery, the
receipt PDF, the reply to an answer, the Pimpinan's dispute queue and decision, the health page. Each
answer is a clean success or a 4xx, never a 5xx, never something half stored."""

from __future__ import annotations

from .corpus import INTEGERS, SHORT, form, text_values, url

ENDPOINTS = {"public.recover_pin", "public.receipt_pdf", "public.track_reply", "DisputeView.queue",
             "DisputeView.decide", "SystemHealthView.index"}


def test_pin_recovery_and_the_receipt_pdf(app, clients, probe, world):
    client = clients["anon"]
    complaint = world.submit()
    for field in ("ticket", "contact"):
        for label, value in text_values():
            data = {"ticket": complaint.ticket, "contact": "bukan@contoh.id", field: value}
            response = probe.call(client, "POST", "/lacak/lupa-pin", label=f"recover {field}={label}", **form(data))
            if response is not None and response.status_code not in (200, 400, 413, 429):
                probe.fail(f"recover {field}={label}: expected the page or a refusal, got {response.status_code}")
    for label, value in text_values(SHORT):
        probe.call(client, "GET", url("/lacak/lupa-pin", {"tiket": value}), label=f"recover page tiket={label}")
    # No receipt shown in this browser: the PDF is not there, whatever is asked.
    for label, value in text_values(SHORT):
        response = probe.call(client, "GET", url("/pengaduan/terkirim/tanda-terima.pdf", {"x": value}),
                              label=f"receipt pdf x={label}")
        if response is not None and response.status_code not in (400, 404):
            probe.fail(f"receipt pdf x={label}: expected 404 (or 400), got {response.status_code}")
    probe.assert_clean()


def test_reply_to_the_answer(app, clients, probe, world):
    from app.extensions import db
    from app.models import CitizenReply
    from app.services import submit

    # An answered complaint whose PIN this client knows: tracked, then every field of the reply form.
    made = submit(world.submission(visibility="publik", email="warga@contoh.id"))
    from app import services

    services.decide_nik(made.complaint.id, world.actor("validator"), valid=True)
    services.answer(made.complaint.id, world.actor("opd.dinkes"), "Sudah kami perbaiki minggu ini.")
    client = app.test_client()
    assert client.post("/lacak", data={"ticket": made.complaint.ticket, "pin": made.pin}).status_code == 303
    base = {"accepted": "tidak", "rating": "3", "reason": "Jalan masih berlubang.", "comment": ""}
    for field in ("accepted", "rating", "reason", "comment"):
        for label, value in text_values():
            data = {**base, field: value}
            response = probe.call(client, "POST", "/lacak/tanggapan", label=f"reply {field}={label}", **form(data))
            if response is None:
                continue
            if response.status_code == 303:  # accepted once: nothing more can be replied
                break
            if response.status_code not in (400, 409, 413):
                probe.fail(f"reply {field}={label}: expected a refusal, got {response.status_code}")
        if db.session.query(CitizenReply).count():
            break
    for value in INTEGERS:
        probe.call(client, "POST", "/lacak/tanggapan", label=f"reply rating={value[:12]!r}",
                   **form({**base, "rating": value}))
    probe.assert_clean()


def test_dispute_queue_and_decision(app, clients, probe, world):
    client = clients["pimpinan"]
    complaint = world.answered()
    for label, value in text_values(SHORT):
        probe.call(client, "GET", url("/staf/sanggahan/", {"setelah": value}), label=f"disputes ?setelah={label}")
    for field in ("outcome", "reason", "opd"):
        for label, value in text_values():
            data = {"outcome": "close", "reason": "Sudah selesai di lapangan.", "opd": "DPUTR", field: value}
            response = probe.call(client, "POST", f"/staf/sanggahan/{complaint.id}/putuskan",
                                  label=f"decide {field}={label}", **form(data))
            # Not disputed (yet): every decision is refused with a message on the queue, or a 4xx.
            if response is not None and response.status_code not in (303, 400, 404, 409, 413):
                probe.fail(f"decide {field}={label}: got {response.status_code}")
    for value in INTEGERS:
        probe.call(client, "POST", f"/staf/sanggahan/{value}/putuskan", label=f"decide id={value[:12]!r}",
                   **form({"outcome": "close", "reason": "x"}))
    for label, value in text_values(SHORT):
        probe.call(clients["admin"], "GET", url("/staf/kesehatan-sistem/", {"x": value}), label=f"health x={label}")
    probe.assert_clean()
