"""The bridge to SP4N-LAPOR! (Perpres 76/2013, the national complaint channel), plus offline and test stand-ins.

Pure Python on purpose (no Flask, no SQLAlchemy), like app/siak/: the scheduler's pull job, the outbox's
delivery and the tests all use the same adapters. Two operations, each of which never raises for
transport or protocol trouble:

- ``list_disposed(since)`` → ``PullResult``: the reports LAPOR! has disposed ("didisposisikan") to this
  regency since a moment, as raw records, or the reason the list could not be read;
- ``push(item)`` → ``None`` when LAPOR! accepted a follow-up (an answer, or "bukan wewenang"), else the
  error text (the outbox retries, then marks it dead).

LAPOR!'s integration API is documented to registered developers only (through the KemenPAN-RB / LAPOR!
integration agreement). So every name this module reads or writes is declared once, in ``IMPORT_FIELDS``,
``LIST_SHAPE`` and ``PUSH_FIELDS`` below; README "SP4N-LAPOR!" lists them. Adapting to the real API is
editing those tables (and the paths in the settings), nothing else.
"""
from __future__ import annotations

import http.client
import json
import logging
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence, runtime_checkable

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------------- the declared mapping


@dataclass(frozen=True)
class FieldSpec:
    """One field of a LAPOR! report: our name, its dotted path in LAPOR!'s JSON, its kind, and whether a
    report without it is refused."""

    ours: str
    path: str
    kind: str = "text"  # text | bool | datetime
    required: bool = False
    limit: int = 10_000  # structural guard only; the submission boundary applies the real limits


# What an imported report carries. The submission service (services.complaints) checks every value again
# through the one input boundary, exactly as for the public form.
IMPORT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("lapor_id", "tracking_id", required=True, limit=64),  # LAPOR!'s tracking ID ("#1234567")
    FieldSpec("title", "judul", required=True),
    FieldSpec("text", "isi", required=True),
    FieldSpec("name", "pelapor.nama", required=True),
    FieldSpec("nik", "pelapor.nik", required=True),
    FieldSpec("phone", "pelapor.telepon"),
    FieldSpec("email", "pelapor.email"),
    FieldSpec("address", "pelapor.alamat"),
    FieldSpec("location", "lokasi"),
    FieldSpec("opd_code", "instansi_tujuan.kode"),  # optional: the unit LAPOR! named, when it is one of ours
    FieldSpec("anonim", "anonim", kind="bool"),  # LAPOR!'s "Anonim": identity hidden from the public
    FieldSpec("rahasia", "rahasia", kind="bool"),  # LAPOR!'s "Rahasia": the report itself not public
    FieldSpec("reported_at", "tanggal_lapor", kind="datetime"),
)
# The list of disposed reports: GET <LAPOR_BASE_URL><LAPOR_LIST_PATH>?<since>=<ISO time>&<page>=<n>
LIST_SHAPE = {"since": "sejak", "page": "halaman", "items": "data", "next_page": "halaman_berikutnya"}
# A follow-up: POST <LAPOR_BASE_URL><LAPOR_PUSH_PATH with {tracking_id}> with these JSON keys.
PUSH_FIELDS = {"tracking_id": "tracking_id", "kind": "jenis", "text": "isi", "reference": "nomor_tiket_daerah"}
PUSH_KINDS = {"answer": "tindak_lanjut", "return": "bukan_wewenang"}
MAX_PAGES = 50  # a runaway "next page" never loops forever
_MAX_BODY = 5_000_000


class MalformedReport(ValueError):
    """A record that is not a report we can take: `problems` maps our field name to what is wrong (never
    the value: it may be personal data)."""

    def __init__(self, problems: Mapping[str, str], lapor_id: str | None = None) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = dict(problems)
        self.lapor_id = lapor_id


