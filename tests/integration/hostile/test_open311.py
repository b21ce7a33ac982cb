"""Hostile input on the Open311 GeoReport v2 server (/open311/v2/, issue 15) and its key screen: every
parameter of the POST with every corpus value (a 400 with the standard's errors document, never a 500,
nothing stored), the GET filters, ids and codes in the path, odd formats; the key screen's name and ids."""

from __future__ import annotations

import itertools
import re
from urllib.parse import quote

from tests.conftest import VALID_NIK

from .corpus import DATES, INTEGERS, SHORT, TEXT, form, text_values, url

ENDPOINTS = {"open311.discovery", "open311.services", "open311.service_definition", "open311.create_request",
             "open311.list_requests", "open311.one_request",
             "Open311KeyView.list", "Open311KeyView.create", "Open311KeyView.revoke"}

BASE = "/open311/v2"
ALWAYS_REFUSED = ("nul", "nul_only", "controls", "c1", "rtl_override", "rtl_isolate", "noncharacter")
FREE_TEXT_OK = ("html", "sql", "sql_like", "format", "emoji", "arabic", "combining", "zalgo", "markers",
                "homoglyph", "zero_width_inside", "fullwidth")
PARAMETERS = ("attribute[nik]", "attribute[nama]", "attribute[judul]", "attribute[visibilitas]",
              "attribute[persetujuan]", "attribute[alamat_pengadu]", "phone", "email", "description",
              "address_string", "service_code", "lat", "long", "first_name", "jurisdiction_id", "media_url",
              "api_key")
STORED_TEXT = ("attribute[nik]", "attribute[nama]", "attribute[judul]", "attribute[alamat_pengadu]", "phone", "email",
               "description", "address_string")


def _key(app) -> str:
    from app.services.common import Actor
    from app.services.open311 import create_key
    from app.workflow import Role

    return create_key("hostile", Actor(roles=frozenset({Role.SYSTEM}), username="uji"))[1]


def test_every_parameter_of_the_post(app, clients, probe):
    client = clients["anon"]
    api_key = _key(app)
    counter = itertools.count(1)

    def request_form(**changes):
        n = next(counter)
        data = {"api_key": api_key, "service_code": "DINKESP2KB", "attribute[nik]": VALID_NIK,
                "attribute[nama]": "Budi Santoso", "attribute[judul]": f"Jalan rusak {n}",
                "attribute[persetujuan]": "ya", "phone": "0812-3456-7890",
                "description": f"Jalan di depan pasar berlubang ({n})."}
        if "first_name" in changes:
            data.pop("attribute[nama]")
        data.update(changes)
        return data

    for name in PARAMETERS:
        # the full corpus for what is stored as text; the short one for choices, numbers and the key
        for label, value in text_values(TEXT if name in STORED_TEXT else {**SHORT, "one_mb": TEXT["one_mb"]}):
            fmt = "json" if next(counter) % 2 else "xml"
            response = probe.call(client, "POST", f"{BASE}/requests.{fmt}", label=f"POST {name}={label}",
                                  **form(request_form(**{name: value})))
            if response is None:
                continue
            status = response.status_code
            if name == "api_key":
                if status != 403:
                    probe.fail(f"POST api_key={label}: expected 403, got {status}")
                continue
            if label in ALWAYS_REFUSED and name not in ("jurisdiction_id", "media_url") and status != 400:
                probe.fail(f"POST {name}={label}: expected 400, got {status}")
            if status == 400 and fmt == "xml" and "<errors><error><code>400</code>" not in response.get_data(
                    as_text=True):
                probe.fail(f"POST {name}={label}: a 400 without the errors document")
            if name in ("description", "address_string", "attribute[judul]", "attribute[alamat_pengadu]") \
                    and label in FREE_TEXT_OK and status != 200:
                probe.fail(f"POST {name}={label}: expected the complaint to be stored (200), got {status}")
    # a body that is not a form, a huge one, a repeated parameter
    for label, (content_type, body) in {
        "json": ("application/json", b'{"api_key": "x"}'),
        "bad utf-8": ("application/x-www-form-urlencoded", b"api_key=%ff%fe&description=%c0%af"),
        "oversized": ("application/x-www-form-urlencoded", b"description=" + b"a" * (21 * 1024 * 1024)),
        "multipart garbage": ("multipart/form-data; boundary=x", b"\x00\xff" * 500),
    }.items():
        response = probe.call(client, "POST", f"{BASE}/requests.xml", label=f"POST {label}", data=body,
                              content_type=content_type)
        if response is not None and response.status_code < 400:
            probe.fail(f"POST {label}: expected a refusal, got {response.status_code}")
    probe.call(client, "POST", f"{BASE}/requests.json", label="POST repeated",
               **form([*request_form().items(), ("description", TEXT["nul"]), ("api_key", "x")]))
    probe.assert_clean()


