"""The public form's idempotency token (issue 14, item 6): the same form sent again, whatever the reason
(no response seen, a killed worker, an outage, a double click), stores one complaint; the repeat gets the
same ticket and a new PIN that replaces the old one."""

from __future__ import annotations

import re
import threading

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditLog, Complaint, StatusEvent
from tests.conftest import text_of

URL = "/pengaduan/baru"


def token_of(client) -> str:
    html = client.get(URL).get_data(as_text=True)
    return re.search(r'name="submission_key" value="([^"]+)"', html).group(1)


def receipt(client, response) -> tuple[str, str, str]:
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    page = client.get("/pengaduan/terkirim")
    html = page.get_data(as_text=True)
    ticket = re.search(r'id="ticket">([^<]+)<', html).group(1)
    pin = re.search(r'id="pin">([^<]+)<', html).group(1)
    return ticket, pin, text_of(page)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_same_form_sent_twice_is_one_complaint_and_the_new_pin_tracks_it(client, complaint_form):
    token = token_of(client)
    assert len(token) >= 32
    form = complaint_form(submission_key=token)
    ticket, first_pin, first_page = receipt(client, client.post(URL, data=form))
    assert "sudah pernah terkirim" not in first_page
    again, second_pin, second_page = receipt(client, client.post(URL, data=form))
    assert again == ticket and second_pin != first_pin
    assert "Formulir ini sudah pernah terkirim dan tersimpan sekali saja" in " ".join(second_page.split())
    assert count(Complaint) == 1 and count(StatusEvent) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "complaint.resubmit")) == 1
    tracker = client.application.test_client()
    assert tracker.post("/lacak", data={"ticket": ticket, "pin": first_pin}).status_code == 400  # replaced
    assert tracker.post("/lacak", data={"ticket": ticket, "pin": second_pin}).status_code == 303


def test_two_forms_are_two_complaints_and_a_page_without_token_still_works(client, complaint_form):
    first = receipt(client, client.post(URL, data=complaint_form(submission_key=token_of(client))))
    second = receipt(client, client.post(URL, data=complaint_form(submission_key=token_of(client))))
    third = receipt(client, client.post(URL, data=complaint_form()))
    assert len({first[0], second[0], third[0]}) == 3 and count(Complaint) == 3


def test_a_forged_token_is_refused_with_a_message_and_the_form_kept(client, complaint_form):
    form = complaint_form(submission_key="<script>x</script>")
    response = client.post(URL, data=form)
    assert response.status_code == 400
    assert "Formulir ini tidak lengkap atau sudah diubah" in text_of(response)
    assert f'value="{form["title"]}"' in response.get_data(as_text=True) and count(Complaint) == 0


def test_the_same_token_at_the_same_moment_from_two_connections_is_one_complaint(app, client, complaint_form):
    token = token_of(client)
    form = complaint_form(submission_key=token)
    results = []

    def send():
        c = app.test_client()
        results.append(c.post(URL, data=form).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [303] * 4
    assert count(Complaint) == 1