@dataclass(frozen=True)
class LaporReport:
    lapor_id: str
    title: str
    text: str
    name: str
    nik: str
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    location: str | None = None
    opd_code: str | None = None
    anonim: bool = False
    rahasia: bool = False
    reported_at: datetime | None = None

    @property
    def visibility(self) -> str:
        """LAPOR!'s two flags as this service's visibility (workflow.Visibility values)."""
        return "rahasia" if self.rahasia else "anonim" if self.anonim else "publik"


def _dig(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


_TRUE = {"1", "true", "ya", "yes", "y"}
_FALSE = {"0", "false", "tidak", "no", "n", ""}


def _read(spec: FieldSpec, value: Any) -> tuple[Any, str | None]:
    if value is None:
        return (False if spec.kind == "bool" else None), None
    if spec.kind == "bool":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, (int, str)) and str(value).strip().lower() in _TRUE | _FALSE:
            return str(value).strip().lower() in _TRUE, None
        return None, "bukan nilai ya/tidak"
    if spec.kind == "datetime":
        if not isinstance(value, str):
            return None, "bukan tanggal ISO 8601"
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None, "bukan tanggal ISO 8601"
        if moment.tzinfo is None:  # LAPOR! runs on WIB
            from zoneinfo import ZoneInfo

            moment = moment.replace(tzinfo=ZoneInfo("Asia/Jakarta"))
        return moment.astimezone(timezone.utc).replace(tzinfo=None), None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None, "bukan teks"
    text = str(value)
    if len(text) > spec.limit:
        return None, f"lebih dari {spec.limit} karakter"
    return (text if text.strip() else None), None


def parse_report(record: Any) -> LaporReport:
    """One raw LAPOR! record → `LaporReport`, or `MalformedReport` naming every problem."""
    if not isinstance(record, Mapping):
        raise MalformedReport({"record": "bukan objek JSON"})
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for spec in IMPORT_FIELDS:
        value, problem = _read(spec, _dig(record, spec.path))
        if problem:
            problems[spec.ours] = problem
        elif value is None and spec.required:
            problems[spec.ours] = "wajib ada"
        else:
            values[spec.ours] = value
    lapor_id = values.get("lapor_id")
    if lapor_id is not None:
        lapor_id = lapor_id.strip()
        if not lapor_id.isprintable() or any(ch.isspace() for ch in lapor_id):
            problems["lapor_id"], lapor_id = "berisi spasi atau karakter kendali", None
        values["lapor_id"] = lapor_id
    if problems:
        raise MalformedReport(problems, lapor_id)
    return LaporReport(**values)


@dataclass(frozen=True)
class PullResult:
    records: tuple[Any, ...] = ()
    error: str | None = None  # set when the list could not be read (nothing is imported then)
    attempts: int = 0


@dataclass(frozen=True)
class PushItem:
    tracking_id: str
    kind: str  # a key of PUSH_KINDS
    text: str
    reference: str  # our ticket
    idempotency_key: str

    def payload(self) -> dict[str, str]:
        return {PUSH_FIELDS["tracking_id"]: self.tracking_id, PUSH_FIELDS["kind"]: PUSH_KINDS[self.kind],
                PUSH_FIELDS["text"]: self.text, PUSH_FIELDS["reference"]: self.reference}


@runtime_checkable
class LaporAdapter(Protocol):
    def list_disposed(self, since: datetime) -> PullResult: ...

    def push(self, item: PushItem) -> str | None: ...


# ---------------------------------------------------------------------------------------------- HTTP adapter


