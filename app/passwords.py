"""Password policy for staff accounts (applied on every path that sets a password, CLI included)."""

from __future__ import annotations

from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
# A short list of passwords that attackers try first (plus local favourites); compared case-insensitively.
COMMON = frozenset({
    "password", "password123", "password1234", "123456789012", "1234567890123", "qwertyuiopas",
    "qwerty123456", "admin1234567", "administrator", "iloveyou1234", "passw0rd1234", "welcome12345",
    "letmein12345", "indonesia123", "indonesia2024", "indonesia2025", "indonesia2026", "lumajang123",
    "lumajang2026", "rahasia12345", "bismillah123", "pengaduan123", "merdeka12345",
    "sayangku1234", "abcdefghijkl", "aaaaaaaaaaaa", "000000000000", "111111111111",
})


def problems(password: str, username: str | None = None) -> list[str]:
    """Every reason this password is refused (empty list: accepted)."""
    found: list[str] = []
    if len(password or "") < MIN_LENGTH:
        found.append(str(_l("Kata sandi minimal %(n)d karakter.", n=MIN_LENGTH)))
    lowered = (password or "").lower()
    if username and username.lower() in lowered:
        found.append(str(_l("Kata sandi tidak boleh memuat nama pengguna.")))
    if lowered in COMMON:
        found.append(str(_l("Kata sandi ini terlalu umum; pilih yang lain.")))
    return found


def form_validator(password: str) -> None:
    """FAB_PASSWORD_COMPLEXITY_VALIDATOR hook (forms and the user API)."""
    found = problems(password)
    if found:
        raise PasswordComplexityValidationError(" ".join(found))
