"""Extension objects shared by every app built by `create_app`.

Flask-SQLAlchemy, Flask-Migrate, CSRF, the limiter and Talisman support several apps per process, so
they live here; the AppBuilder does not (FAB-NOTES #3) and is created inside the factory.
"""

import sqlalchemy as sa
from flask_appbuilder import Model
from flask_appbuilder.utils.legacy import get_sqla_class
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

# One naming convention for every constraint on FAB's metadata (our tables, FAB's and Continuum's), so a
# migration names a constraint the same way on SQLite and PostgreSQL. SQLAlchemy applies it when a table
# is declared, so it is set here, before any model module runs (`app/__init__` imports this module first).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",  # SQLAlchemy's default, which the existing index names follow
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}
if Model.metadata.tables:  # a table declared earlier would keep the database's default names
    raise RuntimeError("app.extensions must be imported before any table is declared on FAB's metadata: "
                       + ", ".join(sorted(Model.metadata.tables)))
Model.metadata.naming_convention = NAMING_CONVENTION

# Built on FAB's metadata so Alembic sees FAB's security tables and ours together (FAB-NOTES #4).
db = get_sqla_class()(metadata=Model.metadata)
migrate = Migrate()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
talisman = Talisman()
# The shared cache of the public pages (app/pagecache.py, app/services/public_cache.py): Redis when
# PUBLIC_CACHE_URL names one (production: shared by every worker and the scheduler), else in-process.
cache = Cache()


def enforce_sqlite_foreign_keys(engine: sa.Engine) -> None:
    """SQLite checks foreign keys only on connections that ask for it (PostgreSQL always does): ask on
    every new connection of the app's engine. Migrations switch it off while they recreate tables
    (migrations/env.py)."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _foreign_keys_on(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def translations():
    """The request's catalogue, looked up once per request. Flask-Babel finds the domain, the locale and its
    cache again on every call (about 15 µs; a desk page makes hundreds); the catalogue is kept in the slot
    Flask-Babel's own `refresh()` and `force_locale()` clear, so a language switch within a request holds."""
    from flask import g
    from flask_babel import get_translations

    try:
        found = g._flask_babel.babel_translations
    except AttributeError:  # the first look-up of this request
        found = None
    except RuntimeError:  # outside an application context: Flask-Babel's own answer
        return get_translations()
    if found is None:
        found = get_translations()
        holder = getattr(g, "_flask_babel", None)  # made by get_translations() inside a context
        if holder is not None:
            holder.babel_translations = found
    return found


def install_template_gettext(app) -> None:
    """The templates' `_`, `gettext`, `ngettext` through `translations()` (Flask-Babel's own, otherwise the same)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)


class FormMessages:
    """WTForms' own messages ("This field is required.") in the request's language. WTForms ships no
    Indonesian catalogue and Flask-WTF reads only WTForms' own folder, so the messages go through
    Flask-Babel instead, whose catalogue carries them (app/translations/fab_id.po, scripts/i18n.py)."""

    def gettext(self, string):
        return translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        return translations().ungettext(singular, plural, n)


def translate_form_messages() -> None:
    """Every Flask-WTF form (FAB's included) asks FormMessages for WTForms' messages (WTF_I18N_ENABLED)."""
    import flask_wtf.form

    if not isinstance(flask_wtf.form.translations, FormMessages):
        flask_wtf.form.translations = FormMessages()
