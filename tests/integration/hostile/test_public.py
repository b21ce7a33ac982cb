"""Hostile input on the citizens' portal: the form (every field, attachments, multipart), tracking, the
published list with its filters and cursor, one published complaint, the language switch."""

from __future__ import annotations

import io

import sqlalchemy as sa

from .corpus import CURSORS, INTEGERS, SHORT, TEXT, form, json_body, text_values, url

ENDPOINTS = {"public.home", "public.new_complaint", "public.receipt", "public.track", "public.tracked",
             "public.track_logout", "public.track_attachment", "public.published_list", "public.published_detail",
             "public.statistics", "public.language", "LocaleView.index", "health", "saran.saran_opd"}

TEXT_FIELDS = ("name", "nik", "phone", "email", "address", "opd", "title", "text", "location")
# Refused in every text field, whatever the field: the characters no text may hold.
ALWAYS_REFUSED = ("nul", "nul_only", "controls", "c1", "rtl_override", "rtl_isolate", "noncharacter")
FREE_TEXT_OK = ("html", "sql", "sql_like", "format", "emoji", "arabic", "combining", "zalgo", "markers",
                "homoglyph", "zero_width_inside", "fullwidth")


def _complaints(db):
    from app.models import Complaint

    return db.session.scalar(sa.select(sa.func.count()).select_from(Complaint))


def test_every_field_of_the_public_form(app, clients, probe, complaint_form):
    from app.extensions import db

    client = clients["anon"]
    for field in TEXT_FIELDS:
        for label, value in text_values():
            response = probe.call(client, "POST", "/pengaduan/baru", label=f"form {field}={label}",
                                  **form(complaint_form(**{field: value})))
            if response is None:
                continue
            status = response.status_code
            if label in ALWAYS_REFUSED and status != 400:
                probe.fail(f"form {field}={label}: expected 400, got {status}")
            said = "Hapus karakter itu" in response.get_data(as_text=True)
            if label in ALWAYS_REFUSED and status == 400 and not said:
                probe.fail(f"form {field}={label}: the refusal does not say which character")
            if label == "one_mb" and status not in (400, 413):
                probe.fail(f"form {field}={label}: expected 400 or 413, got {status}")
            if field in ("title", "text", "address", "location") and label in FREE_TEXT_OK and status != 303:
                probe.fail(f"form {field}={label}: expected the complaint to be stored (303), got {status}")
            if field in ("name", "title", "text", "phone", "nik") and label in ("blank", "zero_width_only",
                                                                                 "invisible_only"):
                if status != 400 or "Wajib diisi." not in response.get_data(as_text=True):
                    probe.fail(f"form {field}={label}: a required field of nothing visible must be 'Wajib diisi.'")
    for field in ("visibility", "consent"):
        for label, value in text_values(SHORT):
            response = probe.call(client, "POST", "/pengaduan/baru", label=f"form {field}={label}",
                                  **form(complaint_form(**{field: value})))
            if response is not None and response.status_code != 400:
                probe.fail(f"form {field}={label}: expected 400, got {response.status_code}")
    probe.assert_clean()
    assert _complaints(db) > 0  # the clean successes were stored


def test_the_stored_complaint_is_the_normalised_text(app, clients, probe, complaint_form):
    """What a success stores: NFC, LF line breaks, seal markers as brackets, nothing invisible around it."""
    from app.extensions import db
    from app.models import Complaint

    text = "\u200bBaris satu\r\nbaris dua Cafe\u0301 \u27e6NIK:palsu\u27e7 👍\u200b"
    response = probe.call(clients["anon"], "POST", "/pengaduan/baru", label="normalised",
                          **form(complaint_form(title="Judul\u200b", text=text)))
    assert response is not None and response.status_code == 303
    stored = db.session.scalars(sa.select(Complaint).order_by(Complaint.id.desc())).first()
    assert stored.title == "Judul"
    assert stored.text == "Baris satu\nbaris dua Café [NIK:palsu] 👍"
    assert stored.public_text == stored.text
    probe.assert_clean()


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, format="PNG")
    return out.getvalue()


