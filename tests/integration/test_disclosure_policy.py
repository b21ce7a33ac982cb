"""The disclosure policy as a table (issue 11): every viewer × visibility × field → shown / masked / absent.

The expected table below is written out by hand, independently of `app.services.disclosure.RULES`, and each
cell is checked twice: against the rule, and against what `present()` really puts into the view for a
complaint whose every field carries a marker.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app import services, storage
from app.extensions import db
from app.models import Complaint, Staff
from app.services import desk
from app.services.disclosure import (NAME_LABEL, RULES, NikShown, Screen, TextShown, Viewer, present, rule,
                                     viewer_for)
from app.workflow import Role, Visibility
from tests.conftest import PASSWORD, VALID_NIK_F

S, M, A = "shown", "masked", "absent"
F = "full"  # the NIK on the validator's check page
FIELDS = ("name", "contact", "address", "nik", "text", "location", "attachments", "notes")


def _row(name, contact, address, nik, text, location, attachments, notes):
    return dict(zip(FIELDS, (name, contact, address, nik, text, location, attachments, notes)))


_HIDDEN = None  # the complaint does not exist for the viewer
_STAFF = _row(S, S, S, A, S, S, S, S)
EXPECTED = {
    ("public", "publik"): _row(S, A, A, A, M, A, A, A),
    ("public", "anonim"): _row(A, A, A, A, M, A, A, A),
    ("public", "rahasia"): _HIDDEN,
    **{("complainant", v): _row(S, S, S, M, S, S, S, A) for v in ("publik", "anonim", "rahasia")},
    **{("validator", v): _row(S, A, A, M, S, S, S, S) for v in ("publik", "anonim", "rahasia")},
    ("admin_opd", "publik"): _STAFF,
    ("admin_opd", "anonim"): _row(A, A, A, A, M, S, S, S),
    ("admin_opd", "rahasia"): _STAFF,
    **{("pimpinan", v): _STAFF for v in ("publik", "anonim", "rahasia")},
    **{("admin_sistem", v): _STAFF for v in ("publik", "anonim", "rahasia")},
}
VIEWERS = {"public": Viewer.PUBLIC, "complainant": Viewer.COMPLAINANT, "validator": Viewer.VALIDATOR,
           "admin_opd": Viewer.ADMIN_OPD, "pimpinan": Viewer.PIMPINAN, "admin_sistem": Viewer.ADMIN_SISTEM}


def _cell(d, field: str) -> str:
    if field == "nik":
        return {NikShown.NONE: A, NikShown.MASKED: M, NikShown.FULL: F}[d.nik]
    if field == "text":
        return {TextShown.PUBLIC: M, TextShown.ORIGINAL: S, TextShown.AS_TYPED: S, TextShown.NONE: A}[d.text]
    return S if getattr(d, field) else A


@pytest.mark.parametrize("viewer,visibility", sorted(EXPECTED))
def test_the_rule_table_is_the_documented_policy(viewer, visibility):
    d = RULES[(VIEWERS[viewer], Visibility(visibility))]
    expected = EXPECTED[(viewer, visibility)]
    if expected is None:
        assert not d.visible
        return
    assert d.visible
    assert {f: _cell(d, f) for f in FIELDS} == expected


def test_every_viewer_and_visibility_has_a_rule():
    assert set(RULES) == {(v, vis) for v in Viewer for vis in Visibility}


def test_the_full_nik_exists_only_on_the_validators_check_page():
    for screen in Screen:
        for viewer in Viewer:
            for visibility in Visibility:
                shown = rule(visibility, viewer, screen).nik
                expect_full = screen is Screen.VALIDATOR_CHECK and viewer is Viewer.VALIDATOR
                assert (shown is NikShown.FULL) == expect_full, (screen, viewer, visibility)


# --------------------------------------------------------------------------- the rule in the views

NAME = "Sutarmi Wulandari"
PHONE = "0813-7777-1234"
EMAIL = "sutarmi@contoh.id"
ADDRESS = "Dusun Krajan RT 02 RW 03"
LOCATION = "Depan balai desa Kunir"
TYPED_NIK = "3508016706920417"
TEXT_PHONE = "0857-1111-2222"


class _File:
    def __init__(self, name, data):
        self.filename, self.stream = name, __import__("io").BytesIO(data)


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 200, 10)).save(out, format="PNG")
    return out.getvalue()


def _complaint(submission, actor, visibility: str) -> Complaint:
    files = storage.prepare([_File("foto.png", _png())])
    made = services.submit(submission(
        name=NAME, phone=PHONE, email=EMAIL, address=ADDRESS, location=LOCATION, nik=VALID_NIK_F,
        visibility=visibility, title=f"Keluhan {NAME}",
        text=f"Saya {NAME} dari Kunir, NIK tetangga {TYPED_NIK}, hubungi {TEXT_PHONE}, jalan rusak."),
        files=files).complaint
    services.decide_nik(made.id, actor("validator"), valid=True)
    services.desk.add_note(made.id, actor("admin"), "Catatan petugas.")
    return db.session.get(Complaint, made.id)


def _observed(view, notes: list) -> dict:
    person = view.complainant
    text = f"{view.title} {view.text}"
    if TEXT_PHONE in text:
        shown_text = S  # the original: as typed, or with its NIK as a label
        assert TYPED_NIK in text or ("[NIK disembunyikan]" in text and TYPED_NIK not in text)
    else:
        shown_text = M  # the public rendering: personal data masked, and an anonim complainant's name
        assert "[nomor telepon disembunyikan]" in text and TYPED_NIK not in text
        assert (NAME_LABEL in text and NAME not in text) if view.visibility is Visibility.ANONIM else NAME in text
    nik = A if view.nik is None else F if view.nik == VALID_NIK_F else M
    if nik == M:
        assert view.nik.startswith("3508") and VALID_NIK_F not in view.nik
    return {
        "name": S if person and person.name == NAME else A,
        "contact": S if person and person.phone == PHONE and person.email == EMAIL else A,
        "address": S if person and person.address == ADDRESS else A,
        "nik": nik, "text": shown_text,
        "location": S if view.location == LOCATION else A,
        "attachments": S if [a.name for a in view.attachments] == ["foto.png"] else A,
        "notes": S if notes else A,
    }


SCREEN_OF = {"public": (Screen.PORTAL, None), "complainant": (Screen.TRACKING, None),
             "validator": (Screen.API, "validator"), "admin_opd": (Screen.OPD_DESK, "opd.dinkes"),
             "pimpinan": (Screen.OPD_DESK, "pimpinan"), "admin_sistem": (Screen.OPD_DESK, "admin")}


@pytest.mark.parametrize("visibility", ["publik", "anonim", "rahasia"])
def test_present_shows_each_field_exactly_as_the_table_says(submission, actor, visibility):
    complaint = _complaint(submission, actor, visibility)
    for viewer, (screen, username) in SCREEN_OF.items():
        expected = EXPECTED[(viewer, visibility)]
        who = actor(username) if username else None
        if expected is None:
            with pytest.raises(services.NotFound):
                present(complaint, who, screen, log=False)
            continue
        view = present(complaint, who, screen, log=False)
        notes = desk.notes_of(complaint.id) if view.disclosure.notes else []
        assert _observed(view, notes) == expected, (viewer, visibility)


@pytest.mark.parametrize("visibility", ["publik", "anonim", "rahasia"])
def test_a_brief_list_row_withholds_its_texts_and_nik_and_is_otherwise_the_full_view(submission, actor,
                                                                                      visibility):
    """The NIK queue, the OPD queue and the REST list present their rows brief (no NIK decrypted, no text):
    a brief view may show less than the full one, never more and never anything else."""
    from dataclasses import replace

    complaint = _complaint(submission, actor, visibility)
    screens = {**SCREEN_OF, "validator_desk": (Screen.VALIDATOR_DESK, "validator")}
    compared = 0
    for name, (screen, username) in screens.items():
        who = actor(username) if username else None
        try:
            full = present(complaint, who, screen, log=False)
        except services.NotFound:
            with pytest.raises(services.NotFound):
                present(complaint, who, screen, log=False, brief=True)
            continue
        brief = present(complaint, who, screen, log=False, brief=True)
        assert brief == replace(full, text=None, public_text=None, nik=None, answer=None, attachments=()), name
        compared += 1
    assert compared >= 4


def test_another_opd_never_reaches_the_complaint(submission, actor):
    complaint = _complaint(submission, actor, "publik")
    with pytest.raises(services.NotFound):
        services.get_visible(complaint.id, actor("opd.dputr"))


def test_the_validators_check_page_shows_the_full_nik_and_the_text_as_typed(submission, actor):
    complaint = services.submit(submission(name=NAME, nik=VALID_NIK_F, visibility="anonim",
                                           text=f"Saya {NAME}, NIK tetangga {TYPED_NIK}.")).complaint
    opened = services.claim(complaint.id, actor("validator"))
    view = present(opened, actor("validator"), Screen.VALIDATOR_CHECK, log=False)
    assert view.nik == VALID_NIK_F and TYPED_NIK in view.text and view.complainant.name == NAME


@pytest.fixture
def two_roles(app):
    """A Validator who is also the Admin OPD of DINKESP2KB."""
    from app.services.accounts import create_staff

    user = create_staff(username="ganda", email="ganda@uji.go.id", first_name="Ganda", last_name="Uji",
                        role="Admin OPD", password=PASSWORD, opd_code="DINKESP2KB")
    sm = app.appbuilder.sm
    with services.unit_of_work():
        user = db.session.get(Staff, user.id)
        user.roles.append(sm.find_role("Validator"))
    return services.Actor.from_user(db.session.get(Staff, user.id))


def test_a_user_with_two_roles_gets_the_rule_of_the_screen_they_are_on(submission, actor, two_roles):
    assert two_roles.roles == {Role.VALIDATOR, Role.ADMIN_OPD}
    # The OPD desk and its export belong to the OPD side (and supervisors): this person reads them as an
    # Admin OPD; the NIK queue and the check page as a Validator; the API as the highest role it holds.
    assert viewer_for(two_roles, Screen.OPD_DESK) is Viewer.ADMIN_OPD
    assert viewer_for(two_roles, Screen.EXPORT) is Viewer.ADMIN_OPD
    assert viewer_for(two_roles, Screen.VALIDATOR_CHECK) is Viewer.VALIDATOR
    assert viewer_for(two_roles, Screen.API) is Viewer.VALIDATOR
    complaint = _complaint(submission, actor, "anonim")
    for screen in (Screen.OPD_DESK, Screen.EXPORT):
        seen = present(complaint, two_roles, screen, log=False)
        assert seen.complainant is None and NAME not in seen.title and NAME not in (seen.text or "")
    with pytest.raises(services.Forbidden):
        viewer_for(two_roles, Screen.RECORDS)


def test_a_viewer_without_a_role_on_the_screen_is_refused(actor):
    with pytest.raises(services.Forbidden):
        viewer_for(actor("opd.dinkes"), Screen.VALIDATOR_DESK)
    with pytest.raises(services.Forbidden):
        viewer_for(actor("pimpinan"), Screen.VALIDATOR_CHECK)


def test_a_view_of_personal_data_is_logged_with_its_fields(submission, actor):
    from app.models import AuditLog

    complaint = _complaint(submission, actor, "publik")
    with services.unit_of_work():
        present(complaint, actor("opd.dinkes"), Screen.OPD_DESK)
    row = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "complaint.personal.view")).one()
    assert row.username == "opd.dinkes" and row.complaint_id == complaint.id
    assert '"fields": ["name", "contact", "address"]' in row.detail


def test_the_guard_catches_a_template_given_a_complaint_row(app, submission):
    """tests/disclosure_guard.py fails any test whose templates receive a row; prove it sees one."""
    from flask import render_template_string

    from tests.disclosure_guard import take_violations

    complaint = services.submit(submission()).complaint
    with app.test_request_context():
        render_template_string("{{ c.ticket }}", c=complaint)
        render_template_string("{{ rows[0].complaint.ticket }}", rows=[{"complaint": complaint}])
    found = take_violations()
    assert len(found) == 2 and all("Complaint row" in f for f in found)


def test_view_layers_never_import_complaint_rows():
    """Desks, REST handlers, the portal and the exports get views from the services, never the models."""
    import ast
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "app"
    layers = [*(root / "api").glob("*.py"), *(root / "desks").glob("*.py"), root / "public.py",
              root / "exports.py", root / "views.py"]
    offenders = []
    for path in layers:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("models"):
                bad = {a.name for a in node.names} & {"Complaint", "Answer", "StatusEvent", "NikCheck"}
                if bad:
                    offenders.append(f"{path.relative_to(root)}: {sorted(bad)}")
    assert not offenders, offenders
