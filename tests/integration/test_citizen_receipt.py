"""Issue 17 item 1: a receipt that cannot be lost (printable page, PDF with a QR code of the tracking
address without the PIN) and PIN recovery (ticket + the e-mail or phone from the form; a new PIN through the
outbox, never on screen; the old PIN stops working; same answer on match and mismatch; rate limited; logged)."""

from __future__ import annotations

import io
import json
import re

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from app.extensions import db
from app.models import AuditLog, Complaint, Outbox
from app.services.complaints import cipher
from tests.conftest import build_app, text_of


def _submit(client, complaint_form, **changes):
    response = client.post("/pengaduan/baru", data=complaint_form(**changes))
    assert response.status_code == 303, text_of(response)
    page = client.get("/pengaduan/terkirim")
    html = page.get_data(as_text=True)
    ticket = re.search(r'id="ticket">([^<]+)<', html).group(1)
    pin = re.search(r'id="pin">([^<]+)<', html).group(1)
    return page, ticket, pin


def _qr_texts(reader: PdfReader) -> list[str]:
    import zxingcpp
    from PIL import Image

    found = []
    for page in reader.pages:
        for image in page.images:
            picture = Image.open(io.BytesIO(image.data)).convert("L")
            found += [b.text for b in zxingcpp.read_barcodes(picture)]
    return found


def test_receipt_page_offers_pdf_and_print_and_the_pdf_holds_ticket_pin_and_a_qr_without_the_pin(
        client, complaint_form, app):
    page, ticket, pin = _submit(client, complaint_form)
    html = page.get_data(as_text=True)
    assert 'href="/pengaduan/terkirim/tanda-terima.pdf"' in html and "data-print" in html
    assert page.headers["Cache-Control"] == "no-store"
    track = f"{app.config['PUBLIC_BASE_URL'].rstrip('/')}/lacak?tiket={ticket}"
    assert track in text_of(page)

    response = client.get("/pengaduan/terkirim/tanda-terima.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert f"tanda-terima-{ticket}.pdf" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert ticket in text and pin in text
    assert "Dinas Kesehatan" in text and "Langkah berikutnya" in text and track in text
    assert "Validator memeriksa NIK Anda paling lambat" in text
    qr = _qr_texts(reader)
    assert qr == [track], qr
    assert pin not in qr[0]

    # Another browser (no session) gets no receipt; nor does this one once the window has passed.
    assert app.test_client().get("/pengaduan/terkirim/tanda-terima.pdf").status_code == 404
    with client.session_transaction() as s:
        s["receipt_pdf"] = {**s["receipt_pdf"], "until": 0}
    assert client.get("/pengaduan/terkirim/tanda-terima.pdf").status_code == 404


def test_print_stylesheet_hides_the_menus_and_buttons(client):
    css = client.get("/static/public/portal.css").get_data(as_text=True)
    block = css[css.index("@media print"):]
    assert ".no-print" in block and "header.top" in block and "display: none" in block


def _outbox(complaint_id):
    return db.session.scalars(sa.select(Outbox).where(Outbox.complaint_id == complaint_id,
                                                      Outbox.template == "pin_recovered")).all()


def _sent_pin(row) -> str:
    """The PIN the citizen receives: the sealed one in the outbox row, opened as the sender does."""
    return re.search(r"PIN baru: (\S+)", cipher().unseal_pins(row.body)).group(1)


def _recoveries():
    return db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "complaint.pin_recovery")
                              .order_by(AuditLog.id)).all()


def _track(client, ticket, pin) -> int:
    return client.post("/lacak", data={"ticket": ticket, "pin": pin}).status_code


