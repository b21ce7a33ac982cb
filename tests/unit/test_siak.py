"""Unit tests for app.siak: HTTP adapter against a local fake SIAK, offline registry, factory."""
from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
import time
from datetime import date

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app.siak import (
    VERDICT_LABELS,
    FakeSiakAdapter,
    HttpSiakAdapter,
    HttpSiakConfig,
    NotConfiguredAdapter,
    OfflineRegistryAdapter,
    RegistryRecord,
    SiakAdapter,
    SiakResult,
    Verdict,
    build_adapter,
    name_score,
    parse_registry_csv,
)

NIK = "3508014507900001"
PATH = "/dukcapil/get_json/LUMAJANG/CALL_NIK"
USER_ID = "lmj-user-7c1f"
PASSWORD = "S3cret!pw-9a8b"
BIRTH = date(1990, 7, 5)


def adapter_for(server: HTTPServer, **overrides) -> HttpSiakAdapter:
    kwargs = dict(base_url=server.url_for("/").rstrip("/"), method_path=PATH, user_id=USER_ID,
                  password=PASSWORD, ip_user="10.20.30.40", backoff=0, allow_insecure=True)
    kwargs.update(overrides)
    return HttpSiakAdapter(HttpSiakConfig(**kwargs))


def envelope(**record) -> dict:
    return {"content": [record], "lastPage": True, "numberOfElements": 1}


def found(name="Sesuai (100)", tgl="Sesuai") -> dict:
    return envelope(NIK="Sesuai", NAMA_LGKP=name, TGL_LHR=tgl, RESPONSE_CODE="01")