def test_attachments_and_malformed_or_oversized_multipart(app, clients, probe, complaint_form):
    client = clients["anon"]
    png = _png()
    names = [TEXT["nul"] + ".png", "../../etc/passwd.png", "x" * 10_000 + ".png", TEXT["rtl_override"] + ".png",
             "🚧.png", "", ".png", "CON.png"]
    for i, name in enumerate(names):
        data = {**complaint_form(), "attachments": (io.BytesIO(png), name)}
        probe.call(client, "POST", "/pengaduan/baru", label=f"file name {i}", data=data,
                   content_type="multipart/form-data")
    bodies = {
        "not an image": b"MZ\x90\x00 this is an exe",
        "empty": b"",
        "truncated png": png[:20],
        "html as png": b"<html><script>alert(1)</script></html>",
        "too big": b"%PDF-1.4\n" + b"0" * (6 * 1024 * 1024),
    }
    for label, content in bodies.items():
        data = {**complaint_form(), "attachments": (io.BytesIO(content), "bukti.png")}
        response = probe.call(client, "POST", "/pengaduan/baru", label=f"file {label}", data=data,
                              content_type="multipart/form-data")
        if response is not None and label != "empty" and response.status_code not in (400, 413):
            probe.fail(f"file {label}: expected a refusal, got {response.status_code}")
    four = {**complaint_form(), "attachments": [(io.BytesIO(png), f"{i}.png") for i in range(4)]}
    probe.call(client, "POST", "/pengaduan/baru", label="four files", data=four, content_type="multipart/form-data")
    part = b"--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n"
    raw_cases = {
        "no boundary": ("multipart/form-data", part + b"Budi\r\n--x--"),
        "wrong boundary": ("multipart/form-data; boundary=zzz", part + b"b\r\n--x--"),
        "truncated": ("multipart/form-data; boundary=x", part + b"Bu"),
        "garbage": ("multipart/form-data; boundary=x", b"\x00\xff" * 500),
        "header bomb": ("multipart/form-data; boundary=x",
                        b"--x\r\n" + b"X-A: " + b"a" * 100_000 + b"\r\n\r\nb\r\n--x--\r\n"),
        "many parts": ("multipart/form-data; boundary=x",
                       b"".join(b"--x\r\nContent-Disposition: form-data; name=\"p%d\"\r\n\r\nv\r\n" % i
                                for i in range(1500)) + b"--x--\r\n"),
        "bad utf-8 form": ("application/x-www-form-urlencoded", b"name=%ff%fe&title=%c0%af&text=%ed%a0%80"),
        "json instead": ("application/json", b'{"name": "Budi"}'),
        "oversized body": ("application/x-www-form-urlencoded", b"text=" + b"a" * (21 * 1024 * 1024)),
    }
    for label, (content_type, body) in raw_cases.items():
        response = probe.call(client, "POST", "/pengaduan/baru", label=f"multipart {label}", data=body,
                              content_type=content_type)
        if response is not None and response.status_code < 400:
            probe.fail(f"multipart {label}: expected a refusal, got {response.status_code}")
    probe.assert_clean()


def test_tracking(app, clients, probe, world):
    client = clients["anon"]
    complaint = world.submit()
    for field in ("ticket", "pin"):
        for label, value in text_values():
            data = {"ticket": complaint.ticket, "pin": "SALAH123", field: value}
            response = probe.call(client, "POST", "/lacak", label=f"track {field}={label}", **form(data))
            if response is not None and response.status_code not in (400, 413):
                probe.fail(f"track {field}={label}: expected a refusal, got {response.status_code}")
    for label, value in text_values(SHORT):
        probe.call(client, "GET", url("/lacak", {"tiket": value}), label=f"track page tiket={label}")
    for value in INTEGERS:
        probe.call(client, "GET", f"/lacak/lampiran/{value}", label=f"tracked file {value[:20]!r}")
    probe.call(client, "GET", "/lacak/hasil", label="tracked without grant")
    probe.call(client, "POST", "/lacak/keluar", label="track logout", **form({"x": TEXT["nul"]}))
    probe.assert_clean()


def test_published_list_filters_and_cursor(app, clients, probe, world):
    client = clients["anon"]
    for _ in range(3):
        world.routed()
    for name in ("opd", "status", "q"):
        for label, value in text_values():
            probe.call(client, "GET", url("/pengaduan/", {name: value}), label=f"list {name}={label}")
    probe.call(client, "GET", url("/pengaduan/", [("q", "a"), ("q", "b" * 5000), ("opd", "x\x00")]),
               label="list repeated")
    for label, value in text_values(SHORT):
        probe.call(client, "GET", url("/pengaduan/", {value: "x"}), label=f"list key={label}")
    probe.assert_clean()


