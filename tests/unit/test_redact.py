"""Personal data in free text (app/redact.py): what moderators and the public page rely on."""

from __future__ import annotations

import re

import pytest

from app import redact

SENTENCE = "saya Budi, NIK 3508011203900001, HP 0812-3456-7890, email budi@contoh.id"


def kinds(text: str, **kw: bool) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.kind) for s in redact.find(text, **kw)]


# --------------------------------------------------------------------------- detection


def test_realistic_sentence_finds_every_kind_in_order() -> None:
    assert kinds(SENTENCE) == [
        ("3508011203900001", "nik"),
        ("0812-3456-7890", "phone"),
        ("budi@contoh.id", "email"),
    ]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # NIK with and without separators
        ("NIK saya 3508011203900001 mohon dicek", "3508011203900001"),
        ("NIK: 3508 0112 0390 0001.", "3508 0112 0390 0001"),
        ("nik 35.08.01.120390.0001 (sesuai KTP)", "35.08.01.120390.0001"),
        ("NIK 3508-01-120390-0001, terima kasih", "3508-01-120390-0001"),
        ("NIK3508011203900001", "3508011203900001"),  # glued to the word
    ],
)
def test_nik_detected(text: str, found: str) -> None:
    assert kinds(text) == [(found, "nik")]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Hubungi saya di 081234567890 ya pak", "081234567890"),
        ("HP 0812-3456-7890, terima kasih", "0812-3456-7890"),
        ("WA +62 812 3456 7890 kapan saja", "+62 812 3456 7890"),
        ("no wa 62 812-3456-7890", "62 812-3456-7890"),
        ("chat wa.me/6281234567890", "6281234567890"),
        ("telepon kantor desa (0334) 881234 tidak aktif", "(0334) 881234"),
        ("telepon 0334-881234 tidak diangkat", "0334-881234"),
        ("HP 0812 3456 7890 hilang", "0812 3456 7890"),
        ("nomor +6281234567890.", "+6281234567890"),
    ],
)
def test_phone_detected(text: str, found: str) -> None:
    assert kinds(text) == [(found, "phone")]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("kirim ke budi@contoh.id.", "budi@contoh.id"),
        ("email: siti.aminah+lapor@mail.lumajangkab.go.id", "siti.aminah+lapor@mail.lumajangkab.go.id"),
        ("(budi_08123456789@gmail.com)", "budi_08123456789@gmail.com"),  # digits inside stay one email
    ],
)
def test_email_detected(text: str, found: str) -> None:
    assert kinds(text) == [(found, "email")]


def test_nik_is_not_also_reported_as_phone() -> None:
    # The tail "0812 3456 0001" looks like a phone number on its own.
    assert kinds("NIK 3508 0812 3456 0001") == [("3508 0812 3456 0001", "nik")]


def test_neighbouring_numbers_stay_separate() -> None:
    assert kinds("NIK 3508011203900001 08123456789") == [
        ("3508011203900001", "nik"),
        ("08123456789", "phone"),
    ]
    assert kinds("RT 03 08123456789") == [("08123456789", "phone")]
    assert kinds("HP 0812 3456 7890 12 orang") == [("0812 3456 7890", "phone")]


# --------------------------------------------------------------------------- masking


def test_mask_removes_every_digit_and_address() -> None:
    masked = redact.mask(SENTENCE)
    assert masked == (
        "saya Budi, NIK [NIK disembunyikan], HP [nomor telepon disembunyikan], "
        "email [e-mail disembunyikan]"
    )
    assert not re.search(r"[0-9]", masked)
    assert "budi@" not in masked and "contoh.id" not in masked


@pytest.mark.parametrize(
    "text",
    [
        "Jalan rusak sejak tahun 2024, sudah 2 tahun. Hubungi 0812 3456 7890 atau +62 812-3456-7890.",
        "Data: 35.08.01.120390.0001 / (0334) 881234 / siti@mail.com",
    ],
)
def test_masked_text_keeps_no_personal_digits(text: str) -> None:
    masked = redact.mask(text)
    for secret in ("3456", "7890", "120390", "881234", "siti@"):
        assert secret not in masked


# --------------------------------------------------------------------------- no false positives


@pytest.mark.parametrize(
    "text",
    [
        "Jalan di Desa Sumbersuko rusak sejak tahun 2026.",
        "Pungutan liar Rp 1.500.000 per orang, padahal gratis.",
        "Biaya Rp1.500.000,00 dan Rp. 250.000 dibayar 12-03-2026.",
        "Proyek senilai 1.250.000.000 belum selesai.",
        "Kejadian tanggal 12-03-2026 pukul 08.30 dan 2026-03-12.",
        "Lokasi RT 03/RW 05 Kelurahan Tompokersan, rumah no. 12.",
        "Sudah 3 kali lapor, 45 hari tidak ditanggapi, kode pos 67311.",
        "Tahun 2025 dan 2026 sama saja.",
        "Tanggal 03-12-2026 10.30 listrik padam.",
    ],
)
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert redact.find(text) == []
    assert redact.mask(text) == text


# --------------------------------------------------------------------------- plates


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("truk N 1234 AB parkir di trotoar", "N 1234 AB"),
        ("mobil B 1234 XYZ ugal-ugalan", "B 1234 XYZ"),
        ("motor AG 5678 KL tanpa helm", "AG 5678 KL"),
        ("plat N1234AB", "N1234AB"),
    ],
)
def test_plate_only_when_enabled(text: str, found: str) -> None:
    assert kinds(text) == []
    assert kinds(text, plates=True) == [(found, "plate")]
    assert "[nomor polisi disembunyikan]" in redact.mask(text, plates=True)
    assert redact.mask(text) == text


@pytest.mark.parametrize("text", ["RT 03 RW 05 Desa Kunir", "KM 12 A jalan raya", "Blok C lantai 2"])
def test_plate_false_positives_avoided(text: str) -> None:
    assert redact.find(text, plates=True) == []


# --------------------------------------------------------------------------- highlight


@pytest.mark.parametrize(
    "text",
    [SENTENCE, "", "tanpa data pribadi", "0812-3456-7890", "truk N 1234 AB, HP 081234567890!", "<b>NIK</b> 3508011203900001"],
)
def test_highlight_segments_rejoin_to_original(text: str) -> None:
    segments = redact.highlight(text, plates=True)
    assert "".join(piece for piece, _ in segments) == text
    assert all(piece for piece, _ in segments)  # no empty segments to render


def test_highlight_marks_kinds() -> None:
    segments = redact.highlight(SENTENCE)
    assert [kind for _, kind in segments] == [None, "nik", None, "phone", None, "email"]
    assert ("3508011203900001", "nik") in segments


def test_highlight_builds_no_html() -> None:
    segments = redact.highlight("<script>alert(1)</script> HP 081234567890")
    assert segments[0] == ("<script>alert(1)</script> HP ", None)  # left raw: the template escapes it