# ------------------------------------------------------------------------------------------- HTTP verdicts
def test_match(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json(found())
    result = adapter_for(httpserver).verify(NIK, "Siti Aminah", BIRTH)
    assert result.verdict is Verdict.MATCH
    assert result.score == 100 and result.mismatched == ()
    assert result.checked_at.tzinfo is not None and result.checked_at.utcoffset().total_seconds() == 0
    assert isinstance(result, SiakResult) and result.label == "Data sesuai"


def test_mismatch_low_name_score_and_element_tidak_sesuai(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_json(found(name="Sesuai (72)", tgl="Tidak Sesuai"))
    result = adapter_for(httpserver).verify(NIK, "Siti Aminah", BIRTH)
    assert result.verdict is Verdict.MISMATCH
    assert result.score == 72
    assert result.mismatched == ("NAMA_LGKP", "TGL_LHR")


def test_mismatch_name_tidak_sesuai_with_score(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_json(found(name="Tidak Sesuai (40)"))
    result = adapter_for(httpserver).verify(NIK, "Orang Lain", BIRTH)
    assert (result.verdict, result.score, result.mismatched) == (Verdict.MISMATCH, 40, ("NAMA_LGKP",))


@pytest.mark.parametrize("code, verdict", [
    ("13", Verdict.NOT_FOUND), ("11", Verdict.DECEASED), ("14", Verdict.INACTIVE),
    ("05", Verdict.UNAVAILABLE), ("06", Verdict.UNAVAILABLE), ("08", Verdict.UNAVAILABLE),
    ("12", Verdict.UNAVAILABLE), ("15", Verdict.NOT_FOUND), ("03", Verdict.CONFIG_ERROR),
    ("04", Verdict.CONFIG_ERROR), ("07", Verdict.CONFIG_ERROR), ("09", Verdict.CONFIG_ERROR),
    ("10", Verdict.CONFIG_ERROR), ("16", Verdict.CONFIG_ERROR), ("17", Verdict.CONFIG_ERROR),
    ("99", Verdict.UNAVAILABLE),
])
def test_response_codes(httpserver: HTTPServer, code: str, verdict: Verdict) -> None:
    httpserver.expect_request(PATH).respond_with_json(envelope(RESPONSE_CODE=code, RESPON="x"))
    result = adapter_for(httpserver).verify(NIK, "Siti Aminah", BIRTH)
    assert result.verdict is verdict
    assert f"kode {code}" in result.reason
    assert len(httpserver.log) == 1  # a parsed answer is never retried


def test_quota_and_login_reasons(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(PATH).respond_with_json(envelope(RESPONSE_CODE="05"))
    httpserver.expect_oneshot_request(PATH).respond_with_json(envelope(RESPONSE_CODE="03"))
    adapter = adapter_for(httpserver)
    assert adapter.verify(NIK, "A").reason == "Kuota harian habis (kode 05)"
    login = adapter.verify(NIK, "A")
    assert login.verdict is Verdict.CONFIG_ERROR and login.reason == "Login SIAK gagal (kode 03)"


@pytest.mark.parametrize("body, verdict", [
    ({"RESPONSE_CODE": "13", "content": []}, Verdict.NOT_FOUND),                 # code at top level
    ({"RESPONSE_CODE": 11, "content": [{"RESPON": "x"}]}, Verdict.DECEASED),     # top-level int code
    ({"content": {"RESPONSE_CODE": "14"}}, Verdict.INACTIVE),                    # single object content
    ({"content": {"NAMA_LGKP": "Sesuai (95)", "TGL_LHR": "Sesuai"}}, Verdict.MATCH),  # no code at all
    ([{"RESPONSE_CODE": "13"}], Verdict.NOT_FOUND),                              # bare list
    ({"content": [], "lastPage": True}, Verdict.UNAVAILABLE),                    # nothing to go on
    ({"content": [{"NAMA_LGKP": "BUDI SANTOSO"}]}, Verdict.UNAVAILABLE),         # biodata, not verdicts
    (["unexpected"], Verdict.UNAVAILABLE),
])
def test_envelope_shapes(httpserver: HTTPServer, body, verdict: Verdict) -> None:
    httpserver.expect_request(PATH).respond_with_json(body)
    result = adapter_for(httpserver).verify(NIK, "Budi Santoso", BIRTH)
    assert result.verdict is verdict
    assert "BUDI SANTOSO" not in result.reason


def test_missing_date_element_is_not_a_match(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_json(envelope(NAMA_LGKP="Sesuai (100)", RESPONSE_CODE="01"))
    result = adapter_for(httpserver).verify(NIK, "Siti", BIRTH)
    assert result.verdict is Verdict.UNAVAILABLE and "TGL_LHR" in result.reason


def test_malformed_json(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_data("<html>gateway</html>", content_type="text/html")
    result = adapter_for(httpserver).verify(NIK, "Siti", BIRTH)
    assert result.verdict is Verdict.UNAVAILABLE
    assert result.reason == "Jawaban SIAK tidak dapat dibaca"
    assert len(httpserver.log) == 1


# ---------------------------------------------------------------------------------------- retries and HTTP
@pytest.fixture
def threaded_server():
    server = HTTPServer(threaded=True)  # the slow handler must not block later attempts
    server.start()
    yield server
    server.clear()
    server.stop()


def test_timeout_retried_then_unavailable(threaded_server: HTTPServer) -> None:
    attempts: list[float] = []
    lock = threading.Lock()

    def slow(request: Request) -> Response:
        with lock:
            attempts.append(time.monotonic())
        time.sleep(0.8)
        return Response(json.dumps(found()), content_type="application/json")

    threaded_server.expect_request(PATH).respond_with_handler(slow)
    adapter = adapter_for(threaded_server, timeout=0.3, retries=2)
    started = time.monotonic()
    result = adapter.verify(NIK, "Siti", BIRTH)
    assert result.verdict is Verdict.UNAVAILABLE
    assert "Waktu tunggu" in result.reason and "3 percobaan" in result.reason
    assert time.monotonic() - started < 2.5
    time.sleep(0.1)
    assert len(attempts) == 3


def test_500_retried_then_unavailable(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_data("oops", status=500)
    result = adapter_for(httpserver, retries=2).verify(NIK, "Siti", BIRTH)
    assert result.verdict is Verdict.UNAVAILABLE and "HTTP 500" in result.reason
    assert len(httpserver.log) == 3


def test_500_then_200_matches_on_retry(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(PATH).respond_with_data("busy", status=503)
    httpserver.expect_oneshot_request(PATH).respond_with_json(found())
    result = adapter_for(httpserver, retries=2).verify(NIK, "Siti", BIRTH)
    assert result.verdict is Verdict.MATCH
    assert len(httpserver.log) == 2


@pytest.mark.parametrize("status, verdict", [
    (400, Verdict.CONFIG_ERROR), (401, Verdict.CONFIG_ERROR), (403, Verdict.CONFIG_ERROR),
    (404, Verdict.CONFIG_ERROR), (429, Verdict.UNAVAILABLE),
])
def test_4xx_not_retried(httpserver: HTTPServer, status: int, verdict: Verdict) -> None:
    httpserver.expect_request(PATH).respond_with_data("no", status=status)
    result = adapter_for(httpserver, retries=2).verify(NIK, "Siti", BIRTH)
    assert result.verdict is verdict and f"HTTP {status}" in result.reason
    assert len(httpserver.log) == 1


def test_4xx_with_siak_code_uses_the_code(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_json(envelope(RESPONSE_CODE="13"), status=404)
    assert adapter_for(httpserver).verify(NIK, "Siti").verdict is Verdict.NOT_FOUND


def test_redirect_not_followed(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_data("", status=302, headers={"Location": "http://evil.test/"})
    result = adapter_for(httpserver).verify(NIK, "Siti", BIRTH)
    assert result.verdict is Verdict.CONFIG_ERROR and len(httpserver.log) == 1


def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cfg = HttpSiakConfig(base_url=f"http://127.0.0.1:{port}", method_path=PATH, user_id=USER_ID,
                         password=PASSWORD, ip_user="10.0.0.1", retries=1, backoff=0, allow_insecure=True)
    result = HttpSiakAdapter(cfg).verify(NIK, "Siti", BIRTH)
    assert result.verdict is Verdict.UNAVAILABLE and "2 percobaan" in result.reason


def test_invalid_nik_is_not_sent(httpserver: HTTPServer) -> None:
    result = adapter_for(httpserver).verify("12345", "Siti", BIRTH)
    assert result.verdict is Verdict.NOT_FOUND and httpserver.log == []


@pytest.mark.parametrize("fmt, expected", [("%d-%m-%Y", "05-07-1990"), ("%Y-%m-%d", "1990-07-05")])
def test_request_body(httpserver: HTTPServer, fmt: str, expected: str) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json(found())
    adapter_for(httpserver, date_format=fmt, threshold=85).verify("3508-0145-0790-0001", " siti  aminah ", BIRTH)
    request = httpserver.log[0][0]
    assert request.headers["Content-Type"] == "application/json"
    assert request.get_json() == {
        "NIK": NIK, "NAMA_LGKP": "SITI AMINAH", "TGL_LHR": expected, "USER_ID": USER_ID,
        "PASSWORD": PASSWORD, "IP_USER": "10.20.30.40", "TRESHOLD": "85"}


def test_request_body_without_birth_date(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_json(envelope(NAMA_LGKP="Sesuai (100)"))
    assert adapter_for(httpserver).verify(NIK, "Siti").verdict is Verdict.MATCH
    assert "TGL_LHR" not in httpserver.log[0][0].get_json()


def test_logs_never_contain_secrets_or_nik(httpserver: HTTPServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    httpserver.expect_oneshot_request(PATH).respond_with_json(found())
    httpserver.expect_oneshot_request(PATH).respond_with_json(envelope(RESPONSE_CODE="03"))
    httpserver.expect_oneshot_request(PATH).respond_with_data("x", status=500)
    httpserver.expect_oneshot_request(PATH).respond_with_data("x", status=500)
    adapter = adapter_for(httpserver, retries=1)
    results = [adapter.verify(NIK, "Siti Aminah", BIRTH) for _ in range(3)]
    assert [r.verdict for r in results] == [Verdict.MATCH, Verdict.CONFIG_ERROR, Verdict.UNAVAILABLE]
    assert any(r.name == "app.siak" for r in caplog.records)
    text = caplog.text + "".join(repr(r.args) for r in caplog.records)
    for secret in (PASSWORD, USER_ID, NIK, "SITI AMINAH", "Siti Aminah"):
        assert secret not in text
        assert all(secret not in repr(r) for r in results)
    config_repr = repr(adapter.config)
    assert PASSWORD not in config_repr and USER_ID not in config_repr


# ------------------------------------------------------------------------------------------------------ TLS
def base_kwargs(**kw):
    return dict(dict(method_path=PATH, user_id=USER_ID, password=PASSWORD, ip_user="10.0.0.1"), **kw)


def test_tls_cannot_be_silently_disabled() -> None:
    with pytest.raises(ValueError, match="SIAK_ALLOW_INSECURE"):
        HttpSiakConfig(base_url="https://siak.local", verify_tls=False, **base_kwargs())
    with pytest.raises(ValueError, match="SIAK_ALLOW_INSECURE"):
        HttpSiakConfig(base_url="http://siak.local", **base_kwargs())
    cfg = HttpSiakConfig(base_url="https://siak.local", verify_tls=False, allow_insecure=True, **base_kwargs())
    assert cfg.verify_tls is False


def test_config_rejects_placeholder_and_bad_values() -> None:
    with pytest.raises(ValueError, match="placeholder"):
        HttpSiakConfig(base_url="https://s", **base_kwargs(method_path="/get_json/{instansi}/CALL_NIK"))
    with pytest.raises(ValueError, match="SIAK_DATE_FORMAT"):
        HttpSiakConfig(base_url="https://s", date_format="%m/%d/%Y", **base_kwargs())
    with pytest.raises(ValueError, match="SIAK_CA_FILE"):
        HttpSiakAdapter(HttpSiakConfig(base_url="https://s", ca_file="/nonexistent/ca.pem", **base_kwargs()))


def _self_signed(cert_path, key_path) -> None:
    """A throw-away certificate for localhost, made with `cryptography` (no openssl binary needed)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))


@pytest.fixture
def tls_server(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    _self_signed(cert, key)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    server = HTTPServer(ssl_context=ctx)
    server.start()
    yield server, str(cert)
    server.clear()
    server.stop()


def test_tls_with_private_ca(tls_server) -> None:
    server, cert = tls_server
    server.expect_request(PATH).respond_with_json(found())
    base = server.url_for("/").rstrip("/")
    assert base.startswith("https://")
    trusted = HttpSiakAdapter(HttpSiakConfig(base_url=base, ca_file=cert, backoff=0, **base_kwargs()))
    assert trusted.verify(NIK, "Siti", BIRTH).verdict is Verdict.MATCH
    untrusted = HttpSiakAdapter(HttpSiakConfig(base_url=base, backoff=0, **base_kwargs()))
    result = untrusted.verify(NIK, "Siti", BIRTH)
    assert result.verdict is Verdict.CONFIG_ERROR and "SIAK_CA_FILE" in result.reason
    assert len(server.log) == 1  # the untrusted attempt never reached the handler and was not retried


# --------------------------------------------------------------------------------------- offline registry
REGISTRY = {
    "3508010101800001": RegistryRecord("AHMAD FAUZI", date(1980, 1, 1), "aktif"),
    "3508014507900001": RegistryRecord("SITI AMINAH", date(1990, 7, 5), "aktif"),
    "3508010202500001": RegistryRecord("SUPARMAN", date(1950, 2, 2), "meninggal"),
    "3508010303600001": RegistryRecord("SUKIMAN", None, "tidak_aktif"),
}


@pytest.fixture
def offline() -> OfflineRegistryAdapter:
    return OfflineRegistryAdapter(REGISTRY.get, threshold=90)


def test_offline_match(offline: OfflineRegistryAdapter) -> None:
    result = offline.verify(NIK, "Siti Aminah", BIRTH)
    assert (result.verdict, result.score, result.mismatched) == (Verdict.MATCH, 100, ())


@pytest.mark.parametrize("typed", ["H. Ahmad Fauzi", "K.H. Ahmad  Fauzi, S.Pd.I", "ahmad fauzy", "Fauzi Ahmad"])
def test_offline_fuzzy_name_with_honorific(offline: OfflineRegistryAdapter, typed: str) -> None:
    result = offline.verify("3508010101800001", typed, date(1980, 1, 1))
    assert result.verdict is Verdict.MATCH, (typed, result)
    assert result.score is not None and result.score >= 90


def test_offline_mismatch(offline: OfflineRegistryAdapter) -> None:
    wrong_name = offline.verify(NIK, "Dewi Lestari", BIRTH)
    assert wrong_name.verdict is Verdict.MISMATCH and wrong_name.mismatched == ("NAMA_LGKP",)
    wrong_date = offline.verify(NIK, "Hj. Siti Aminah", date(1991, 7, 5))
    assert wrong_date.verdict is Verdict.MISMATCH and wrong_date.mismatched == ("TGL_LHR",)
    assert offline.verify(NIK, "Siti Aminah").verdict is Verdict.MATCH  # date unknown: not compared


def test_offline_status_and_not_found(offline: OfflineRegistryAdapter) -> None:
    assert offline.verify("3508010202500001", "Suparman").verdict is Verdict.DECEASED
    assert offline.verify("3508010303600001", "Sukiman").verdict is Verdict.INACTIVE
    assert offline.verify("3508019999990001", "Siapa").verdict is Verdict.NOT_FOUND


def test_offline_broken_lookup_does_not_raise() -> None:
    def broken(nik: str) -> RegistryRecord | None:
        raise RuntimeError("db down")
    assert OfflineRegistryAdapter(broken).verify(NIK, "Siti").verdict is Verdict.UNAVAILABLE


def test_name_score_normalisation() -> None:
    assert name_score("Hj. Siti Aminah", "SITI AMINAH") == 100
    assert name_score("Ma'ruf Amin", "MARUF AMIN") == 100
    assert name_score("", "X") == 0


def test_parse_registry_csv_good() -> None:
    text = ("\ufeffnik,nama,tanggal_lahir,status\n"
            "3508014507900001,Siti Aminah,1990-07-05,\n"
            "\n"
            "3508010202500001,\"Suparman, S.H.\",,meninggal\n"
            "'3508010303600001,Sukiman,1960-03-03,Tidak Aktif\n")
    rows = parse_registry_csv(text)
    assert rows == [
        ("3508014507900001", RegistryRecord("Siti Aminah", date(1990, 7, 5), "aktif")),
        ("3508010202500001", RegistryRecord("Suparman, S.H.", None, "meninggal")),
        ("3508010303600001", RegistryRecord("Sukiman", date(1960, 3, 3), "tidak_aktif")),
    ]
    assert parse_registry_csv("3508014507900001;Siti Aminah\n") == [
        ("3508014507900001", RegistryRecord("Siti Aminah", None, "aktif"))]


@pytest.mark.parametrize("bad_line, message", [
    ("35080145079,Siti,1990-07-05,aktif", "Baris 3: NIK harus 16 digit"),
    ("3.50801E+15,Siti,,", "Baris 3: NIK harus 16 digit"),
    ("3508010101800001,Ahmad,05-07-1990,", "Baris 3: tanggal_lahir"),
    ("3508010101800001,Ahmad,1990-07-05,pindah", "Baris 3: status"),
    ("3508010101800001,,1990-07-05,", "Baris 3: nama kosong"),
    ("3508014507900001,Dup,,", "Baris 3: NIK ganda (sama dengan baris 2)"),
])
def test_parse_registry_csv_bad(bad_line: str, message: str) -> None:
    text = f"nik,nama,tanggal_lahir,status\n3508014507900001,Siti,,\n{bad_line}\n"
    with pytest.raises(ValueError) as err:
        parse_registry_csv(text)
    assert message in str(err.value)
    assert "3508014507900001" not in str(err.value)


# ----------------------------------------------------------------------------------- fakes and the factory
def test_fake_adapter_records_calls() -> None:
    canned = SiakResult(Verdict.MISMATCH, 70, ("NAMA_LGKP",), "Tidak sesuai")
    fake = FakeSiakAdapter({NIK: Verdict.MATCH, "3508010101800001": canned})
    assert fake.verify(NIK, "Siti").verdict is Verdict.MATCH
    assert fake.verify("3508010101800001", "X") is canned
    assert fake.verify("3508019999990001", "Y", BIRTH).verdict is Verdict.NOT_FOUND
    assert fake.calls[-1] == ("3508019999990001", "Y", BIRTH) and len(fake.calls) == 3
    assert isinstance(fake, SiakAdapter)


def test_labels_complete() -> None:
    assert set(VERDICT_LABELS) == set(Verdict)
    assert VERDICT_LABELS[Verdict.UNAVAILABLE] == "SIAK tidak tersedia"
    assert NotConfiguredAdapter().verify(NIK, "X").verdict is Verdict.NOT_CONFIGURED


HTTP_SETTINGS = {
    "SIAK_MODE": "http", "SIAK_BASE_URL": "https://10.1.1.1:8443", "SIAK_METHOD_PATH": PATH,
    "SIAK_USER_ID": USER_ID, "SIAK_PASSWORD": PASSWORD, "SIAK_IP_USER": "10.20.30.40",
    "SIAK_THRESHOLD": "85", "SIAK_DATE_FORMAT": "%Y-%m-%d", "SIAK_TIMEOUT": "3", "SIAK_RETRIES": "1",
}


def test_build_adapter_modes() -> None:
    assert build_adapter({}).verify(NIK, "X").verdict is Verdict.NOT_CONFIGURED
    assert build_adapter({"SIAK_MODE": "off"}).verify(NIK, "X").verdict is Verdict.NOT_CONFIGURED
    assert isinstance(build_adapter({"SIAK_MODE": "fake"}), FakeSiakAdapter)
    offline = build_adapter({"SIAK_MODE": "offline", "SIAK_THRESHOLD": 80}, lookup=REGISTRY.get)
    assert isinstance(offline, OfflineRegistryAdapter) and offline.threshold == 80
    assert build_adapter({"SIAK_MODE": "offline"}).verify(NIK, "X").verdict is Verdict.CONFIG_ERROR
    assert build_adapter({"SIAK_MODE": "ldap"}).verify(NIK, "X").verdict is Verdict.CONFIG_ERROR
    http = build_adapter(HTTP_SETTINGS)
    assert isinstance(http, HttpSiakAdapter)
    cfg = http.config
    assert (cfg.threshold, cfg.date_format, cfg.timeout, cfg.retries, cfg.verify_tls) == (85, "%Y-%m-%d", 3.0, 1, True)


@pytest.mark.parametrize("change, key", [
    ({"SIAK_PASSWORD": ""}, "SIAK_PASSWORD"),
    ({"SIAK_USER_ID": None}, "SIAK_USER_ID"),
    ({"SIAK_THRESHOLD": "sembilan puluh"}, "SIAK_THRESHOLD"),
    ({"SIAK_TIMEOUT": "-1"}, "SIAK_TIMEOUT"),
    ({"SIAK_VERIFY_TLS": "false"}, "SIAK_ALLOW_INSECURE"),
    ({"SIAK_VERIFY_TLS": "maybe"}, "SIAK_VERIFY_TLS"),
    ({"SIAK_BASE_URL": "http://10.1.1.1"}, "SIAK_ALLOW_INSECURE"),
])
def test_build_adapter_config_errors_name_the_key(change: dict, key: str) -> None:
    result = build_adapter({**HTTP_SETTINGS, **change}).verify(NIK, "X")
    assert result.verdict is Verdict.CONFIG_ERROR and key in result.reason
    assert PASSWORD not in result.reason and USER_ID not in result.reason


def test_build_adapter_http_end_to_end(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_json(found())
    settings = {**HTTP_SETTINGS, "SIAK_BASE_URL": httpserver.url_for("/"), "SIAK_ALLOW_INSECURE": "true",
                "SIAK_DATE_FORMAT": "%d-%m-%Y"}
    assert build_adapter(settings).verify(NIK, "Siti", BIRTH).verdict is Verdict.MATCH
    assert httpserver.log[0][0].get_json()["TGL_LHR"] == "05-07-1990"
