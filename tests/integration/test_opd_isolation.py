"""Isolation matrix: an Admin OPD reaches only complaints currently routed to its own OPD.

For two OPDs with complaints each (waiting, answered, with citizen and answer attachments), every
desk route, search/filter parameter, attachment URL, export and REST endpoint is called as the other
OPD's admin: each answer is a 404/403 (or a list without the other OPD's rows), no foreign ticket,
title, text, name or phone appears in any body, and nothing changes in the database.
"""

from __future__ import annotations

import io
from urllib.parse import unquote_plus

import pytest
import sqlalchemy as sa
from PIL import Image

from app import services, storage
from app.extensions import db
from app.services import cursor
from app.models import Answer, Attachment, Complaint, InternalNote, Routing, StatusEvent
from app.workflow import State
from tests.conftest import PASSWORD, VALID_NIK_F
from tests.integration.opd_support import api_headers, login, routed

OWNERS = {"opd.dinkes": "DINKESP2KB", "opd.dputr": "DPUTR"}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


class _File:
    def __init__(self, name, data):
        self.filename, self.stream = name, io.BytesIO(data)


def _seed_opd(submission, actor, username: str) -> dict:
    """Three complaints for one OPD with distinctive words; returns what must never leak."""
    code = OWNERS[username]
    tag = code.lower()
    waiting = routed(submission, actor, code, name=f"Pelapor Rahasia {tag}", phone="0813-1111-2222",
                     visibility="publik", title=f"Judul khusus {tag} menunggu",
                     text=f"Isi khusus {tag} menunggu jawaban.")
    uploads = storage.prepare([_File(f"foto-{tag}.png", _png())])
    anonim = services.submit(submission(opd_code=code, nik=VALID_NIK_F, name=f"Anonim Asli {tag}",
                                        title=f"Judul anonim {tag}", text=f"Isi anonim {tag}."),
                             files=uploads).complaint
    services.decide_nik(anonim.id, actor("validator"), valid=True)
    answered = routed(submission, actor, code, name=f"Penjawab Nama {tag}", visibility="publik",
                      title=f"Judul dijawab {tag}", text=f"Isi dijawab {tag}.")
    services.answer(answered.id, actor(username), f"Jawaban khusus {tag}.",
                    files=storage.prepare([_File(f"jawaban-{tag}.png", _png())]))
    services.edit_answer(answered.id, actor(username), f"Jawaban khusus {tag} (ubah).", "Perbaikan.")
    services.desk.add_note(waiting.id, actor(username), f"Catatan internal {tag}.")
    complaints = [db.session.get(Complaint, c.id) for c in (waiting, anonim, answered)]
    files = db.session.scalars(sa.select(Attachment).where(
        Attachment.complaint_id.in_([c.id for c in complaints]))).all()
    secrets = {f"khusus {tag}", f"anonim {tag}", f"dijawab {tag}", f"Rahasia {tag}", f"Asli {tag}",
               f"Nama {tag}", f"internal {tag}", f"foto-{tag}", f"jawaban-{tag}"}
    secrets |= {c.ticket for c in complaints} | {c.title for c in complaints} | {c.text for c in complaints}
    return {"code": code, "waiting": complaints[0], "anonim": complaints[1], "answered": complaints[2],
            "files": files, "secrets": secrets}


@pytest.fixture
def world(submission, actor):
    return {u: _seed_opd(submission, actor, u) for u in OWNERS}


def _client(app, username):
    return login(app, username, PASSWORD)


def _state(ids):
    """Everything an intruder's call could have changed, for before/after comparison."""
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Complaint).where(Complaint.id.in_(ids)).order_by(Complaint.id)).all()
    counts = [db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in
              (Answer, InternalNote, Routing, StatusEvent)]
    return [(c.state, c.opd_id, c.version, c.current_answer and c.current_answer.text) for c in rows], counts


def _body(response) -> str:
    return response.get_data(as_text=True)


def _assert_clean(response, secrets, label, echoed: str = ""):
    """No secret in the body; a search box may echo what the caller typed (`echoed`), nothing more."""
    body = _body(response)
    leaked = sorted(s for s in secrets if s.lower() in body.lower() and s.lower() not in echoed.lower())
    assert not leaked, f"{label}: foreign data in the response: {leaked}"


