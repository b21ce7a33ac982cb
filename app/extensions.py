"""Extension objects shared by every app built by `create_app`.

Flask-SQLAlchemy, Flask-Migrate, CSRF, the limiter and Talisman support several apps per process, so
they live here; the AppBuilder does not (FAB-NOTES #3) and is created inside the factory.
"""

from flask_appbuilder import Model
from flask_appbuilder.utils.legacy import get_sqla_class
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

# Built on FAB's metadata so Alembic sees FAB's security tables and ours together (FAB-NOTES #4).
db = get_sqla_class()(metadata=Model.metadata)
migrate = Migrate()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
talisman = Talisman()
