"""Opaque keyset cursors for paginated lists: (sort key time, id) packed into a URL-safe token."""

from __future__ import annotations

import base64
from datetime import datetime


def encode(when: datetime | None, ident: int) -> str:
    raw = f"{when.isoformat() if when else ''}|{ident}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str | None) -> tuple[datetime | None, int] | None:
    """The position a token points at, or None for no token or a malformed one (callers decide whether
    that means "first page" or a message)."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        when, _, ident = raw.partition("|")
        return (datetime.fromisoformat(when) if when else None), int(ident)
    except (ValueError, UnicodeDecodeError):
        return None
