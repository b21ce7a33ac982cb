"""The personal-data corpus (tests/data/pii_corpus.tsv) against the detector, the NIK normaliser and the
sealing of NIKs at rest (issue 11, items 4 and 5): every writing masked exactly as expected, every look-alike
kept, spans that index the original text, and no catastrophic backtracking."""

from __future__ import annotations

import random
import re
import time
from datetime import date

import pytest
from cryptography.fernet import Fernet

from app import nik, redact
from app.crypto import NikCipher
from app.textfold import fold
from tests.pii_corpus import KEEP, NIK_ROWS, PERSONAL, ROWS

TODAY = date(2026, 3, 1)


def digits_only(text: str) -> str:
    return re.sub(r"[^0-9]", "", fold(text).text)


def test_the_corpus_is_big_enough_to_mean_something():
    kinds = [r.kind for r in ROWS]
    assert len(PERSONAL) >= 80 and len(KEEP) >= 30
    assert {k: kinds.count(k) >= 10 for k in ("nik", "kk", "phone", "email")} == dict.fromkeys(
        ("nik", "kk", "phone", "email"), True)


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_each_writing_is_found_exactly_and_spans_index_the_original(row):
    spans = redact.find(row.text)
    assert [row.text[s.start:s.end] for s in spans] == list(row.expected)
    assert {s.kind for s in spans} <= {row.label_kind}


@pytest.mark.parametrize("row", PERSONAL, ids=str)
def test_masking_leaves_none_of_it(row):
    masked = redact.mask(row.text)
    assert masked.count(redact.LABELS[row.label_kind]) == len(row.expected)
    for value in row.expected:
        if row.kind == "email":
            local = re.split(r"\s*(?:@|\[|\(|\{|\bat\b)", fold(value).text, flags=re.IGNORECASE)[0]
            assert local.lower() not in fold(masked).text.lower()
        else:
            assert digits_only(value)[-8:] not in digits_only(masked)
    segments = redact.highlight(row.text)
    assert "".join(piece for piece, _ in segments) == row.text
    assert [piece for piece, kind in segments if kind] == list(row.expected)


@pytest.mark.parametrize("row", KEEP, ids=str)
def test_look_alikes_stay_as_typed(row):
    assert redact.mask(row.text) == row.text
    assert redact.mask(row.text, plates=True) == row.text


@pytest.mark.parametrize("row", NIK_ROWS, ids=str)
def test_the_nik_normaliser_reads_every_nik_writing_the_masker_finds(row):
    for value in row.expected:
        assert re.fullmatch(r"[0-9]{16}", nik.normalize(value)), value
        assert nik.normalize(value) == digits_only(value)
        assert nik.plausible(nik.normalize(value))
        assert nik.check(value, today=TODAY).valid  # a KK number has the same layout (date of issue)


@pytest.mark.parametrize("row", NIK_ROWS, ids=str)
def test_every_nik_writing_is_sealed_at_rest_and_reads_back_exactly(row):
    crypt = NikCipher(Fernet.generate_key().decode(), "hmac")
    sealed = crypt.seal_niks(row.text)
    for value in row.expected:
        assert digits_only(value) not in digits_only(sealed)
        assert value not in sealed
    assert sealed.count("\u27e6NIK:") == len(row.expected)
    assert crypt.unseal_niks(sealed) == row.text


def test_plausible_is_the_structure_without_lists_or_calendar():
    assert nik.plausible("3508014403950006")  # woman, day 04 + 40
    assert nik.plausible("3508012210150005")  # a KK number: date of issue 22-10-2015
    for bad in ("0812345678900813", "3508081234560001", "3500014403950006", "3508004403950006",
                "3508013203950006", "3508014413950006", "3508014403950000", "350801440395000", "３５０８014403950006"):
        assert not nik.plausible(bad), bad


# --------------------------------------------------------------------------- behaviour the corpus relies on


def test_two_phone_numbers_beat_a_bogus_sixteen_digit_window_across_them():
    text = "HP 0812 3456 7890 0813 1111 2222"
    assert [(text[s.start:s.end], s.kind) for s in redact.find(text)] == [
        ("0812 3456 7890", "phone"), ("0813 1111 2222", "phone")]


def test_a_nik_inside_an_email_address_is_masked_as_the_address_and_sealed_as_a_nik():
    text = "email nik3508014403950006@gmail.com"
    assert [s.kind for s in redact.find(text)] == ["email"]
    assert [text[s.start:s.end] for s in redact.find(text, kinds={"nik"})] == ["3508014403950006"]
    sealed = NikCipher(Fernet.generate_key().decode(), "hmac").seal_niks(text)
    assert "3508014403950006" not in sealed and "@gmail.com" in sealed


def test_folding_keeps_positions_of_the_original_text():
    # Zero-width spaces vanish and "ﬁ" becomes two letters: spans must still cut the original.
    text = "\ufb01le \u200bNIK ３５０８\u200b０１４４\u200b０３９５\u200b０００６\u200b, e-mail ｓｉｔｉ＠ｇｍａｉｌ．ｃｏｍ."
    spans = redact.find(text)
    assert [text[s.start:s.end] for s in spans] == [
        "３５０８\u200b０１４４\u200b０３９５\u200b０００６", "ｓｉｔｉ＠ｇｍａｉｌ．ｃｏｍ"]
    assert redact.mask(text) == "\ufb01le \u200bNIK [NIK disembunyikan]\u200b, e-mail [e-mail disembunyikan]."


# --------------------------------------------------------------------------- no catastrophic backtracking


def _cpu_seconds(text: str) -> float:
    start = time.process_time()
    redact.find(text)
    return time.process_time() - start


def _complaint(size: int, seed: int) -> str:
    rng = random.Random(seed)
    pieces = [r.text for r in ROWS]
    out = []
    length = 0
    while length < size:
        out.append(rng.choice(pieces))
        length += len(out[-1]) + 1
    return " ".join(out)[:size]


def test_a_complaint_of_4000_characters_full_of_digits_takes_milliseconds():
    samples = [_complaint(4000, seed) for seed in range(5)]
    samples += [("0812 " * 800)[:4000], ("3508-" * 800)[:4000], ("1.000." * 700)[:4000],
                ("x@a." * 1000)[:4000], ("a at b dot " * 400)[:4000]]
    worst = max(min(_cpu_seconds(text) for _ in range(3)) for text in samples)
    # Measured here: about 1-3 ms. A quadratic scan of 4,000 characters would take far longer than this.
    assert worst < 0.05, f"{worst * 1000:.1f} ms"


@pytest.mark.parametrize("text", [
    _complaint(1_000_000, 1),  # realistic, very dense: about 23,000 personal-data spans
    "0812 " * 200_000,  # the worst case found: one chain of 200,000 phone-looking groups
    "1-" * 500_000,
    "a" * 1_000_000,
    "x@a." * 250_000,
    "３５０８\u00a0" * 200_000,
], ids=["corpus", "phones", "tight-unit", "letters", "at-signs", "fullwidth-nbsp"])
def test_one_megabyte_is_linear(text):
    # Measured here: 0.3 s for the realistic megabyte, at most about 1.2 s for the worst case (CPU time on a
    # shared, loaded machine). Anything quadratic on a megabyte takes minutes.
    assert _cpu_seconds(text) < 5