@dataclass(frozen=True)
class HttpLaporConfig:
    base_url: str
    token: str = field(repr=False)  # an access credential: out of reprs and logs
    list_path: str = "/api/v1/laporan/disposisi"
    push_path: str = "/api/v1/laporan/{tracking_id}/tindak-lanjut"
    timeout: float = 10.0
    retries: int = 2
    backoff: float = 1.0
    allow_insecure: bool = False

    def __post_init__(self) -> None:
        url = self.base_url.strip().lower()
        for bad, message in (
            (not url.startswith(("https://", "http://")), "LAPOR_BASE_URL harus diawali https://"),
            (url.startswith("http://") and not self.allow_insecure,
             "LAPOR_BASE_URL memakai http:// tanpa LAPOR_ALLOW_INSECURE"),
            (not self.token.strip(), "LAPOR_TOKEN kosong"),
            ("{" in self.list_path, "LAPOR_LIST_PATH tidak boleh berisi {…}"),
            (self.push_path.replace("{tracking_id}", "").count("{") > 0,
             "LAPOR_PUSH_PATH hanya boleh berisi {tracking_id}"),
            (not 0 < self.timeout <= 60, "LAPOR_TIMEOUT harus lebih dari 0 dan paling lama 60 detik"),
            (not 0 <= self.retries <= 5, "LAPOR_RETRIES harus 0-5"),
            (not self.backoff >= 0, "LAPOR backoff tidak boleh negatif"),
        ):
            if bad:
                raise ValueError(message)

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect means a wrong base URL; following it could send the token elsewhere.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _Retry(Exception):
    pass


class Unreachable(str):
    """An error text meaning LAPOR! could not be reached at all (transport failure or 5xx after the retries):
    the outbox stops trying the rest of its batch for this run."""


class HttpLaporAdapter:
    """JSON over HTTPS with a bearer token. Transport errors and 5xx are retried with backoff inside one
    call; anything else is final. The outbox adds its own retries across runs on top."""

    def __init__(self, config: HttpLaporConfig, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self._sleep = sleep
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({}), _NoRedirect()]
        if config.base_url.lower().startswith("https://"):
            handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context()))
        self._opener = urllib.request.build_opener(*handlers)

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return {"Accept": "application/json", "Authorization": f"Bearer {self.config.token}",
                "User-Agent": "layanan-pengaduan/1", **(extra or {})}

    def _once(self, request: urllib.request.Request) -> tuple[int, bytes]:
        try:
            try:
                resp = self._opener.open(request, timeout=self.config.timeout)
            except urllib.error.HTTPError as exc:
                resp = exc
            with resp:
                status, raw = resp.getcode(), resp.read(_MAX_BODY + 1)
        except (OSError, http.client.HTTPException) as exc:
            cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise _Retry("Waktu tunggu LAPOR! habis" if isinstance(cause, TimeoutError)
                         else "Koneksi ke LAPOR! gagal") from None
        if status >= 500 or status == 429:
            raise _Retry(f"LAPOR! menjawab HTTP {status}")
        return status, raw

    def _call(self, make: Callable[[], urllib.request.Request]) -> tuple[int | None, bytes, str, int]:
        """(status, body, last error, attempts); status None when every attempt failed in transport/5xx."""
        reason = "LAPOR! tidak dapat dihubungi"
        cfg = self.config
        for attempt in range(cfg.retries + 1):
            if attempt and cfg.backoff:
                self._sleep(cfg.backoff * 2 ** (attempt - 1))
            try:
                status, raw = self._once(make())
                return status, raw, "", attempt + 1
            except _Retry as exc:
                reason = str(exc)
                log.warning("LAPOR! attempt %d/%d failed: %s", attempt + 1, cfg.retries + 1, reason)
        return None, b"", Unreachable(f"{reason} setelah {cfg.retries + 1} percobaan"), cfg.retries + 1

    def list_disposed(self, since: datetime) -> PullResult:
        try:
            return self._list(since)
        except Exception as exc:  # a bug here must not stop the scheduler
            log.error("LAPOR! adapter internal error: %s", type(exc).__name__)
            return PullResult(error="Kesalahan internal adapter LAPOR!")

    def _list(self, since: datetime) -> PullResult:
        records: list[Any] = []
        page: Any = 1
        attempts = 0
        stamp = since.replace(tzinfo=timezone.utc).isoformat() if since.tzinfo is None else since.isoformat()
        for _ in range(MAX_PAGES):
            query = urllib.parse.urlencode({LIST_SHAPE["since"]: stamp, LIST_SHAPE["page"]: page})
            url = self.config.url(self.config.list_path) + "?" + query
            status, raw, error, tries = self._call(lambda: urllib.request.Request(url, headers=self._headers()))
            attempts += tries
            if status is None:
                return PullResult(error=error, attempts=attempts)
            if status != 200:
                return PullResult(error=f"LAPOR! menolak permintaan daftar (HTTP {status})", attempts=attempts)
            if len(raw) > _MAX_BODY:
                return PullResult(error="Jawaban LAPOR! terlalu besar", attempts=attempts)
            try:
                doc = json.loads(raw.decode("utf-8-sig"))
            except (UnicodeDecodeError, ValueError):
                return PullResult(error="Jawaban LAPOR! bukan JSON", attempts=attempts)
            items = doc.get(LIST_SHAPE["items"]) if isinstance(doc, dict) else None
            if not isinstance(items, list):
                return PullResult(error=f"Jawaban LAPOR! tanpa daftar '{LIST_SHAPE['items']}'", attempts=attempts)
            records.extend(items)
            page = doc.get(LIST_SHAPE["next_page"])
            if page in (None, "", False):
                return PullResult(tuple(records), attempts=attempts)
        return PullResult(error=f"Daftar LAPOR! lebih dari {MAX_PAGES} halaman", attempts=attempts)

    def push(self, item: PushItem) -> str | None:
        try:
            return self._push(item)
        except Exception as exc:
            log.error("LAPOR! adapter internal error: %s", type(exc).__name__)
            return "Kesalahan internal adapter LAPOR!"

    def _push(self, item: PushItem) -> str | None:
        path = self.config.push_path.replace("{tracking_id}", urllib.parse.quote(item.tracking_id, safe=""))
        data = json.dumps(item.payload(), ensure_ascii=False).encode("utf-8")
        headers = self._headers({"Content-Type": "application/json; charset=utf-8",
                                 "Idempotency-Key": item.idempotency_key})
        status, _raw, error, _tries = self._call(
            lambda: urllib.request.Request(self.config.url(path), data=data, headers=headers, method="POST"))
        if status is None:
            return error
        if 200 <= status < 300:
            return None
        if status == 409:  # LAPOR! already has this follow-up (a resend after a lost answer)
            return None
        return f"LAPOR! menolak tindak lanjut (HTTP {status})"


