"""OPD suggestions on the staff desks (issue 18): the validator's check page and the dispatch queue show
the same suggestions as the public form, computed on the complaint's public (masked) version; dispatch
routes with one click on a suggestion, through the existing re-route (deadline, history, checks)."""

from __future__ import annotations

import re

import pytest

from app import services
from app.extensions import db
from app.models import Complaint
from app.services import routing as routing_service
from app.workflow import State
from tests.conftest import PASSWORD
from tests.integration.opd_support import login, routed

POTHOLE = dict(title="Jalan berlubang", text="Jalan berlubang di desa kami, sudah tiga bulan tidak diperbaiki. "
                                               "Hubungi saya di 081234567890.")


@pytest.fixture(autouse=True)
def _fresh_model(app):
    app.extensions.pop("routing_model", None)
    yield


def _returned(submission, actor):
    c = routed(submission, actor, "DINKESP2KB", **POTHOLE)
    services.return_to_dispatch(c.id, actor("opd.dinkes"), "Bukan wewenang kami: jalan desa.")
    return c


def _buttons(page: str, complaint_id: int) -> list[str]:
    row = page.split(f'id="dispatch-{complaint_id}"', 1)[1].split('class="panel panel-warning dispatch-row"', 1)[0]
    return re.findall(r'name="saran" value="([A-Z0-9]+)"', row)


def test_dispatch_shows_the_suggestions_without_the_opd_that_returned_it(app, submission, actor):
    c = _returned(submission, actor)
    page = login(app, "validator", PASSWORD).get("/staf/disposisi/").get_data(as_text=True)
    buttons = _buttons(page, c.id)
    assert buttons[0] == "DPUTR" and 1 <= len(buttons) <= 3
    assert "DINKESP2KB" not in buttons  # it just said "bukan wewenang"
    assert "Saran OPD (dari versi publik):" in page
    public = db.session.get(Complaint, c.id)
    expected = [s.code for s in routing_service.suggest(f"{public.public_title} {public.public_text}", k=4)
                if s.code != "DINKESP2KB"][:3]
    assert buttons == expected  # the same suggestions as the form's


def test_one_click_on_a_suggestion_reroutes_with_the_note(app, submission, actor):
    c = _returned(submission, actor)
    validator = login(app, "validator", PASSWORD)
    # The browser sends the list's empty choice and the button's value: the button wins.
    done = validator.post(f"/staf/disposisi/{c.id}/teruskan", data={"opd": "", "saran": "DPUTR", "note": "Jalan."})
    assert done.status_code == 302 and done.headers["Location"].endswith("/staf/disposisi/")
    db.session.expire_all()
    moved = db.session.get(Complaint, c.id)
    assert moved.state is State.DITERUSKAN and moved.opd.code == "DPUTR"
    page = validator.get("/staf/disposisi/").get_data(as_text=True)
    assert f'id="dispatch-{c.id}"' not in page and "diteruskan ke Dinas Pekerjaan Umum" in page


def test_a_forged_suggestion_is_refused_like_any_unknown_opd(app, submission, actor):
    c = _returned(submission, actor)
    validator = login(app, "validator", PASSWORD)
    refused = validator.post(f"/staf/disposisi/{c.id}/teruskan", data={"saran": "TIDAKADA"}, follow_redirects=True)
    assert "OPD tujuan tidak dikenal" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Complaint, c.id).state is State.PERLU_DISPOSISI


def test_suggestions_are_computed_on_the_public_masked_version(app, submission, actor, monkeypatch):
    c = _returned(submission, actor)
    asked = []
    real = routing_service.suggest
    monkeypatch.setattr(routing_service, "suggest", lambda text, k=3: asked.append(text) or real(text, k))
    login(app, "validator", PASSWORD).get("/staf/disposisi/")
    db.session.expire_all()
    stored = db.session.get(Complaint, c.id)
    assert asked == [f"{stored.public_title} {stored.public_text}"]
    assert "081234567890" not in asked[0] and "081234567890" in stored.text


def test_the_validator_sees_the_suggestions_and_when_the_chosen_opd_is_not_among_them(app, submission):
    wrong = services.submit(submission(opd_code="DISPENDUKCAPIL", **POTHOLE)).complaint
    page = login(app, "validator", PASSWORD).get(f"/staf/validasi/{wrong.id}").get_data(as_text=True)
    assert 'id="saran-opd"' in page and "Saran OPD" in page
    listed = re.findall(r'<li data-kode="([A-Z0-9]+)"', page)
    assert listed[0] == "DPUTR" and "DISPENDUKCAPIL" not in listed
    assert 'id="saran-opd-beda"' in page and "tidak termasuk saran" in page

    right = services.submit(submission(opd_code="DPUTR", title=POTHOLE["title"],
                                       text=POTHOLE["text"] + " Mohon segera.")).complaint
    page = login(app, "validator", PASSWORD).get(f"/staf/validasi/{right.id}").get_data(as_text=True)
    assert re.findall(r'<li data-kode="([A-Z0-9]+)"', page)[0] == "DPUTR"
    assert "OPD pilihan pengadu</span>" in page and 'id="saran-opd-beda"' not in page
