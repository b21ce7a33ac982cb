"""Similar complaints (ranking, the disclosure policy) and linking as the same problem (one answer for every
linked complaint: state, answered_at, deadline, outbox, public pages; unlink; refusals; scopes), on the
database the suite runs on (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import services
from app.extensions import db
from app.models import Answer, AuditLog, Complaint, Outbox, StatusEvent
from app.services import links, similar
from app.services.common import Conflict, Forbidden, Invalid, NotFound, unit_of_work
from app.workflow import State
from tests.conftest import PASSWORD, VALID_NIK_F, text_of
from tests.integration.opd_support import api_headers, login
from tests.integration.opd_support import routed as _routed

_NAMES = iter(range(1, 100_000))


def routed(submission, actor, **changes):
    """Routed, from a complainant of its own (the same text twice from one NIK and name is a duplicate)."""
    changes.setdefault("name", f"Warga Nomor {next(_NAMES)}")
    return _routed(submission, actor, **changes)

FLOOD = "Jalan desa tergenang banjir setinggi lutut setiap hujan deras, saluran drainase tersumbat sampah"


def _fresh(cid) -> Complaint:
    db.session.expire_all()
    return db.session.get(Complaint, cid)


def _waiting(submission, **changes) -> Complaint:
    changes.setdefault("name", f"Warga Nomor {next(_NAMES)}")
    return services.submit(submission(**changes)).complaint


# --------------------------------------------------------------------------- similar complaints


def test_ranking_best_first_with_score_and_place(app, submission, actor):
    a = routed(submission, actor, opd_code="DPUTR", title="Banjir di jalan desa", text=FLOOD,
               location="Desa Jokarto, Kecamatan Tempeh")
    b = routed(submission, actor, opd_code="DPUTR", title="Banjir di jalan desa", text=FLOOD + " lagi",
               location="Kecamatan Pasirian")
    c = routed(submission, actor, opd_code="DPUTR", title="Jalan desa banjir",
               text="Jalan desa tergenang banjir setiap hujan, drainase tersumbat", location="Kecamatan Tempeh")
    routed(submission, actor, opd_code="DPUTR", title="Lampu jalan mati",
           text="Lampu penerangan jalan umum mati sejak seminggu")  # unrelated
    routed(submission, actor, opd_code="DINKESP2KB", title="Banjir di jalan desa", text=FLOOD)  # other OPD
    new = _waiting(submission, opd_code="DPUTR", title="Banjir di jalan desa", text=FLOOD,
                   location="Kec. Tempeh", nik=VALID_NIK_F)
    found = similar.similar_to(new.id, actor("validator"))
    tickets = [s.ticket for s in found]
    assert tickets[0] == a.ticket  # the same text and the same kecamatan
    assert set(tickets) == {a.ticket, b.ticket, c.ticket}  # unrelated and other OPD left out
    first = found[0]
    assert first.score >= 0.9 and first.same_place and first.earlier
    assert all(0 < s.score <= 1 for s in found)
    by_ticket = {s.ticket: s for s in found}
    assert by_ticket[c.ticket].same_place and not by_ticket[b.ticket].same_place
    # at most five
    for _ in range(6):
        routed(submission, actor, opd_code="DPUTR", title="Banjir di jalan desa", text=FLOOD)
    assert len(similar.similar_to(new.id, actor("validator"))) == similar.LIMIT


def test_window_of_90_days(app, submission, actor):
    old = routed(submission, actor, opd_code="DPUTR", title="Banjir di jalan desa", text=FLOOD)
    with unit_of_work():
        db.session.get(Complaint, old.id).submitted_at -= timedelta(days=91)
    new = routed(submission, actor, opd_code="DPUTR", title="Banjir di jalan desa", text=FLOOD)
    assert similar.similar_to(new.id, actor("opd.dputr")) == []


def test_python_measure_is_pg_trgm_similarity():
    assert similar.trigram_similarity("jalan rusak", "jalan rusak") == 1.0
    assert similar.trigram_similarity("", "jalan") == 0.0
    # pg_trgm: similarity('word', 'words') = 4 shared of 7 trigrams
    assert similar.trigram_similarity("word", "words") == pytest.approx(4 / 7)


def test_rahasia_never_matched_or_shown(app, submission, actor, client):
    secret = routed(submission, actor, opd_code="DPUTR", title="Banjir di jalan desa", text=FLOOD + " kenanga",
                    visibility="rahasia")
    new = routed(submission, actor, opd_code="DPUTR", title="Banjir di jalan desa", text=FLOOD + " kenanga")
    for who in ("opd.dputr", "pimpinan", "admin"):
        assert secret.ticket not in [s.ticket for s in similar.similar_to(new.id, actor(who))]
    db.session.commit()
    page = login(app, "opd.dputr", PASSWORD).get(f"/staf/opd/{new.id}")
    assert page.status_code == 200 and secret.ticket not in text_of(page)


def test_only_public_text_compared_and_shown(app, submission, actor):
    # An anonim complainant's name is masked in the public version: it neither matches nor shows.
    named = routed(submission, actor, opd_code="DPUTR", name="Sulastri Wibowo", visibility="anonim",
                   title="Laporan Sulastri Wibowo", text="Sulastri Wibowo Sulastri Wibowo melapor tentang jalan")
    probe = routed(submission, actor, opd_code="DPUTR", name="Budi Santoso", visibility="publik",
                   title="Sulastri Wibowo", text="Sulastri Wibowo Sulastri Wibowo", nik=VALID_NIK_F)
    found = similar.similar_to(probe.id, actor("opd.dputr"))
    assert named.ticket not in [s.ticket for s in found]
    assert all("Sulastri" not in s.title for s in found)


def test_admin_opd_sees_only_its_opd(app, submission, actor):
    mine = routed(submission, actor, opd_code="DPUTR", title="Banjir di jalan desa", text=FLOOD)
    routed(submission, actor, opd_code="DINKESP2KB", title="Banjir di jalan desa", text=FLOOD)
    with pytest.raises(NotFound):
        similar.similar_to(mine.id, actor("opd.dinkes"))  # another OPD's complaint does not exist for it
    found = similar.similar_to(mine.id, actor("opd.dputr"))
    assert all(s.ticket != mine.ticket for s in found)
    # a returned complaint of DPUTR has left its desk: not a candidate for it any more
    other = routed(submission, actor, opd_code="DPUTR", title="Banjir di jalan desa", text=FLOOD)
    services.return_to_dispatch(other.id, actor("opd.dputr"), "Bukan wewenang kami.")
    assert other.ticket not in [s.ticket for s in similar.similar_to(mine.id, actor("opd.dputr"))]


def test_desk_pages_show_similar_with_link_button(app, submission, actor):
    main = routed(submission, actor, opd_code="DPUTR", title="Banjir di jalan desa", text=FLOOD)
    new = _waiting(submission, opd_code="DPUTR", title="Banjir di jalan desa", text=FLOOD, nik=VALID_NIK_F)
    db.session.commit()
    page = login(app, "validator", PASSWORD).get(f"/staf/validasi/{new.id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and main.ticket in body and "Tautkan" in body and "%" in text_of(page)


# --------------------------------------------------------------------------- linking


def _group(submission, actor, n=2):
    main = routed(submission, actor, opd_code="DPUTR", title="Banjir di jalan desa", text=FLOOD,
                  email="utama@contoh.id")
    others = [routed(submission, actor, opd_code="DPUTR", title="Banjir lagi", text=FLOOD,
                     email=f"warga{i}@contoh.id", nik=VALID_NIK_F, visibility="publik")
              for i in range(n)]
    return main, others


def test_one_answer_reaches_every_linked_complaint(app, submission, actor, client):
    main, others = _group(submission, actor)
    for other in others:
        links.link(other.id, actor("opd.dputr"), main_id=main.id)
    services.answer(main.id, actor("opd.dputr"), "Saluran sudah dibersihkan oleh petugas pada hari ini.")
    for other in others:
        c = _fresh(other.id)
        assert c.state is State.DIJAWAB and c.answered_at is not None and c.closed_at is not None
        assert c.answered_at <= c.answer_deadline and not c.answer_overdue  # the deadline met by it
        reply = c.current_answer
        assert reply.main_answer_id == _fresh(main.id).current_answer.id
        assert "Saluran sudah dibersihkan" in reply.public_text
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Outbox).where(
            Outbox.complaint_id == c.id, Outbox.template == "answered")) == 1
        assert db.session.scalar(sa.select(StatusEvent).where(StatusEvent.complaint_id == c.id,
                                                             StatusEvent.action == "answer")).note.startswith(
            f"Dijawab bersama pengaduan {main.ticket}")
        page = client.get(f"/pengaduan/{c.ticket}")
        assert page.status_code == 200
        assert f"Dijawab bersama pengaduan {main.ticket}" in " ".join(text_of(page).split())
        assert "Saluran sudah dibersihkan" in text_of(page)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Outbox).where(
        Outbox.template == "answered")) == 3  # the main complainant too
    # an edit of the main answer reaches the copies
    services.edit_answer(main.id, actor("opd.dputr"), "Saluran dibersihkan dan diperlebar.", "Dilengkapi.")
    assert "diperlebar" in _fresh(others[0].id).current_answer.public_text


def test_link_and_unlink_in_history_and_timelines(app, submission, actor):
    main, (other,) = _group(submission, actor, 1)
    links.link(other.id, actor("opd.dputr"), ticket=main.ticket.lower())
    assert _fresh(other.id).linked_to_id == main.id
    links.unlink(other.id, actor("opd.dputr"))
    assert _fresh(other.id).linked_to_id is None
    actions = db.session.scalars(sa.select(AuditLog.action).where(AuditLog.complaint_id == other.id,
                                                                 AuditLog.action.like("complaint.%link"))).all()
    assert actions == ["complaint.link", "complaint.unlink"]
    for cid in (main.id, other.id):
        events = db.session.scalars(sa.select(StatusEvent.action).where(
            StatusEvent.complaint_id == cid, StatusEvent.action.in_(["link", "unlink"])).order_by(StatusEvent.id)).all()
        assert events == ["link", "unlink"]
    # unlinked: answered on its own, the main's answer no longer reaches it
    services.answer(main.id, actor("opd.dputr"), "Sudah ditangani.")
    assert _fresh(other.id).state is State.DITERUSKAN


def test_refusals(app, submission, actor):
    opd = actor("opd.dputr")
    earlier = routed(submission, actor, opd_code="DPUTR", title="Banjir", text=FLOOD)
    main, (a, b) = _group(submission, actor)
    with pytest.raises(Conflict, match="dirinya sendiri"):
        links.link(main.id, opd, main_id=main.id)
    with pytest.raises(Invalid, match="tidak ditemukan"):
        links.link(a.id, opd, ticket="LMJ-1999-000001")
    with pytest.raises(Conflict, match="lebih awal"):
        links.link(main.id, opd, main_id=a.id)
    links.link(a.id, opd, main_id=main.id)
    with pytest.raises(Conflict, match="tautkan ke " + main.ticket):  # no chains
        links.link(b.id, opd, main_id=a.id)
    with pytest.raises(Conflict, match="sudah ditautkan"):
        links.link(a.id, opd, main_id=main.id)
    with pytest.raises(Conflict, match="pengaduan utama bagi"):
        links.link(main.id, opd, main_id=earlier.id)
    with pytest.raises(Conflict, match="jawab pengaduan utama"):  # a linked one is not answered on its own
        services.answer(a.id, opd, "Jawaban sendiri.")
    secret = routed(submission, actor, opd_code="DPUTR", title="Rahasia", text=FLOOD, visibility="rahasia")
    c = routed(submission, actor, opd_code="DPUTR", title="Sesudah", text=FLOOD)
    with pytest.raises(Invalid, match="rahasia"):
        links.link(c.id, opd, ticket=secret.ticket)
    services.answer(main.id, opd, "Sudah ditangani.")
    with pytest.raises(Conflict, match="sudah dijawab"):
        links.unlink(a.id, opd)
    with pytest.raises(Conflict, match="tidak sedang menunggu jawaban"):
        links.link(c.id, opd, main_id=main.id)
    with pytest.raises(Conflict, match="tidak ditautkan"):
        links.unlink(c.id, opd)
    # nothing changed by the refusals
    assert _fresh(c.id).linked_to_id is None and _fresh(b.id).linked_to_id is None


def test_scopes_other_opd_and_roles(app, submission, actor):
    main, (other,) = _group(submission, actor, 1)
    dinkes = routed(submission, actor, opd_code="DINKESP2KB", title="Banjir", text=FLOOD)
    with pytest.raises(NotFound):
        links.link(other.id, actor("opd.dinkes"), main_id=main.id)
    with pytest.raises(Invalid, match="tidak ditemukan"):  # another OPD's complaint does not exist for it
        links.link(other.id, actor("opd.dputr"), main_id=dinkes.id)
    with pytest.raises(Forbidden):
        links.link(other.id, actor("pimpinan"), main_id=main.id)
    # the validator links before routing; another OPD's main is refused
    waiting = _waiting(submission, opd_code="DPUTR", title="Banjir", text=FLOOD, nik=VALID_NIK_F)
    with pytest.raises(Conflict, match="OPD yang sama"):
        links.link(waiting.id, actor("validator"), ticket=dinkes.ticket)
    links.link(waiting.id, actor("validator"), ticket=main.ticket)
    with pytest.raises(Forbidden):  # a routed complaint is not the validator's to link
        links.link(other.id, actor("validator"), main_id=main.id)
    # validated, it reaches the OPD and is answered with the main; one still waiting then is unlinked
    services.decide_nik(waiting.id, actor("validator"), valid=True)
    late = _waiting(submission, opd_code="DPUTR", title="Banjir", text=FLOOD)
    links.link(late.id, actor("validator"), main_id=main.id)
    services.answer(main.id, actor("opd.dputr"), "Sudah ditangani.")
    assert _fresh(waiting.id).state is State.DIJAWAB
    assert _fresh(late.id).state is State.MENUNGGU_VERIFIKASI and _fresh(late.id).linked_to_id is None


def test_screens_link_by_button_and_refuse_with_message(app, submission, actor):
    main, (other,) = _group(submission, actor, 1)
    db.session.commit()
    browser = login(app, "opd.dputr", PASSWORD)
    page = browser.get(f"/staf/opd/{other.id}")
    assert main.ticket in page.get_data(as_text=True)
    done = browser.post(f"/staf/opd/{other.id}/tautkan", data={"main_id": str(main.id)})
    assert done.status_code == 302 and _fresh(other.id).linked_to_id == main.id
    again = browser.post(f"/staf/opd/{main.id}/tautkan", data={"ticket": main.ticket})
    assert again.status_code == 409 and "dirinya sendiri" in text_of(again)
    assert browser.post(f"/staf/opd/{other.id}/lepas-tautan").status_code == 302
    assert _fresh(other.id).linked_to_id is None


def test_api_link_unlink(app, submission, actor, client):
    main, (other,) = _group(submission, actor, 1)
    db.session.commit()
    headers = api_headers("opd.dputr")
    r = client.post(f"/api/v1/complaint/{other.id}/link", json={"ticket": main.ticket}, headers=headers)
    assert r.status_code == 200 and r.json["linked_to"] == main.ticket
    r = client.post(f"/api/v1/complaint/{other.id}/link", json={"main_id": main.id}, headers=headers)
    assert r.status_code == 409
    assert client.post(f"/api/v1/complaint/{other.id}/link", json={}, headers=headers).status_code == 400
    assert client.post(f"/api/v1/complaint/{other.id}/link", json={"main_id": "x"}, headers=headers).status_code == 400
    other_opd = api_headers("opd.dinkes")
    assert client.post(f"/api/v1/complaint/{other.id}/unlink", headers=other_opd).status_code == 404
    r = client.post(f"/api/v1/complaint/{other.id}/unlink", headers=headers)
    assert r.status_code == 200 and r.json["linked_to"] is None
    assert client.post(f"/api/v1/complaint/{other.id}/unlink", headers=api_headers("pimpinan")).status_code in (401, 403)
