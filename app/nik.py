"""Structural check of a NIK (Nomor Induk Kependudukan), following docs NIK.md rules 1-8 in order.

Pure Python (no Flask, no database) so the public form, the validator's desk, the CLI and the tests all
share one definition of "a NIK that could exist". Whether the NIK belongs to a real, living resident is
NOT decided here; that is the validator's job (with SIAK when configured).

Layout: PP KK CC DDMMYY SSSS (province, regency/city, district, birth date with +40 for women, serial).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from .textfold import strip_separators

__all__ = ["Reason", "NikResult", "normalize", "check", "mask", "region_name", "PROVINCE_CODES", "plausible"]

_DATA_DIR = Path(__file__).resolve().parent / "data"
_CURRENT_CSV = _DATA_DIR / "wilayah-kemendagri-2025.csv"
_OLD_CSV = _DATA_DIR / "wilayah-kemendagri-kode-lama.csv"

# Rule 2: the 38 province codes (fixed by law, so spelled out rather than derived from the CSV; the
# CSV only supplies the names).
PROVINCE_CODES: frozenset[str] = frozenset(
    [str(c) for c in range(11, 20)]
    + ["21"]
    + [str(c) for c in range(31, 37)]
    + ["51", "52", "53"]
    + [str(c) for c in range(61, 66)]
    + [str(c) for c in range(71, 77)]
    + ["81", "82"]
    + [str(c) for c in range(91, 97)]
)

# Rule 1 strips the separators. What counts as one (any whitespace, dots, every Unicode dash, slashes,
# underscores, parentheses) and how full-width or other non-ASCII digits become 0-9 is defined once in
# app/textfold.py, shared with the masker (app/redact.py): a NIK the form accepts is one the masker finds.
# After folding only ASCII digits remain; anything else left over (a letter, a comma) fails the digit check.
_SIXTEEN_DIGITS = re.compile(r"[0-9]{16}")
_DIGITS = re.compile(r"[0-9]+")

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Reason:
    """One finding. `code` is stable (for code/tests), `message` is for the citizen or the validator."""

    code: str
    message: str  # Indonesian, filled in
    severity: str = ERROR
    # The untranslated template and its values, so an app layer can show the message in another language.
    template: str = ""
    params: tuple[tuple[str, object], ...] = ()


def N_(template: str) -> str:
    """Marks a message for extraction into the catalogues; translation happens in the app layer."""
    return template


def _reason(code: str, template: str, severity: str = ERROR, **params: object) -> Reason:
    return Reason(code, template % params if params else template, severity, template, tuple(params.items()))


@dataclass(frozen=True)
class NikResult:
    nik: str  # normalized input (may be invalid); never log it, see mask()
    valid: bool  # True when there is no error-severity reason (warnings allowed)
    reasons: tuple[Reason, ...] = ()
    # Codes are dotted ("35", "35.08", "35.08.10") and only set when that level passed its structural
    # rule; names only when the code was found in the 2025 list or in the kode-lama list.
    province_code: str | None = None
    province: str | None = None
    regency_code: str | None = None
    regency: str | None = None
    district_code: str | None = None
    district: str | None = None
    old_code: bool = False  # region found only in the kode-lama list (still valid)
    unknown_region: bool = False  # regency or district found in no list (warning only)
    birth_date: date | None = None  # None unless it is a real date that is not in the future
    sex: str | None = None  # "L" (laki-laki) or "P" (perempuan), from DD, whenever DD is in range
    outside_allowed_region: bool = False

    @property
    def errors(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if r.severity == ERROR)

    @property
    def warnings(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if r.severity == WARNING)


# --------------------------------------------------------------------------- region tables


def _load(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["kode"].strip(): row["nama"].strip() for row in csv.DictReader(fh)}


@lru_cache(maxsize=1)
def _current_regions() -> dict[str, str]:
    # Loaded on first use, once per process: importing this module must stay cheap.
    return _load(_CURRENT_CSV)


@lru_cache(maxsize=1)
def _old_regions() -> dict[str, str]:
    return _load(_OLD_CSV)


def _dotted(code: str) -> str | None:
    """"3508" / "35.08" / "35 08" -> "35.08"; None when it is not 2, 4 or 6 digits."""
    digits = strip_separators(code)
    if len(digits) not in (2, 4, 6) or not _DIGITS.fullmatch(digits):
        return None
    return ".".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def region_name(code: str) -> str | None:
    """Name of a province/regency/district code (dotted or not), current list first, then kode lama."""
    dotted = _dotted(code)
    if dotted is None:
        return None
    return _current_regions().get(dotted) or _old_regions().get(dotted)


def _lookup(code: str) -> tuple[str | None, bool]:
    """(name, is_old_code) for a dotted code; (None, False) when it is in neither list."""
    name = _current_regions().get(code)
    if name is not None:
        return name, False
    name = _old_regions().get(code)
    return (name, True) if name is not None else (None, False)


# --------------------------------------------------------------------------- helpers


def normalize(raw: str) -> str:
    """Fold look-alike characters and remove the separators (app/textfold.py); everything else is kept so
    that it fails the digit check."""
    return strip_separators(raw or "")


def plausible(digits: str) -> bool:
    """Could these 16 ASCII digits be a NIK, or a KK (Kartu Keluarga) number, which has the same layout with
    the date of issue in place of the birth date? Rules 2, 3, 5, 6 and 8 only: no region lists, no calendar.

    The masker uses it to tell a NIK written in several groups from other numbers that happen to add up to
    16 digits (years, coordinates, scores)."""
    if len(digits) != 16 or not digits.isascii() or not digits.isdigit():
        return False
    dd, mm = int(digits[6:8]), int(digits[8:10])
    return (digits[:2] in PROVINCE_CODES and digits[2:4] not in ("00", "70") and digits[4:6] != "00"
            and (1 <= dd <= 31 or 41 <= dd <= 71) and 1 <= mm <= 12 and digits[12:] != "0000")


def mask(nik: str) -> str:
    """Show the first 4 and last 4 digits only: '3508••••••••0001'.

    Why 4+4: enough for a citizen or officer to recognise their own number (regency + serial tail)
    without exposing the birth date. Inputs shorter than 12 characters are masked completely, because
    4+4 visible would reveal most of them.
    """
    value = normalize(nik)
    if len(value) < 12:
        return "\u2022" * len(value)
    return value[:4] + "\u2022" * (len(value) - 8) + value[-4:]


def normalize_prefixes(prefixes: tuple[str, ...]) -> tuple[str, ...]:
    """Region codes as digits (`35.08` → `3508`); ValueError for anything else (config.py checks them at start)."""
    out = []
    for p in prefixes:
        digits = strip_separators(p)
        if len(digits) not in (2, 4, 6) or not _DIGITS.fullmatch(digits):
            # A configuration mistake, not a citizen's typo: fail loudly.
            raise ValueError(f"allowed NIK prefix must be 2, 4 or 6 digits (e.g. '35.08'): {p!r}")
        out.append(digits)
    return tuple(out)


def _century_year(yy: int, today: date) -> int:
    # Rule 7: 20YY if YY <= current YY, else 19YY (generalised to "this century / previous century").
    century = today.year - today.year % 100
    return century + yy if yy <= today.year % 100 else century - 100 + yy


# --------------------------------------------------------------------------- the check


def check(
    raw: str,
    *,
    today: date | None = None,
    allowed_prefixes: tuple[str, ...] = (),
    refuse_outside: bool = False,
) -> NikResult:
    """Apply every structural rule and collect every finding (not just the first one).

    `allowed_prefixes`: region codes the service is meant for, e.g. ("35.08",). A NIK issued elsewhere
    gets a warning "di_luar_wilayah" (people move; their NIK keeps the issuing code), or an error when
    `refuse_outside` is True.
    """
    today = today or date.today()
    prefixes = normalize_prefixes(allowed_prefixes)
    nik = normalize(raw)

    # Rule 1. After this fails nothing else can be parsed, so return at once.
    if not _SIXTEEN_DIGITS.fullmatch(nik):
        return NikResult(nik=nik, valid=False, reasons=(_length_reason(nik),))

    reasons: list[Reason] = []
    fields: dict[str, object] = {}
    pp, kk, cc = nik[0:2], nik[2:4], nik[4:6]
    dd, mm, yy, serial = int(nik[6:8]), int(nik[8:10]), int(nik[10:12]), nik[12:16]

    # Rule 2: province.
    province_ok = pp in PROVINCE_CODES
    if province_ok:
        fields["province_code"] = pp
        fields["province"] = _current_regions().get(pp)
    else:
        reasons.append(_reason(
            "provinsi",
            N_("Dua angka pertama NIK (%(pp)s) bukan kode provinsi yang berlaku. Periksa kembali NIK Anda."),
            pp=pp,
        ))

    # Rule 3: impossible regency / district codes.
    regency_ok = kk not in ("00", "70")
    district_ok = cc != "00"
    if not regency_ok:
        reasons.append(_reason(
            "kabupaten",
            N_("Angka ke-3 dan ke-4 NIK (%(kk)s) bukan kode kabupaten/kota yang mungkin. "
               "Periksa kembali NIK Anda."),
            kk=kk,
        ))
    if not district_ok:
        reasons.append(_reason(
            "kecamatan",
            N_("Angka ke-5 dan ke-6 NIK (00) bukan kode kecamatan yang mungkin. Periksa kembali NIK Anda."),
        ))

    # Rule 4: lookup. Only meaningful when the levels above are structurally fine.
    if province_ok and regency_ok:
        reasons.extend(_region_lookup(f"{pp}.{kk}", f"{pp}.{kk}.{cc}" if district_ok else None, fields))

    # Rules 5-7: birth date and sex.
    reasons.extend(_birth(dd, mm, yy, today, fields))

    # Rule 8: serial.
    if serial == "0000":
        reasons.append(_reason("nomor_urut", N_("Empat angka terakhir NIK (nomor urut) tidak boleh 0000.")))

    # Service area (a product rule, not a NIK.md rule): checked last.
    if prefixes and not any(nik.startswith(p) for p in prefixes):
        fields["outside_allowed_region"] = True
        reasons.append(_outside_reason(prefixes, refuse_outside))

    valid = not any(r.severity == ERROR for r in reasons)
    return NikResult(nik=nik, valid=valid, reasons=tuple(reasons), **fields)  # type: ignore[arg-type]


def _length_reason(nik: str) -> Reason:
    if not nik:
        return _reason("panjang", N_("NIK belum diisi. NIK terdiri dari 16 angka, tertera di KTP atau Kartu Keluarga."))
    if not _DIGITS.fullmatch(nik):
        return _reason("panjang", N_(
            "NIK hanya boleh berisi angka 0-9; yang Anda ketik mengandung huruf atau tanda lain. "
            "NIK terdiri dari 16 angka."))
    return _reason("panjang", N_("NIK harus terdiri dari 16 angka; yang Anda ketik %(n)d angka."), n=len(nik))


def _region_lookup(regency_code: str, district_code: str | None, fields: dict[str, object]) -> list[Reason]:
    """Rule 4. Kode lama and unknown codes are warnings for the validator, never a rejection."""
    reasons: list[Reason] = []
    old_codes: list[str] = []
    unknown: str | None = None

    fields["regency_code"] = regency_code
    name, old = _lookup(regency_code)
    fields["regency"] = name
    if name is None:
        unknown = regency_code
    elif old:
        old_codes.append(f"{regency_code} ({name})")

    if district_code is not None:
        fields["district_code"] = district_code
        name, old = _lookup(district_code)
        fields["district"] = name
        if name is None:
            unknown = unknown or district_code  # report the broadest unknown level only
        elif old:
            old_codes.append(f"{district_code} ({name})")

    if old_codes:
        fields["old_code"] = True
        reasons.append(_reason(
            "kode_lama",
            N_("Kode wilayah %(codes)s adalah kode lama (sebelum pemekaran/penomoran ulang). NIK tetap berlaku."),
            WARNING, codes=", ".join(old_codes),
        ))
    if unknown is not None:
        fields["unknown_region"] = True
        reasons.append(_reason(
            "wilayah_tidak_dikenal",
            N_("Kode wilayah %(region)s tidak ditemukan dalam daftar Kemendagri; petugas akan memeriksanya."),
            WARNING, region=unknown,
        ))
    return reasons


def _birth(dd: int, mm: int, yy: int, today: date, fields: dict[str, object]) -> list[Reason]:
    """Rules 5-7. Day and month are reported separately so the citizen sees every typo at once."""
    reasons: list[Reason] = []
    day: int | None = None
    if 1 <= dd <= 31:
        day, fields["sex"] = dd, "L"
    elif 41 <= dd <= 71:
        day, fields["sex"] = dd - 40, "P"
    else:
        reasons.append(_reason(
            "tanggal",
            N_("Angka ke-7 dan ke-8 NIK (%(dd)s) harus tanggal lahir: 01-31 untuk laki-laki, "
               "atau 41-71 untuk perempuan (tanggal lahir ditambah 40)."),
            dd=f"{dd:02d}",
        ))
    if not 1 <= mm <= 12:
        reasons.append(_reason("bulan", N_("Angka ke-9 dan ke-10 NIK (%(mm)s) harus bulan lahir 01-12."),
                               mm=f"{mm:02d}"))
        return reasons
    if day is None:
        return reasons

    year = _century_year(yy, today)
    try:
        born = date(year, mm, day)
    except ValueError:
        reasons.append(_reason(
            "tanggal_lahir",
            N_("Tanggal lahir dalam NIK (%(date)s) tidak ada di kalender. Periksa kembali NIK Anda."),
            date=f"{day:02d}-{mm:02d}-{year}",
        ))
        return reasons
    if born > today:
        reasons.append(_reason(
            "tanggal_masa_depan",
            N_("Tanggal lahir dalam NIK (%(date)s) belum terjadi. Periksa kembali NIK Anda."),
            date=f"{born:%d-%m-%Y}",
        ))
        return reasons
    fields["birth_date"] = born
    return reasons


def _outside_reason(prefixes: tuple[str, ...], refuse: bool) -> Reason:
    names = ", ".join(region_name(p) or _dotted(p) or p for p in prefixes)
    if refuse:
        return _reason("di_luar_wilayah", N_("Layanan ini hanya untuk penduduk dengan NIK terbitan %(names)s."),
                       names=names)
    return _reason("di_luar_wilayah",
                   N_("NIK ini diterbitkan di luar wilayah layanan (%(names)s); petugas akan memeriksanya."),
                   WARNING, names=names)
