"""Languages at run time: Indonesian by default, English after /lang/en — for Flask-AppBuilder's own screens
(translated by app/translations/fab_id.po, FAB ships no Indonesian) and for our own strings (en catalogue).

Needs the compiled catalogues (`make install-test` or `python scripts/i18n.py compile`)."""

from __future__ import annotations

from tests.conftest import text_of


def _switch(client, code):
    response = client.get(f"/lang/{code}", follow_redirects=True)
    assert response.status_code == 200
    return response


def test_login_page_is_indonesian_by_default(client):
    page = text_of(client.get("/login/"))
    assert "Masuk" in page
    assert "Nama pengguna" in page
    assert "Kata sandi" in page
    assert "Masukkan nama pengguna dan kata sandi Anda" in page
    for english in ("Sign In", "Username", "Password", "Enter your login"):
        assert english not in page


def test_login_page_is_english_after_lang_en_and_back(client):
    _switch(client, "en")
    page = text_of(client.get("/login/"))
    assert "Sign In" in page
    assert "Username" in page
    assert "Password" in page
    assert "Nama pengguna" not in page

    _switch(client, "id")
    page = text_of(client.get("/login/"))
    assert "Nama pengguna" in page
    assert "Username" not in page


def test_our_strings_follow_the_language(client):
    # The staff home (/staf/) is ours: its msgids are Indonesian, the en catalogue translates them.
    assert "Halaman ini untuk petugas. Silakan masuk." in text_of(client.get("/staf/"))
    _switch(client, "en")
    page = text_of(client.get("/staf/"))
    assert "This page is for staff. Please sign in." in page
    assert "Online Complaint Service" in page
    assert "Halaman ini untuk petugas" not in page


def test_fab_menu_and_list_page_are_translated_for_staff(client, auth):
    auth.login("admin")
    page = text_of(client.get("/staf/"))
    for indonesian in ("Keamanan", "Daftar Pengguna", "Daftar Peran", "Profil", "Keluar"):
        assert indonesian in page
    assert "List Users" not in page

    roles = text_of(client.get("/roles/list/"))
    assert "Daftar Peran" in roles
    assert "Jumlah data" in roles  # FAB's "Record Count"
    assert "Record Count" not in roles

    _switch(client, "en")
    page = text_of(client.get("/staf/"))
    for english in ("Security", "List Users", "List Roles", "Profile", "Logout"):
        assert english in page
    assert "Daftar Pengguna" not in page



def test_templates_look_the_catalogue_up_once_and_still_follow_a_switch_within_the_request(app):
    """The templates' `_` keeps the request's catalogue (app/extensions.py `translations`); Flask-Babel's
    force_locale (an e-mail in the recipient's language) and refresh (the language switch) still change it."""
    from flask import session
    from flask_babel import force_locale, refresh

    page = app.jinja_env.from_string("{{ _('Tiket') }}")
    with app.test_request_context("/"):
        assert page.render() == "Tiket"
        with force_locale("en"):
            assert page.render() == "Ticket"
        assert page.render() == "Tiket"
        session["locale"] = "en"
        refresh()
        assert page.render() == "Ticket"
