"""Stand-ins: the offline registry (a CSV extract), the fake for tests and demos, the placeholders."""
from __future__ import annotations

import logging
import csv
import difflib
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Callable, Mapping

from .common import SiakResult, Verdict, _clean_nik, _result

log = logging.getLogger("app.siak")  # one logger for the whole adapter

# ----------------------------------------------------------------------------------- offline registry adapter
REGISTRY_STATUSES = ("aktif", "meninggal", "tidak_aktif")
_STATUS_VERDICTS = {"meninggal": Verdict.DECEASED, "tidak_aktif": Verdict.INACTIVE}
_HONORIFICS = frozenset({"H", "HJ", "HAJI", "HAJAH", "KH", "IR", "DR", "DRS", "DRA", "PROF", "NY", "TN",
                         "SDR", "SDRI", "BPK", "ALM", "ALMH"})


@dataclass(frozen=True)
class RegistryRecord:
    name: str
    birth_date: date | None
    status: str = "aktif"


def normalize_name(name: str) -> str:
    """Upper-case, accent-free, punctuation-free name without honorifics or trailing degrees."""
    text = unicodedata.normalize("NFKD", str(name or ""))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.split(",", 1)[0]  # academic degrees follow a comma: "BUDI SANTOSO, S.Pd."
    text = re.sub(r"['`\u2019]", "", text)  # MA'RUF == MARUF
    text = re.sub(r"\bK\.\s*H\.", "KH ", text, flags=re.I)
    tokens = re.sub(r"[^A-Za-z0-9]+", " ", text).upper().split()
    while len(tokens) > 1 and tokens[0] in _HONORIFICS:
        tokens.pop(0)
    return " ".join(tokens)


def name_score(a: str, b: str) -> int:
    """Similarity 0-100; word order is ignored as a second opinion ("SANTOSO BUDI")."""
    na, nb = normalize_name(a), normalize_name(b)
    if not na or not nb:
        return 0
    direct = difflib.SequenceMatcher(None, na, nb).ratio()
    ordered = difflib.SequenceMatcher(None, " ".join(sorted(na.split())), " ".join(sorted(nb.split()))).ratio()
    return round(max(direct, ordered) * 100)


class OfflineRegistryAdapter:
    """For regions without a PKS and for demos: compares against an admin-imported registry."""

    def __init__(self, lookup: Callable[[str], RegistryRecord | None], threshold: int = 90) -> None:
        if not 0 <= threshold <= 100:
            raise ValueError("SIAK_THRESHOLD harus 0-100")
        self._lookup = lookup
        self.threshold = threshold

    def verify(self, nik: str, name: str, birth_date: date | None = None) -> SiakResult:
        try:
            clean = _clean_nik(nik)
            if clean is None:
                return _result(Verdict.NOT_FOUND, "NIK tidak 16 digit")
            record = self._lookup(clean)
        except Exception as exc:  # a broken registry is "unavailable", never a crash
            log.error("Offline registry lookup failed: %s", type(exc).__name__)
            return _result(Verdict.UNAVAILABLE, "Registri lokal tidak dapat dibaca")
        if record is None:
            return _result(Verdict.NOT_FOUND, "NIK tidak ditemukan di registri lokal")
        if record.status in _STATUS_VERDICTS:
            return _result(_STATUS_VERDICTS[record.status])
        if record.status != "aktif":
            return _result(Verdict.UNAVAILABLE, "Status registri lokal tidak dikenal")
        score = name_score(name, record.name)
        mismatched: list[str] = []
        if score < self.threshold:
            mismatched.append("NAMA_LGKP")
        if birth_date is not None and record.birth_date is not None and birth_date != record.birth_date:
            mismatched.append("TGL_LHR")
        if mismatched:
            return _result(Verdict.MISMATCH, f"Tidak sesuai: {', '.join(mismatched)} (skor nama {score})",
                           score, tuple(mismatched))
        return _result(Verdict.MATCH, f"Data sesuai (skor nama {score})", score)


REGISTRY_NAME_MAX = 120  # the registry table's name column


def parse_registry_csv(text: str) -> list[tuple[str, RegistryRecord]]:
    """Parse the admin import: nik,nama[,tanggal_lahir YYYY-MM-DD][,status]. Header row optional.

    Errors name the line, never echo the NIK or name back.
    """
    text = text.lstrip("\ufeff")
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","  # Excel in id-ID locale writes ';'
    columns = ["nik", "nama", "tanggal_lahir", "status"]
    out: list[tuple[str, RegistryRecord]] = []
    seen: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    for row in reader:
        lineno, cells = reader.line_num, [c.strip() for c in row]
        if not any(cells):
            continue
        if not out and cells[0].lower() == "nik":  # optional header row names the columns
            columns = [c.lower() for c in cells]
            if "nama" not in columns:
                raise ValueError(f"Baris {lineno}: kolom 'nama' tidak ada di header")
            continue
        values = dict(zip(columns, cells))
        nik = _clean_nik(values.get("nik", "").lstrip("'"))  # Excel's text-forcing apostrophe
        if nik is None:
            raise ValueError(f"Baris {lineno}: NIK harus 16 digit")
        if nik in seen:
            raise ValueError(f"Baris {lineno}: NIK ganda (sama dengan baris {seen[nik]})")
        name = " ".join(values.get("nama", "").split())
        if not name:
            raise ValueError(f"Baris {lineno}: nama kosong")
        if len(name) > REGISTRY_NAME_MAX:
            raise ValueError(f"Baris {lineno}: nama lebih dari {REGISTRY_NAME_MAX} karakter")
        raw_date = values.get("tanggal_lahir", "")
        try:
            if raw_date and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw_date):
                raise ValueError
            birth = date.fromisoformat(raw_date) if raw_date else None
        except ValueError:
            raise ValueError(f"Baris {lineno}: tanggal_lahir harus YYYY-MM-DD") from None
        if birth and birth > date.today():
            raise ValueError(f"Baris {lineno}: tanggal_lahir di masa depan")
        status = (values.get("status", "") or "aktif").lower().replace(" ", "_").replace("-", "_")
        if status not in REGISTRY_STATUSES:
            raise ValueError(f"Baris {lineno}: status harus aktif, meninggal atau tidak_aktif")
        seen[nik] = lineno
        out.append((nik, RegistryRecord(name, birth, status)))
    return out


# ------------------------------------------------------------------------------------- fakes and placeholders
class FakeSiakAdapter:
    """Tests and demos: canned results per NIK, default NOT_FOUND; records every call."""

    def __init__(self, results: Mapping[str, SiakResult | Verdict] | None = None,
                 default: Verdict = Verdict.NOT_FOUND) -> None:
        self.results: dict[str, SiakResult | Verdict] = dict(results or {})
        self.default = default
        self.calls: list[tuple[str, str, date | None]] = []

    def verify(self, nik: str, name: str, birth_date: date | None = None) -> SiakResult:
        self.calls.append((nik, name, birth_date))
        value = self.results.get(nik, self.default)
        if isinstance(value, SiakResult):
            return value
        verdict = Verdict(value)
        return _result(verdict, score=100 if verdict is Verdict.MATCH else None)


class NotConfiguredAdapter:
    verdict = Verdict.NOT_CONFIGURED

    def __init__(self, reason: str = "") -> None:
        self.reason = reason

    def verify(self, nik: str, name: str, birth_date: date | None = None) -> SiakResult:
        return _result(self.verdict, self.reason)


class MisconfiguredAdapter(NotConfiguredAdapter):
    """Stands in when settings are present but wrong; the reason names the setting, never its value."""

    verdict = Verdict.CONFIG_ERROR
