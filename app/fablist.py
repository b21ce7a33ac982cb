"""FAB's generic lists with a capped count: FAB counts every row behind a list page
(`SELECT count(*) FROM (…)`, FAB-NOTES #15), which on a big table costs more than the page. This
interface counts at most COUNT_CAP + 1 rows (a count over a LIMIT subquery) and, past the cap, shows
"lebih dari 10.000" while the pages still work (FAB pages with OFFSET up to the cap).

Every ModelView of the app uses it (app/views.py); the big tables (complaints, the history log, the
outbox) have screens of their own, keyset-paged, and no FAB list (tests/integration/test_fab_lists.py).
"""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import format_decimal, gettext

COUNT_CAP = 10_000


class CappedCount(int):
    """An int for FAB's page arithmetic that reads "lebih dari 10.000" in the list header."""

    def __str__(self) -> str:
        return gettext("lebih dari %(n)s", n=format_decimal(int(self) - 1))

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))


class CappedSQLAInterface(SQLAInterface):
    count_cap = COUNT_CAP

    def query_count(self, query, filters=None, select_columns=None) -> int:
        inner = self._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})
        count = inner.limit(self.count_cap + 1).count()
        return CappedCount(count) if count > self.count_cap else count
