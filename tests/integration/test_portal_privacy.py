"""Privacy, enforced by the system: no public page, list, search result, detail or statistics page shows a
NIK, phone number, e-mail address or address; anonim shows no name; rahasia appears nowhere public.

Complaints go in through the public form (as citizens type them, personal data inside the text too),
are validated through the service layer and one is answered; then every public page is fetched.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.conftest import VALID_NIK, VALID_NIK_F, text_of

TYPED_NIK = "3508104506880003"  # typed by a citizen inside a complaint (Lumajang, female, 05-06-1988)
TYPED_PHONE = "081234567890"
TYPED_EMAIL = "budi.santoso@contoh.id"
FORM_PHONES = {"publik": "081311112222", "anonim": "081322223333", "rahasia": "081333334444"}
FORM_EMAILS = {"publik": "rina.pelapor@contoh.id", "anonim": "agus.pelapor@contoh.id",
               "rahasia": "dewi.pelapor@contoh.id"}
ADDRESSES = {"publik": "Jl. Melati Gg. 7 No. 21", "anonim": "Dusun Krajan RT 02 RW 05 Kedungjajang",
             "rahasia": "Perum Citra Asri Blok C-9"}
NAMES = {"publik": "Rina Wulandari", "anonim": "Agus Prasetyo", "rahasia": "Dewi Lestari"}
NIKS = {"publik": VALID_NIK, "anonim": VALID_NIK_F, "rahasia": "3508011510750004"}
RAHASIA_TITLE = "Pungutan liar di kantor kelurahan Ditotrunan"
ANSWER_CONTACT = ("0822-1111-2222", "humas.dinkes@contoh.id")


def _nik_forms(nik: str) -> list[str]:
    return [nik, f"{nik[:4]} {nik[4:8]} {nik[8:12]} {nik[12:]}", f"{nik[:4]}-{nik[4:8]}-{nik[8:12]}-{nik[12:]}",
            f"{nik[:2]}.{nik[2:4]}.{nik[4:6]}.{nik[6:12]}.{nik[12:]}", f"{nik[:6]} {nik[6:12]} {nik[12:]}"]


def _text_for(visibility: str) -> tuple[str, str]:
    t = TYPED_NIK
    title = RAHASIA_TITLE if visibility == "rahasia" else f"Keluhan {visibility}: jalan rusak parah"
    text = (f"Saya {NAMES[visibility]}, NIK {t[:4]} {t[4:8]} {t[8:12]} {t[12:]} (atau {t}), "
            f"HP 0812-3456-7890 / +62 812 3456 7890, e-mail {TYPED_EMAIL}. "
            f"Jalan di desa kami rusak parah sejak Januari ({visibility}).")
    return title, text


def _submit_all(client, complaint_form) -> dict[str, object]:
    from app.extensions import db
    from app.models import Complaint

    made = {}
    for visibility in ("publik", "anonim", "rahasia"):
        title, text = _text_for(visibility)
        form = complaint_form(name=NAMES[visibility], nik=NIKS[visibility], phone=FORM_PHONES[visibility],
                              email=FORM_EMAILS[visibility], address=ADDRESSES[visibility], title=title, text=text,
                              visibility=visibility, location="Desa Sukodono")
        assert client.post("/pengaduan/baru", data=form).status_code == 303
        made[visibility] = db.session.scalar(sa.select(Complaint).where(Complaint.title == title))
    return made


def _forbidden(made) -> list[str]:
    values = []
    for nik in [TYPED_NIK, *NIKS.values()]:
        values += _nik_forms(nik)
    values += [TYPED_PHONE, "0812-3456-7890", "+62 812 3456 7890", "6281234567890", TYPED_EMAIL]
    values += list(FORM_PHONES.values()) + list(FORM_EMAILS.values()) + list(ADDRESSES.values())
    values += list(ANSWER_CONTACT)
    values += [NAMES["anonim"], NAMES["rahasia"], RAHASIA_TITLE, made["rahasia"].ticket]
    return values


def _assert_clean(url: str, response, made) -> None:
    # A search box (and the language switch's way back) repeat what the visitor typed: not stored data.
    html = re.sub(r'(<input id="f-q"[^>]*value=")[^"]*', r"\1", response.get_data(as_text=True))
    html = re.sub(r'next=[^"]*', "next=", html)
    text = text_of(response)
    squeezed = re.sub(r"[\s.\-+()]", "", text)  # catches a number however it was split
    for value in _forbidden(made):
        assert value not in html and value not in text, f"{value!r} leaked on {url}"
    for digits in [TYPED_NIK, *NIKS.values(), TYPED_PHONE, "8123456789", *FORM_PHONES.values(), "08221111222"]:
        assert digits not in squeezed, f"{digits!r} leaked (split) on {url}"
    assert "@" not in text, f"an e-mail address leaked on {url}"
    assert "Desa Sukodono" not in text  # the location is for staff; it is not reviewed before publication


def test_no_public_page_shows_personal_data_and_rahasia_appears_nowhere(app, client, complaint_form, actor):
    from app.services import answer, decide_nik

    made = _submit_all(client, complaint_form)
    for complaint in made.values():
        decide_nik(complaint.id, actor("validator"), valid=True)
    answer(made["anonim"].id, actor("opd.dinkes"),
           f"Terima kasih. Jalan sudah kami perbaiki. Hubungi {ANSWER_CONTACT[0]} atau {ANSWER_CONTACT[1]}.")

    from app.services.portal import clear_statistics_cache

    clear_statistics_cache()  # the statistics page must count these complaints, not show an older result
    publik, anonim = made["publik"].ticket, made["anonim"].ticket
    urls = ["/", "/pengaduan/", "/pengaduan/?opd=DINKESP2KB", "/pengaduan/?status=diteruskan",
            "/pengaduan/?status=dijawab", "/pengaduan/?opd=DINKESP2KB&status=dijawab", "/statistik",
            f"/pengaduan/{publik}", f"/pengaduan/{anonim}"]
    # Searches for the personal data itself, for the rahasia complaint, and for ordinary words.
    searches = ["jalan rusak", "Keluhan", "3508", TYPED_NIK, "0812", "3456 7890", "contoh.id", "budi", "Melati",
                "Krajan", "Agus", "Dewi", "Pungutan liar", "Ditotrunan", "Sukodono"]
    urls += [f"/pengaduan/?q={q}" for q in searches]
    pages = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_clean(url, response, made)
        pages[url] = response

    # The published ones really are there (a test that finds nothing proves nothing).
    listing = pages["/pengaduan/"].get_data(as_text=True)
    assert publik in listing and anonim in listing
    assert "Rina Wulandari" in text_of(pages[f"/pengaduan/{publik}"])  # publik shows the name…
    assert "Anonim" in text_of(pages[f"/pengaduan/{anonim}"])  # …anonim does not
    assert "[NIK disembunyikan]" in text_of(pages[f"/pengaduan/{publik}"])
    assert "[nomor telepon disembunyikan]" in text_of(pages[f"/pengaduan/{anonim}"])
    assert "[e-mail disembunyikan]" in text_of(pages[f"/pengaduan/{anonim}"])
    assert "Jalan sudah kami perbaiki" in text_of(pages[f"/pengaduan/{anonim}"])
    assert anonim in pages["/"].get_data(as_text=True)  # the latest answer on the home page
    assert publik in pages["/pengaduan/?q=jalan rusak"].get_data(as_text=True)
    for q in ("3508", TYPED_NIK, "0812", "contoh.id", "Pungutan liar", "Melati", "Sukodono"):
        assert "Tidak ada pengaduan yang cocok." in text_of(pages[f"/pengaduan/?q={q}"]), q
    # The rahasia complaint is counted in the statistics but has no page of its own.
    assert client.get(f"/pengaduan/{made['rahasia'].ticket}").status_code == 404


def test_unvalidated_and_invalid_complaints_are_not_public(client, complaint_form, actor):
    from app.services import decide_nik

    made = _submit_all(client, complaint_form)
    decide_nik(made["publik"].id, actor("validator"), valid=False, remark="NIK bukan milik pengadu.")
    from app.services.portal import clear_statistics_cache

    clear_statistics_cache()
    for url in ["/", "/pengaduan/", "/pengaduan/?q=jalan rusak", "/statistik"]:
        html = client.get(url).get_data(as_text=True)
        for complaint in made.values():
            assert complaint.ticket not in html
            assert complaint.title not in html
    for complaint in made.values():
        assert client.get(f"/pengaduan/{complaint.ticket}").status_code == 404


def test_the_stored_original_is_untouched(client, complaint_form):
    made = _submit_all(client, complaint_form)
    _, text = _text_for("anonim")
    from app.services.complaints import cipher

    # Staff (the validator) and the complainant read the original; only the public rendering is masked.
    # At rest the typed NIK is sealed (encrypted), so the raw column never holds it in clear.
    assert cipher().unseal_niks(made["anonim"].text) == text
    assert TYPED_NIK not in made["anonim"].text
    assert TYPED_EMAIL not in made["anonim"].public_text
