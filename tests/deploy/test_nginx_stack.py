"""`make test-deploy` (issue 19): the project's nginx site in front of two gunicorn nodes, one database, one
Redis, two schedulers (tests/deploy/stack.py). Needs Debian's nginx: without it the tests fail, never skip."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests
import sqlalchemy as sa
import urllib3

from tests.deploy import stack as stack_module
from tests.deploy.stack import AUTH_LIMIT, MAX_CONTENT_LENGTH, PASSWORD, UPLOAD_MAX_BYTES, wait_until

pytestmark = pytest.mark.deploy
urllib3.disable_warnings()
FORGED = "203.0.113.77"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    built = stack_module.build(tmp_path_factory.mktemp("deploy"))
    yield built
    built.close()


def _session(stack) -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would replace our certificate
    s.verify = str(stack.certificate)
    s.headers["Referer"] = f"{stack.https}/"  # as a browser sends it: CSRF over HTTPS checks it
    return s


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _login(stack, s, password=PASSWORD, headers=None):
    token = _csrf(s.get(f"{stack.https}/login/", timeout=10).text)
    return s.post(f"{stack.https}/login/", data={"username": "admin", "password": password, "csrf_token": token},
                  headers=headers or {}, allow_redirects=False, timeout=10)


def _submit(stack, s, attachment: bytes, n: int):
    token = _csrf(s.get(f"{stack.https}/pengaduan/baru", timeout=10).text)
    form = {"csrf_token": token, "name": "Budi Santoso", "nik": "3508011203900001", "phone": "0812-3456-7890",
            "opd": "DINKESP2KB", "title": f"Jalan berlubang {n}", "visibility": "anonim", "consent": "ya",
            "text": f"Jalan di depan pasar berlubang, mohon segera diperbaiki ({n})."}
    return s.post(f"{stack.https}/pengaduan/baru", data=form, files={"attachments": ("bukti.pdf", attachment,
                                                                                      "application/pdf")},
                  allow_redirects=False, timeout=30)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n"


def _pdf(size: int) -> bytes:
    end = b"\n%%EOF\n"
    return PDF + b"%" * (size - len(PDF) - len(end)) + end


def _rows(stack, sql: str, **params) -> list:
    engine = sa.create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).all()
    finally:
        engine.dispose()


def _upstreams(stack, request_ids: set[str]) -> set[str]:
    time.sleep(0.3)  # nginx writes its access line after the response
    return {e["upstream"] for e in stack.access_entries() if e["request_id"] in request_ids}


def test_plain_http_redirects_to_https(stack):
    response = requests.get(f"http://localhost:{stack.http_port}/pengaduan/?x=1", allow_redirects=False, timeout=5)
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://localhost:{stack.https_port}/pengaduan/?x=1"


def test_https_answers_with_one_hsts_header(stack):
    response = _session(stack).get(f"{stack.https}/", timeout=10)
    assert response.status_code == 200
    hsts = response.raw.headers.getlist("Strict-Transport-Security")
    assert hsts == ["max-age=31536000; includeSubDomains"], hsts


def test_static_files_are_fingerprinted_and_cached_by_nginx(stack):
    s = _session(stack)
    home = s.get(f"{stack.https}/", timeout=10).text
    login = s.get(f"{stack.https}/login/", timeout=10).text
    ours = re.search(r'/static/public/portal\.[0-9a-f]{12}\.css', home)
    fab = re.search(r'/static/appbuilder/[^"\']+\.[0-9a-f]{12}\.(?:js|css)', login)
    assert ours and fab, "static URLs are not fingerprinted"
    for url in (ours.group(0), fab.group(0)):
        response = s.get(stack.https + url, timeout=10)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.raw.headers.getlist("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains"]
        assert "X-Request-ID" not in response.headers  # nginx answered from disk; no web node was asked
    plain = s.get(f"{stack.https}/static/public/portal.css", timeout=10)
    assert plain.status_code == 200 and "max-age=86400" in plain.headers["Cache-Control"]


def test_an_attachment_at_the_limit_is_stored_and_a_request_over_the_limit_gets_the_413_page(stack):
    s = _session(stack)
    at_limit = _submit(stack, s, _pdf(UPLOAD_MAX_BYTES), 1)
    assert at_limit.status_code == 303, at_limit.status_code  # stored; on to the ticket page
    sizes = _rows(stack, "SELECT size FROM attachment")
    assert sizes == [(UPLOAD_MAX_BYTES,)], sizes
    over_file = _submit(stack, s, _pdf(UPLOAD_MAX_BYTES + 1), 2)
    assert over_file.status_code == 400 and "lebih dari" in over_file.text  # the app's own form error
    # A whole request over MAX_CONTENT_LENGTH never reaches a node: nginx answers with its Indonesian page.
    boundary = "lpoboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"a.pdf\"\r\n\r\n"
            ).encode() + b"x" * MAX_CONTENT_LENGTH + f"\r\n--{boundary}--\r\n".encode()
    over = s.post(f"{stack.https}/pengaduan/baru", data=body, timeout=20,
                  headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert over.status_code == 413
    assert "Kiriman terlalu besar" in over.text and 'lang="id"' in over.text
    assert "X-Request-ID" not in over.headers  # nginx's page, not a node's
    assert over.raw.headers.getlist("Strict-Transport-Security")
    assert len(_rows(stack, "SELECT id FROM complaint")) == 1  # only the first one was stored


def test_health_through_nginx_sees_both_database_and_redis(stack):
    body = _session(stack).get(f"{stack.https}/health", timeout=10).json()
    assert body["database"] == "ok" and body["checks"]["redis"] == {"ok": True}


def test_the_history_log_holds_the_real_client_address_and_nginx_request_id(stack):
    s = _session(stack)
    response = _login(stack, s, headers={"X-Forwarded-For": FORGED, "X-Request-ID": "forged-request-id-123"})
    assert response.status_code == 302, response.status_code
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id, not the client's
    rows = _rows(stack, "SELECT ip, request_id FROM audit_log WHERE action = 'login' AND username = 'admin'")
    assert rows and rows[-1] == ("127.0.0.1", request_id)
    assert not _rows(stack, "SELECT id FROM audit_log WHERE ip = :f", f=FORGED)


def test_a_session_is_valid_on_both_nodes(stack):
    s = _session(stack)
    assert _login(stack, s).status_code == 302
    ids = set()
    for _ in range(8):
        response = s.get(f"{stack.https}/staf/kesehatan-sistem/", allow_redirects=False, timeout=10)
        assert response.status_code == 200, response.status_code  # never sent back to sign in
        assert "Kesehatan sistem" in response.text
        ids.add(response.headers["X-Request-ID"])
    assert _upstreams(stack, ids) == {f"127.0.0.1:{p}" for p in stack.node_ports}


def test_a_forged_forwarded_for_does_not_escape_the_sign_in_limit(stack):
    import redis

    redis.Redis.from_url(stack.env["RATELIMIT_STORAGE_URI"]).flushdb()  # earlier sign-ins counted too
    s = _session(stack)
    statuses, ids, refused = [], set(), []
    for i in range(AUTH_LIMIT + 2):
        if i % 2:  # round robin alternates nodes; one more request moves the next sign-in to the other node
            s.get(f"{stack.https}/health", timeout=10)
        response = _login(stack, s, password="salah-sekali", headers={"X-Forwarded-For": f"198.51.100.{i + 1}"})
        statuses.append(response.status_code)
        refused.append("/login/" in response.headers.get("Location", ""))  # back to the form: wrong password
        ids.add(response.headers.get("X-Request-ID"))
    assert statuses[:AUTH_LIMIT] == [302] * AUTH_LIMIT and all(refused[:AUTH_LIMIT]), (statuses, refused)
    assert statuses[AUTH_LIMIT:] == [429, 429], statuses  # the sixth address did not buy a fresh limit
    # Counted in Redis: the attempts went to both nodes and still hit one limit.
    assert _upstreams(stack, ids) == {f"127.0.0.1:{p}" for p in stack.node_ports}


def test_one_scheduler_runs_jobs_and_the_other_takes_over(stack):
    argv = [str(stack_module.BIN / "flask"), "--app", "run", "scheduler", "run", "--retry-seconds", "1",
            "--heartbeat-seconds", "1"]
    stack.start("scheduler1", argv)
    wait_until(lambda: "lock acquired" in stack.logs["scheduler1"].read_text(), 60, "scheduler 1",
               stack.processes["scheduler1"], stack.logs["scheduler1"])
    stack.start("scheduler2", argv)
    wait_until(lambda: "another scheduler holds the lock" in stack.logs["scheduler2"].read_text(), 60,
               "scheduler 2 idle", stack.processes["scheduler2"], stack.logs["scheduler2"])
    time.sleep(3)  # several retry periods of the second one
    assert "lock acquired" not in stack.logs["scheduler2"].read_text()
    s = _session(stack)
    health = s.get(f"{stack.https}/health", timeout=10).json()
    assert health["checks"]["scheduler"]["ok"] is True and health["checks"]["scheduler"]["heartbeat_age_seconds"] <= 5
    # JSON log lines from the scheduler.
    lines = [json.loads(line) for line in stack.logs["scheduler1"].read_text().splitlines() if line.startswith("{")]
    assert any(line["message"].startswith("scheduler: lock acquired") for line in lines)

    stack.stop("scheduler1")
    wait_until(lambda: "lock acquired" in stack.logs["scheduler2"].read_text(), 30, "takeover by scheduler 2",
               stack.processes["scheduler2"], stack.logs["scheduler2"])
    stack.stop("scheduler2")
