"""NIK at rest: Fernet encryption plus a keyed hash (HMAC-SHA256) for look-ups and duplicates.

Pure: keys are passed in. Old keys keep decrypting (MultiFernet) until `flask nik rotate-key` has
re-encrypted every row with the new one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from . import redact
from .nik import normalize

# A NIK typed inside free text is stored as this sealed token, so the raw database never holds it in clear.
SEALED_NIK = re.compile(r"\u27e6NIK:([A-Za-z0-9_\-=]+)\u27e7")

PIN_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud over the phone


class NikCipher:
    def __init__(self, key: str, hmac_key: str, old_keys: tuple[str, ...] = ()):
        try:
            self._primary = Fernet(key.encode())
            self._fernet = MultiFernet([self._primary] + [Fernet(k.encode()) for k in old_keys])
        except (ValueError, TypeError) as exc:
            raise ValueError("NIK_ENCRYPTION_KEY must be a Fernet key (32 bytes, url-safe base64).") from exc
        self._hmac_key = hmac_key.encode()

    def encrypt(self, nik: str) -> str:
        return self._fernet.encrypt(normalize(nik).encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken as exc:
            raise ValueError("NIK cannot be decrypted with the configured keys.") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt with the primary key (used by the key-rotation command)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise ValueError("NIK cannot be decrypted with the configured keys.") from exc

    def needs_rotation(self, token: str) -> bool:
        """True unless the primary key alone decrypts `token` (so rotation can skip rows already done)."""
        try:
            self._primary.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            return True
        return False

    def seal_niks(self, text: str) -> str:
        """Replace every NIK-like number in `text` by an encrypted token (the rest stays as typed)."""
        for span in reversed([s for s in redact.find(text) if s.kind == "nik"]):
            # The span is sealed as typed (separators included) so the original reads back exactly.
            token = self._fernet.encrypt(text[span.start:span.end].encode()).decode("ascii")
            text = f"{text[:span.start]}\u27e6NIK:{token}\u27e7{text[span.end:]}"
        return text

    def unseal_niks(self, text: str) -> str:
        """The text as the complainant typed it (NIKs in clear): for the validator and the complainant."""
        return SEALED_NIK.sub(lambda m: self.decrypt(m.group(1)), text)

    def rotate_sealed(self, text: str) -> str:
        """Sealed NIKs re-encrypted with the primary key (tokens already on it are left alone)."""
        def one(m):
            token = m.group(1)
            return f"\u27e6NIK:{self.rotate(token)}\u27e7" if self.needs_rotation(token) else m.group(0)
        return SEALED_NIK.sub(one, text)

    def digest(self, nik: str) -> str:
        return hmac.new(self._hmac_key, normalize(nik).encode(), hashlib.sha256).hexdigest()


def new_pin(length: int = 8) -> str:
    return "".join(secrets.choice(PIN_ALPHABET) for _ in range(length))


def normalize_pin(pin: str) -> str:
    return "".join(ch for ch in pin.upper() if ch.isalnum())


def drop_sealed(text: str, label: str = "[NIK disembunyikan]") -> str:
    """Sealed NIKs replaced by a label: for staff other than the validator, and after retention."""
    return SEALED_NIK.sub(label, text)
