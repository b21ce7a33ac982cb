"""The adapter contract: verdicts, the result, the protocol (pure Python)."""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Protocol, runtime_checkable



class Verdict(str, enum.Enum):
    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    NOT_FOUND = "NOT_FOUND"
    INACTIVE = "INACTIVE"
    DECEASED = "DECEASED"
    UNAVAILABLE = "UNAVAILABLE"
    NOT_CONFIGURED = "NOT_CONFIGURED"
    CONFIG_ERROR = "CONFIG_ERROR"


VERDICT_LABELS: dict[Verdict, str] = {
    Verdict.MATCH: "Data sesuai",
    Verdict.MISMATCH: "Data tidak sesuai",
    Verdict.NOT_FOUND: "NIK tidak ditemukan",
    Verdict.INACTIVE: "NIK tidak aktif",
    Verdict.DECEASED: "Tercatat meninggal dunia",
    Verdict.UNAVAILABLE: "SIAK tidak tersedia",
    Verdict.NOT_CONFIGURED: "SIAK belum dikonfigurasi",
    Verdict.CONFIG_ERROR: "Kesalahan konfigurasi/akses SIAK",
}


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class SiakResult:
    verdict: Verdict
    score: int | None = None
    mismatched: tuple[str, ...] = ()
    reason: str = ""
    checked_at: datetime = field(default_factory=_now)

    @property
    def label(self) -> str:
        return VERDICT_LABELS[self.verdict]


def _result(verdict: Verdict, reason: str = "", score: int | None = None,
            mismatched: tuple[str, ...] = ()) -> SiakResult:
    return SiakResult(verdict, score, mismatched, reason or VERDICT_LABELS[verdict], _now())


@runtime_checkable
class SiakAdapter(Protocol):
    def verify(self, nik: str, name: str, birth_date: date | None = None) -> SiakResult: ...


def _clean_nik(nik: str) -> str | None:
    # Same first rule as the NIK validator: spaces, dots and dashes are typing noise.
    digits = re.sub(r"[\s.\-]", "", str(nik or ""))
    return digits if re.fullmatch(r"\d{16}", digits) else None
