"""FAB's role and permission screens in plain words (issue 16, item 2): every permission the app registers
has an Indonesian name, a one-line description and a desk; the role form groups them by desk; a role saved
from that form holds exactly the ticked permissions."""

from __future__ import annotations

import re

from flask_babel import refresh

from app.labels import PERMISSION_DESKS, permission_text, resource_text
from tests.conftest import PASSWORD


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    return found.group(1) if found else ""  # CSRF is off in the test app; the live server's tests have it on


def _admin(app):
    client = app.test_client()
    assert client.post("/login/", data={"username": "admin", "password": PASSWORD}).status_code == 302
    return client


def test_every_registered_permission_and_screen_has_words(app):
    with app.test_request_context("/?_l_=id"):
        sm = app.appbuilder.sm
        pairs = [(pv.permission.name, pv.view_menu.name) for pv in sm.session.query(sm.permissionview_model)]
        assert len(pairs) > 80
        missing = [pair for pair in pairs if not permission_text(*pair).known]
        assert not missing, f"declare these in app/labels.py (PERMISSION_*): {missing}"
        texts = [permission_text(*pair) for pair in pairs]
        assert all(t.name and t.description.endswith(".") and t.desk_key in PERMISSION_DESKS for t in texts)
        # One name per permission: two pairs with one name could not be told apart on the role form.
        names = [(t.desk, t.name) for t in texts]
        assert len(set(names)) == len(names), sorted(n for n in names if names.count(n) > 1)
        unnamed = [vm.name for vm in sm.session.query(sm.viewmenu_model) if resource_text(vm.name)[1] == vm.name
                   and re.search(r"[A-Z][a-z]+[A-Z]", vm.name)]
        assert not unnamed, unnamed
    with app.test_request_context("/?_l_=en"):
        refresh()  # the fixture's app context (and Flask-Babel's cache on it) outlives the request above
        assert permission_text("can_decide", "ValidatorDesk").name == "Decide on NIKs"


def test_role_form_groups_permissions_by_desk_and_saves_the_ticked_ones(app):
    client = _admin(app)
    page = client.get("/roles/add").get_data(as_text=True)
    assert "can list on" not in page and "OpdView" not in page
    assert '<legend>Validasi NIK</legend>' in page and "<legend>Meja OPD</legend>" in page
    assert "Menandai NIK pengaduan valid (diteruskan ke OPD) atau tidak valid." in page
    with app.app_context():
        sm = app.appbuilder.sm
        wanted = [sm.find_permission_view_menu("can_decide", "ValidatorDesk"),
                  sm.find_permission_view_menu("can_list", "OpdView")]
        ids = sorted(pv.id for pv in wanted)
    token = _token(page)
    response = client.post("/roles/add", data={"csrf_token": token, "name": "Uji Peran Layar",
                                               "permissions": [str(i) for i in ids]})
    assert response.status_code == 302
    with app.app_context():
        role = app.appbuilder.sm.find_role("Uji Peran Layar")
        assert sorted(pv.id for pv in role.permissions) == ids
        role_id = role.id
    shown = client.get(f"/roles/show/{role_id}").get_data(as_text=True)
    assert "Putuskan NIK" in shown and "Lihat daftar OPD" in shown and "Membuka daftar OPD dan mencarinya." in shown
    listed = client.get("/roles/list/").get_data(as_text=True)
    assert "Validasi NIK: 1" in listed and "Pengaturan: 1" in listed
    # A form sent back with a permission id that does not exist: refused, nothing changed.
    response = client.post(f"/roles/edit/{role_id}", data={"csrf_token": token, "name": "Uji Peran Layar",
                                                          "permissions": ["999999"]})
    assert response.status_code == 200 and "Pilihan tidak sah" in response.get_data(as_text=True)
    with app.app_context():
        assert sorted(pv.id for pv in app.appbuilder.sm.find_role("Uji Peran Layar").permissions) == ids
        sm = app.appbuilder.sm
        sm.session.delete(sm.find_role("Uji Peran Layar"))
        sm.session.commit()


def test_wtforms_messages_and_blank_choice_in_indonesian(app):
    client = _admin(app)
    page = client.get("/users/add").get_data(as_text=True)
    assert ">__None<" not in page and ">(tidak ada)<" in page
    token = _token(page)
    response = client.post("/users/add", data={"csrf_token": token, "first_name": "", "last_name": "X",
                                               "username": "uji.form"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This field is required" not in text
    assert "Kolom ini wajib diisi." in text  # WTForms' DataRequired, through our catalogue
    english = client.post("/users/add?_l_=en", data={"csrf_token": token, "first_name": "", "last_name": "X",
                                                      "username": "uji.form"}).get_data(as_text=True)
    assert "This field is required." in english


def test_days_off_read_as_dates_in_the_chosen_language(app):
    from datetime import date

    from app.extensions import db
    from app.models import NonWorkingDay

    with app.app_context():
        db.session.add(NonWorkingDay(day=date(2026, 12, 24), description="Cuti bersama Natal"))
        db.session.commit()
    try:
        client = _admin(app)
        assert "Kamis, 24 Desember 2026" in client.get("/nonworkingdayview/list/").get_data(as_text=True)
        assert "2026-12-24" not in client.get("/nonworkingdayview/list/").get_data(as_text=True)
        assert "Thursday, 24 December 2026" in client.get("/nonworkingdayview/list/?_l_=en").get_data(as_text=True)
    finally:
        with app.app_context():
            db.session.query(NonWorkingDay).filter_by(description="Cuti bersama Natal").delete()
            db.session.commit()
