"""Settings, all from environment variables (documented in README.md, "Konfigurasi").

Nothing secret lives here: SECRET_KEY and NIK_ENCRYPTION_KEY must come from the environment,
except in demo or test mode (APP_MODE=demo|test), where fixed, clearly non-production keys are used
so that `make run` works on a fresh machine.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from flask_appbuilder.const import AUTH_DB

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))

# Demo/test keys: public on purpose, refused in production mode.
_DEMO_SECRET_KEY = "demo-only-not-secret-lumajang"
_DEMO_NIK_KEY = "ZGVtby1vbmx5LW5pay1rZXktbm90LXNlY3JldC0xMjM="  # Fernet key (32 bytes, urlsafe b64)
_DEMO_NIK_HMAC_KEY = "demo-only-nik-hmac-key"


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "ya"}


def _int(name: str, default: int) -> int:
    value = _env(name)
    return default if value is None else int(value)


def _float(name: str, default: float) -> float:
    value = _env(name)
    return default if value is None else float(value)


def _list(name: str, default: str = "") -> tuple[str, ...]:
    value = _env(name, default) or ""
    return tuple(part.strip() for part in value.split(",") if part.strip())


def build_config() -> dict:
    """Read the environment once and return a plain dict of Flask settings."""
    mode = (_env("APP_MODE", "production") or "production").lower()
    if mode not in {"production", "demo", "test"}:
        raise ConfigError(f"APP_MODE must be production, demo or test, not {mode!r}.")
    relaxed = mode in {"demo", "test"}

    secret_key = _env("SECRET_KEY")
    nik_key = _env("NIK_ENCRYPTION_KEY")
    nik_hmac_key = _env("NIK_HMAC_KEY")
    if not relaxed:
        missing = [n for n, v in (("SECRET_KEY", secret_key), ("NIK_ENCRYPTION_KEY", nik_key),
                                  ("NIK_HMAC_KEY", nik_hmac_key)) if not v]
        if missing:
            raise ConfigError(
                "Missing required setting(s): " + ", ".join(missing) + ". Set them in the environment "
                "(generate with: python -c 'import secrets;print(secrets.token_urlsafe(48))' and, for "
                "NIK_ENCRYPTION_KEY, python -c 'from cryptography.fernet import Fernet;"
                "print(Fernet.generate_key().decode())'), or set APP_MODE=demo for a local demo."
            )

    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    database_url = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'pengaduan.db'}")
    if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
        # psycopg 3 is the driver we pin; plain URLs would ask for psycopg2.
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]

    https = _bool("HTTPS", False)
    return {
        "APP_MODE": mode,
        "TESTING": mode == "test",
        "SECRET_KEY": secret_key or _DEMO_SECRET_KEY,
        "NIK_ENCRYPTION_KEY": nik_key or _DEMO_NIK_KEY,
        # Old keys (comma-separated) still decrypt; `flask nik rotate-key` re-encrypts with the new one.
        "NIK_ENCRYPTION_OLD_KEYS": _list("NIK_ENCRYPTION_OLD_KEYS"),
        "NIK_HMAC_KEY": nik_hmac_key or _DEMO_NIK_HMAC_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # --- the regency this deployment serves ---
        "REGION_NAME": _env("REGION_NAME", "Kabupaten Lumajang"),
        "DEPARTMENT_NAME": _env("DEPARTMENT_NAME", "Dinas Komunikasi dan Informatika"),
        "TICKET_PREFIX": _env("TICKET_PREFIX", "LMJ"),
        "NIK_ALLOWED_PREFIXES": _list("NIK_ALLOWED_PREFIXES"),
        "NIK_REFUSE_OUTSIDE": _bool("NIK_REFUSE_OUTSIDE", False),
        "MASK_PLATES": _bool("MASK_PLATES", False),
        # --- time standards (SOP) ---
        "VALIDATION_HOURS": _int("VALIDATION_HOURS", 24),
        "ANSWER_DAYS": _int("ANSWER_DAYS", 7),
        "ANSWER_DAY_MODE": _env("ANSWER_DAY_MODE", "working"),  # working | calendar
        "CLAIM_MINUTES": _int("CLAIM_MINUTES", 10),
        "DECISION_MINUTES_STANDARD": _int("DECISION_MINUTES_STANDARD", 10),
        "REMINDER_SHARE": _float("REMINDER_SHARE", 0.75),
        "RETENTION_MONTHS": _int("RETENTION_MONTHS", 24),
        "TIMEZONE": "Asia/Jakarta",
        # --- uploads ---
        "UPLOAD_DIR": _env("UPLOAD_DIR", str(INSTANCE_DIR / "uploads")),
        "UPLOAD_MAX_BYTES": _int("UPLOAD_MAX_BYTES", 5 * 1024 * 1024),
        "UPLOAD_MAX_FILES": 3,
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 20 * 1024 * 1024),
        # --- SIAK (see README) ---
        "SIAK_MODE": _env("SIAK_MODE", "offline" if relaxed else "off"),
        "SIAK_BASE_URL": _env("SIAK_BASE_URL"),
        "SIAK_METHOD_PATH": _env("SIAK_METHOD_PATH", "/CALL_NIK"),
        "SIAK_USER_ID": _env("SIAK_USER_ID"),
        "SIAK_PASSWORD": _env("SIAK_PASSWORD"),
        "SIAK_IP_USER": _env("SIAK_IP_USER"),
        "SIAK_THRESHOLD": _int("SIAK_THRESHOLD", 90),
        "SIAK_DATE_FORMAT": _env("SIAK_DATE_FORMAT", "%d-%m-%Y"),
        "SIAK_TIMEOUT": _float("SIAK_TIMEOUT", 5.0),
        "SIAK_RETRIES": _int("SIAK_RETRIES", 2),
        "SIAK_VERIFY_TLS": _bool("SIAK_VERIFY_TLS", True),
        "SIAK_CA_FILE": _env("SIAK_CA_FILE"),
        "SIAK_ALLOW_INSECURE": _bool("SIAK_ALLOW_INSECURE", False),
        # --- notifications ---
        "SMTP_HOST": _env("SMTP_HOST"),
        "SMTP_PORT": _int("SMTP_PORT", 25),
        "SMTP_USER": _env("SMTP_USER"),
        "SMTP_PASSWORD": _env("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _bool("SMTP_STARTTLS", False),
        "SMTP_SSL": _bool("SMTP_SSL", False),
        "SMTP_TIMEOUT": _float("SMTP_TIMEOUT", 10.0),
        "MAIL_FROM": _env("MAIL_FROM", "pengaduan@lumajangkab.go.id"),
        "WEBHOOK_URL": _env("WEBHOOK_URL"),
        "WEBHOOK_TOKEN": _env("WEBHOOK_TOKEN"),
        "OUTBOX_MAX_ATTEMPTS": _int("OUTBOX_MAX_ATTEMPTS", 6),
        "OUTBOX_BACKOFF_SECONDS": _int("OUTBOX_BACKOFF_SECONDS", 60),  # first retry; doubles each time
        "OUTBOX_BACKOFF_MAX_SECONDS": _int("OUTBOX_BACKOFF_MAX_SECONDS", 6 * 3600),
        "PUBLIC_STATS_CACHE_SECONDS": _int("PUBLIC_STATS_CACHE_SECONDS", 60),
        "PUBLIC_BASE_URL": _env("PUBLIC_BASE_URL", "http://127.0.0.1:8080"),
        # --- scheduler ---
        "SCHEDULER_LOCK_FILE": _env("SCHEDULER_LOCK_FILE", str(INSTANCE_DIR / "scheduler.lock")),
        "SWEEP_MINUTES": _int("SWEEP_MINUTES", 5),
        # --- OPD suggestion (app/routing) ---
        "ROUTING_TRAIN_LIMIT": _int("ROUTING_TRAIN_LIMIT", 20000),  # newest answered complaints learnt from
        "ROUTING_KEEP_VERSIONS": _int("ROUTING_KEEP_VERSIONS", 5),
        "ROUTING_RELOAD_SECONDS": _int("ROUTING_RELOAD_SECONDS", 60),  # how often a process looks for a newer model
        # --- security ---
        "HTTPS": https,
        "PROXY_FIX": _int("PROXY_FIX", 0),  # number of trusted proxies in front (X-Forwarded-*)
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("SESSION_IDLE_HOURS", 8)),
        "SESSION_REFRESH_EACH_REQUEST": True,
        "WTF_CSRF_ENABLED": _bool("WTF_CSRF_ENABLED", True),
        "WTF_CSRF_TIME_LIMIT": None,  # token lives as long as the session
        "LOGIN_MAX_FAILURES": _int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCKOUT_MINUTES": _int("LOGIN_LOCKOUT_MINUTES", 15),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "AUTH_RATE_LIMITED": True,
        "AUTH_RATE_LIMIT": _env("AUTH_RATE_LIMIT", "10 per 5 minutes"),
        "SUBMIT_RATE_LIMIT": _env("SUBMIT_RATE_LIMIT", "10 per hour"),
        "TRACK_RATE_LIMIT": _env("TRACK_RATE_LIMIT", "20 per 10 minutes"),
        "DUPLICATE_WINDOW_MINUTES": _int("DUPLICATE_WINDOW_MINUTES", 60),
        # --- Flask-AppBuilder ---
        "APP_NAME": _env("APP_NAME", "Layanan Pengaduan Online"),
        "APP_THEME": "",
        "AUTH_TYPE": AUTH_DB,
        "AUTH_ROLE_ADMIN": "Admin Sistem",
        "AUTH_ROLE_PUBLIC": "Publik",
        "AUTH_USER_REGISTRATION": False,
        "FAB_ADD_SECURITY_API": _bool("FAB_ADD_SECURITY_API", False),
        "FAB_API_SWAGGER_UI": True,
        # Permissions are written by `flask setup`, not by every web worker at start-up.
        "FAB_UPDATE_PERMS": _bool("FAB_UPDATE_PERMS", False),
        "FAB_INDEX_VIEW": "app.views.StaffIndexView",
        "FAB_CREATE_DB": _bool("FAB_CREATE_DB", False),  # schema comes from Alembic migrations
        "FAB_SECURITY_MANAGER_CLASS": "app.security.StaffSecurityManager",
        "FAB_PASSWORD_COMPLEXITY_ENABLED": True,
        "FAB_PASSWORD_COMPLEXITY_VALIDATOR": "app.security.form_password_validator",
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=15),
        "BABEL_DEFAULT_LOCALE": "id",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Jakarta",
        "BABEL_TRANSLATION_DIRECTORIES": "translations",
        "LANGUAGES": {
            "id": {"flag": "id", "name": "Bahasa Indonesia"},
            "en": {"flag": "gb", "name": "English"},
        },
    }
