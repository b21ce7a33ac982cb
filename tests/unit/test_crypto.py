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
