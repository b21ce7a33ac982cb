"""The hostile corpus and the probe that sends it (tests/integration/hostile/).

Every value below is sent to every field it fits; each answer must be a clean success or a 4xx with a
message (never a 5xx, never Werkzeug's English error page), and a refusal must leave the database as it
was (rows counted, complaint versions summed, before and after). The figures of the whole run are
printed at the end (conftest.py: pytest_terminal_summary).
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa

# --------------------------------------------------------------------------- values

MEGABYTE = 1_000_000

TEXT = {
    "html": '<script>alert("x")</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">klik</a>',
    "sql": "'; DROP TABLE complaint; -- \" OR 1=1 --",
    "sql_like": "100% _benar_ \\ %%",
    "format": "%s %d %(nama)s {0} {nama!r} {{7*7}} {% if x %}",
    "path": "../../../etc/passwd\\..\\windows",
    "nul": "Jalan\x00rusak",
    "nul_only": "\x00",
    "controls": "Jalan\x01\x02\x08\x0b\x0c\x1b[31mrusak\x7f",
    "c1": "Jalan\x85\x9brusak",
    "crlf": "baris satu\r\nbaris dua\rbaris tiga",
    "tab": "kolom\tkolom",
    "zero_width_only": "\u200b\u200c\u200d\u2060\ufeff",
    "invisible_only": "\u3164\u115f \u2800",
    "blank": "   \t   ",
    "zero_width_inside": "Ja\u200blan ru\u200dsak",
    "rtl_override": "Tagihan \u202egnp.exe\u202c lunas",
    "rtl_isolate": "abc\u2067xyz\u2069",
    "arabic": "\u0627\u0644\u0633\u0644\u0627\u0645 \u0639\u0644\u064a\u0643\u0645 \u200f",
    "emoji": "Jalan 🚧🕳️ rusak 👨‍👩‍👧 🇮🇩",
    "combining": "Cafe\u0301 " * 5,
    "zalgo": "Z\u0351\u0346\u0300a\u0364\u0307l\u0311g\u0313o",
    "markers": "\u27e6NIK:gAAAAABfake\u27e7 ditutup",
    "noncharacter": "Jalan\ufffe\uffff",
    "private_use": "\ue000\uf8ff",
    "fullwidth": "ＡＢＣ１２３",
    "homoglyph": "Аdmin раnel",  # Cyrillic А and р
    "lone_surrogate": "Jalan\ud800rusak",
    "ten_kb": ("Jalan rusak parah. " * 600)[:10_000],
    "one_mb": "y" * MEGABYTE,
}
# Filters and keys: the characters that matter without the big or harmless ones (keeps the run short).
SHORT = {k: TEXT[k] for k in ("html", "sql", "sql_like", "nul", "controls", "crlf", "zero_width_only",
                                "rtl_override", "emoji", "markers", "noncharacter", "ten_kb")}

INTEGERS = ["-1", "0", "1", "2147483647", "2147483648", "9223372036854775807", "9223372036854775808",
            "99999999999999999999", "9" * 5000, "1.5", "1e9", "0x1f", "1_000", "١٢", "abc", "", " ", "\x00",
            "%s"]
DATES = ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01", "2000-01-01", "2100-12-31", "2026-02-30",
         "2026-13-01", "20260101", "2026-W01-1", "2026-01-01T00:00:00", "31-12-2026", "-2026-01-01",
         "٢٠٢٦-٠١-٠١", "abc", "", "\x00", "x" * 10_000]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


CURSORS = ["abc", "!!!", "%%%", "\x00", "x" * 10_000, _b64(b"2026-01-01T00:00:00|99999999999999999999"),
           _b64(b"2026-01-01T00:00:00|-1"), _b64(b"0001-01-01T00:00:00|1"), _b64(b"|1"), _b64(b"\xff\xfe|1"),
           _b64(b"9999-12-31T23:59:59|" + b"9" * 5000), _b64(b"||||"), "=" * 7]

# Values of the wrong JSON type for a field that wants text, a boolean or an integer.
WRONG_TYPES = {"int": 12, "float": 1.5, "true": True, "null": None, "list": ["a"], "object": {"a": "b"},
               "huge_int": 10**30, "negative": -1, "string": "teks", "empty": ""}


def text_values(corpus: dict[str, str] = TEXT):
    return list(corpus.items())


# --------------------------------------------------------------------------- the tally

@dataclass
class Tally:
    requests: int = 0
    classes: Counter = field(default_factory=Counter)

    def count(self, status: int) -> None:
        self.requests += 1
        self.classes[f"{status // 100}xx"] += 1


TALLY = Tally()


# --------------------------------------------------------------------------- what the database holds

FINGERPRINT_TABLES = ("complaint", "answer", "status_event", "internal_note", "routing", "nik_check", "attachment",
                      "outbox", "registry_entry", "opd", "non_working_day", "ab_user", "ab_role",
                      "ab_permission_view_role", "open311_key")


def fingerprint(db) -> dict[str, int]:
    """Row counts of the tables a request may write, the sum of complaint versions (every update bumps
    it) and the number of edited answers: equal before and after a refusal."""
    parts = [f"(SELECT count(*) FROM {t}) AS {t}" for t in FINGERPRINT_TABLES]
    parts += ["(SELECT coalesce(sum(version), 0) FROM complaint) AS complaint_version",
              "(SELECT count(edited_at) FROM answer) AS answer_edits",
              "(SELECT count(*) FROM opd WHERE active) AS opd_active"]
    row = db.session.execute(sa.text("SELECT " + ", ".join(parts))).mappings().one()
    db.session.rollback()  # end the read transaction: the request runs on its own session state
    return dict(row)


SEALED = re.compile(r"\u27e6NIK:[A-Za-z0-9_\-=]+\u27e7")
CLEAN_TABLES = {"complaint": None, "answer": None, "internal_note": None, "routing": None, "nik_check": None,
                "status_event": None, "opd": None, "non_working_day": None, "registry_entry": None,
                "open311_key": ("name",), "audit_log": ("path", "user_agent", "username"),
                "ab_user": ("username", "first_name", "last_name", "email")}
NFC_TABLES = {"complaint", "answer", "internal_note", "routing", "nik_check"}


def stored_problems(db) -> list[str]:
    """Every stored text that the boundary should have refused or normalised: refused characters,
    carriage returns, seal markers outside a sealed token, text that is not NFC."""
    from app.inputs import refused_character

    problems = []
    metadata = db.metadata
    for name, columns in CLEAN_TABLES.items():
        table = metadata.tables[name]
        text_columns = [c for c in table.columns if isinstance(c.type, (sa.String, sa.Text))
                        and (columns is None or c.name in columns)]
        if not text_columns:
            continue
        for row in db.session.execute(sa.select(*text_columns)).all():
            for column, value in zip(text_columns, row):
                if not isinstance(value, str):
                    continue
                where = f"{name}.{column.name}={value[:60]!r}"
                if refused_character(value, allow="\n\t") is not None or "\r" in value:
                    problems.append(f"refused character stored in {where}")
                if "\u27e6" in SEALED.sub("", value) or "\u27e7" in SEALED.sub("", value):
                    problems.append(f"seal marker stored in {where}")
                if name in NFC_TABLES and unicodedata.normalize("NFC", value) != value:
                    problems.append(f"text not NFC in {where}")
    db.session.rollback()
    return problems


# --------------------------------------------------------------------------- the probe

DEFAULT_PAGE = re.compile(r"<title>\d{3} [A-Za-z ]+</title>")
INDONESIAN = ("tidak", "wajib", "harus", "isian", "periksa", "maksimal", "tanggal", "karakter", "parameter",
              "halaman", "kirim", "formulir", "kolom", "teks", "bilangan", "dikenal", "ditemukan", "diisi", "pilih",
              "hapus", "alasan", "jawaban", "catatan", "pengaduan", "kiriman", "terlalu", "metode", "objek",
              "opd", "boleh", "berupa", "tautan", "baris", "sudah", "hanya", "permintaan", "status", "diperlukan")


def _json_message(response) -> str | None:
    try:
        body = json.loads(response.get_data(as_text=True))
    except ValueError:
        return None
    if isinstance(body, list) and body and all(isinstance(e, dict) and "code" in e for e in body):
        # Open311's errors document (app/open311.py): every error described
        return " ".join(str(e.get("description") or "") for e in body) if all(e.get("description") for e in body) \
            else None
    return body.get("message") if isinstance(body, dict) else None


class Probe:
    """Sends one request, counts it, and records what is wrong with the answer."""

    def __init__(self, db, tally: Tally = TALLY):
        self.db = db
        self.tally = tally
        self.failures: list[str] = []
        self.sent = 0
        self.statuses: Counter = Counter()

    def call(self, client, method: str, url: str, *, label: str, check_rows: bool = True,
             ignore: tuple[str, ...] = (), ours: bool = True, **kwargs):
        before = fingerprint(self.db) if check_rows else None
        where = f"{label}: {method} {url[:140]}"
        try:
            response = client.open(url, method=method, **kwargs)
        except Exception as exc:  # TESTING propagates errors: for the user this would be a 500
            self.db.session.rollback()
            self._count(500)
            self.failures.append(f"{where} → exception {exc.__class__.__name__}: {str(exc)[:200]}")
            return None
        status = response.status_code
        self._count(status)
        if status >= 500:
            self.failures.append(f"{where} → {status}: {response.get_data(as_text=True)[:200]}")
        elif status >= 400:
            self._check_refusal(response, where, ours)
            if before is not None:
                after = fingerprint(self.db)
                changed = {k: (before[k], after[k]) for k in before if k not in ignore and before[k] != after[k]}
                if changed:
                    self.failures.append(f"{where} → {status} but the database changed: {changed}")
        return response

    def _count(self, status: int) -> None:
        self.sent += 1
        self.statuses[status] += 1
        self.tally.count(status)

    def _check_refusal(self, response, where: str, ours: bool) -> None:
        status = response.status_code
        if response.is_json or response.mimetype == "application/json":
            message = _json_message(response)
            if not message:
                self.failures.append(f"{where} → {status} without a message")
            elif ours and not any(word in message.lower() for word in INDONESIAN):
                self.failures.append(f"{where} → {status} with a message that is not Indonesian: {message!r}")
            return
        text = response.get_data(as_text=True)
        if DEFAULT_PAGE.search(text) or not text.strip():
            self.failures.append(f"{where} → {status} with Werkzeug's default (English) error page")

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def assert_clean(self, stored: bool = True) -> None:
        """No failure; and (`stored`) nothing in the database that the boundary should have refused."""
        if stored:
            self.failures.extend(stored_problems(self.db))
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        assert not self.failures, (f"{len(self.failures)} problem(s) in {self.sent} requests ({summary}):\n  "
                                   + "\n  ".join(self.failures[:60]))


# --------------------------------------------------------------------------- encoding what a hostile client sends

def _bytes(value) -> bytes:
    # A lone surrogate goes out as the invalid UTF-8 a hostile client would send.
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")


def url(path: str, params: dict | list | None = None) -> str:
    from urllib.parse import quote_plus

    if not params:
        return path
    pairs = params.items() if isinstance(params, dict) else params
    return path + "?" + "&".join(f"{quote_plus(_bytes(k))}={quote_plus(_bytes(v))}" for k, v in pairs)


def form(data: dict | list) -> dict:
    """Keyword arguments for client.open(): an urlencoded body, byte for byte."""
    from urllib.parse import quote_plus

    pairs = data.items() if isinstance(data, dict) else data
    body = "&".join(f"{quote_plus(_bytes(k))}={quote_plus(_bytes(v))}" for k, v in pairs if v is not None)
    return {"data": body.encode("ascii"), "content_type": "application/x-www-form-urlencoded"}


def json_body(payload, headers: dict | None = None) -> dict:
    """Keyword arguments for client.open(): a JSON body (lone surrogates as \\ud800 escapes)."""
    return {"data": json.dumps(payload), "content_type": "application/json", "headers": headers or {}}
