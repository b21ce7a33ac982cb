"""How times and spans read on staff pages: one wording for every desk, the dashboard and the recap."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .timeutil import format_wib, utcnow


def duration_text(seconds: float | int | None) -> str:
    """A span in the unit people read it: "2 hari 5 jam", "5 jam 20 menit", "12 menit", "40 detik"."""
    if seconds is None:
        return "–"
    seconds = abs(int(round(seconds)))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)s hari %(h)s jam", d=days, h=hours)
    if hours:
        return _("%(h)s jam %(m)s menit", h=hours, m=minutes)
    if minutes:
        return _("%(m)s menit", m=minutes)
    return _("%(s)s detik", s=seconds)


def time_left(deadline: datetime | None, now: datetime | None = None) -> tuple[str, bool]:
    """("2 hari 3 jam lagi", False) or ("terlambat 1 hari 4 jam", True) for a deadline."""
    if deadline is None:
        return "–", False
    seconds = (deadline - (now or utcnow())).total_seconds()
    span = duration_text(seconds)
    if seconds < 0:
        return _("terlambat %(span)s", span=span), True
    return _("%(span)s lagi", span=span), False


def plain_value(value):
    """A value on FAB's list and show screens in plain words: Ya/Tidak, "–" for nothing, a list without
    brackets ("Admin Sistem, Pimpinan"), a time in WIB, a date in the page's language ("Jumat, 2 Januari 2026")."""
    if value is None or value == "":
        return "–"
    if value is True or value is False:
        return _("Ya") if value else _("Tidak")
    if isinstance(value, datetime):
        return format_wib(value)
    if isinstance(value, date):
        return format_date(value, format="EEEE, d MMMM y")
    if isinstance(value, (list, tuple, set)) or type(value).__name__ == "InstrumentedList":
        return ", ".join(str(v) for v in value) or "–"
    return value


def deadline_text(days: int, mode: str) -> str:
    """The answer deadline as the configured mode counts it: "7 hari kerja" or "7 hari" (ANSWER_DAY_MODE)."""
    return _("%(n)d hari kerja", n=days) if mode == "working" else _("%(n)d hari", n=days)


NO_CHOICE = _l("(tidak ada)")


class PlainColumns:
    """A FAB model screen whose list and show columns read in plain words (formatting.plain_value): Ya/Tidak,
    "–", lists without brackets, dates as people write them. A column's own formatter wins."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.formatters_columns = {**{c: plain_value for c in (*self.list_columns, *self.show_columns)},
                                   **self.formatters_columns}

    def _init_forms(self):
        # FAB's select of an optional relation offers a blank choice that WTForms shows by its value
        # ("__None"): it reads "(tidak ada)" instead.
        super()._init_forms()
        for form in (self.add_form, self.edit_form):
            for field in vars(form).values():
                if getattr(field, "kwargs", {}).get("allow_blank"):
                    field.kwargs.setdefault("blank_text", NO_CHOICE)