# endpoint → (method, url template, status for an Admin OPD on another OPD's complaint): 403 where the
# role has no such right at all, 404 where it has the right but the complaint is out of its scope.
DESK_ROUTES = {  # every desk route must be in the matrix
    "OpdDeskView.detail": ("GET", "/staf/opd/{id}", 404),
    "OpdDeskView.add_note": ("POST", "/staf/opd/{id}/catatan", 404),
    "OpdDeskView.answer": ("POST", "/staf/opd/{id}/jawab", 404),
    "OpdDeskView.edit_answer": ("POST", "/staf/opd/{id}/ubah-jawaban", 404),
    "OpdDeskView.return_complaint": ("POST", "/staf/opd/{id}/kembalikan", 404),
    "OpdDeskView.versions": ("GET", "/staf/opd/{id}/versi", 403),  # Pimpinan and Admin Sistem only
    "OpdDeskView.attachment": ("GET", "/staf/opd/{id}/lampiran/{file}", 404),
    "DispatchView.reroute": ("POST", "/staf/disposisi/{id}/teruskan", 403),  # dispatch is not an OPD's
    "ComplaintDeskApi.answer": ("POST", "/api/v1/complaint/{id}/answer", 404),
    "ComplaintDeskApi.return_complaint": ("POST", "/api/v1/complaint/{id}/return", 404),
    "ComplaintDeskApi.reroute": ("POST", "/api/v1/complaint/{id}/reroute", 403),
    "ComplaintDeskApi.edit_answer": ("POST", "/api/v1/complaint/{id}/answer/edit", 404),
    "ComplaintDeskApi.add_note": ("POST", "/api/v1/complaint/{id}/note", 404),
    "OpdDeskView.link": ("POST", "/staf/opd/{id}/tautkan", 404),
    "OpdDeskView.unlink": ("POST", "/staf/opd/{id}/lepas-tautan", 404),
    "ComplaintDeskApi.link": ("POST", "/api/v1/complaint/{id}/link", 404),
    "ComplaintDeskApi.unlink": ("POST", "/api/v1/complaint/{id}/unlink", 404),
}
LIST_ROUTES = {"OpdDeskView.queue", "OpdDeskView.export", "DispatchView.queue"}
FORM = {"text": "Jawaban penyusup.", "reason": "Alasan penyusup.", "opd": "DPUTR", "note": "x"}


def test_the_matrix_covers_every_route_of_the_desk(app):
    """A new desk route that is not in the matrix below fails here."""
    endpoints = {r.endpoint for r in app.url_map.iter_rules()
                 if r.endpoint.split(".")[0] in {"OpdDeskView", "DispatchView", "ComplaintDeskApi"}}
    assert endpoints == set(DESK_ROUTES) | LIST_ROUTES


@pytest.mark.parametrize("intruder,owner", [("opd.dputr", "opd.dinkes"), ("opd.dinkes", "opd.dputr")])
def test_every_route_on_a_foreign_complaint_is_404_or_403_and_changes_nothing(app, world, intruder, owner):
    theirs, mine = world[owner], world[intruder]
    ids = [c.id for w in world.values() for c in (w["waiting"], w["anonim"], w["answered"])]
    before = _state(ids)
    client = _client(app, intruder)
    api = api_headers(intruder)
    calls = 0
    for complaint in (theirs["waiting"], theirs["anonim"], theirs["answered"]):
        own_files = [f.id for f in theirs["files"] if f.complaint_id == complaint.id] or [theirs["files"][0].id]
        for endpoint, (method, template, status) in DESK_ROUTES.items():
            for file_id in own_files:
                url = template.format(id=complaint.id, file=file_id)
                if endpoint.startswith("ComplaintDeskApi"):
                    response = client.post(url, json=FORM, headers=api)
                elif method == "GET":
                    response = client.get(url)
                else:
                    response = client.post(url, data=FORM)
                calls += 1
                assert response.status_code == status, f"{endpoint} {url}: {response.status_code}"
                _assert_clean(response, theirs["secrets"], f"{endpoint} {url}")
    # Their file through my own complaint's URL: the file must belong to the complaint in the URL.
    for f in theirs["files"]:
        response = client.get(f"/staf/opd/{mine['waiting'].id}/lampiran/{f.id}")
        assert response.status_code == 404
        _assert_clean(response, theirs["secrets"], "attachment via own complaint")
    assert calls >= 3 * len(DESK_ROUTES)  # the loop ran over every route of the three complaints
    assert _state(ids) == before


@pytest.mark.parametrize("intruder,owner", [("opd.dputr", "opd.dinkes"), ("opd.dinkes", "opd.dputr")])
def test_lists_searches_filters_and_exports_show_only_the_own_opd(app, world, intruder, owner):
    theirs, mine = world[owner], world[intruder]
    client = _client(app, intruder)
    foreign = theirs["waiting"]
    first = client.get("/staf/opd/?tab=menunggu")
    cursor_page = services.desk.desk_page(
        services.Actor.from_user(_user(owner)), services.desk.QueueFilter(), page_size=1)
    queries = [
        "", "tab=menunggu", "tab=dijawab", "tab=menunggu&terlambat=1", "tab=dijawab&terlambat=1",
        f"q={foreign.ticket}", f"tab=dijawab&q={theirs['answered'].ticket}", f"q=khusus+{theirs['code'].lower()}",
        f"q=anonim+{theirs['code'].lower()}", f"opd={theirs['code']}", f"tab=dijawab&opd={theirs['code']}",
        f"{cursor.NEXT}={cursor_page.next_cursor}", f"{cursor.NEXT}=bukan-kursor", "q=%25", "q=_", "tab=lain",
    ]
    assert mine["waiting"].ticket in _body(first)  # the list is not empty: the check below means something
    for query in queries:
        for path in ("/staf/opd/", "/staf/opd/ekspor.csv"):
            response = client.get(f"{path}?{query}")
            assert response.status_code == 200, f"{path}?{query}"
            _assert_clean(response, theirs["secrets"], f"{path}?{query}", echoed=unquote_plus(query))
    export = _body(client.get("/staf/opd/ekspor.csv"))
    assert mine["waiting"].ticket in export and mine["answered"].ticket in export
    # The dispatch queue and supervisors' pages are not for an Admin OPD at all.
    assert client.get("/staf/disposisi/").status_code == 403