# ------------------------------------------------------------------------------------ offline: exchange files


class FileLaporAdapter:
    """For a regency without API access yet: reports exported from the LAPOR! dashboard are dropped as JSON
    files (each a list of records, or {"data": [...]}) into `inbox`; each follow-up is written as one JSON file
    into `outbox` for an operator to enter in LAPOR! by hand."""

    def __init__(self, inbox: str | Path, outbox: str | Path) -> None:
        self.inbox, self.outbox = Path(inbox), Path(outbox)

    def list_disposed(self, since: datetime) -> PullResult:
        records: list[Any] = []
        try:
            for path in sorted(self.inbox.glob("*.json")):
                doc = json.loads(path.read_text(encoding="utf-8-sig"))
                items = doc.get(LIST_SHAPE["items"]) if isinstance(doc, dict) else doc
                if not isinstance(items, list):
                    return PullResult(error=f"Berkas {path.name} bukan daftar laporan")
                records.extend(items)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            return PullResult(error=f"Berkas LAPOR! tidak dapat dibaca ({type(exc).__name__})")
        return PullResult(tuple(records), attempts=1)

    def push(self, item: PushItem) -> str | None:
        try:
            self.outbox.mkdir(parents=True, exist_ok=True)
            target = self.outbox / f"{item.idempotency_key}.json"
            target.write_text(json.dumps(item.payload(), ensure_ascii=False, indent=2), encoding="utf-8")
        except OSError as exc:
            return f"Berkas tindak lanjut tidak dapat ditulis ({type(exc).__name__})"
        return None