def test_pin_recovery_by_email_sends_a_new_pin_and_the_old_one_stops_working(client, complaint_form):
    _page, ticket, old_pin = _submit(client, complaint_form, email="budi@contoh.id")
    cid = db.session.scalar(sa.select(Complaint.id).where(Complaint.ticket == ticket))
    form = client.get(f"/lacak/lupa-pin?tiket={ticket}")
    assert form.status_code == 200 and ticket in form.get_data(as_text=True)
    assert 'href="/lacak/lupa-pin' in client.get("/lacak").get_data(as_text=True)

    matched = client.post("/lacak/lupa-pin", data={"ticket": ticket.lower(), "contact": " BUDI@contoh.id "})
    assert matched.status_code == 200 and "PIN baru telah dikirim" in text_of(matched)
    sent = _outbox(cid)
    assert len(sent) == 1 and sent[0].channel == "email" and sent[0].recipient == "budi@contoh.id"
    new_pin = _sent_pin(sent[0])
    assert new_pin != old_pin and new_pin not in matched.get_data(as_text=True)
    assert new_pin not in sent[0].body  # sealed at rest; opened only at delivery
    assert ticket in sent[0].body and "/lacak?tiket=" in sent[0].body
    db.session.expire_all()
    assert _track(client, ticket, old_pin) == 400
    assert _track(client, ticket, new_pin) == 303

    log = _recoveries()
    assert [(r.complaint_id, json.loads(r.detail)) for r in log] == [(cid, {"outcome": "sent", "channel": "email"})]
    assert "budi" not in (log[0].detail or "") and new_pin not in (log[0].detail or "")


def test_pin_recovery_mismatch_answers_the_same_and_changes_nothing(client, complaint_form):
    _page, ticket, pin = _submit(client, complaint_form, email="budi@contoh.id")
    cid = db.session.scalar(sa.select(Complaint.id).where(Complaint.ticket == ticket))
    stored = db.session.scalar(sa.select(Complaint.pin_hash).where(Complaint.id == cid))
    matched = client.post("/lacak/lupa-pin", data={"ticket": ticket, "contact": "budi@contoh.id"})
    wrong = client.post("/lacak/lupa-pin", data={"ticket": ticket, "contact": "orang.lain@contoh.id"})
    unknown = client.post("/lacak/lupa-pin", data={"ticket": "LPO-2020-999999", "contact": "budi@contoh.id"})
    bodies = {r.status_code: set() for r in (matched, wrong, unknown)}
    for r in (matched, wrong, unknown):
        # The pages differ only by their CSRF token and the nonce of the script tag.
        bodies[r.status_code].add(re.sub(r'(nonce|value)="[^"]*"', "", r.get_data(as_text=True)))
    assert list(bodies) == [200] and len(bodies[200]) == 1
    assert len(_outbox(cid)) == 1  # only the match sent one
    db.session.expire_all()
    new_hash = db.session.scalar(sa.select(Complaint.pin_hash).where(Complaint.id == cid))
    assert new_hash != stored
    outcomes = [json.loads(r.detail)["outcome"] for r in _recoveries()]
    assert outcomes == ["sent", "mismatch", "unknown_ticket"]
    # A mismatch leaves the PIN that was just sent working.
    new_pin = _sent_pin(_outbox(cid)[0])
    assert _track(client, ticket, new_pin) == 303 and _track(client, ticket, pin) == 400


def test_pin_recovery_by_phone_goes_to_the_gateway_only_when_one_is_configured(client, complaint_form, app):
    _page, ticket, pin = _submit(client, complaint_form, phone="0812-3456-7890")
    cid = db.session.scalar(sa.select(Complaint.id).where(Complaint.ticket == ticket))
    client.post("/lacak/lupa-pin", data={"ticket": ticket, "contact": "+62 812 3456 7890"})
    assert _outbox(cid) == [] and _track(client, ticket, pin) == 303  # nothing could carry it: PIN kept
    app.config["WEBHOOK_URL"] = "https://gateway.contoh.id/kirim"
    try:
        client.post("/lacak/lupa-pin", data={"ticket": ticket, "contact": "+62 812 3456 7890"})
    finally:
        app.config["WEBHOOK_URL"] = None
    sent = _outbox(cid)
    assert len(sent) == 1 and sent[0].channel == "webhook" and sent[0].recipient == "0812-3456-7890"
    assert _track(client, ticket, pin) == 400


