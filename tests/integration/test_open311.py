"""Open311 GeoReport v2 conformance (issue 15), written from the specification (GeoReport v2):

- every resource in XML (the required format, UTF-8 with its declaration) and JSON, with the standard's
  element names and nesting: services/service, service_definition/attributes/attribute/values/value,
  service_requests/request, errors/error with code and description, discovery/endpoints/endpoint/formats;
- W3C date-times with the WIB offset (+07:00);
- GET requests: service_request_id (comma list, overrides the other filters), service_code, start_date,
  end_date, status open|closed; the last 90 days by default, no range over 90 days, at most 1,000;
- POST requests: api_key (missing, wrong, revoked: 403), the public form's use case (NIK check, queue),
  channel Open311 with the key's name, ticket and PIN back, the key's use in the history log;
- nothing personal (name of an anonim complainant, NIK, phone, e-mail, address) in any GET, for each
  visibility; a rahasia complaint does not exist there.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from xml.etree import ElementTree

import pytest
import sqlalchemy as sa
import time_machine

from tests.conftest import VALID_NIK, VALID_NIK_F

BASE = "/open311/v2"
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$")
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "requested_datetime", "updated_datetime", "expected_datetime",
                  "service_notice"]


def xml_of(response) -> ElementTree.Element:
    body = response.get_data()
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>'), body[:80]
    assert response.content_type == "text/xml; charset=utf-8"
    return ElementTree.fromstring(body)


def json_of(response):
    assert response.content_type == "application/json; charset=utf-8"
    return json.loads(response.get_data(as_text=True))


def children(node) -> list[str]:
    return [c.tag for c in node]


@pytest.fixture
def key(app, runner):
    """A fresh API key made by the command (`flask open311 key create`), as an integrator receives it."""
    result = runner.invoke(args=["open311", "key", "create", "aplikasi-warga"])
    assert result.exit_code == 0, result.output
    found = re.search(r"o311_[A-Za-z0-9_\-]+", result.output)
    assert found, result.output
    return found.group(0)


def request_form(api_key, **changes) -> dict:
    data = {"api_key": api_key, "service_code": "DINKESP2KB", "attribute[nik]": VALID_NIK,
            "attribute[nama]": "Budi Santoso", "attribute[judul]": "Antrean puskesmas lama",
            "attribute[persetujuan]": "ya", "attribute[visibilitas]": "publik", "phone": "0812-3456-7890",
            "email": "budi@contoh.id", "description": "Antrean di puskesmas terlalu lama, mohon ditambah petugas.",
            "address_string": "Puskesmas Sukodono"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# --------------------------------------------------------------------------- discovery and services


def test_discovery_document(client):
    root = xml_of(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert children(root) == ["changeset", "contact", "key_service", "endpoints"]
    assert W3C.match(root.findtext("changeset"))
    endpoint = root.find("endpoints/endpoint")
    assert children(endpoint) == ["specification", "url", "changeset", "type", "formats"]
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url").endswith("/open311/v2")
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
    body = json_of(client.get(f"{BASE}/discovery.json"))
    assert body["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    assert W3C.match(body["endpoints"][0]["changeset"])


def test_services_list_one_per_active_opd(app, client):
    from app.extensions import db
    from app.models import Opd

    active = db.session.scalars(sa.select(Opd).where(Opd.active.is_(True))).all()
    dinkes = next(o for o in active if o.code == "DINKESP2KB")
    dinkes.keywords = "puskesmas; imunisasi ;stunting"
    other = next(o for o in active if o.code == "DPUTR")
    other.active = False
    db.session.commit()
    root = xml_of(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    services = root.findall("service")
    assert len(services) == len(active) - 1
    assert "DPUTR" not in {s.findtext("service_code") for s in services}
    one = next(s for s in services if s.findtext("service_code") == "DINKESP2KB")
    assert children(one) == ["service_code", "service_name", "description", "keywords", "group", "metadata", "type"]
    assert one.findtext("service_name") == dinkes.name
    assert one.findtext("metadata") == "true" and one.findtext("type") == "realtime"
    assert one.findtext("keywords") == "puskesmas, imunisasi, stunting"
    assert one.findtext("group") == dinkes.kind
    listed = json_of(client.get(f"{BASE}/services.json"))
    assert isinstance(listed, list) and len(listed) == len(services)
    item = next(s for s in listed if s["service_code"] == "DINKESP2KB")
    assert item["metadata"] is True and item["type"] == "realtime" and item["group"] == dinkes.kind


def test_service_definition_attributes(client):
    root = xml_of(client.get(f"{BASE}/services/DINKESP2KB.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "DINKESP2KB"
    attributes = root.findall("attributes/attribute")
    codes = [a.findtext("code") for a in attributes]
    assert codes == ["nik", "nama", "judul", "visibilitas", "persetujuan", "alamat_pengadu"]
    for order, attribute in enumerate(attributes, start=1):
        assert children(attribute) == ["code", "datatype", "required", "order", "description",
                                       "datatype_description", "variable", "values"]
        assert attribute.findtext("order") == str(order)
        assert attribute.findtext("variable") == "true"
        assert attribute.findtext("datatype") in {"string", "number", "datetime", "text", "singlevaluelist",
                                                  "multivaluelist"}
    nik = attributes[0]
    assert nik.findtext("required") == "true" and nik.findtext("datatype") == "string"
    visibility = attributes[3]
    assert visibility.findtext("datatype") == "singlevaluelist" and visibility.findtext("required") == "false"
    values = visibility.findall("values/value")
    assert [v.findtext("key") for v in values] == ["publik", "anonim", "rahasia"]
    assert all(children(v) == ["key", "name"] and v.findtext("name") for v in values)
    body = json_of(client.get(f"{BASE}/services/DINKESP2KB.json"))
    assert body["service_code"] == "DINKESP2KB"
    assert body["attributes"][4]["code"] == "persetujuan" and body["attributes"][4]["required"] is True
    assert body["attributes"][4]["values"] == [{"key": "ya", "name": "Ya, saya setuju"}]
    assert body["attributes"][0]["order"] == 1


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_unknown_service_code_is_404_with_the_errors_document(client, fmt):
    response = client.get(f"{BASE}/services/TIDAKADA.{fmt}")
    assert response.status_code == 404
    if fmt == "xml":
        root = xml_of(response)
        assert root.tag == "errors" and children(root) == ["error"]
        assert children(root.find("error")) == ["code", "description"]
        assert root.findtext("error/code") == "404"
        assert "service_code" in root.findtext("error/description")
    else:
        body = json_of(response)
        assert body == [{"code": 404, "description": body[0]["description"]}]
        assert "service_code" in body[0]["description"]


def test_unknown_paths_and_methods_answer_with_the_errors_document(client):
    response = client.get(f"{BASE}/tidak-ada.json")
    assert response.status_code == 404 and json_of(response)[0]["code"] == 404
    response = client.delete(f"{BASE}/services.xml")
    assert response.status_code == 405 and xml_of(response).findtext("error/code") == "405"
    response = client.get(f"{BASE}/services.xml?x=a%00b")
    assert response.status_code == 400 and xml_of(response).findtext("error/code") == "400"


# --------------------------------------------------------------------------- POST requests


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_post_creates_a_complaint_like_the_public_form(app, client, key, fmt):
    from app.extensions import db
    from app.models import AuditLog, Complaint, Open311Key, Outbox
    from app.services import track
    from app.workflow import State

    response = client.post(f"{BASE}/requests.{fmt}", data=request_form(key))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    if fmt == "xml":
        root = xml_of(response)
        assert root.tag == "service_requests" and children(root) == ["request"]
        request = root.find("request")
        assert children(request) == ["service_request_id", "service_notice", "account_id"]
        ticket, notice = request.findtext("service_request_id"), request.findtext("service_notice")
    else:
        body = json_of(response)
        assert list(body[0]) == ["service_request_id", "service_notice", "account_id"]
        ticket, notice = body[0]["service_request_id"], body[0]["service_notice"]
        assert body[0]["account_id"] is None
    complaint = db.session.scalar(sa.select(Complaint).where(Complaint.ticket == ticket))
    assert complaint.channel == "open311" and complaint.channel_source == "aplikasi-warga"
    assert complaint.state is State.MENUNGGU_VERIFIKASI  # in the validator's NIK queue
    assert complaint.opd.code == "DINKESP2KB" and complaint.location == "Puskesmas Sukodono"
    assert complaint.name == "Budi Santoso" and complaint.visibility.value == "publik"
    assert complaint.nik_structural_ok is True
    pin = re.search(r"PIN pelacakan: (\S+)", notice).group(1)
    assert track(ticket, pin.rstrip(" (")).id == complaint.id  # the PIN in the notice opens the tracking
    # the same notification as the public form: the receipt e-mail
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Outbox)
                             .where(Outbox.complaint_id == complaint.id)) == 1
    row = db.session.scalar(sa.select(Open311Key).where(Open311Key.name == "aplikasi-warga"))
    assert row.last_used_at is not None and row.key_hash != key and key not in row.key_hash
    used = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "open311.key.use"))
    assert used.complaint_id == complaint.id and json.loads(used.detail)["name"] == "aplikasi-warga"
    submitted = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "complaint.submit"))
    assert json.loads(submitted.detail) == {"ticket": ticket, "channel": "open311", "source": "aplikasi-warga"}
    assert submitted.username == "open311:aplikasi-warga"


def test_post_name_from_first_and_last_name_and_location_from_coordinates(app, client, key):
    from app.extensions import db
    from app.models import Complaint

    form = request_form(key, **{"attribute[nama]": None, "address_string": None, "attribute[visibilitas]": None},
                        first_name="Siti", last_name="Aminah", lat="-8.1335", long="113.2248")
    response = client.post(f"{BASE}/requests.json", data=form)
    assert response.status_code == 200, response.get_data(as_text=True)
    complaint = db.session.scalar(sa.select(Complaint))
    assert complaint.name == "Siti Aminah" and complaint.location == "-8.133500, 113.224800"
    assert complaint.visibility.value == "anonim"  # the public form's default


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_post_without_or_with_a_wrong_key_is_403(app, client, key, fmt):
    from app.extensions import db
    from app.models import AuditLog, Complaint

    for api_key in (None, "", "o311_salah", key + "x", "x" * 5000):
        response = client.post(f"{BASE}/requests.{fmt}", data=request_form(api_key))
        assert response.status_code == 403
        if fmt == "xml":
            assert xml_of(response).findtext("error/code") == "403"
            assert "api_key" in xml_of(response).findtext("error/description")
        else:
            assert json_of(response)[0]["code"] == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 0
    refused = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "open311.key.refused")).all()
    assert len(refused) == 5 and all(key not in (r.detail or "") for r in refused)


def test_a_revoked_key_is_refused_and_says_so(app, client, key, runner):
    from app.extensions import db
    from app.models import AuditLog, Complaint

    assert client.post(f"{BASE}/requests.json", data=request_form(key)).status_code == 200
    result = runner.invoke(args=["open311", "key", "revoke", "aplikasi-warga"])
    assert result.exit_code == 0, result.output
    response = client.post(f"{BASE}/requests.json", data=request_form(key, **{"attribute[nik]": VALID_NIK_F}))
    assert response.status_code == 403 and "dicabut" in json_of(response)[0]["description"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 1
    refusal = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "open311.key.refused"))
    assert json.loads(refusal.detail) == {"reason": "revoked", "name": "aplikasi-warga"}


def test_field_errors_name_the_open311_parameter(app, client, key):
    from app.extensions import db
    from app.models import Complaint

    form = request_form(key, **{"attribute[nik]": "1234", "attribute[persetujuan]": None, "phone": None,
                                "service_code": "TIDAKADA", "description": "x" * 4001})
    response = client.post(f"{BASE}/requests.xml", data=form)
    assert response.status_code == 400
    errors = xml_of(response).findall("error")
    described = {e.findtext("description").split(":")[0] for e in errors}
    assert {"attribute[nik]", "attribute[persetujuan]", "phone", "service_code", "description"} <= described
    assert all(e.findtext("code") == "400" for e in errors)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 0
    # 4,000 characters is the limit, not more
    response = client.post(f"{BASE}/requests.json", data=request_form(key, description="y" * 4000))
    assert response.status_code == 200


def test_duplicate_and_bad_coordinates_are_400(app, client, key):
    assert client.post(f"{BASE}/requests.json", data=request_form(key)).status_code == 200
    again = client.post(f"{BASE}/requests.json", data=request_form(key))
    assert again.status_code == 400 and json_of(again)[0]["code"] == 400
    for lat, lon in (("91", "10"), ("abc", "10"), ("nan", "1"), ("-8.1", None)):
        form = request_form(key, **{"address_string": None, "attribute[nik]": VALID_NIK_F}, lat=lat, long=lon)
        response = client.post(f"{BASE}/requests.json", data=form)
        assert response.status_code == 400, (lat, lon)
        assert any(e["description"].startswith(("lat", "long")) for e in json_of(response))


# --------------------------------------------------------------------------- GET requests


@pytest.fixture
def world(app, published, actor):
    """Complaints of every visibility, one answered, one waiting (unpublished), one invalid."""
    from app.services import answer, decide_nik, submit

    made = {}
    made["publik"] = published(visibility="publik", name="Budi Santoso", email="budi@contoh.id",
                               address="Jl. Kenanga 7", text="Budi Santoso melapor: antrean lama, hubungi 0812-9999-1111.")
    made["anonim"] = published(visibility="anonim", name="Siti Aminah", nik=VALID_NIK_F, email="siti@contoh.id",
                               text="Saya Siti Aminah, obat di puskesmas habis.")
    made["rahasia"] = published(visibility="rahasia", name="Rahasia Orang", title="Pungli petugas",
                                text="Ada pungli oleh petugas loket (rahasia).", nik="3508011203900011")
    answer(made["anonim"].id, actor("opd.dinkes"), "Stok obat sudah ditambah sejak Senin.")
    made["waiting"] = submit(_sub(name="Menunggu Verif", text="Belum diverifikasi.", nik="3508011203900029"))
    made["invalid"] = decide_nik(submit(_sub(name="Tidak Valid", text="NIK salah.", nik="3508011203900037"))
                                 .complaint.id, actor("validator"), valid=False, remark="NIK tidak cocok")
    return made


def _sub(**changes):
    from app.services import SubmitInput

    values = dict(name="Warga", nik=VALID_NIK, phone="0812-3456-7890", opd_code="DINKESP2KB", title="Judul uji",
                  text="Teks uji.", visibility="publik", consent=True)
    values.update(changes)
    return SubmitInput(**values)


PERSONAL = ("Budi Santoso", "Siti Aminah", "Rahasia Orang", VALID_NIK, VALID_NIK_F, "3508011203900011",
            "budi@contoh.id", "siti@contoh.id", "Jl. Kenanga 7", "0812-3456-7890", "0812-9999-1111", "Pungli",
            "Menunggu Verif", "Tidak Valid")


def test_requests_list_elements_dates_and_statuses(app, client, world):
    root = xml_of(client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests"
    requests = {r.findtext("service_request_id"): r for r in root.findall("request")}
    assert set(requests) == {world["publik"].ticket, world["anonim"].ticket}  # published only
    for node in requests.values():
        assert children(node) == REQUEST_FIELDS
        for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
            assert W3C.match(node.findtext(name)), (name, node.findtext(name))
        assert node.findtext("service_code") == "DINKESP2KB"
        assert node.findtext("agency_responsible") == node.findtext("service_name")
    answered = requests[world["anonim"].ticket]
    assert answered.findtext("status") == "closed"
    assert answered.findtext("status_notes") == "Stok obat sudah ditambah sejak Senin."
    assert requests[world["publik"].ticket].findtext("status") == "open"
    assert requests[world["publik"].ticket].findtext("status_notes") in ("", None)
    listed = json_of(client.get(f"{BASE}/requests.json"))
    assert {r["service_request_id"] for r in listed} == set(requests)
    assert all(list(r) == REQUEST_FIELDS for r in listed)
    item = next(r for r in listed if r["service_request_id"] == world["anonim"].ticket)
    from app.timeutil import to_wib

    complaint = world["anonim"]
    assert item["requested_datetime"] == to_wib(complaint.submitted_at).isoformat(timespec="seconds")
    assert item["expected_datetime"] == to_wib(complaint.answer_deadline).isoformat(timespec="seconds")
    assert datetime.fromisoformat(item["updated_datetime"]) >= datetime.fromisoformat(item["requested_datetime"])


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_nothing_personal_in_any_get(app, client, world, fmt):
    paths = [f"{BASE}/requests.{fmt}", f"{BASE}/services.{fmt}", f"{BASE}/services/DINKESP2KB.{fmt}",
             f"{BASE}/discovery.{fmt}"]
    paths += [f"{BASE}/requests/{c.ticket}.{fmt}" for c in (world["publik"], world["anonim"])]
    paths.append(f"{BASE}/requests.{fmt}?service_request_id=" + ",".join(
        c.ticket for c in (world["publik"], world["anonim"], world["rahasia"], world["invalid"])))
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        for value in PERSONAL:
            if value == "Budi Santoso":
                continue  # publik: the name is public, in the text the complainant wrote (checked below)
            assert value not in body, (path, value)
        assert "0812" not in body and "@contoh.id" not in body
    # publik shows its own text as the portal does, personal data inside it masked
    one = client.get(f"{BASE}/requests/{world['publik'].ticket}.{fmt}").get_data(as_text=True)
    assert "antrean lama" in one and "0812-9999-1111" not in one
    anonim = client.get(f"{BASE}/requests/{world['anonim'].ticket}.{fmt}").get_data(as_text=True)
    assert "Siti" not in anonim and "obat di puskesmas habis" in anonim
    for hidden in ("rahasia", "waiting", "invalid"):
        complaint = world[hidden]
        ticket = complaint.complaint.ticket if hasattr(complaint, "complaint") else complaint.ticket
        response = client.get(f"{BASE}/requests/{ticket}.{fmt}")
        assert response.status_code == 404, hidden
        assert "Pungli" not in response.get_data(as_text=True)


def test_filters_service_code_status_ids(app, client, world, published):
    other = published(opd_code="DPUTR", title="Jalan rusak", text="Jalan berlubang.", nik="3508011203900045")
    codes = lambda q: {r["service_request_id"] for r in json_of(client.get(f"{BASE}/requests.json{q}"))}  # noqa: E731
    assert codes("?service_code=DPUTR") == {other.ticket}
    assert codes("?service_code=DPUTR,DINKESP2KB") == {other.ticket, world["publik"].ticket, world["anonim"].ticket}
    assert codes("?status=closed") == {world["anonim"].ticket}
    assert codes("?status=open") == {other.ticket, world["publik"].ticket}
    assert codes("?status=open,closed") == codes("")
    assert codes(f"?service_request_id={other.ticket.lower()}") == {other.ticket}
    # service_request_id overrides the other filters
    assert codes(f"?service_request_id={other.ticket}&service_code=DINKESP2KB&status=closed") == {other.ticket}
    for bad in ("?status=pending", "?start_date=kemarin", "?end_date=2026-02-30T00:00:00Z",
                "?start_date=2026-01-01T00:00:00Z&end_date=2026-05-01T00:00:00Z",
                "?start_date=2026-03-01&end_date=2026-02-01", "?service_code=" + "X" * 40,
                "?service_request_id=" + ",".join(f"T{i}" for i in range(1001))):
        response = client.get(f"{BASE}/requests.json{bad}")
        assert response.status_code == 400, bad
        assert json_of(response)[0]["code"] == 400 and json_of(response)[0]["description"]


def test_dates_default_to_the_last_90_days(app, client, published):
    from app.timeutil import from_wib

    start = datetime(2026, 1, 10, 9, 0)
    with time_machine.travel(from_wib(start).replace(tzinfo=None).isoformat() + "Z", tick=False):
        old = published(title="Lama", text="Pengaduan lama.")
    with time_machine.travel(from_wib(start + timedelta(days=100)).isoformat() + "Z", tick=False):
        new = published(title="Baru", text="Pengaduan baru.", nik=VALID_NIK_F)
        ids = lambda q: {r["service_request_id"] for r in json_of(client.get(f"{BASE}/requests.json{q}"))}  # noqa: E731
        assert ids("") == {new.ticket}  # the old one is 100 days old
        assert ids("?start_date=2026-01-01T00:00:00%2B07:00") == {old.ticket}  # 90 days from the start
        assert ids("?start_date=2026-01-10T09:00:00%2B07:00&end_date=2026-01-10T09:00:00%2B07:00") == {old.ticket}
        assert ids("?start_date=2026-01-10T02:00:01Z&end_date=2026-03-01T00:00:00Z") == set()  # UTC, 1 s after
        assert ids("?end_date=2026-04-20T23:59:59%2B07:00") == {new.ticket}  # 90 days back from the end
        assert ids(f"?service_request_id={old.ticket}") == {old.ticket}  # ids are not limited to 90 days


def test_at_most_1000_requests(app, client, monkeypatch, world):
    from app.services import open311

    # The limit changes between two requests of the same URL without any commit: no cached page between them.
    app.config["PUBLIC_PAGE_CACHE_SECONDS"], kept = 0, app.config["PUBLIC_PAGE_CACHE_SECONDS"]
    monkeypatch.setattr(open311, "MAX_REQUESTS", 1)
    assert len(json_of(client.get(f"{BASE}/requests.json"))) == 1
    monkeypatch.undo()
    assert open311.MAX_REQUESTS == 1000
    try:
        assert len(json_of(client.get(f"{BASE}/requests.json"))) == 2
    finally:
        app.config["PUBLIC_PAGE_CACHE_SECONDS"] = kept


def test_one_request_xml_and_json(app, client, world):
    ticket = world["anonim"].ticket
    root = xml_of(client.get(f"{BASE}/requests/{ticket}.xml"))
    assert root.tag == "service_requests" and len(root.findall("request")) == 1
    assert root.findtext("request/service_request_id") == ticket
    assert root.findtext("request/status_notes") == "Stok obat sudah ditambah sejak Senin."
    body = json_of(client.get(f"{BASE}/requests/{ticket.lower()}.json"))
    assert isinstance(body, list) and body[0]["service_request_id"] == ticket
    missing = client.get(f"{BASE}/requests/LMJ-2026-999999.xml")
    assert missing.status_code == 404 and xml_of(missing).findtext("error/code") == "404"


@pytest.fixture(scope="module")
def _limited_app(app, database_url):
    from app.extensions import limiter

    from tests.conftest import build_app

    was_enabled = limiter.enabled
    yield build_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                    OPEN311_RATE_LIMIT="2 per hour", WTF_CSRF_ENABLED=True)
    limiter.enabled = was_enabled


@pytest.fixture
def limited_app(_limited_app):
    """The limits and CSRF on, as in production (tests/conftest.py `limits_on`)."""
    from tests.limits_support import limits_on

    with limits_on():
        yield _limited_app


def test_the_post_is_rate_limited_per_key_and_needs_no_csrf_token(limited_app, key):
    client = limited_app.test_client()
    statuses = [client.post(f"{BASE}/requests.json", data=request_form(key, description=f"Teks nomor {i}."))
                .status_code for i in range(2)]
    assert statuses == [200, 200]  # no CSRF token needed (the api_key authenticates)
    refused = client.post(f"{BASE}/requests.xml", data=request_form(key, **{"attribute[nik]": VALID_NIK_F}))
    assert refused.status_code == 429 and xml_of(refused).findtext("error/code") == "429"
    other = client.post(f"{BASE}/requests.json", data=request_form("o311_lain"))
    assert other.status_code == 403  # another key has its own budget: refused for the key, not the rate
