"""Every setting in config.py starts the server or is refused with a message naming it (issue 12).

Each case sets one environment variable (on top of a clean test environment), then either builds the
whole app and fetches /login/ and /health, or expects a ConfigError from start-up whose message names
the setting. The settings are read from config.py itself, so a new setting without cases fails here.
"""

from __future__ import annotations

import ast
import re
import secrets
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

import config
from config import ConfigError

SOURCE = Path(config.__file__).read_text(encoding="utf-8")
READERS = {"_env", "_bool", "_int", "_float", "_choice", "_list", "_url", "_rate_limit"}


def _calls():
    for node in ast.walk(ast.parse(SOURCE)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in READERS \
                and node.args and isinstance(node.args[0], ast.Constant):
            yield node.func.id, node


SETTINGS = sorted({node.args[0].value for _, node in _calls()})
BOOLEANS = sorted({node.args[0].value for kind, node in _calls() if kind == "_bool"})


def _literal(node):
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_literal(node.operand)
    # Constants and products such as 100 * 1024 * 1024: plain arithmetic, nothing else to evaluate.
    return eval(compile(ast.Expression(node), "config.py", "eval"), {"__builtins__": {}})


NUMBERS = []  # (name, kind, minimum, maximum, exclusive minimum)
for _kind, _node in _calls():
    if _kind in ("_int", "_float"):
        _exclusive = any(k.arg == "exclusive_minimum" and ast.literal_eval(k.value) for k in _node.keywords)
        NUMBERS.append((_node.args[0].value, _kind, _literal(_node.args[2]), _literal(_node.args[3]), _exclusive))

STRONG = {"SECRET_KEY": secrets.token_urlsafe(48), "NIK_HMAC_KEY": secrets.token_urlsafe(48),
          "NIK_ENCRYPTION_KEY": Fernet.generate_key().decode()}
PRODUCTION = {"APP_MODE": "production", **STRONG}

STARTS, ACCEPTED, REFUSED = "starts", "accepted", "refused"

# (environment on top of the clean test one, expected outcome, the setting the refusal must name)
CASES: list[tuple[dict, str, str]] = []


def starts(env, name=None):
    CASES.append((env, STARTS, name or next(iter(env))))


def accepted(env, name=None):
    """Start-up accepts it (config only: the app itself is built for these values together)."""
    CASES.append((env, ACCEPTED, name or next(iter(env))))


def refused(env, name=None):
    CASES.append((env, REFUSED, name or next((k for k in env if k != "APP_MODE"), "APP_MODE")))


# Booleans: the whole app with every one true and with every one false (two builds), each value
# accepted on its own, anything else refused.
_all_true, _all_false = {}, {}
for _name in BOOLEANS:
    for _value in ("true", "false"):
        env = {_name: _value}
        if _name == "FAB_ADD_SECURITY_API" and _value == "true":
            refused(env)  # FAB's security API would stop every worker (issue 12); refused with a message
        else:
            accepted(env)
            (_all_true if _value == "true" else _all_false)[_name] = _value
    refused({_name: "maybe"})
_all_true["SMTP_SSL"] = "false"  # cannot be true together with SMTP_STARTTLS (refused below)
starts(_all_true, "every boolean true")
starts(_all_false, "every boolean false")
starts({"HTTPS": "true"})  # the ones the app itself is built from, each on its own as well
starts({"RATELIMIT_ENABLED": "false"})
starts({"FAB_UPDATE_PERMS": "true"})
starts({"FAB_CREATE_DB": "true"})
starts({"MASK_PLATES": "ya"})  # the other spellings: 1/0, yes/no, on/off, ya/tidak
starts({"MASK_PLATES": "0"})
refused({"FAB_ADD_SECURITY_API": "1"})
starts({"APP_MODE": "production", **STRONG, "WTF_CSRF_ENABLED": "true"}, "WTF_CSRF_ENABLED")
refused({"APP_MODE": "production", **STRONG, "WTF_CSRF_ENABLED": "false"}, "WTF_CSRF_ENABLED")
refused({"SMTP_STARTTLS": "true", "SMTP_SSL": "true"}, "SMTP_SSL")

# Numbers: the whole app at every minimum and at every maximum (two builds), each bound accepted on
# its own, and just outside each bound or not a number refused.
BACKOFF_PAIRS = {"OUTBOX_BACKOFF_SECONDS": "OUTBOX_BACKOFF_MAX_SECONDS", "SIAK_RETRY_SECONDS": "SIAK_RETRY_MAX_SECONDS"}
_at_min, _at_max = {}, {}
for _name, _kind, _low, _high, _exclusive in NUMBERS:
    step = 1 if _kind == "_int" else 0.01
    low = round(_low + step, 2) if _exclusive else _low
    _at_min[_name], _at_max[_name] = str(low), str(_high)
    for value in (low, _high):
        env = {_name: str(value)}
        if _name == "UPLOAD_MAX_BYTES" and value == _high:
            env["MAX_CONTENT_LENGTH"] = str(value)  # a file may not exceed a whole request
        if _name == "MAX_CONTENT_LENGTH" and value == low:
            env["UPLOAD_MAX_BYTES"] = str(value)
        for base, cap in BACKOFF_PAIRS.items():  # a cap may not be below its first delay
            if _name == base and value == _high:
                env[cap] = str(value)
            if _name == cap and value == low:
                env[base] = str(value)
        accepted(env, _name)
    for value in (_low if _exclusive else _low - step, _high + step, "abc", "1e3x"):
        refused({_name: str(value)})
starts(_at_min, "every number at its minimum")
starts(_at_max, "every number at its maximum")
refused({"UPLOAD_MAX_BYTES": str(30 * 1024 * 1024), "MAX_CONTENT_LENGTH": str(20 * 1024 * 1024)}, "UPLOAD_MAX_BYTES")
refused({"OUTBOX_BACKOFF_SECONDS": "600", "OUTBOX_BACKOFF_MAX_SECONDS": "60"}, "OUTBOX_BACKOFF_MAX_SECONDS")
refused({"SIAK_RETRY_SECONDS": "600", "SIAK_RETRY_MAX_SECONDS": "60"}, "SIAK_RETRY_MAX_SECONDS")

ENUMS = {"APP_MODE": ("production", "demo", "test"), "ANSWER_DAY_MODE": ("working", "calendar"),
         "SIAK_MODE": ("off", "http", "offline", "fake"), "SIAK_DATE_FORMAT": ("%d-%m-%Y", "%Y-%m-%d"),
         "DISPATCH_BY": ("both", "admin", "validator")}
for _name, _values in ENUMS.items():
    for _value in _values:
        starts({**(PRODUCTION if _value == "production" else {}), _name: _value}, _name)
    refused({_name: "weekly"})
starts({"ANSWER_DAY_MODE": "Calendar"})  # words are not case-sensitive…
refused({"SIAK_DATE_FORMAT": "%y-%m-%d"})  # …date formats are

# Keys: required and strong in production, free in demo and test mode.
for _name in STRONG:
    refused({k: v for k, v in PRODUCTION.items() if k != _name}, _name)  # missing in production
refused({**PRODUCTION, "SECRET_KEY": "kunci-pendek"}, "SECRET_KEY")
refused({**PRODUCTION, "SECRET_KEY": "x" * 64}, "SECRET_KEY")  # long, but not random
refused({**PRODUCTION, "NIK_HMAC_KEY": secrets.token_urlsafe(16)}, "NIK_HMAC_KEY")  # 22 bytes
refused({**PRODUCTION, "SECRET_KEY": config._DEMO_SECRET_KEY}, "SECRET_KEY")
refused({**PRODUCTION, "NIK_HMAC_KEY": config._DEMO_NIK_HMAC_KEY}, "NIK_HMAC_KEY")
refused({**PRODUCTION, "NIK_ENCRYPTION_KEY": config._DEMO_NIK_KEY}, "NIK_ENCRYPTION_KEY")
refused({"NIK_ENCRYPTION_KEY": "bukan-kunci-fernet"}, "NIK_ENCRYPTION_KEY")
starts({"SECRET_KEY": "pendek-untuk-uji", "NIK_HMAC_KEY": "pendek"}, "SECRET_KEY")  # test mode: not checked
starts({"NIK_ENCRYPTION_OLD_KEYS": f"{Fernet.generate_key().decode()},{config._DEMO_NIK_KEY}"})
refused({"NIK_ENCRYPTION_OLD_KEYS": f"{Fernet.generate_key().decode()},rusak"})

# Addresses, names and lists.
starts({"DATABASE_URL": "<database_url>"})
refused({"DATABASE_URL": "mysql://u@db/pengaduan"})
refused({"DATABASE_URL": "bukan alamat"})
starts({"INSTANCE_DIR": "<tmp>/instance"})
refused({"INSTANCE_DIR": "/proc/tidak-bisa/dibuat"})
for _name in ("PUBLIC_BASE_URL", "WEBHOOK_URL"):
    starts({_name: "https://pengaduan.lumajangkab.go.id"})
    refused({_name: "pengaduan.lumajangkab.go.id"})
starts({"TICKET_PREFIX": "lmj2"})
refused({"TICKET_PREFIX": "LMJ-KAB"})
refused({"TICKET_PREFIX": "TERLALUPANJANG"})
starts({"NIK_ALLOWED_PREFIXES": "35.08, 35.09.01"})
refused({"NIK_ALLOWED_PREFIXES": "35.0"})
starts({"MAIL_FROM": "pengaduan@lumajangkab.go.id"})
refused({"MAIL_FROM": "pengaduan"})
for _name in ("AUTH_RATE_LIMIT", "SUBMIT_RATE_LIMIT", "TRACK_RATE_LIMIT", "OPEN311_RATE_LIMIT",
              "PIN_RECOVERY_RATE_LIMIT", "SUGGEST_RATE_LIMIT"):
    starts({_name: "30/hour;5/minute"})
    refused({_name: "banyak sekali"})
starts({"RATELIMIT_STORAGE_URI": "memory://"})
starts({"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15"})
refused({"RATELIMIT_STORAGE_URI": "memcached://127.0.0.1:11211"})
refused({"RATELIMIT_STORAGE_URI": "127.0.0.1:6379"})
starts({"PUBLIC_CACHE_URL": "redis://127.0.0.1:6379/15"})
refused({"PUBLIC_CACHE_URL": "memcached://127.0.0.1:11211"})
refused({"PUBLIC_CACHE_URL": "127.0.0.1:6379"})
_texts = {_name: "<tmp>/nilai" if _name in ("UPLOAD_DIR", "SCHEDULER_LOCK_FILE", "SIAK_CA_FILE") else "Nilai uji"
          for _name in ("APP_NAME", "REGION_NAME", "DEPARTMENT_NAME", "SIAK_BASE_URL", "SIAK_METHOD_PATH",
                        "SIAK_USER_ID", "SIAK_PASSWORD", "SIAK_IP_USER", "SIAK_CA_FILE", "SMTP_HOST", "SMTP_USER",
                        "SMTP_PASSWORD", "WEBHOOK_TOKEN", "UPLOAD_DIR", "SCHEDULER_LOCK_FILE")}
starts(_texts, "free text settings")  # any text starts: what SIAK makes of its settings, its adapter reports
starts({"SIAK_MODE": "http", "SIAK_BASE_URL": "http://10.0.0.1", "SIAK_VERIFY_TLS": "false"}, "SIAK_MODE")

# Operations (issue 19): log format, the static manifest of `flask static collect`.
for _value in ("json", "text"):
    starts({"LOG_FORMAT": _value})
refused({"LOG_FORMAT": "xml"})
_MANIFEST = Path(__import__("tempfile").mkdtemp(prefix="lpo-manifest-")) / "manifest.json"
_MANIFEST.write_text('{"static": {"public/portal.css": "public/portal.0123456789ab.css"}}')
starts({"STATIC_MANIFEST": str(_MANIFEST)})
refused({"STATIC_MANIFEST": "<tmp>/tidak-ada/manifest.json"})
_NOT_A_MANIFEST = _MANIFEST.with_name("list.json")
_NOT_A_MANIFEST.write_text("[1, 2]")
refused({"STATIC_MANIFEST": str(_NOT_A_MANIFEST)})
# The SP4N-LAPOR! bridge: off by default; a mode that is on needs its settings, checked at start.
_LAPOR_HTTP = {"LAPOR_MODE": "http", "LAPOR_DEFAULT_OPD": "DISKOMINFO", "LAPOR_BASE_URL": "https://api.lapor.go.id",
               "LAPOR_TOKEN": "token-uji"}
starts({"LAPOR_MODE": "off", "LAPOR_TOKEN": "Nilai uji", "LAPOR_LIST_PATH": "/daftar", "LAPOR_PUSH_PATH": "/kirim",
        "LAPOR_DEFAULT_OPD": "DISKOMINFO", "LAPOR_OFFLINE_DIR": "<tmp>/lapor"}, "LAPOR_MODE")
starts({"LAPOR_MODE": "fake", "LAPOR_DEFAULT_OPD": "DISKOMINFO"}, "LAPOR_MODE")
starts({"LAPOR_MODE": "offline", "LAPOR_DEFAULT_OPD": "DISKOMINFO", "LAPOR_OFFLINE_DIR": "<tmp>/lapor"}, "LAPOR_MODE")
starts(_LAPOR_HTTP, "LAPOR_MODE")
starts({**_LAPOR_HTTP, "LAPOR_BASE_URL": "http://10.0.0.9", "LAPOR_ALLOW_INSECURE": "true"}, "LAPOR_ALLOW_INSECURE")
refused({"LAPOR_MODE": "weekly"})
refused({"LAPOR_MODE": "fake"}, "LAPOR_DEFAULT_OPD")
refused({"LAPOR_MODE": "fake", "LAPOR_DEFAULT_OPD": "bukan kode!"}, "LAPOR_DEFAULT_OPD")
refused({k: v for k, v in _LAPOR_HTTP.items() if k != "LAPOR_TOKEN"}, "LAPOR_TOKEN")
refused({k: v for k, v in _LAPOR_HTTP.items() if k != "LAPOR_BASE_URL"}, "LAPOR_BASE_URL")
refused({**_LAPOR_HTTP, "LAPOR_BASE_URL": "http://10.0.0.9"}, "LAPOR_BASE_URL")
refused({**_LAPOR_HTTP, "LAPOR_BASE_URL": "api.lapor.go.id"}, "LAPOR_BASE_URL")
refused({**_LAPOR_HTTP, "LAPOR_PUSH_PATH": "/laporan/{id}"}, "LAPOR_PUSH_PATH")
refused({**_LAPOR_HTTP, "LAPOR_LIST_PATH": "/laporan/{id}"}, "LAPOR_LIST_PATH")


def _case_id(case) -> str:
    env, outcome, name = case
    shown = ",".join(f"{k}={v[:12]}" for k, v in env.items() if k not in STRONG or k == name)
    return f"{outcome}:{shown}"


def test_every_setting_has_cases():
    covered = {name for env, _outcome, _name in CASES for name in env}
    assert set(SETTINGS) - covered == set(), "settings without a start-or-refuse case"
    assert "SMTP_PORT" in SETTINGS and ("SMTP_PORT", "_int", 1, 65535, False) in NUMBERS


@pytest.fixture
def clean_env(monkeypatch, tmp_path, database_url):
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_MODE", "test")
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SIAK_MODE", "fake")

    def apply(env: dict) -> None:
        for key, value in env.items():
            value = value.replace("<database_url>", database_url).replace("<tmp>", str(tmp_path))
            monkeypatch.setenv(key, value)

    return apply


@pytest.fixture
def shared_extensions():
    """Flask-Limiter and Talisman keep their settings on the shared extension objects
    (app/extensions.py): give the suite's app its own back after each extra app."""
    from app.extensions import limiter, talisman

    saved = [(ext, dict(vars(ext))) for ext in (limiter, talisman)]
    yield
    for ext, values in saved:
        vars(ext).clear()
        vars(ext).update(values)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_a_setting_starts_the_server_or_is_refused_with_its_name(case, clean_env, shared_extensions):
    env, outcome, name = case
    clean_env(env)
    from app import create_app

    if outcome == REFUSED:
        with pytest.raises(ConfigError) as refusal:
            create_app()
        assert re.search(rf"\b{name}\b", str(refusal.value)), str(refusal.value)
        for key in STRONG:  # a refusal never repeats a secret
            assert STRONG[key] not in str(refusal.value)
        return
    if outcome == ACCEPTED:
        from config import build_config

        settings = build_config()
        for key, value in env.items():
            if key == "SESSION_IDLE_HOURS":
                assert settings["PERMANENT_SESSION_LIFETIME"].total_seconds() == float(value) * 3600
            elif key in BOOLEANS:
                assert settings[key] is (value == "true"), key
            else:
                assert float(settings[key]) == float(value), key
        return
    app = create_app()
    for key, value in env.items():  # the app runs with the values given, not with defaults
        if key in app.config and isinstance(app.config[key], bool):
            assert app.config[key] is (value.lower() in ("true", "1", "ya")), key
        elif key in app.config and isinstance(app.config[key], (int, float)):
            assert float(app.config[key]) == float(value), key
    https = app.config["HTTPS"]
    client = app.test_client()
    base = "https://localhost" if https else "http://localhost"
    login = client.get("/login/", base_url=base)
    assert login.status_code == 200 and b'name="username"' in login.data
    health = client.get("/health", base_url=base)
    assert health.get_json()["database"] == "ok"
    if health.status_code != 200:  # only a health threshold set here may fail (no scheduler runs in tests)
        failing = {n for n, c in health.get_json()["checks"].items() if not c["ok"]}
        thresholds = {"disk": "HEALTH_DISK_MIN_MB", "scheduler": "HEALTH_SCHEDULER_MAX_SECONDS"}
        # Set here, or on by default in production (config.py: off in demo and test mode).
        default = "on" if env.get("APP_MODE") == "production" else "0"
        assert health.status_code == 503 and failing and all(
            n in thresholds and env.get(thresholds[n], default) != "0" for n in failing), health.get_json()
    with app.app_context():
        from app.extensions import db

        db.session.remove()
