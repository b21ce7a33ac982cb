"""Jinja filters (and the pager's globals) shared by staff and public templates."""

from __future__ import annotations

from flask import Flask
from flask_babel import format_percent, get_locale

from .formatting import deadline_text, duration_text
from .nik import mask as mask_nik
from .timeutil import format_wib


def percent(value: float | None, digits: int = 1) -> str:
    """A share (a fraction 0-1, `reports.share`) as a percentage in the page's locale: "85,7%" in
    Indonesian, "85.7%" in English; "–" when there is nothing to divide."""
    if value is None:
        return "–"
    return format_percent(value, format="#,##0." + "0" * digits + "%" if digits else "#,##0%")


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["wib"] = format_wib
    app.jinja_env.filters["wib_date"] = lambda v: format_wib(v, with_time=False)
    app.jinja_env.filters["duration"] = duration_text
    # The one NIK mask ("3508••••••••0001"). Pages get a NIK already masked or withheld by the disclosure
    # policy (services.disclosure); this filter is for a plain NIK a template holds, e.g. in a form echo.
    app.jinja_env.filters["mask_nik"] = mask_nik
    # The answer deadline in words, from the configured mode: "7 hari kerja" or "7 hari".
    app.jinja_env.globals["answer_deadline_text"] = lambda: deadline_text(app.config["ANSWER_DAYS"],
                                                                          app.config["ANSWER_DAY_MODE"])
    app.jinja_env.globals["page_locale"] = lambda: str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
    from .paging import register as register_paging

    register_paging(app)  # page_url(), on_later_page(): every pager's links
