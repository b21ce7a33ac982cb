"""NIK at rest: the field cipher, and NIKs typed inside free text sealed with the same keys."""

from cryptography.fernet import Fernet

from app.crypto import NikCipher, drop_sealed

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
TEXT = "Saya Budi, NIK 3508 0112 0390 0001, HP 0812-3456-7890."


def test_sealed_text_holds_no_nik_and_reads_back_exactly():
    crypt = NikCipher(OLD, "hmac")
    sealed = crypt.seal_niks(TEXT)
    assert "3508" not in sealed and "0001" not in sealed
    assert "0812-3456-7890" in sealed  # only NIKs are sealed; phones stay for staff (masked in public)
    assert crypt.unseal_niks(sealed) == TEXT
    assert drop_sealed(sealed) == "Saya Budi, NIK [NIK disembunyikan], HP 0812-3456-7890."


def test_rotation_re_encrypts_sealed_niks_and_then_changes_nothing():
    sealed = NikCipher(OLD, "hmac").seal_niks(TEXT)
    rotating = NikCipher(NEW, "hmac", old_keys=(OLD,))
    rotated = rotating.rotate_sealed(sealed)
    assert rotated != sealed
    assert NikCipher(NEW, "hmac").unseal_niks(rotated) == TEXT  # the new key alone reads it
    assert rotating.rotate_sealed(rotated) == rotated


def test_field_encryption_and_keyed_hash():
    crypt = NikCipher(OLD, "k1")
    token = crypt.encrypt("3508-0112-0390-0001")
    assert "3508011203900001" not in token and crypt.decrypt(token) == "3508011203900001"
    assert crypt.digest("3508 0112 0390 0001") == crypt.digest("3508011203900001")
    assert NikCipher(OLD, "k2").digest("3508011203900001") != crypt.digest("3508011203900001")


# --------------------------------------------------------------------------- forged seal markers (issue 11)

FORGED = "\u27e6NIK:gAAAAABmZm9yZ2VkLXRva2Vu\u27e7"  # what a citizen can type: the marker, a made-up token


def test_marker_characters_a_citizen_types_become_ordinary_brackets():
    from app.crypto import neutralise_markers

    assert neutralise_markers(f"lihat {FORGED} ya") == "lihat [NIK:gAAAAABmZm9yZ2VkLXRva2Vu] ya"
    # Look-alikes such as U+301A are not markers: SEALED_NIK matches only U+27E6/U+27E7.
    assert neutralise_markers("\u27e6\u27e7 tanpa \u301a\u301b") == "[] tanpa \u301a\u301b"


def test_no_other_character_becomes_a_marker_under_nfkc():
    import sys
    import unicodedata

    others = [hex(code) for code in range(sys.maxunicode + 1)
              if code not in (0x27E6, 0x27E7) and not 0xD800 <= code <= 0xDFFF
              and set(unicodedata.normalize("NFKC", chr(code))) & {"\u27e6", "\u27e7"}]
    assert others == []  # so replacing these two characters is enough (see crypto._MARKERS)


def test_typed_markers_never_reach_storage_as_markers():
    from app.crypto import SEALED_NIK

    crypt = NikCipher(OLD, "hmac")
    typed = f"Tolong {FORGED} dan NIK 3508–0112–0390–0001."
    sealed = crypt.seal_niks(typed)
    assert len(SEALED_NIK.findall(sealed)) == 1  # only the real NIK, sealed by us
    assert "3508" not in sealed and "[NIK:gAAAAABmZm9yZ2VkLXRva2Vu]" in sealed
    assert crypt.unseal_niks(sealed) == typed.replace("\u27e6", "[").replace("\u27e7", "]")


def test_tokens_no_key_opens_read_as_a_label_and_never_fail():
    crypt = NikCipher(OLD, "hmac")
    real = crypt.seal_niks("NIK 3508011203900001")
    stored = f"{real}, {FORGED}, \u27e6NIK:{Fernet(NEW.encode()).encrypt(b'3508011203900002').decode()}\u27e7"
    # Stored before markers were neutralised (or with a key no longer configured): the page must still open.
    assert crypt.unseal_niks(stored) == "NIK 3508011203900001, [NIK disembunyikan], [NIK disembunyikan]"
    assert drop_sealed(stored) == "NIK [NIK disembunyikan], [NIK disembunyikan], [NIK disembunyikan]"
    rotating = NikCipher(NEW, "hmac", old_keys=(OLD,))
    rotated = rotating.rotate_sealed(stored)
    assert FORGED in rotated  # left alone, and it does not keep the real token on the old key
    assert NikCipher(NEW, "hmac").unseal_niks(rotated).startswith("NIK 3508011203900001, ")


def test_tracking_pin_hash_is_keyed_salted_and_normalised():
    from app.crypto import check_keyed_pin, hash_pin, is_keyed_pin_hash, pin_key

    key = pin_key("server-secret-one")
    stored = hash_pin(key, "ABCD2345")
    assert is_keyed_pin_hash(stored) and "ABCD2345" not in stored
    assert check_keyed_pin(key, stored, "abcd-2345")  # typed as on the receipt, any case, with a dash
    assert not check_keyed_pin(key, stored, "ABCD2346")
    assert not check_keyed_pin(pin_key("server-secret-two"), stored, "ABCD2345")  # the secret is needed
    assert hash_pin(key, "ABCD2345") != stored  # salted: equal PINs do not give equal hashes
    assert not check_keyed_pin(key, stored.replace("pin-hmac-sha256", "pin-hmac-md5"), "ABCD2345")
    assert pin_key("s") != pin_key("s2") and len(pin_key("s")) == 32