def test_get_filters_ids_codes_and_formats(app, clients, probe, world):
    client = clients["anon"]
    published = [world.routed(), world.answered()]
    for name in ("service_request_id", "service_code", "status", "start_date", "end_date", "jurisdiction_id"):
        for label, value in text_values(SHORT):
            probe.call(client, "GET", url(f"{BASE}/requests.json", {name: value}), label=f"list {name}={label}")
    for name in ("start_date", "end_date"):
        for value in [*DATES, "2026-01-01T25:00:00Z", "2026-01-01T00:00:00+99:00", "2026-01-01T00:00:00.1234567Z"]:
            probe.call(client, "GET", url(f"{BASE}/requests.xml", {name: value}), label=f"list {name}={value[:20]!r}")
    probe.call(client, "GET", url(f"{BASE}/requests.json", [("status", "open"), ("status", "x" * 5000),
                                                             ("service_code", ",,,," * 1000)]), label="repeated")
    probe.call(client, "GET", url(f"{BASE}/requests.json", {"service_request_id": ",".join(["A"] * 5000)}),
               label="many ids")
    for label, value in [*text_values(SHORT), ("lower", published[0].ticket.lower()), *[(v, v) for v in INTEGERS]]:
        path = quote(value.encode("utf-8", "surrogatepass"), safe="")
        probe.call(client, "GET", f"{BASE}/requests/{path}.json", label=f"one {label[:20]!r}")
        probe.call(client, "GET", f"{BASE}/services/{path}.xml", label=f"definition {label[:20]!r}")
    for path in ("/discovery", "/services", "/requests"):
        for suffix in (".XML", ".xml/", ".yaml", "", ".json.xml", ".xml%00"):
            probe.call(client, "GET", f"{BASE}{path}{suffix}", label=f"format {path}{suffix}")
        for label, value in text_values(SHORT):
            probe.call(client, "GET", url(f"{BASE}{path}.xml", {"x": value}), label=f"{path} ?x={label}")
    probe.assert_clean()


def test_the_key_screen(app, clients, probe):
    from app.extensions import db
    from app.models import Open311Key

    import sqlalchemy as sa

    client = clients["admin"]
    for label, value in text_values():
        response = probe.call(client, "POST", "/staf/open311/buat", label=f"key name={label}",
                              **form({"name": value}))
        if response is not None and label in ALWAYS_REFUSED and response.status_code != 400:
            probe.fail(f"key name={label}: expected 400, got {response.status_code}")
        if response is not None and response.status_code == 200:
            shown = re.search(r'<code id="api-key">(o311_[^<]+)</code>', response.get_data(as_text=True))
            if shown is None:
                probe.fail(f"key name={label}: created without showing the key")
    for value in INTEGERS:
        probe.call(client, "POST", f"/staf/open311/{quote(value, safe='')}/cabut", label=f"revoke {value[:20]!r}",
                   **form({}))
    for label, value in text_values(SHORT):
        probe.call(client, "GET", url("/staf/open311/", {"x": value}), label=f"list ?x={label}")
    probe.assert_clean()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Open311Key)) > 0