def test_published_list_cursor(app, clients, probe, world):
    """Broken, forged and out-of-range page links, alone and with filters: a message, never a 500."""
    client = clients["anon"]
    for _ in range(3):
        world.routed()
    for cursor in CURSORS:
        for extra in ({}, {"q": "jalan"}, {"opd": "DINKESP2KB", "status": "diteruskan"}):
            probe.call(client, "GET", url("/pengaduan/", {**extra, "setelah": cursor}), label="list cursor")
    probe.assert_clean()


def test_one_published_complaint_home_statistics_and_language(app, clients, probe, world):
    from urllib.parse import quote

    client = clients["anon"]
    complaint = world.routed()
    for label, value in [*text_values(SHORT), ("ticket lower", complaint.ticket.lower()),
                         ("ticket spaced", f" {complaint.ticket} ")]:
        probe.call(client, "GET", "/pengaduan/" + quote(value.encode("utf-8", "surrogatepass"), safe=""),
                   label=f"detail {label}")
    for path in ("/", "/statistik", "/health", "/pengaduan/terkirim"):
        for label, value in text_values(SHORT):
            probe.call(client, "GET", url(path, {"x": value}), label=f"{path} ?x={label}")
    for label, value in text_values(SHORT):
        probe.call(client, "GET", "/bahasa/" + quote(value, safe=""), label=f"language code={label}")
        probe.call(client, "GET", url("/bahasa/en", {"next": value}), label=f"language next={label}")
        probe.call(client, "GET", "/lang/" + quote(value, safe=""), label=f"FAB language {label}")
    for target in ("//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)"):
        response = probe.call(client, "GET", url("/bahasa/id", {"next": target}), label="open redirect")
        if response is not None and "evil" in response.headers.get("Location", ""):
            probe.fail(f"language switch redirects off-site to {target}")
    probe.assert_clean()


def test_the_opd_suggestion_endpoint(app, clients, probe):
    """`POST /pengaduan/saran-opd` (issue 18): every text of the corpus, and bodies that are not the object
    it expects; refusals are JSON 4xx naming the problem, free text gets its suggestions, nothing stored."""
    client = clients["anon"]
    for label, value in text_values():
        response = probe.call(client, "POST", "/pengaduan/saran-opd", label=f"saran teks={label}",
                              **json_body({"teks": value}))
        if response is None:
            continue
        status = response.status_code
        if not response.is_json:
            probe.fail(f"saran teks={label}: the answer is not JSON ({status})")
        elif label in (*ALWAYS_REFUSED, "lone_surrogate") and (status != 400 or response.get_json()["code"] == "invalid"):
            probe.fail(f"saran teks={label}: expected a 400 naming the problem, got {status}")
        elif label in ("blank", "zero_width_only", "invisible_only") and response.get_json().get("code") != "required":
            probe.fail(f"saran teks={label}: nothing visible must be refused as required")
        elif label in FREE_TEXT_OK and (status != 200 or not isinstance(response.get_json().get("saran"), list)):
            probe.fail(f"saran teks={label}: expected 200 with a list, got {status}")
        elif label == "one_mb" and status not in (400, 413):
            probe.fail(f"saran teks={label}: expected 400 or 413, got {status}")
    for label, kwargs in [("array", json_body(["jalan"])), ("number", json_body({"teks": 1})),
                          ("null", json_body({"teks": None})), ("nested", json_body({"teks": {"a": "b"}})),
                          ("deep", {"data": "[" * 5000 + "]" * 5000, "content_type": "application/json"}),
                          ("broken", {"data": '{"teks": "jal', "content_type": "application/json"}),
                          ("form", form({"teks": "jalan rusak"}))]:
        response = probe.call(client, "POST", "/pengaduan/saran-opd", label=f"saran {label}", **kwargs)
        if response is not None and (response.status_code not in (400, 415) or not response.is_json):
            probe.fail(f"saran {label}: expected a JSON 400/415, got {response.status_code}")
    probe.assert_clean()
