"""NIK verification against SIAK / Dukcapil, plus offline and test stand-ins.

Pure Python on purpose (no Flask, no SQLAlchemy): the validator's desk, CLI jobs and tests all use the same
adapters. Contract (see shared/NIK.md): ``verify(nik, name, birth_date=None)`` returns a ``SiakResult`` and
never raises for transport/protocol trouble. Only verdict, score, element names and time leave this module;
SIAK's biodata is never kept, logged or put into a reason text.
"""
from __future__ import annotations

import csv
import difflib
import enum
import http.client
import io
import json
import logging
import re
import ssl
import time
import unicodedata
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Mapping, Protocol, runtime_checkable

log = logging.getLogger(__name__)


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


# ---------------------------------------------------------------------------------------------- HTTP adapter
DATE_FORMATS = ("%d-%m-%Y", "%Y-%m-%d")  # both seen in the wild; which one is decided per PKS
_MAX_BODY = 1_000_000  # a verification answer is tiny; refuse to buffer anything huge


@dataclass(frozen=True)
class HttpSiakConfig:
    base_url: str
    method_path: str
    user_id: str = field(repr=False)  # an access credential too: keep it out of reprs and logs
    password: str = field(repr=False)
    ip_user: str
    threshold: int = 90
    date_format: str = "%d-%m-%Y"
    timeout: float = 5.0
    retries: int = 2
    backoff: float = 0.5
    verify_tls: bool = True
    ca_file: str | None = None
    allow_insecure: bool = False

    def __post_init__(self) -> None:
        # Messages name the setting, never its value (values may be secrets). Credentials travel in the
        # body, so plain HTTP or unverified TLS must be an explicit, visible decision (allow_insecure).
        url = self.base_url.strip().lower()
        for bad, message in (
            (not url.startswith(("https://", "http://")), "SIAK_BASE_URL harus diawali https://"),
            (url.startswith("http://") and not self.allow_insecure,
             "SIAK_BASE_URL memakai http:// tanpa SIAK_ALLOW_INSECURE"),
            (not self.verify_tls and not self.allow_insecure,
             "SIAK_VERIFY_TLS=false membutuhkan SIAK_ALLOW_INSECURE=true"),
            ("{" in self.method_path or "}" in self.method_path, "SIAK_METHOD_PATH masih berisi placeholder {…}"),
            (not 0 <= self.threshold <= 100, "SIAK_THRESHOLD harus 0-100"),
            (self.date_format not in DATE_FORMATS, "SIAK_DATE_FORMAT harus %d-%m-%Y atau %Y-%m-%d"),
            (not 0 < self.timeout <= 60, "SIAK_TIMEOUT harus lebih dari 0 dan paling lama 60 detik"),
            (not 0 <= self.retries <= 5, "SIAK_RETRIES harus 0-5"),  # each retry holds a validator's request
            (not self.backoff >= 0, "SIAK backoff tidak boleh negatif"),
        ):
            if bad:
                raise ValueError(message)

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/" + self.method_path.lstrip("/")


# RESPONSE_CODE → verdict. 01 (found) is handled by element comparison.
_CODES: dict[str, tuple[Verdict, str]] = {
    "03": (Verdict.CONFIG_ERROR, "Login SIAK gagal"),
    "04": (Verdict.CONFIG_ERROR, "IP tidak diizinkan SIAK"),
    "05": (Verdict.UNAVAILABLE, "Kuota harian habis"),
    "06": (Verdict.UNAVAILABLE, "Di luar jam akses SIAK"),
    "07": (Verdict.CONFIG_ERROR, "Permintaan ke SIAK tidak lengkap"),  # our request is wrong: our bug
    "08": (Verdict.UNAVAILABLE, "NIK tidak dapat diproses SIAK"),
    "09": (Verdict.CONFIG_ERROR, "Kredensial SIAK kosong"),
    "10": (Verdict.CONFIG_ERROR, "IP tidak diizinkan SIAK"),
    "11": (Verdict.DECEASED, "Tercatat meninggal dunia"),
    "12": (Verdict.UNAVAILABLE, "Data ganda, periksa manual"),
    "13": (Verdict.NOT_FOUND, "NIK tidak ditemukan"),
    "14": (Verdict.INACTIVE, "NIK tidak aktif"),
    "15": (Verdict.NOT_FOUND, "Data tidak ditemukan / bukan format Dukcapil"),
    "16": (Verdict.CONFIG_ERROR, "Instansi tidak aktif di SIAK"),
    "17": (Verdict.CONFIG_ERROR, "User id SIAK tidak aktif"),
}
_ELEMENT_RE = re.compile(r"^\s*(tidak\s+sesuai|sesuai)\s*(?:\(\s*(\d{1,3})(?:[.,]\d+)?\s*\))?\s*$", re.I)
_UNREADABLE = "Jawaban SIAK tidak dapat dibaca"


