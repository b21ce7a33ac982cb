"""The form's "Mungkin maksud Anda: …" on a 360 px phone (issue 18): typing the complaint shows the likely
OPDs as buttons, a tap selects one in the OPD list (even while the list is filtered by the search box),
the citizen can still pick another, and the complaint goes to the OPD chosen. Strict CSP: no inline
script, no violation. Without JavaScript the hint never shows. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_citizen_journey import _fits_the_screen

pytestmark = pytest.mark.browser


def test_typing_suggests_public_works_and_a_tap_sets_the_opd(live_server, phone, shot):
    page = phone()
    problems = []
    # The browser's own favicon request is the one 404 of the page (the portal has no favicon).
    page.on("console", lambda m: problems.append(m.text) if m.type == "error"
            and not (m.location or {}).get("url", "").endswith("/favicon.ico") else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400
            and not r.url.endswith("/favicon.ico") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    asked = []
    page.on("request", lambda r: asked.append(r) if r.url.endswith("/pengaduan/saran-opd") else None)
    page.goto(f"{live_server}/pengaduan/baru")
    hint = page.locator("#saran-opd")
    assert not hint.is_visible()

    # The citizen first picked another OPD through the search box (the list is now filtered to it).
    page.get_by_label("Cari OPD").fill("kesehatan pengendalian")
    assert page.locator("#f-opd").input_value() == "DINKESP2KB"

    page.get_by_label("Judul pengaduan").press_sequentially("Jalan berlubang", delay=30)
    page.get_by_label("Isi pengaduan").press_sequentially("jalan berlubang di desa", delay=30)
    hint.wait_for(state="visible", timeout=10_000)
    assert hint.locator(".saran-label").inner_text() == "Mungkin maksud Anda:"
    choices = hint.get_by_role("button")
    assert 1 <= choices.count() <= 3
    assert "Pekerjaan Umum" in choices.first.inner_text()
    assert len(asked) <= 3  # debounced: not one request per key
    assert asked[-1].post_data_json == {"teks": "Jalan berlubang\njalan berlubang di desa"}
    _fits_the_screen(page)

    choices.first.tap()
    assert page.locator("#f-opd").input_value() == "DPUTR"
    assert choices.first.get_attribute("aria-pressed") == "true"
    shot(page, "saran-opd-01-mungkin-maksud-anda")

    # The citizen still decides: another OPD chosen by hand, the suggestion is no longer pressed.
    if choices.count() > 1:
        second = choices.nth(1).get_attribute("data-kode")
        page.get_by_label("OPD tujuan").select_option(second)
        assert choices.first.get_attribute("aria-pressed") == "false"
        choices.first.tap()
    assert page.locator("#f-opd").input_value() == "DPUTR"

    # The form sends the OPD chosen.
    page.get_by_label("Nama lengkap").fill("Slamet Riyadi")
    page.get_by_label("NIK (16 digit, sesuai e-KTP)").fill("3508011203900001")
    page.get_by_label("Nomor telepon / WhatsApp").fill("081234567891")
    page.get_by_label("Saya menyetujui pemrosesan data pribadi").check()
    page.get_by_role("button", name="Kirim pengaduan").click()
    page.wait_for_url(re.compile(r".*/pengaduan/terkirim$"))
    assert "Pekerjaan Umum" in page.inner_text("body")
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert not problems, problems


def test_without_javascript_the_hint_never_shows(live_server, phone):
    page = phone(java_script_enabled=False)
    page.goto(f"{live_server}/pengaduan/baru")
    page.get_by_label("Judul pengaduan").fill("Jalan berlubang")
    page.get_by_label("Isi pengaduan").fill("jalan berlubang di desa")
    assert not page.locator("#saran-opd").is_visible()
    assert page.get_by_label("OPD tujuan").select_option("DPUTR") == ["DPUTR"]
