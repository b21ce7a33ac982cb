"""Recap and dashboard queries (SQL aggregates on the database); rendering lives in the desks."""

from __future__ import annotations


def share(part: int, whole: int) -> float | None:
    """The one meaning of a share everywhere (recap, dashboard, validator figures, public statistics): a
    fraction from 0 to 1, None when there is nothing to divide. Pages show it with the `percent` filter."""
    return part / whole if whole else None
