"""Settings, all from environment variables (documented in README.md, "Konfigurasi").

Nothing secret lives here: SECRET_KEY, NIK_ENCRYPTION_KEY and NIK_HMAC_KEY must come from the
environment, except in demo or test mode (APP_MODE=demo|test), where fixed, clearly non-production keys
are used so that `make run` works on a fresh machine.

Every setting is checked here, once, at start-up: a missing or wrong one (a number out of its range, a
word that is not one of the choices, a short key in production) stops the server with a ConfigError
whose message names the setting and says what it must be, never with a traceback from deep inside.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

from flask_appbuilder.const import AUTH_DB

BASE_DIR = Path(__file__).resolve().parent

# Demo/test keys: public on purpose, refused in production mode. The secret key signs the API tokens
# too, so it is long enough for HS256 (PyJWT warns below 32 bytes). The NIK HMAC key stays as it was:
# changing it would orphan the hashes in existing demo databases, and it is public anyway.
_DEMO_SECRET_KEY = "demo-only-not-secret-lumajang-0123456789-abcdefghijklmnop"
_DEMO_NIK_KEY = "ZGVtby1vbmx5LW5pay1rZXktbm90LXNlY3JldC0xMjM="  # Fernet key (32 bytes, urlsafe b64)
_DEMO_NIK_HMAC_KEY = "demo-only-nik-hmac-key"
# The demo keys, and the one published in earlier versions of this file: refused in production.
_PUBLIC_KEYS = {_DEMO_SECRET_KEY, _DEMO_NIK_KEY, _DEMO_NIK_HMAC_KEY, "demo-only-not-secret-lumajang"}
MIN_KEY_BYTES = 32
_GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
_GENERATE_FERNET = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"

# Rate-limit storages whose client library is installed (requirements.txt pins redis).
_LIMIT_STORAGES = {"memory", "redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster"}

_TRUE = {"1", "true", "yes", "on", "ya"}
_FALSE = {"0", "false", "no", "off", "tidak"}


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    text = value.strip().lower()
    if text not in _TRUE | _FALSE:
        raise ConfigError(f"{name} must be true or false (also 1/0, yes/no, on/off, ya/tidak), not {value!r}.")
    return text in _TRUE


def _number(name: str, default, kind, minimum, maximum, *, exclusive_minimum: bool = False):
    value = _env(name)
    if value is None:
        return default
    bounds = f"between {minimum} and {maximum}" if not exclusive_minimum else f"above {minimum} and at most {maximum}"
    what = "a whole number" if kind is int else "a number"
    try:
        number = kind(value.strip())
    except ValueError:
        raise ConfigError(f"{name} must be {what} {bounds}, not {value!r}.") from None
    if number != number or number > maximum or number < minimum or (exclusive_minimum and number == minimum):
        raise ConfigError(f"{name} must be {what} {bounds}, not {value!r}.")
    return number


def _int(name: str, default: int, minimum: int, maximum: int) -> int:
    return _number(name, default, int, minimum, maximum)


def _float(name: str, default: float, minimum: float, maximum: float, *, exclusive_minimum: bool = False) -> float:
    return _number(name, default, float, minimum, maximum, exclusive_minimum=exclusive_minimum)


def _choice(name: str, default: str, choices: tuple[str, ...], *, ignore_case: bool = True) -> str:
    value = (_env(name, default) or default).strip()
    found = next((c for c in choices if c == value or (ignore_case and c.lower() == value.lower())), None)
    if found is None:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return found


def _list(name: str, default: str = "") -> tuple[str, ...]:
    value = _env(name, default) or ""
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _url(name: str, default: str | None) -> str | None:
    value = _env(name, default)
    if value is not None and not re.match(r"^https?://[^/\s]+", value.strip()):
        raise ConfigError(f"{name} must be an http:// or https:// address, not {value!r}.")
    return value.strip() if value else value


def _rate_limit(name: str, default: str) -> str:
    from limits import parse_many

    value = _env(name, default) or default
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f"{name} must be a rate limit such as '10 per 5 minutes' or '20/hour', "
                          f"not {value!r}.") from None
    return value


def _lapor_settings(instance_dir: Path) -> dict:
    """The LAPOR! bridge: off unless LAPOR_MODE says otherwise; a mode that is on needs its settings, checked
    here with the adapter's own rules (app/lapor.py), so a wrong one stops the start, not the first pull."""
    values = {
        "LAPOR_MODE": _choice("LAPOR_MODE", "off", ("off", "http", "offline", "fake")),
        "LAPOR_BASE_URL": _url("LAPOR_BASE_URL", None),
        "LAPOR_TOKEN": _env("LAPOR_TOKEN"),
        "LAPOR_LIST_PATH": _env("LAPOR_LIST_PATH", "/api/v1/laporan/disposisi"),
        "LAPOR_PUSH_PATH": _env("LAPOR_PUSH_PATH", "/api/v1/laporan/{tracking_id}/tindak-lanjut"),
        "LAPOR_TIMEOUT": _float("LAPOR_TIMEOUT", 10.0, 0.0, 60.0, exclusive_minimum=True),
        "LAPOR_RETRIES": _int("LAPOR_RETRIES", 2, 0, 5),
        "LAPOR_BACKOFF_SECONDS": _float("LAPOR_BACKOFF_SECONDS", 1.0, 0.0, 60.0),
        "LAPOR_ALLOW_INSECURE": _bool("LAPOR_ALLOW_INSECURE", False),
        "LAPOR_PULL_MINUTES": _int("LAPOR_PULL_MINUTES", 15, 1, 1440),
        "LAPOR_LOOKBACK_DAYS": _int("LAPOR_LOOKBACK_DAYS", 14, 1, 90),
        "LAPOR_DEFAULT_OPD": (_env("LAPOR_DEFAULT_OPD") or "").strip() or None,
        "LAPOR_OFFLINE_DIR": _env("LAPOR_OFFLINE_DIR", str(instance_dir / "lapor")),
    }
    mode = values["LAPOR_MODE"]
    if mode == "off":
        return values
    if not values["LAPOR_DEFAULT_OPD"]:
        raise ConfigError(f"LAPOR_DEFAULT_OPD must name the code of the OPD that receives LAPOR! reports "
                          f"(e.g. DISKOMINFO) when LAPOR_MODE is {mode}.")
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,32}", values["LAPOR_DEFAULT_OPD"]):
        raise ConfigError("LAPOR_DEFAULT_OPD must be an OPD code (1 to 32 letters, digits, '.', '-' or '_').")
    if mode == "http":
        from app.lapor import http_config

        try:
            http_config(values)
        except ValueError as exc:  # names the setting, never its value (the token is a secret)
            raise ConfigError(f"{exc} (LAPOR_MODE=http).") from None
    return values


