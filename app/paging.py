"""Paging in the web layer: the pager's links and the redirect of old parameter names.

The names and the cursor live in services/cursor.py. A pager link is the current URL with only the
cursor changed, so every filter of the page (OPD, state, search, tab, dates …) is kept by construction.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from flask import redirect, request, url_for

from .services import cursor

NEXT = cursor.NEXT


def _args_without_cursor() -> dict[str, list[str]]:
    # Empty values (a filter form's untouched fields) mean "not set": left out of the link.
    args = {k: [v for v in values if v != ""] for k, values in request.args.lists()
            if k != NEXT and k not in cursor.RENAMED}
    return {k: v for k, v in args.items() if v}


def _url(args: dict[str, list[str]]) -> str:
    # The query string is encoded here, not by url_for: an argument named like one of url_for's own
    # (`_external`, `_scheme`, `_anchor`) or like a path variable must stay a plain query argument.
    path = url_for(request.endpoint, **(request.view_args or {}))
    query = urlencode([(k, v) for k, values in args.items() for v in values])
    return f"{path}?{query}" if query else path


def page_url(token: str | None = None) -> str:
    """This page's URL with the cursor `token` (None: the first page), every other argument kept."""
    args = _args_without_cursor()
    if token:
        args[NEXT] = [token]
    return _url(args)


def on_later_page() -> bool:
    """Whether this request asked for a page after the first (the pager then offers the first page)."""
    return bool(request.args.get(NEXT))


def renamed_url(order: cursor.Keyset | None = None) -> str | None:
    """The same URL with the current names when the request used an old one (cursor.RENAMED), else None.

    An old id-valued cursor (`sebelum`, `before`) becomes a token of `order` at that row, or is dropped
    when the list never had one or the row is gone; the current name wins when both are given."""
    if not any(name in cursor.RENAMED for name in request.args):
        return None
    args = _args_without_cursor()
    for old, new in cursor.RENAMED.items():
        value = request.args.get(old)
        if not value or new in request.args:
            continue
        if old in cursor.OLD_ID_NAMES:
            ident = cursor.legacy_id(value)
            value = order.token_for_id(ident) if order is not None and ident else None
        if value:
            args[new] = [value]
    if NEXT in request.args:
        args[NEXT] = request.args.getlist(NEXT)
    return _url(args)


def renamed(order: cursor.Keyset | None = None):
    """A list page's decorator: old paging names are redirected permanently (308) to the current ones,
    so bookmarks and links written before keep working (`order`: the list's keyset, for old id cursors)."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            target = renamed_url(order)
            if target is not None:
                return redirect(target, code=308)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def register(app) -> None:
    app.jinja_env.globals.update(page_url=page_url, on_later_page=on_later_page)