@pytest.mark.parametrize("intruder,owner", [("opd.dputr", "opd.dinkes")])
def test_rest_calls_on_a_foreign_complaint_are_404_without_data(app, world, intruder, owner):
    theirs = world[owner]
    client = app.test_client()
    headers = api_headers(intruder)
    for complaint in (theirs["waiting"], theirs["answered"]):
        for suffix, body in (("answer", {"text": "x"}), ("return", {"reason": "x"})):
            response = client.post(f"/api/v1/complaint/{complaint.id}/{suffix}", json=body, headers=headers)
            assert response.status_code == 404
            assert response.get_json()["message"] == "Pengaduan tidak ditemukan."
            _assert_clean(response, theirs["secrets"], suffix)
        response = client.post(f"/api/v1/complaint/{complaint.id}/reroute", json={"opd": "DPUTR"}, headers=headers)
        assert response.status_code == 403  # re-routing is not an Admin OPD's permission at all
    # A complaint id that does not exist answers exactly like a foreign one (existence does not leak).
    missing = client.post("/api/v1/complaint/999999/answer", json={"text": "x"}, headers=headers)
    foreign = client.post(f"/api/v1/complaint/{theirs['waiting'].id}/answer", json={"text": "x"}, headers=headers)
    assert (missing.status_code, missing.get_json()) == (foreign.status_code, foreign.get_json())


def test_a_returned_complaint_leaves_the_opd_and_a_rerouted_one_reaches_only_the_new_opd(app, world, actor):
    dinkes = world["opd.dinkes"]
    moving = dinkes["waiting"]
    services.return_to_dispatch(moving.id, actor("opd.dinkes"), "Kewenangan DPUTR.")
    dinkes_client = _client(app, "opd.dinkes")
    assert dinkes_client.get(f"/staf/opd/{moving.id}").status_code == 404
    assert moving.ticket not in _body(dinkes_client.get("/staf/opd/"))
    services.reroute(moving.id, actor("admin"), "DPUTR")
    assert dinkes_client.get(f"/staf/opd/{moving.id}").status_code == 404  # still gone for Dinkes
    dputr_client = _client(app, "opd.dputr")
    page = dputr_client.get(f"/staf/opd/{moving.id}")
    assert page.status_code == 200 and moving.ticket in _body(page)
    # Dinkes's internal note stays with the complaint, which is now DPUTR's to read.
    assert "Catatan internal dinkesp2kb." in _body(page)


def _user(username):
    from app.models import Staff

    return db.session.scalar(sa.select(Staff).where(Staff.username == username))


def test_anonim_identity_and_nik_never_reach_the_opd(app, submission, actor):
    """DESIGN.md: anonim → no name or contact for the OPD; a NIK never, not even masked."""
    text = "Saya tinggal di Senduro, NIK saya 3508011203900001, HP 0812-9999-8888."
    anonim = routed(submission, actor, name="Nama Pengadu Anonim", phone="0812-7777-6666",
                    email="anonim@contoh.id", address="Jl. Rahasia 1", text=text, visibility="anonim")
    publik = routed(submission, actor, name="Nama Pengadu Publik", phone="0812-5555-4444",
                    text="Ini " + text, visibility="publik", nik=VALID_NIK_F)
    client = _client(app, "opd.dinkes")
    body = _body(client.get(f"/staf/opd/{anonim.id}"))
    for hidden in ("Nama Pengadu Anonim", "0812-7777-6666", "anonim@contoh.id", "Jl. Rahasia 1", "0812-9999-8888"):
        assert hidden not in body
    assert "3508011203900001" not in body and "350801" not in body
    body = _body(client.get(f"/staf/opd/{publik.id}"))
    assert "Nama Pengadu Publik" in body and "0812-5555-4444" in body  # publik: the OPD may contact them
    assert "3508011203900001" not in body and "3508105207850002" not in body
    assert "[NIK disembunyikan]" in body
    csv_text = _body(client.get("/staf/opd/ekspor.csv"))
    assert "Nama Pengadu Anonim" not in csv_text and "Nama Pengadu Publik" in csv_text
    assert "3508" not in csv_text
    # A supervisor sees who complained (the view is logged), but no NIK either.
    boss = _body(_client(app, "pimpinan").get(f"/staf/opd/{anonim.id}"))
    assert "Nama Pengadu Anonim" in boss and "3508011203900001" not in boss
    assert State.DITERUSKAN is db.session.get(Complaint, anonim.id).state