def _key(name: str, value: str | None, production: bool) -> None:
    """SECRET_KEY and NIK_HMAC_KEY: in production at least 32 bytes, not a published demo key. A short
    NIK_HMAC_KEY lets anyone with a database dump and one known NIK brute-force the key and then every
    NIK's hash."""
    if not production or value is None:
        return
    how = f"Generate one with: {_GENERATE}"
    if value in _PUBLIC_KEYS:
        raise ConfigError(f"{name} is a public demo key and cannot be used in production. {how}")
    if len(value.encode()) < MIN_KEY_BYTES or len(set(value)) < 12:
        raise ConfigError(f"{name} must be at least {MIN_KEY_BYTES} random bytes (it is "
                          f"{len(value.encode())} bytes long, or repeats too few characters). {how}")


def _fernet_keys(name: str, values: tuple[str, ...], production: bool) -> None:
    from cryptography.fernet import Fernet

    for value in values:
        try:
            Fernet(value.encode())
        except (ValueError, TypeError):
            raise ConfigError(f"{name} must hold Fernet keys (32 bytes, url-safe base64); generate one with: "
                              f"{_GENERATE_FERNET}") from None
        if production and value in _PUBLIC_KEYS:
            raise ConfigError(f"{name} holds the public demo key, which cannot be used in production. "
                              f"Generate one with: {_GENERATE_FERNET}")


