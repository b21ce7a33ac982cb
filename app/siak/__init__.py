"""NIK verification against SIAK / Dukcapil, plus offline and test stand-ins.

Pure Python on purpose (no Flask, no SQLAlchemy): the validator's desk, CLI jobs and tests all use the same
adapters. Contract (see shared/NIK.md): ``verify(nik, name, birth_date=None)`` returns a ``SiakResult`` and
never raises for transport/protocol trouble. Only verdict, score, element names and time leave this module;
SIAK's biodata is never kept, logged or put into a reason text.

A package: `common` (verdicts, result, protocol), `http` (SIAK's web service), `offline` (the registry
extract, the fake, the placeholders); the factory is here.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from .common import VERDICT_LABELS, SiakAdapter, SiakResult, Verdict
from .http import DATE_FORMATS, HttpSiakAdapter, HttpSiakConfig
from .offline import (REGISTRY_STATUSES, FakeSiakAdapter, MisconfiguredAdapter, NotConfiguredAdapter, OfflineRegistryAdapter,
                      RegistryRecord, name_score, normalize_name, parse_registry_csv)

__all__ = ["DATE_FORMATS", "REGISTRY_STATUSES", "VERDICT_LABELS", "FakeSiakAdapter", "HttpSiakAdapter", "HttpSiakConfig",
           "MisconfiguredAdapter", "NotConfiguredAdapter", "OfflineRegistryAdapter", "RegistryRecord", "SiakAdapter",
           "SiakResult", "Verdict", "build_adapter", "name_score", "normalize_name", "parse_registry_csv"]


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
