"""Time helpers: the database stores naive UTC; people read WIB (Asia/Jakarta). Pure, no Flask."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")


def utcnow() -> datetime:
    """Naive UTC 'now', the form every timestamp column holds."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_wib(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(WIB)


def from_wib(value: datetime) -> datetime:
    """A WIB wall-clock time (naive or aware) as naive UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=WIB)
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def format_wib(value: datetime | None, with_time: bool = True) -> str:
    local = to_wib(value)
    if local is None:
        return "–"
    return local.strftime("%d-%m-%Y %H:%M WIB" if with_time else "%d-%m-%Y")


def backoff(attempts: int, base_seconds: float, cap_seconds: float) -> timedelta:
    """Exponential backoff: the wait after `attempts` failures in a row is base, 2 x base, 4 x base …
    up to the cap (outbox delivery, SIAK pre-check)."""
    return timedelta(seconds=min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1)))


def file_stamp(value: datetime | None = None) -> str:
    """The time stamp in a download's file name, in WIB (what the officer's clock says): "20260310-0930"."""
    return to_wib(value or utcnow()).strftime("%Y%m%d-%H%M")