def _database_url(instance_dir: Path) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = _env("DATABASE_URL", f"sqlite:///{instance_dir / 'pengaduan.db'}") or ""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # psycopg 3 is the driver we pin; plain URLs would ask for psycopg2.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        backend = None
    if backend not in {"sqlite", "postgresql"}:
        raise ConfigError("DATABASE_URL must be a SQLite or PostgreSQL address, e.g. sqlite:///instance/pengaduan.db "
                          "or postgresql://user@host/pengaduan.")
    return url


def _public_cache(url: str | None) -> dict:
    """Flask-Caching's settings: RedisCache for a redis:// address (production: one cache for every worker
    and the scheduler, so an invalidation reaches them all), else SimpleCache in this process (demo, tests)."""
    url = (url or "").strip()
    if not url:
        return {"PUBLIC_CACHE_URL": None, "CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 2000}
    if url.split("://", 1)[0].lower() not in ("redis", "rediss", "unix") or "://" not in url:
        raise ConfigError("PUBLIC_CACHE_URL must be empty (a cache in each process) or a Redis address such as "
                          "redis://127.0.0.1:6379/1.")
    return {"PUBLIC_CACHE_URL": url, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url,
            "CACHE_KEY_PREFIX": "lpo:"}


def build_config() -> dict:
    """Read the environment once and return a plain dict of Flask settings. A setting that is missing
    or wrong raises ConfigError with a message that names it (and never echoes a secret)."""
    mode = _choice("APP_MODE", "production", ("production", "demo", "test"))
    relaxed = mode in {"demo", "test"}
    production = not relaxed

    secret_key = _env("SECRET_KEY")
    nik_key = _env("NIK_ENCRYPTION_KEY")
    nik_hmac_key = _env("NIK_HMAC_KEY")
    if production:
        missing = [n for n, v in (("SECRET_KEY", secret_key), ("NIK_ENCRYPTION_KEY", nik_key),
                                  ("NIK_HMAC_KEY", nik_hmac_key)) if not v]
        if missing:
            raise ConfigError(
                "Missing required setting(s): " + ", ".join(missing) + ". Set them in the environment "
                f"(generate with: {_GENERATE} and, for NIK_ENCRYPTION_KEY, {_GENERATE_FERNET}), or set "
                "APP_MODE=demo for a local demo."
            )
    _key("SECRET_KEY", secret_key, production)
    _key("NIK_HMAC_KEY", nik_hmac_key, production)
    _fernet_keys("NIK_ENCRYPTION_KEY", (nik_key,) if nik_key else (), production)
    old_keys = _list("NIK_ENCRYPTION_OLD_KEYS")
    _fernet_keys("NIK_ENCRYPTION_OLD_KEYS", old_keys, False)  # an old demo key may be rotated away

    if _bool("FAB_ADD_SECURITY_API", False):
        # FAB's security API fails at start-up on this stack (KeyError: 'permission_id' in its
        # permission-view schema), and its user API writes plain FAB users: no OPD rule, no history
        # diffs. Accounts are managed on the screens and the command line instead.
        raise ConfigError("FAB_ADD_SECURITY_API=true is not supported: manage accounts and roles on the "
                          "Security screens (Admin Sistem), with `flask staff create` and `flask roles sync`. "
                          "Unset FAB_ADD_SECURITY_API.")
    csrf = _bool("WTF_CSRF_ENABLED", True)
    if production and not csrf:
        raise ConfigError("WTF_CSRF_ENABLED=false is for tests only and is refused in production; unset it.")

    instance_dir = Path(_env("INSTANCE_DIR", str(BASE_DIR / "instance")))
    try:
        instance_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"INSTANCE_DIR {str(instance_dir)!r} cannot be created ({exc.strerror}); "
                          "set INSTANCE_DIR to a writable folder.") from None
    database_url = _database_url(instance_dir)

    ticket_prefix = (_env("TICKET_PREFIX", "LMJ") or "LMJ").strip()
    if not re.fullmatch(r"[A-Za-z0-9]{1,8}", ticket_prefix):
        raise ConfigError(f"TICKET_PREFIX must be 1 to 8 letters or digits (tickets look like LMJ-2026-000123), "
                          f"not {ticket_prefix!r}.")
    prefixes = _list("NIK_ALLOWED_PREFIXES")
    from app.nik import normalize_prefixes

    try:
        normalize_prefixes(prefixes)
    except ValueError:
        raise ConfigError("NIK_ALLOWED_PREFIXES must be region codes of 2, 4 or 6 digits, comma-separated "
                          f"(e.g. 35.08), not {','.join(prefixes)!r}.") from None

    upload_max = _int("UPLOAD_MAX_BYTES", 5 * 1024 * 1024, 1024, 100 * 1024 * 1024)
    max_content = _int("MAX_CONTENT_LENGTH", 20 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024)
    if upload_max > max_content:
        raise ConfigError(f"UPLOAD_MAX_BYTES ({upload_max}) cannot be larger than MAX_CONTENT_LENGTH ({max_content}), "
                          "the limit of a whole request.")
    if _bool("SMTP_STARTTLS", False) and _bool("SMTP_SSL", False):
        raise ConfigError("SMTP_STARTTLS and SMTP_SSL cannot both be true: SMTP_SSL is TLS from the start "
                          "(port 465), SMTP_STARTTLS upgrades a plain connection (port 587). Choose one.")
    backoff = _int("OUTBOX_BACKOFF_SECONDS", 60, 1, 86400)  # first retry; doubles each time
    backoff_max = _int("OUTBOX_BACKOFF_MAX_SECONDS", 6 * 3600, 1, 7 * 86400)
    if backoff_max < backoff:
        raise ConfigError("OUTBOX_BACKOFF_MAX_SECONDS cannot be smaller than OUTBOX_BACKOFF_SECONDS.")
    if _int("SIAK_RETRY_MAX_SECONDS", 1800, 1, 7 * 86400) < _int("SIAK_RETRY_SECONDS", 60, 1, 86400):
        raise ConfigError("SIAK_RETRY_MAX_SECONDS cannot be smaller than SIAK_RETRY_SECONDS.")
    mail_from = (_env("MAIL_FROM", "pengaduan@lumajangkab.go.id") or "").strip()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", mail_from):
        raise ConfigError(f"MAIL_FROM must be an e-mail address, not {mail_from!r}.")
    storage = _env("RATELIMIT_STORAGE_URI", "memory://") or "memory://"
    if storage.split("://", 1)[0].lower() not in _LIMIT_STORAGES or "://" not in storage:
        raise ConfigError("RATELIMIT_STORAGE_URI must be memory:// or a Redis address such as "
                          "redis://127.0.0.1:6379/0.")
    from app.siak import DATE_FORMATS

    static_manifest = _env("STATIC_MANIFEST")
    if static_manifest:
        import json

        try:
            if not isinstance(json.loads(Path(static_manifest).read_text()), dict):
                raise ValueError("not an object")
        except (OSError, ValueError):
            raise ConfigError(f"STATIC_MANIFEST {static_manifest!r} must be the manifest.json written by "
                              "`flask --app run static collect DEST` (missing or unreadable).") from None
    lapor = _lapor_settings(instance_dir)
    session_hours = _int("SESSION_IDLE_HOURS", 8, 1, 168)
    https = _bool("HTTPS", False)
    return {
        "APP_MODE": mode,
        "TESTING": mode == "test",
        "SECRET_KEY": secret_key or _DEMO_SECRET_KEY,
        "NIK_ENCRYPTION_KEY": nik_key or _DEMO_NIK_KEY,
        # Old keys (comma-separated) still decrypt; `flask nik rotate-key` re-encrypts with the new one.
        "NIK_ENCRYPTION_OLD_KEYS": old_keys,
        "NIK_HMAC_KEY": nik_hmac_key or _DEMO_NIK_HMAC_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # --- the regency this deployment serves ---
        "REGION_NAME": _env("REGION_NAME", "Kabupaten Lumajang"),
        "DEPARTMENT_NAME": _env("DEPARTMENT_NAME", "Dinas Komunikasi dan Informatika"),
        "TICKET_PREFIX": ticket_prefix.upper(),
        "NIK_ALLOWED_PREFIXES": prefixes,
        "NIK_REFUSE_OUTSIDE": _bool("NIK_REFUSE_OUTSIDE", False),
        "MASK_PLATES": _bool("MASK_PLATES", False),
        # --- time standards (SOP) ---
        "VALIDATION_HOURS": _int("VALIDATION_HOURS", 24, 1, 720),
        "ANSWER_DAYS": _int("ANSWER_DAYS", 7, 1, 365),
        "ANSWER_DAY_MODE": _choice("ANSWER_DAY_MODE", "working", ("working", "calendar")),
        # An answer the complainant neither accepts nor disputes closes Selesai after this many working days.
        "SILENCE_CLOSE_DAYS": _int("SILENCE_CLOSE_DAYS", 10, 1, 90),
        "CLAIM_MINUTES": _int("CLAIM_MINUTES", 10, 1, 240),
        # Who routes the dispatch queue (returned "bukan wewenang", "Saya tidak tahu OPD-nya"): Admin Sistem
        # and the validators (both), or only one of them.
        "DISPATCH_BY": _choice("DISPATCH_BY", "both", ("both", "admin", "validator")),
        "DECISION_MINUTES_STANDARD": _int("DECISION_MINUTES_STANDARD", 10, 1, 1440),
        "REMINDER_SHARE": _float("REMINDER_SHARE", 0.75, 0.0, 1.0, exclusive_minimum=True),
        # One sweep that finds more open complaints newly overdue than this (after a scheduler outage, a
        # restore, a changed standard) tells each Pimpinan in one digest instead of one e-mail each.
        "ESCALATION_DIGEST_ABOVE": _int("ESCALATION_DIGEST_ABOVE", 20, 1, 100_000),
        "RETENTION_MONTHS": _int("RETENTION_MONTHS", 24, 1, 1200),
        "TIMEZONE": "Asia/Jakarta",
        # --- uploads ---
        "UPLOAD_DIR": _env("UPLOAD_DIR", str(instance_dir / "uploads")),
        "UPLOAD_MAX_BYTES": upload_max,
        "UPLOAD_MAX_FILES": 3,
        "MAX_CONTENT_LENGTH": max_content,
        # --- SIAK (see README) ---
        "SIAK_MODE": _choice("SIAK_MODE", "offline" if relaxed else "off", ("off", "http", "offline", "fake")),
        "SIAK_BASE_URL": _env("SIAK_BASE_URL"),
        "SIAK_METHOD_PATH": _env("SIAK_METHOD_PATH", "/CALL_NIK"),
        "SIAK_USER_ID": _env("SIAK_USER_ID"),
        "SIAK_PASSWORD": _env("SIAK_PASSWORD"),
        "SIAK_IP_USER": _env("SIAK_IP_USER"),
        "SIAK_THRESHOLD": _int("SIAK_THRESHOLD", 90, 0, 100),
        "SIAK_DATE_FORMAT": _choice("SIAK_DATE_FORMAT", "%d-%m-%Y", DATE_FORMATS, ignore_case=False),
        "SIAK_TIMEOUT": _float("SIAK_TIMEOUT", 5.0, 0.0, 60.0, exclusive_minimum=True),
        "SIAK_RETRIES": _int("SIAK_RETRIES", 2, 0, 5),
        # The background pre-check asks an unavailable SIAK again after this, doubling up to the cap.
        "SIAK_RETRY_SECONDS": _int("SIAK_RETRY_SECONDS", 60, 1, 86400),
        "SIAK_RETRY_MAX_SECONDS": _int("SIAK_RETRY_MAX_SECONDS", 1800, 1, 7 * 86400),
        "SIAK_VERIFY_TLS": _bool("SIAK_VERIFY_TLS", True),
        "SIAK_CA_FILE": _env("SIAK_CA_FILE"),
        "SIAK_ALLOW_INSECURE": _bool("SIAK_ALLOW_INSECURE", False),
        # --- SP4N-LAPOR! bridge (app/lapor.py; README "SP4N-LAPOR!") ---
        **lapor,
        # --- notifications ---
        "SMTP_HOST": _env("SMTP_HOST"),
        "SMTP_PORT": _int("SMTP_PORT", 25, 1, 65535),
        "SMTP_USER": _env("SMTP_USER"),
        "SMTP_PASSWORD": _env("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _bool("SMTP_STARTTLS", False),
        "SMTP_SSL": _bool("SMTP_SSL", False),
        "SMTP_TIMEOUT": _float("SMTP_TIMEOUT", 10.0, 0.0, 300.0, exclusive_minimum=True),
        "MAIL_FROM": mail_from,
        "WEBHOOK_URL": _url("WEBHOOK_URL", None),
        "WEBHOOK_TOKEN": _env("WEBHOOK_TOKEN"),
        "OUTBOX_MAX_ATTEMPTS": _int("OUTBOX_MAX_ATTEMPTS", 6, 1, 100),
        "OUTBOX_BACKOFF_SECONDS": backoff,
        "OUTBOX_BACKOFF_MAX_SECONDS": backoff_max,
        # How often the scheduler stores the public statistics (the page shows them "per <time>").
        "PUBLIC_STATISTICS_MINUTES": _int("PUBLIC_STATISTICS_MINUTES", 10, 1, 1440),
        "PUBLIC_OPD_CACHE_SECONDS": _int("PUBLIC_OPD_CACHE_SECONDS", 60, 0, 86400),
        # Anonymous public pages (app/pagecache.py): kept rendered and answered with validators for this
        # long (Cache-Control: public, max-age); 0 switches both off. A change a service commits shows at once.
        "PUBLIC_PAGE_CACHE_SECONDS": _int("PUBLIC_PAGE_CACHE_SECONDS", 30, 0, 3600),
        **_public_cache(_env("PUBLIC_CACHE_URL")),
        "PUBLIC_BASE_URL": _url("PUBLIC_BASE_URL", "http://127.0.0.1:8080"),
        # --- operations: logs and /health (app/logs.py, app/services/health.py) ---
        "STATIC_MANIFEST": static_manifest,  # app/staticfiles.py: fingerprinted static URLs behind nginx
        "LOG_FORMAT": _choice("LOG_FORMAT", "text" if relaxed else "json", ("json", "text")),
        # 0 switches a check off; by default off for `make run` and tests, which may run without a scheduler.
        "HEALTH_SCHEDULER_MAX_SECONDS": _int("HEALTH_SCHEDULER_MAX_SECONDS", 0 if relaxed else 300, 0, 86400),
        "HEALTH_OUTBOX_MAX_MINUTES": _int("HEALTH_OUTBOX_MAX_MINUTES", 0 if relaxed else 60, 0, 10080),
        "HEALTH_DISK_MIN_MB": _int("HEALTH_DISK_MIN_MB", 0 if relaxed else 1024, 0, 10_000_000),
        # --- scheduler ---
        "SCHEDULER_LOCK_FILE": _env("SCHEDULER_LOCK_FILE", str(instance_dir / "scheduler.lock")),
        "SWEEP_MINUTES": _int("SWEEP_MINUTES", 5, 1, 1440),
        # --- OPD suggestion (app/routing) ---
        "ROUTING_TRAIN_LIMIT": _int("ROUTING_TRAIN_LIMIT", 20000, 100, 1_000_000),  # newest answered complaints learnt from
        "ROUTING_KEEP_VERSIONS": _int("ROUTING_KEEP_VERSIONS", 5, 1, 100),
        "ROUTING_RELOAD_SECONDS": _int("ROUTING_RELOAD_SECONDS", 60, 1, 86400),  # how often a process looks for a newer model
        # --- security ---
        "HTTPS": https,
        "PROXY_FIX": _int("PROXY_FIX", 0, 0, 10),  # number of trusted proxies in front (X-Forwarded-*)
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=session_hours),
        "SESSION_REFRESH_EACH_REQUEST": True,
        "WTF_CSRF_ENABLED": csrf,
        "WTF_CSRF_TIME_LIMIT": None,  # token lives as long as the session
        # Lockout per account and client address; an admin notice when many addresses fail for one account.
        "LOGIN_MAX_FAILURES": _int("LOGIN_MAX_FAILURES", 5, 1, 100),
        "LOGIN_LOCKOUT_MINUTES": _int("LOGIN_LOCKOUT_MINUTES", 15, 1, 1440),
        "LOGIN_ALERT_ADDRESSES": _int("LOGIN_ALERT_ADDRESSES", 5, 2, 10000),
        "LOGIN_ALERT_MINUTES": _int("LOGIN_ALERT_MINUTES", 60, 1, 1440),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_HEADERS_ENABLED": True,
        "AUTH_RATE_LIMITED": True,
        "AUTH_RATE_LIMIT": _rate_limit("AUTH_RATE_LIMIT", "10 per 5 minutes"),
        "SUBMIT_RATE_LIMIT": _rate_limit("SUBMIT_RATE_LIMIT", "10 per hour"),
        "TRACK_RATE_LIMIT": _rate_limit("TRACK_RATE_LIMIT", "20 per 10 minutes"),
        # Open311 POST requests per API key (one key serves a whole app's users).
        "OPEN311_RATE_LIMIT": _rate_limit("OPEN311_RATE_LIMIT", "120 per hour"),
        # PIN recovery (issue 17): every request counts, per address.
        "PIN_RECOVERY_RATE_LIMIT": _rate_limit("PIN_RECOVERY_RATE_LIMIT", "5 per hour"),
        # OPD suggestion as the citizen types (issue 18): the form's script asks at most every 0.7 s of typing.
        "SUGGEST_RATE_LIMIT": _rate_limit("SUGGEST_RATE_LIMIT", "60 per minute"),
        "DUPLICATE_WINDOW_MINUTES": _int("DUPLICATE_WINDOW_MINUTES", 60, 0, 10080),
        # --- Flask-AppBuilder ---
        "APP_NAME": _env("APP_NAME", "Layanan Pengaduan Online"),
        "APP_THEME": "",
        "AUTH_TYPE": AUTH_DB,
        "AUTH_ROLE_ADMIN": "Admin Sistem",
        "AUTH_ROLE_PUBLIC": "Publik",
        "AUTH_USER_REGISTRATION": False,
        "FAB_ADD_SECURITY_API": False,  # refused above
        "FAB_API_SWAGGER_UI": True,
        # Permissions are written by `flask setup`, not by every web worker at start-up.
        "FAB_UPDATE_PERMS": _bool("FAB_UPDATE_PERMS", False),
        "FAB_INDEX_VIEW": "app.views.StaffIndexView",
        "FAB_CREATE_DB": _bool("FAB_CREATE_DB", False),  # schema comes from Alembic migrations
        "FAB_SECURITY_MANAGER_CLASS": "app.security.StaffSecurityManager",
        "FAB_PASSWORD_COMPLEXITY_ENABLED": True,
        "FAB_PASSWORD_COMPLEXITY_VALIDATOR": "app.security.form_password_validator",
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=15),
        # A refresh token lives as long as an idle session (services/sessions.py ends both alike).
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(hours=session_hours),
        "BABEL_DEFAULT_LOCALE": "id",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Jakarta",
        "BABEL_TRANSLATION_DIRECTORIES": "translations",
        "LANGUAGES": {
            "id": {"flag": "id", "name": "Bahasa Indonesia"},
            "en": {"flag": "gb", "name": "English"},
        },
    }
