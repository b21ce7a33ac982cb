"""How times and spans read on staff pages: one wording for every desk, the dashboard and the recap."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from .timeutil import utcnow


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