def _norm_code(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    # Unknown non-numeric code: keep only a short, harmless token (it may end up in a reason text).
    return text.zfill(2) if text.isdigit() else (re.sub(r"[^A-Za-z0-9]", "", text)[:8] or None)


def _extract(doc: Any) -> tuple[dict[str, Any] | None, str | None]:
    """Find the answer record and RESPONSE_CODE in the shapes real deployments send."""
    top_code = None
    content: Any = doc
    if isinstance(doc, dict):
        top_code = _norm_code(doc.get("RESPONSE_CODE"))
        if "content" in doc:
            content = doc["content"]
    if isinstance(content, list):
        content = content[0] if content else None
    record = content if isinstance(content, dict) else None
    code = _norm_code(record.get("RESPONSE_CODE")) if record else None
    return record, code or top_code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect means a wrong base URL; following it could send credentials elsewhere.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HttpSiakAdapter:
    """JSON-over-HTTP client for the Dukcapil verification service (endpoint details are configuration)."""

    def __init__(self, config: HttpSiakConfig, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self._sleep = sleep
        # No ambient proxies: SIAK sits behind a VPN and the body carries credentials.
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({}), _NoRedirect()]
        if config.url.lower().startswith("https://"):
            try:
                ctx = ssl.create_default_context(cafile=config.ca_file)
            except (OSError, ssl.SSLError):
                raise ValueError("SIAK_CA_FILE tidak dapat dibaca") from None
            if not config.verify_tls:  # only reachable with allow_insecure=True
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            handlers.append(urllib.request.HTTPSHandler(context=ctx))
        self._opener = urllib.request.build_opener(*handlers)

    def verify(self, nik: str, name: str, birth_date: date | None = None) -> SiakResult:
        started = time.monotonic()
        code: str | None = None
        attempts = 0
        try:
            result, code, attempts = self._verify(nik, name, birth_date)
        except Exception as exc:  # never break the validator's desk because of a bug here
            log.error("SIAK adapter internal error: %s", type(exc).__name__)
            result = _result(Verdict.UNAVAILABLE, "Kesalahan internal adapter SIAK")
        log.info("SIAK verify verdict=%s code=%s attempts=%d duration_ms=%d", result.verdict.value,
                 code or "-", attempts, int((time.monotonic() - started) * 1000))
        return result

    def _verify(self, nik: str, name: str, birth_date: date | None
                ) -> tuple[SiakResult, str | None, int]:
        clean = _clean_nik(nik)
        if clean is None:  # never spend quota on a typing error
            return _result(Verdict.NOT_FOUND, "NIK tidak 16 digit; tidak dikirim ke SIAK"), None, 0
        full_name = " ".join(str(name or "").split()).upper()  # Dukcapil keeps names in capitals
        if not full_name:
            return _result(Verdict.MISMATCH, "Nama kosong", mismatched=("NAMA_LGKP",)), None, 0
        cfg = self.config
        body: dict[str, str] = {"NIK": clean, "NAMA_LGKP": full_name}
        required = ["NAMA_LGKP"]
        if birth_date is not None:
            body["TGL_LHR"] = birth_date.strftime(cfg.date_format)
            required.append("TGL_LHR")
        # TRESHOLD [sic] is the service's spelling; values sent as strings like the other fields.
        body.update(USER_ID=cfg.user_id, PASSWORD=cfg.password, IP_USER=cfg.ip_user, TRESHOLD=str(cfg.threshold))
        data = json.dumps(body).encode("utf-8")
        reason = "SIAK tidak dapat dihubungi"
        for attempt in range(cfg.retries + 1):
            if attempt and cfg.backoff:
                self._sleep(cfg.backoff * 2 ** (attempt - 1))
            final, code, reason = self._attempt(data, required)
            if final is not None:
                return final, code, attempt + 1
            log.warning("SIAK attempt %d/%d failed: %s", attempt + 1, cfg.retries + 1, reason)
        return _result(Verdict.UNAVAILABLE, f"{reason} setelah {cfg.retries + 1} percobaan"), None, cfg.retries + 1

    def _attempt(self, data: bytes, required: list[str]) -> tuple[SiakResult | None, str | None, str]:
        """One POST. Returns (result, code, "") when final, (None, None, reason) when worth retrying."""
        req = urllib.request.Request(self.config.url, data=data, method="POST", headers={
            "Content-Type": "application/json", "Accept": "application/json"})
        try:
            try:
                resp = self._opener.open(req, timeout=self.config.timeout)
            except urllib.error.HTTPError as exc:
                resp = exc  # 4xx/5xx still carry a body that may hold SIAK's code
            with resp:
                status, raw = resp.getcode(), resp.read(_MAX_BODY + 1)
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets, bad status line
            cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            if isinstance(cause, ssl.SSLCertVerificationError):  # wrong CA/host: retrying won't help
                return _result(Verdict.CONFIG_ERROR,
                               "Sertifikat TLS SIAK tidak dapat diverifikasi; periksa SIAK_CA_FILE"), None, ""
            return None, None, "Waktu tunggu SIAK habis" if isinstance(cause, TimeoutError) else "Koneksi ke SIAK gagal"
        if status >= 500:
            return None, None, f"SIAK galat server (HTTP {status})"
        if status in (401, 403):
            return _result(Verdict.CONFIG_ERROR, f"Akses ditolak SIAK (HTTP {status})"), None, ""
        if 300 <= status < 400:
            return _result(Verdict.CONFIG_ERROR,
                           f"SIAK mengalihkan permintaan (HTTP {status}); periksa SIAK_BASE_URL"), None, ""
        result, code = self._interpret(raw, required)
        if status >= 400 and code is None:  # a 4xx without a readable SIAK code
            if status == 429:
                return _result(Verdict.UNAVAILABLE, "Permintaan dibatasi SIAK (HTTP 429)"), None, ""
            return _result(Verdict.CONFIG_ERROR, f"Permintaan ditolak SIAK (HTTP {status})"), None, ""
        return result, code, ""

    def _interpret(self, raw: bytes, required: list[str]) -> tuple[SiakResult, str | None]:
        if len(raw) > _MAX_BODY:
            return _result(Verdict.UNAVAILABLE, _UNREADABLE), None
        try:
            doc = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            return _result(Verdict.UNAVAILABLE, _UNREADABLE), None
        record, code = _extract(doc)
        if code in (None, "01"):
            if record is None:
                return _result(Verdict.UNAVAILABLE, _UNREADABLE), code
            return _compare(record, required, self.config.threshold), code or "01"
        if code in _CODES:
            verdict, text = _CODES[code]
            return _result(verdict, f"{text} (kode {code})"), code
        return _result(Verdict.UNAVAILABLE, f"Kode jawaban SIAK tidak dikenal (kode {code})"), code


def _compare(record: Mapping[str, Any], required: list[str], threshold: int) -> SiakResult:
    """Turn "Sesuai" / "Tidak Sesuai" / "Sesuai (95)" elements into MATCH or MISMATCH."""
    elements: dict[str, tuple[bool, int | None]] = {}
    for key, value in record.items():
        # Values that are not element verdicts (possibly biodata) are skipped and never echoed.
        match = _ELEMENT_RE.match(value) if isinstance(value, str) else None
        if match:
            score = min(int(match.group(2)), 100) if match.group(2) else None
            elements[str(key).upper()] = (match.group(1).lower() == "sesuai", score)
    missing = [k for k in required if k not in elements]
    if missing:  # no MATCH without evidence for what we asked
        return _result(Verdict.UNAVAILABLE, f"Jawaban SIAK tidak lengkap ({', '.join(missing)})")
    score = elements["NAMA_LGKP"][1]
    mismatched = [k for k, (ok, _) in elements.items() if not ok]
    if score is not None and score < threshold and "NAMA_LGKP" not in mismatched:
        mismatched.insert(0, "NAMA_LGKP")  # SIAK's own threshold may be laxer than ours
    suffix = f" (skor nama {score})" if score is not None else ""
    if mismatched:
        return _result(Verdict.MISMATCH, f"Tidak sesuai: {', '.join(mismatched)}{suffix}", score, tuple(mismatched))
    return _result(Verdict.MATCH, f"Data sesuai{suffix}", score)


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


# ------------------------------------------------------------------------------------------------- factory
_HTTP_REQUIRED = ("SIAK_BASE_URL", "SIAK_METHOD_PATH", "SIAK_USER_ID", "SIAK_PASSWORD", "SIAK_IP_USER")
_TRUE = {"1", "true", "yes", "ya", "on"}
_FALSE = {"0", "false", "no", "tidak", "off"}


def _setting(settings: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    value = settings.get(key)
    text = "" if value is None else str(value).strip()
    if not text:
        return default
    try:
        if kind is bool:
            if isinstance(value, bool) or text.lower() in _TRUE | _FALSE:
                return value if isinstance(value, bool) else text.lower() in _TRUE
        else:
            return kind(text)  # int("90"), float("5"), str
    except ValueError:
        pass
    raise ValueError(f"{key} tidak valid")  # the key, never the value


def build_adapter(settings: Mapping[str, Any],
                  lookup: Callable[[str], RegistryRecord | None] | None = None) -> SiakAdapter:
    """Pick the adapter from flat settings (SIAK_MODE = off | http | offline | fake). Never raises."""
    mode = str(settings.get("SIAK_MODE") or "off").strip().lower()
    try:
        if mode in ("off", "none"):
            return NotConfiguredAdapter()
        if mode == "fake":
            return FakeSiakAdapter()
        threshold = _setting(settings, "SIAK_THRESHOLD", int, 90)
        if mode == "offline":
            if lookup is None:
                return MisconfiguredAdapter("SIAK_MODE=offline membutuhkan registri lokal")
            return OfflineRegistryAdapter(lookup, threshold=threshold)
        if mode != "http":
            return MisconfiguredAdapter("SIAK_MODE tidak dikenal (off, http, offline, fake)")
        missing = [k for k in _HTTP_REQUIRED if not str(settings.get(k) or "").strip()]
        if missing:
            return MisconfiguredAdapter(f"Pengaturan SIAK belum lengkap: {', '.join(missing)}")
        config = HttpSiakConfig(
            base_url=str(settings["SIAK_BASE_URL"]).strip(),
            method_path=str(settings["SIAK_METHOD_PATH"]).strip(),
            user_id=str(settings["SIAK_USER_ID"]),
            password=str(settings["SIAK_PASSWORD"]),
            ip_user=str(settings["SIAK_IP_USER"]).strip(),
            threshold=threshold,
            date_format=_setting(settings, "SIAK_DATE_FORMAT", str, "%d-%m-%Y"),
            timeout=_setting(settings, "SIAK_TIMEOUT", float, 5.0),
            retries=_setting(settings, "SIAK_RETRIES", int, 2),
            verify_tls=_setting(settings, "SIAK_VERIFY_TLS", bool, True),
            ca_file=_setting(settings, "SIAK_CA_FILE", str, None),
            allow_insecure=_setting(settings, "SIAK_ALLOW_INSECURE", bool, False),
        )
        return HttpSiakAdapter(config)
    except ValueError as exc:
        return MisconfiguredAdapter(str(exc))
