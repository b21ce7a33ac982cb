"""Application factory: `create_app(config=None)` builds a complete app with its own AppBuilder."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

from flask import Flask, jsonify
from flask_appbuilder import AppBuilder
from werkzeug.middleware.proxy_fix import ProxyFix

from .extensions import (cache, csrf, db, enforce_sqlite_foreign_keys, limiter, migrate, talisman,
                         translate_form_messages)

# The release; a backup manifest records it (app/services/backup.py).
__version__ = "0.14.0"

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")

# Only our own origin: no CDN, no third-party script anywhere (offline-safe and privacy-safe).
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": ["'self'", "'unsafe-inline'"],  # FAB templates use inline style= (FAB-NOTES #17)
    "img-src": ["'self'", "data:"],
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def create_app(config: Mapping[str, Any] | object | None = None) -> Flask:
    """Build the app. `config` (a mapping or an object with upper-case attributes) overrides the
    environment-derived settings of `config.build_config()`."""
    from config import build_config

    app = Flask(__name__, instance_relative_config=False)
    from .boundary import register_converters

    register_converters(app)  # before any route: every <int:…> is bounded (app/boundary.py)
    app.config.update(build_config())
    if config is not None:
        overrides = config if isinstance(config, Mapping) else {
            k: getattr(config, k) for k in dir(config) if k.isupper()}
        app.config.update(overrides)

    from .security import form_password_validator

    # The policy of app/passwords.py, with the username of the form's account (app/security.py).
    app.config["FAB_PASSWORD_COMPLEXITY_VALIDATOR"] = form_password_validator
    if app.config["PROXY_FIX"]:
        n = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]
    from .logs import init_app as init_logs

    init_logs(app)  # JSON lines and the request id, before every other request hook

    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        # SQLite serialises writers: wait up to 30 s for the write lock (Python's default is 5 s) rather than
        # answer "database is locked" when the scheduler or another worker writes at the same moment.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"timeout": 30, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    elif str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        # The app's queries are short (a page, a count): PostgreSQL's JIT compiles them for 28-37 ms each
        # and saves nothing (issue 13). Off for the app's own connections; the server's setting is untouched.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args", {}))
        connect_args["options"] = " ".join(filter(None, [connect_args.get("options"), "-c jit=off"]))
        options["connect_args"] = connect_args
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    app.teardown_appcontext(_release_session)  # runs before Flask-SQLAlchemy's own removal (reverse order)
    with app.app_context():
        enforce_sqlite_foreign_keys(db.engine)  # before the first connection is opened
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    cache.init_app(app)  # the public pages' shared cache (app/pagecache.py; PUBLIC_CACHE_URL)
    translate_form_messages()  # WTForms' messages from our catalogue (app/extensions.py)
    csrf.init_app(app)  # before AppBuilder, so FAB's JWT APIs can exempt themselves (FAB-NOTES #1)
    limiter.init_app(app)
    talisman.init_app(
        app,
        force_https=app.config["HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        content_security_policy=CSP,
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        strict_transport_security=app.config["HTTPS"],
    )

    with app.app_context():
        from . import models  # noqa: F401  (registers the tables on FAB's metadata)
        from sqlalchemy.orm import configure_mappers

        configure_mappers()  # SQLAlchemy-Continuum builds its version classes here (FAB-NOTES #18)
        appbuilder = AppBuilder(update_perms=app.config["FAB_UPDATE_PERMS"])
        appbuilder.init_app(app, db.session)
        app.extensions["babel"].locale_selector = _locale
        from .extensions import install_template_gettext

        install_template_gettext(app)
        from .views import register_views

        register_views(appbuilder)
        from .api import register_apis

        register_apis(appbuilder)

    _register_health(app)
    from .audit import init_app as init_history_log

    init_history_log(app)  # a history-log row for every staff request (issue 7)
    from .boundary import init_app as init_input_boundary

    init_input_boundary(app)  # after the history log's hooks, so a refused request still gets its row
    from .staticfiles import init_app as init_static

    init_static(app)  # fingerprinted static URLs when STATIC_MANIFEST is set (served by nginx)
    from .filters import register_filters

    register_filters(app)
    from .public import register_public; register_public(app)  # citizens' portal (issue 3)
    from .saran import register_saran; register_saran(app)  # OPD suggestion for the form (issue 18)
    from .open311 import register_open311

    register_open311(app)  # Open311 GeoReport v2 (issue 15)
    from .cli import register_cli

    register_cli(app)
    return app


def _release_session(exc) -> None:
    """End the request's session even when its connection died under it (database restarted or
    stopped): a plain rollback on a dead connection raises, and a raise here would turn the answer
    already made into a 500. The dead connection is invalidated; the pool's pre-ping replaces it."""
    try:
        db.session.close()
    except Exception:  # noqa: BLE001 - the connection is gone; nothing of it can be saved
        logging.getLogger(__name__).warning("database connection lost; session invalidated")
        try:
            db.session.invalidate()
        except Exception:  # noqa: BLE001
            pass


def _register_health(app: Flask) -> None:
    from .services import health as health_service

    @app.route("/health")
    @limiter.exempt
    @talisman(force_https=False)  # monitoring probes each node directly over plain HTTP (127.0.0.1)
    def health():
        # For the proxy and monitoring: figures only (no personal data), no session, 503 when unhealthy.
        report = health_service.check()
        response = jsonify(report.as_json())
        response.status_code = 200 if report.ok else 503
        response.headers["Cache-Control"] = "no-store"
        return response


def _locale() -> str:
    """FAB's locale choice (`?_l_=`, the session's choice, the default) without FAB's side effect: it wrote
    the default into the session, so every anonymous page answered with a Set-Cookie (and, the session being
    no longer empty, Flask-Login's session protection wrote another). The session holds a locale only when
    the visitor picked one (/bahasa/<code>)."""
    from flask import current_app, has_request_context, request, session

    default, languages = current_app.config["BABEL_DEFAULT_LOCALE"], current_app.config["LANGUAGES"]
    if not has_request_context():
        return default
    chosen = request.args.get("_l_")
    if chosen is not None:
        return chosen if chosen in languages else default
    return session.get("locale") or default
