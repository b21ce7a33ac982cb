"""Anonim means anonymous everywhere (issue 11): an anonim complainant who writes their own name into the
title and the text is not named to the OPD (desk list, page, search, CSV export, REST), in staff notices,
on the public pages, or by the public search (full name, first name, surname)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from app import services
from app.extensions import db
from app.models import Complaint, Outbox
from tests.conftest import PASSWORD, text_of
from tests.integration.opd_support import api_headers, login

FIRST, LAST = "Sumiati", "Wiryodiharjo"
NAME = f"{FIRST} {LAST}"


@pytest.fixture
def anonim(submission, actor):
    made = services.submit(submission(
        name=NAME, visibility="anonim", opd_code="DINKESP2KB", title=f"Keluhan bu {FIRST} soal antrean",
        text=f"Saya {NAME.upper()}, warga Kunir. Antrean di puskesmas lama sekali. Salam, {LAST.lower()}."),
    ).complaint
    services.decide_nik(made.id, actor("validator"), valid=True)
    return db.session.get(Complaint, made.id)


def _no_name(body: str, where: str):
    lowered = body.lower()
    for part in (NAME, FIRST, LAST):
        assert part.lower() not in lowered, f"{part!r} reached {where}"


def test_the_stored_public_rendering_masks_every_part_of_the_name(anonim):
    for text in (anonim.public_title, anonim.public_text):
        _no_name(text, "the public rendering")
        assert "[nama disembunyikan]" in text
    assert FIRST in anonim.title  # the original stays for the roles that may read it


def test_the_opd_desk_list_page_search_and_export_never_name_the_complainant(app, anonim):
    opd = login(app, "opd.dinkes", PASSWORD)
    queue = opd.get("/staf/opd/")
    assert anonim.ticket in queue.get_data(as_text=True)
    _no_name(queue.get_data(as_text=True), "the OPD queue")
    page = opd.get(f"/staf/opd/{anonim.id}")
    assert page.status_code == 200
    _no_name(page.get_data(as_text=True), "the OPD desk page")
    for word in (FIRST, LAST, NAME):
        found = opd.get("/staf/opd/", query_string={"q": word}).get_data(as_text=True)
        assert anonim.ticket not in found, f"the OPD's search finds the complaint by {word!r}"
    export = opd.get("/staf/opd/ekspor.csv").get_data(as_text=True)
    assert anonim.ticket in export
    _no_name(export, "the OPD's CSV export")
    # A supervisor may read the identity (DESIGN.md): the same search finds it there.
    boss = login(app, "pimpinan", PASSWORD)
    assert anonim.ticket in boss.get("/staf/opd/", query_string={"q": FIRST}).get_data(as_text=True)


def test_the_rest_api_as_admin_opd_never_names_the_complainant(client, anonim):
    headers = api_headers("opd.dinkes")
    listing = client.get("/api/v1/complaint/", headers=headers)
    detail = client.get(f"/api/v1/complaint/{anonim.id}", headers=headers)
    assert listing.status_code == detail.status_code == 200
    assert anonim.ticket in listing.get_data(as_text=True)
    _no_name(listing.get_data(as_text=True), "GET /api/v1/complaint/ as Admin OPD")
    result = detail.get_json()["result"]
    assert result["complainant"] is None
    _no_name(json.dumps(result, ensure_ascii=False), "GET /api/v1/complaint/<id> as Admin OPD")


def test_staff_notices_to_the_opd_and_supervisors_never_name_the_complainant(anonim):
    from app.services import sla

    with time_machine.travel(anonim.routed_at + (anonim.answer_deadline - anonim.routed_at) * 0.8):
        assert sla.send_reminders().answer == 1
    with time_machine.travel(anonim.answer_deadline + timedelta(hours=1)):
        assert sla.sweep().answer_overdue == 1
    staff = db.session.scalars(sa.select(Outbox).where(
        Outbox.complaint_id == anonim.id, Outbox.template.in_(["answer_reminder", "answer_overdue"]))).all()
    assert {o.template for o in staff} == {"answer_reminder", "answer_overdue"}
    for notice in staff:
        assert anonim.ticket in notice.body
        _no_name(notice.subject + notice.body, f"the {notice.template} notice to {notice.recipient}")


def test_the_public_pages_and_search_never_find_or_name_the_complainant(client, anonim):
    listing = client.get("/pengaduan/")
    assert anonim.ticket in listing.get_data(as_text=True)
    _no_name(listing.get_data(as_text=True), "the public list")
    page = client.get(f"/pengaduan/{anonim.ticket}")
    assert page.status_code == 200
    _no_name(text_of(page), "the public page")
    for word in (NAME, FIRST, LAST, FIRST.lower(), LAST.upper()):
        found = client.get("/pengaduan/", query_string={"q": word})
        assert found.status_code == 200
        assert anonim.ticket not in found.get_data(as_text=True), f"public search finds it by {word!r}"
    # The search itself works: a word of the text finds it.
    assert anonim.ticket in client.get("/pengaduan/", query_string={"q": "puskesmas"}).get_data(as_text=True)


def test_an_answer_that_names_the_anonim_complainant_is_published_without_the_name(client, anonim, actor):
    services.answer(anonim.id, actor("opd.dinkes"), f"Terima kasih Ibu {FIRST}, antrean kami tambah petugas.")
    page = text_of(client.get(f"/pengaduan/{anonim.ticket}"))
    assert "antrean kami tambah petugas" in page
    _no_name(page, "the published answer")


@pytest.mark.parametrize("written", [
    "SUMIATI", "sumiati", "Ｓｕｍｉａｔｉ", "Sumi\u200bati", "Sumiati\u00a0Wiryodiharjo", "sumiati   wiryodiharjo",
    "wiryodiharjo",
])
def test_the_name_is_found_however_it_is_written_and_the_rest_stays_as_typed(written):
    from app.services.disclosure import NAME_LABEL, mask_name

    text = f"Tgl １２－０３－２０２６, saya {written}, RT 03."
    masked = mask_name(text, NAME)
    assert masked == f"Tgl １２－０３－２０２６, saya {NAME_LABEL}, RT 03."
    assert mask_name("Sumiatik dan Wiryo tetangga saya.", NAME) == "Sumiatik dan Wiryo tetangga saya."  # whole words
