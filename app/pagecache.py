"""HTTP caching of the anonymous public pages: `@public_page` on a GET view gives its answer an ETag,
`Cache-Control: public, max-age=PUBLIC_PAGE_CACHE_SECONDS` and `Vary: Cookie`, answers a matching
If-None-Match with 304 before rendering anything, and keeps the rendered page in the shared cache
(app.extensions.cache) so the next visitor gets it without a query or a template. Used on the
portal's home, list, published complaint and statistics, and on Open311's GET documents.

Everything is keyed on the public version (services.public_cache: a new token after every commit that
changes what the public sees), the locale, the time window and the full URL with its query. The time
window (PUBLIC_PAGE_CACHE_SECONDS long) bounds what changes with the clock alone (a deadline passing
makes a complaint overdue) and a change written outside the services.

Never for a signed-in visitor, never for a page with a form token or personal data (the form, tracking,
the receipt: those answer `no-store`), and only for a 200 answer. CSP: Talisman gives each response its
own nonce; a cached page carries a placeholder that is replaced by the current nonce when it is served.
"""

from __future__ import annotations

import hashlib
import time
from functools import wraps

from flask import current_app, make_response, request
from flask_babel import get_locale

from .extensions import cache
from .services import public_cache

_NONCE_MARK = "\x00csp-nonce\x00"


def _nonce() -> str:
    return getattr(request, "csp_nonce", None) or ""


def nonce_marked(body: str) -> str:
    """`body` with this response's CSP nonce replaced by a placeholder: a page kept for other requests."""
    nonce = _nonce()
    return body.replace(nonce, _NONCE_MARK) if nonce else body


def nonce_filled(body: str) -> str:
    """A kept page with this response's own CSP nonce where the placeholder is."""
    nonce = _nonce()
    return body.replace(_NONCE_MARK, nonce) if nonce else body


def _now() -> float:
    return time.time()


def _anonymous() -> bool:
    from .audit import is_staff_request

    return not is_staff_request()


def _etag(max_age: int, version: str) -> str:
    window = int(_now() // max_age)
    raw = "|".join((version, str(get_locale() or ""), str(window), request.full_path))
    return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


def _validators(response, etag: str, max_age: int):
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.vary.add("Cookie")  # the chosen language lives in the session cookie
    return response


def public_page(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        max_age = int(current_app.config.get("PUBLIC_PAGE_CACHE_SECONDS") or 0)
        if request.method != "GET" or max_age <= 0 or not _anonymous():
            return view(*args, **kwargs)
        version = public_cache.version()
        if version is None:
            return view(*args, **kwargs)
        etag = _etag(max_age, version)
        if etag in request.if_none_match:
            return _validators(make_response("", 304), etag, max_age)
        key = "page:" + etag
        try:
            kept = cache.get(key)
        except Exception:  # noqa: BLE001 - the cache is a shortcut, never a dependency
            kept = None
        if kept is not None:
            body, content_type = kept
            response = make_response(nonce_filled(body))
            response.headers["Content-Type"] = content_type
            return _validators(response, etag, max_age)
        response = make_response(view(*args, **kwargs))
        if response.status_code != 200 or response.direct_passthrough:
            return response
        body = response.get_data(as_text=True)
        try:
            cache.set(key, (nonce_marked(body), response.content_type),
                      timeout=max_age)
        except Exception:  # noqa: BLE001
            pass
        return _validators(response, etag, max_age)

    return wrapper
