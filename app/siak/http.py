"""SIAK's web service (HTTP adapter): retries, TLS, comparison of the returned record."""
from __future__ import annotations

import logging
import http.client
import json
import re
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Mapping

from .common import SiakResult, Verdict, _clean_nik, _result

log = logging.getLogger("app.siak")  # one logger for the whole adapter

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
