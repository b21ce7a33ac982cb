"""Jinja filters (and the pager's globals) shared by staff and public templates."""

from __future__ import annotations

from flask import Flask

from .nik import mask as mask_nik
from .timeutil import format_wib


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["wib"] = format_wib
    app.jinja_env.filters["wib_date"] = lambda v: format_wib(v, with_time=False)
    app.jinja_env.filters["mask_nik"] = mask_nik
    # `{{ complaint|masked_nik }}`: decrypts and masks; the only NIK form staff pages show (issue 6).
    from .services.personal_data import masked_nik

    app.jinja_env.filters["masked_nik"] = masked_nik
    from .paging import register as register_paging

    register_paging(app)  # page_url(), on_later_page(): every pager's links
