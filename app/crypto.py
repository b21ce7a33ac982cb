"""NIK at rest: Fernet encryption plus a keyed hash (HMAC-SHA256) for look-ups and duplicates.

Pure: keys are passed in. Old keys keep decrypting (MultiFernet) until `flask nik rotate-key` has
re-encrypted every row with the new one.

NIKs typed inside free text are sealed: replaced by "⟦NIK:<Fernet token>⟧" (U+27E6, U+27E7). Those two
characters are markers only when this module wrote them: `neutralise_markers` turns a citizen's own into
ordinary brackets before anything is sealed, and a token that does not decrypt (forged, or sealed with a key
no longer configured) reads back as the label "[NIK disembunyikan]", never as an error.
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
# The marker characters and what replaces them in text that did not come from seal_niks. No other character
# becomes U+27E6/U+27E7 under NFKC (checked over all of Unicode in tests/unit/test_crypto.py), and the
# pattern above matches only these exact characters, so look-alikes such as U+301A "〚" cannot forge a token.
_MARKERS = {0x27E6: "[", 0x27E7: "]"}
SEALED_LABEL = redact.LABELS["nik"]

# A new tracking PIN on its way to the citizen (PIN recovery) waits in the outbox sealed as "⟦PIN:<token>⟧":
# the outbox row at rest and the outbox screen never hold it in clear; the sender opens it at delivery.
SEALED_PIN = re.compile(r"\u27e6PIN:([A-Za-z0-9_\-=]+)\u27e7")

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
        """Replace every NIK (or KK number) in `text` by an encrypted token, however it was written (the
        detector in app/redact.py), also one inside an e-mail address; the rest stays as typed, except that
        marker characters the citizen typed become ordinary brackets (`neutralise_markers`)."""
        text = neutralise_markers(text)
        for span in reversed(redact.find(text, kinds={"nik"})):
            # The span is sealed as typed (separators included) so the original reads back exactly.
            token = self._fernet.encrypt(text[span.start:span.end].encode()).decode("ascii")
            text = f"{text[:span.start]}\u27e6NIK:{token}\u27e7{text[span.end:]}"
        return text

    def unseal_niks(self, text: str) -> str:
        """The text as the complainant typed it (NIKs in clear): for the validator and the complainant.

        A token no configured key opens (forged by a citizen before markers were neutralised, or sealed with a
        retired key) is shown as the label: the page still opens."""
        def one(m: re.Match) -> str:
            try:
                return self.decrypt(m.group(1))
            except (ValueError, UnicodeError):
                return SEALED_LABEL
        return SEALED_NIK.sub(one, text)

    def rotate_sealed(self, text: str) -> str:
        """Sealed NIKs re-encrypted with the primary key (tokens already on it, and tokens no key opens, are
        left alone: one bad token must not keep the others on the old key)."""
        def one(m: re.Match) -> str:
            token = m.group(1)
            if not self.needs_rotation(token):
                return m.group(0)
            try:
                return f"\u27e6NIK:{self.rotate(token)}\u27e7"
            except ValueError:
                return m.group(0)
        return SEALED_NIK.sub(one, text)

    def seal_pin(self, pin: str) -> str:
        """The PIN as a sealed token to put in a notice's text (opened by `unseal_pins` at delivery)."""
        return f"\u27e6PIN:{self._fernet.encrypt(pin.encode()).decode('ascii')}\u27e7"

    def unseal_pins(self, text: str, unreadable: str = "") -> str:
        """`text` with every sealed PIN in clear; one no configured key opens reads as `unreadable`."""
        def one(m: re.Match) -> str:
            try:
                return self._fernet.decrypt(m.group(1).encode("ascii")).decode()
            except (InvalidToken, UnicodeError):
                return unreadable
        return SEALED_PIN.sub(one, text)

    def digest(self, nik: str) -> str:
        return hmac.new(self._hmac_key, normalize(nik).encode(), hashlib.sha256).hexdigest()


# The tracking PIN's stored form: "pin-hmac-sha256$<salt>$<hex digest>", an HMAC-SHA256 keyed with a server
# secret (see pin_key) over a per-complaint random salt and the normalised PIN. Fast (microseconds) on
# purpose: the secret, not the hash's cost, stops an offline guess from a database dump, and the tracking
# rate limit stops online guessing (README, "PIN pelacakan").
PIN_HASH_METHOD = "pin-hmac-sha256"


def pin_key(secret: str) -> bytes:
    """The PIN key, derived from NIK_HMAC_KEY for this purpose only (a PIN digest is never a NIK digest)."""
    return hmac.new(secret.encode(), b"lpo/tracking-pin/v1", hashlib.sha256).digest()


def _pin_mac(key: bytes, salt: str, pin: str) -> str:
    return hmac.new(key, f"{salt}${normalize_pin(pin)}".encode(), hashlib.sha256).hexdigest()


def hash_pin(key: bytes, pin: str) -> str:
    salt = secrets.token_hex(8)
    return f"{PIN_HASH_METHOD}${salt}${_pin_mac(key, salt, pin)}"


def is_keyed_pin_hash(stored: str) -> bool:
    return stored.startswith(PIN_HASH_METHOD + "$")


def check_keyed_pin(key: bytes, stored: str, pin: str) -> bool:
    """True when `pin` is the one `stored` (a hash_pin result) was made from; constant time."""
    method, _sep, rest = stored.partition("$")
    salt, _sep, digest = rest.partition("$")
    expected = _pin_mac(key, salt, pin)
    return hmac.compare_digest(expected, digest) and method == PIN_HASH_METHOD


def new_pin(length: int = 8) -> str:
    return "".join(secrets.choice(PIN_ALPHABET) for _ in range(length))


def normalize_pin(pin: str) -> str:
    return "".join(ch for ch in pin.upper() if ch.isalnum())


def neutralise_markers(text: str) -> str:
    """`text` with the seal marker characters U+27E6 "⟦" and U+27E7 "⟧" replaced by "[" and "]".

    Called on everything a citizen types before it is stored (seal_niks, and the input boundary), so that
    only seal_niks ever writes a marker: typed markers would otherwise look like a sealed token that cannot
    be decrypted. Same length as the input, so positions found in it hold for the original too."""
    return text.translate(_MARKERS)


def has_sealed_pin(text: str) -> bool:
    return SEALED_PIN.search(text or "") is not None


def drop_sealed_pins(text: str, label: str) -> str:
    """Sealed PINs replaced by `label`, never decrypted (the outbox screen)."""
    return SEALED_PIN.sub(label, text)


def drop_sealed(text: str, label: str = SEALED_LABEL) -> str:
    """Sealed NIKs replaced by a label: for staff other than the validator, and after retention. Never
    decrypts, so it cannot fail on a forged or unreadable token."""
    return SEALED_NIK.sub(label, text)