def test_pin_recovery_refuses_empty_fields_with_a_message(client):
    refused = client.post("/lacak/lupa-pin", data={"ticket": " ", "contact": ""})
    assert refused.status_code == 400 and "Wajib diisi" in text_of(refused)
    assert _recoveries() == []


@pytest.fixture(scope="module")
def _limited_app(app, database_url):
    from app.extensions import limiter

    was_enabled = limiter.enabled
    yield build_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                    PIN_RECOVERY_RATE_LIMIT="2 per hour"), was_enabled
    limiter.enabled = was_enabled


def test_pin_recovery_is_rate_limited_per_address(_limited_app):
    """The limiter is shared by every app of the process: it is on only inside this test."""
    from app.extensions import limiter

    _limited_app, was_enabled = _limited_app
    limiter.enabled = True
    limiter.reset()
    try:
        client = _limited_app.test_client()
        here = {"REMOTE_ADDR": "10.9.0.1"}
        for _ in range(2):
            r = client.post("/lacak/lupa-pin", data={"ticket": "LPO-2026-000001", "contact": "a@contoh.id"},
                            environ_base=here)
            assert r.status_code == 200
        blocked = client.post("/lacak/lupa-pin", data={"ticket": "LPO-2026-000001", "contact": "a@contoh.id"},
                              environ_base=here)
        assert blocked.status_code == 429
        other = client.post("/lacak/lupa-pin", data={"ticket": "LPO-2026-000001", "contact": "a@contoh.id"},
                            environ_base={"REMOTE_ADDR": "10.9.0.2"})
        assert other.status_code == 200
    finally:
        limiter.reset()
        limiter.enabled = was_enabled


def test_pin_recovery_takes_as_long_on_a_match_as_on_a_mismatch(app, submission):
    """Medians of 20 interleaved requests each within 15% in wall time, in one of up to three rounds, and
    every answer no sooner than the service's floor. A match writes more (the new hash, the outbox row) than
    a mismatch and the keyed hash is fast, so CPU time differs by design: what a client can measure is the
    wall time, which the floor makes equal."""
    import statistics
    import time

    from app import services
    from app.services import citizen

    ticket = services.submit(submission(email="budi@contoh.id")).complaint.ticket
    client = app.test_client()
    hit = {"ticket": ticket, "contact": "budi@contoh.id"}
    miss = {"ticket": ticket, "contact": "bukan@contoh.id"}

    def timed(data) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.thread_time()
        response = client.post("/lacak/lupa-pin", data=data)
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        assert response.status_code == 200
        return wall, cpu

    def gap(a, b, which) -> float:
        x, y = statistics.median(v[which] for v in a), statistics.median(v[which] for v in b)
        return abs(x - y) / max(x, y)

    timed(hit), timed(miss)
    rounds = []
    for _ in range(3):
        hits, misses = [], []
        for i in range(20):
            for data in ((hit, miss) if i % 2 == 0 else (miss, hit)):
                (hits if data is hit else misses).append(timed(data))
        assert min(v[0] for v in hits + misses) >= citizen.RECOVERY_FLOOR_SECONDS
        rounds.append((gap(hits, misses, 0), gap(hits, misses, 1),
                       statistics.median(h[0] for h in hits), statistics.median(m[0] for m in misses)))
        print("pin recovery timing: " + ", ".join(f"{k} {v:.3f}" for k, v in zip(("wall", "cpu", "hit_s", "miss_s"),
                                                                                  rounds[-1])))
        if rounds[-1][0] <= 0.15:
            return
    pytest.fail("match and mismatch differ by more than 15% in wall time: " + "; ".join(
        f"wall {w:.0%} ({h * 1000:.0f} vs {m * 1000:.0f} ms), cpu {c:.0%}" for w, c, h, m in rounds))
