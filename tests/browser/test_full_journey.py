"""The whole SOP in a real browser (Playwright driving Debian's Chromium against the live server of
tests/browser/conftest.py, CSRF on as in production): a citizen submits → `validator` validates →
`opd.dinkes` answers → the citizen sees the answer on the public page and on the tracking page."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD, VALID_NIK

pytestmark = pytest.mark.browser


def _sign_in(browser, base, username):
    context = browser.new_context(locale="id-ID")
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"{username} could not sign in"
    return context, page


def test_citizen_validator_opd_and_back_to_the_citizen(live_server, browser, shot):
    base = live_server
    answer_text = "Loket pendaftaran tambahan dibuka setiap Senin pukul 07.00 mulai pekan depan."

    # 1. The citizen submits a complaint to Dinkes (publik, with an e-mail for the notice).
    citizen = browser.new_context(locale="id-ID")
    page = citizen.new_page()
    page.goto(f"{base}/pengaduan/baru")
    page.fill("#f-name", "Siti Journey")
    page.fill("#f-nik", VALID_NIK)
    page.fill("#f-phone", "0812-3456-7890")
    page.fill("#f-email", "siti@contoh.id")
    page.select_option("#f-opd", "DINKESP2KB", force=True)
    page.fill("#f-title", "Antrean puskesmas terlalu panjang")
    page.fill("#f-text", "Antrean pendaftaran di puskesmas sampai tiga jam setiap pagi.")
    page.check("#f-visibility-publik")
    page.check("#f-consent")
    shot(page, "journey-1-form")
    page.get_by_role("button", name="Kirim pengaduan").click()
    page.wait_for_url(re.compile(r".*/pengaduan/terkirim$"))
    ticket = page.inner_text("#ticket").strip()
    pin = page.inner_text("#pin").strip()
    assert re.fullmatch(r"LMJ-\d{4}-\d{6}", ticket) and pin
    shot(page, "journey-2-receipt")

    # 2. The validator opens it from the queue and decides: valid → routed to Dinkes, published.
    context, staff = _sign_in(browser, base, "validator")
    staff.goto(f"{base}/staf/validasi/")
    staff.locator("tr", has_text=ticket).get_by_role("link", name="Buka").click()
    staff.check("input[name=decision][value=valid]")
    shot(staff, "journey-3-validator")
    staff.get_by_role("button", name="Simpan keputusan").click()
    staff.wait_for_load_state()
    context.close()

    # 3. opd.dinkes finds it in its queue and answers.
    context, opd = _sign_in(browser, base, "opd.dinkes")
    opd.goto(f"{base}/staf/opd/")
    opd.get_by_role("link", name=ticket).click()
    assert "Siti Journey" in opd.inner_text("#identity")  # publik: the OPD may contact the complainant
    opd.fill("#answer-text-input", answer_text)
    shot(opd, "journey-4-opd-desk")
    opd.get_by_role("button", name="Kirim jawaban").click()
    opd.wait_for_load_state()
    assert answer_text in opd.inner_text("#answer-text")
    assert "Dijawab" in opd.inner_text("#state")
    context.close()

    # 4. The citizen sees the answer on the public page at once…
    page.goto(f"{base}/pengaduan/{ticket}")
    body = page.inner_text("body")
    assert "Antrean puskesmas terlalu panjang" in body and answer_text in body
    assert VALID_NIK not in body and "0812-3456-7890" not in body
    shot(page, "journey-5-public")
    # …and on the tracking page with ticket + PIN.
    page.goto(f"{base}/lacak")
    page.fill("#f-ticket", ticket)
    page.fill("#f-pin", pin)
    page.get_by_role("button", name="Lacak").click()
    page.wait_for_url(re.compile(r".*/lacak/hasil$"))
    assert answer_text in page.inner_text("body")
    shot(page, "journey-6-tracking")
    citizen.close()