# ------------------------------------------------------------------------------------- fakes and placeholders


class FakeLaporAdapter:
    """Tests and demos: serves `records`, accepts every push and records it."""

    def __init__(self, records: Sequence[Any] = (), *, down: bool = False) -> None:
        self.records = list(records)
        self.down = down
        self.pushed: list[PushItem] = []

    def list_disposed(self, since: datetime) -> PullResult:
        if self.down:
            return PullResult(error="LAPOR! tidak dapat dihubungi", attempts=1)
        return PullResult(tuple(self.records), attempts=1)

    def push(self, item: PushItem) -> str | None:
        if self.down:
            return Unreachable("LAPOR! tidak dapat dihubungi")
        self.pushed.append(item)
        return None


class NotConfiguredAdapter:
    """LAPOR_MODE=off: nothing is pulled; a push waits (the outbox leaves an unconfigured channel pending)."""

    def __init__(self, reason: str = "LAPOR! belum dikonfigurasi") -> None:
        self.reason = reason

    def list_disposed(self, since: datetime) -> PullResult:
        return PullResult(error=self.reason)

    def push(self, item: PushItem) -> str | None:
        return self.reason


# ------------------------------------------------------------------------------------------------- factory
MODES = ("off", "http", "offline", "fake")
HTTP_REQUIRED = ("LAPOR_BASE_URL", "LAPOR_TOKEN")


def http_config(settings: Mapping[str, Any]) -> HttpLaporConfig:
    """The HTTP adapter's settings; ValueError naming the setting (never its value) when one is wrong."""
    missing = [k for k in HTTP_REQUIRED if not str(settings.get(k) or "").strip()]
    if missing:
        raise ValueError(f"Pengaturan LAPOR! belum lengkap: {', '.join(missing)}")
    return HttpLaporConfig(
        base_url=str(settings["LAPOR_BASE_URL"]).strip(), token=str(settings["LAPOR_TOKEN"]).strip(),
        list_path=str(settings.get("LAPOR_LIST_PATH") or HttpLaporConfig.list_path),
        push_path=str(settings.get("LAPOR_PUSH_PATH") or HttpLaporConfig.push_path),
        timeout=float(settings.get("LAPOR_TIMEOUT") or 10.0),
        retries=int(settings.get("LAPOR_RETRIES") if settings.get("LAPOR_RETRIES") is not None else 2),
        backoff=float(settings.get("LAPOR_BACKOFF_SECONDS") if settings.get("LAPOR_BACKOFF_SECONDS") is not None
                      else 1.0),
        allow_insecure=bool(settings.get("LAPOR_ALLOW_INSECURE")))


def build_adapter(settings: Mapping[str, Any]) -> LaporAdapter:
    """Pick the adapter from flat settings (LAPOR_MODE = off | http | offline | fake). Never raises: a wrong
    setting gives a NotConfiguredAdapter whose reason names it (config.py refuses it at start anyway)."""
    mode = str(settings.get("LAPOR_MODE") or "off").strip().lower()
    try:
        if mode == "off":
            return NotConfiguredAdapter()
        if mode == "fake":
            return FakeLaporAdapter()
        if mode == "offline":
            if not settings.get("LAPOR_OFFLINE_DIR"):
                return NotConfiguredAdapter("LAPOR_MODE=offline membutuhkan LAPOR_OFFLINE_DIR")
            base = Path(str(settings["LAPOR_OFFLINE_DIR"]))
            return FileLaporAdapter(base / "masuk", base / "keluar")
        if mode == "http":
            return HttpLaporAdapter(http_config(settings))
        return NotConfiguredAdapter("LAPOR_MODE tidak dikenal (off, http, offline, fake)")
    except ValueError as exc:
        return NotConfiguredAdapter(str(exc))
