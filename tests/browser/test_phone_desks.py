"""Desks that work on a phone (issue 16, item 6): at 360 px the validator's queue and the OPD desk have no
horizontal overflow and their action (open the complaint) is on screen; at 1366 px the staff menu does not
wrap onto a second line, for every role. The dispatch queue and the control dashboard fit the phone too.
Screenshots in test-artifacts/ (phone-validator-queue.png, phone-opd-queue.png, phone-dispatch.png,
phone-dashboard.png, navbar-1366-<role>.png)."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _seed(submission, actor):
    from app import services

    for n in range(3):
        services.submit(submission(title=f"Lampu jalan padam di depan balai desa nomor {n} sejak pekan lalu"))
    routed = services.submit(submission(title="Jalan berlubang di Jalan Raya Lumajang–Probolinggo km 12"))
    services.decide_nik(routed.complaint.id, actor("validator"), valid=True)


def _sign_in(page, base, username):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"{username} could not sign in"


PHONE = 360  # a mobile browser widens its layout viewport to fit wide content, so compare with the screen


def _overflow(page) -> int:
    """How far the page is wider than the phone's screen (0 or less: no horizontal scrolling)."""
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)") - PHONE


def _on_screen(page, selector) -> bool:
    """Every matching action lies within the screen's width."""
    boxes = [page.locator(selector).nth(i).bounding_box() for i in range(page.locator(selector).count())]
    return bool(boxes) and all(b is not None and b["width"] > 0 and 0 <= b["x"] and b["x"] + b["width"] <= PHONE
                               for b in boxes)


@pytest.mark.parametrize("username, url, action, name", [
    ("validator", "/staf/validasi/", "#antrean a.btn", "phone-validator-queue"),
    ("opd.dinkes", "/staf/opd/", "#desk-queue tbody a", "phone-opd-queue"),
])
def test_desk_fits_a_360_px_phone_with_the_action_in_reach(live_server, phone, shot, submission, actor,
                                                           username, url, action, name):
    _seed(submission, actor)
    page = phone()
    _sign_in(page, live_server, username)
    page.goto(live_server + url)
    assert page.locator(action).count() >= 1
    shot(page, name)
    assert _overflow(page) <= 0, f"{url} is {_overflow(page)} px wider than a 360 px screen"
    assert _on_screen(page, action), f"the action {action} of {url} is off screen"


def _returned(submission, actor):
    """A complaint the OPD returned (not its remit): it waits on the dispatch queue."""
    from app import services

    c = services.submit(submission(title="Saluran air tersumbat di depan pasar, bukan urusan dinas kesehatan"))
    services.decide_nik(c.complaint.id, actor("validator"), valid=True)
    services.return_to_dispatch(c.complaint.id, actor("opd.dinkes"),
                                "Bukan wewenang Dinas Kesehatan; saluran air urusan Dinas Pekerjaan Umum.")


def test_dispatch_fits_a_360_px_phone_with_the_forward_button_in_reach(live_server, phone, shot, submission,
                                                                        actor):
    _returned(submission, actor)
    page = phone()
    _sign_in(page, live_server, "validator")
    page.goto(live_server + "/staf/disposisi/")
    action = ".dispatch-row button[type=submit]"
    assert page.locator(action).count() >= 1
    shot(page, "phone-dispatch")
    assert _overflow(page) <= 0, f"/staf/disposisi/ is {_overflow(page)} px wider than a 360 px screen"
    assert _on_screen(page, action) and _on_screen(page, ".dispatch-row select")


def test_dashboard_fits_a_360_px_phone(live_server, phone, shot, submission, actor):
    _seed(submission, actor)
    page = phone()
    _sign_in(page, live_server, "pimpinan")
    page.goto(live_server + "/staf/kendali/")
    shot(page, "phone-dashboard")
    assert _overflow(page) <= 0, f"/staf/kendali/ is {_overflow(page)} px wider than a 360 px screen"
    assert _on_screen(page, "#filters button[type=submit]")


@pytest.mark.parametrize("username", ["admin", "validator", "opd.dinkes", "pimpinan"])
def test_the_staff_menu_does_not_wrap_at_1366_px(live_server, browser, shot, username):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    page = context.new_page()
    try:
        _sign_in(page, live_server, username)  # Admin Sistem has the longest menu
        page.goto(live_server + "/staf/")
        shot(page, f"navbar-1366-{username}")
        height = page.evaluate("document.querySelector('.navbar').getBoundingClientRect().height")
        assert height <= 60, f"the menu wraps: the navbar is {height} px high"
    finally:
        context.close()
