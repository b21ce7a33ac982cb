"""Structural NIK check (app/nik.py): what the public form and the validator rely on."""

from __future__ import annotations

from datetime import date

import pytest

from app import nik

TODAY = date(2026, 11, 28)


def codes(result: nik.NikResult) -> set[str]:
    return {r.code for r in result.reasons}


# --------------------------------------------------------------------------- valid NIKs


@pytest.mark.parametrize(
    ("raw", "sex", "born", "district"),
    [
        ("3508011203900001", "L", date(1990, 3, 12), "Tempursari"),  # man born 12-03-1990
        ("3508105203900002", "P", date(1990, 3, 12), "Lumajang"),  # woman: day 12 + 40 = 52
        ("3508217112850003", "P", date(1985, 12, 31), "Sumbersuko"),  # woman born on the 31st: 71
        ("3508214101000004", "P", date(2000, 1, 1), "Sumbersuko"),  # woman born on the 1st: 41
    ],
)
def test_valid_nik_is_parsed(raw: str, sex: str, born: date, district: str) -> None:
    result = nik.check(raw, today=TODAY)
    assert result.valid is True
    assert result.reasons == ()
    assert result.nik == raw
    assert result.sex == sex
    assert result.birth_date == born
    assert (result.province_code, result.province) == ("35", "Jawa Timur")
    assert (result.regency_code, result.regency) == ("35.08", "Kabupaten Lumajang")
    assert result.district_code == raw[:2] + "." + raw[2:4] + "." + raw[4:6]
    assert result.district == district
    assert not result.old_code and not result.unknown_region and not result.outside_allowed_region


# --------------------------------------------------------------------------- each rule on its own


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("350801120390001", "panjang"),  # 15 digits
        ("35080112039000011", "panjang"),  # 17 digits
        ("35080112039O0001", "panjang"),  # letter O instead of zero
        ("", "panjang"),
        ("9901011203900001", "provinsi"),  # 99 is no province
        ("2001011203900001", "provinsi"),  # 20 is no province either
        ("3500011203900001", "kabupaten"),  # KK 00
        ("3570011203900001", "kabupaten"),  # KK 70
        ("3508001203900001", "kecamatan"),  # CC 00
        ("3508010003900001", "tanggal"),  # DD 00
        ("3508013203900001", "tanggal"),  # DD 32
        ("3508014003900001", "tanggal"),  # DD 40
        ("3508017203900001", "tanggal"),  # DD 72
        ("3508011200900001", "bulan"),  # MM 00
        ("3508011213900001", "bulan"),  # MM 13
        ("3508013102900001", "tanggal_lahir"),  # 31 February
        ("3508017104900001", "tanggal_lahir"),  # woman (71 = 31st) in April
        ("3508013104900001", "tanggal_lahir"),  # 31 April
        ("3508010112260001", "tanggal_masa_depan"),  # 01-12-2026, after "today"
        ("3508011203900000", "nomor_urut"),  # serial 0000
    ],
)
def test_each_rule_rejects(raw: str, code: str) -> None:
    result = nik.check(raw, today=TODAY)
    assert result.valid is False
    assert codes(result) == {code}, result.reasons
    assert all(r.severity == "error" for r in result.reasons)
    assert all(r.message for r in result.reasons)


def test_length_message_tells_the_citizen_how_many_digits_they_typed() -> None:
    (reason,) = nik.check("350801120390001", today=TODAY).reasons
    assert reason.message == "NIK harus terdiri dari 16 angka; yang Anda ketik 15 angka."


def test_length_failure_stops_parsing() -> None:
    result = nik.check("9900", today=TODAY)
    assert codes(result) == {"panjang"}
    assert result.province is None and result.birth_date is None and result.sex is None


def test_all_errors_are_reported_at_once() -> None:
    # wrong province, DD 00, month 13 and serial 0000 in one go
    result = nik.check("9901010013900000", today=TODAY)
    assert result.valid is False
    assert {"provinsi", "tanggal", "bulan", "nomor_urut"} <= codes(result)
    assert result.errors == result.reasons


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    "raw",
    [
        "3508 0112 0390 0001",
        "35.08.01.120390.0001",
        "3508-01-120390-0001",
        " 3508011203900001 ",
        "35 08 01-120390.0001",
        "3508\u00a00112\u20130390\u00a00001",  # NBSP and en dash pasted from a chat app
        # Issue 11: the same separators and digits the masker reads (app/textfold.py), so a NIK the form
        # accepts is one the masker finds in free text, and the other way round.
        "3508/0112/0390/0001",
        "3508_0112_0390_0001",
        "３５０８０１１２０３９００００１",  # full-width digits (a Japanese/Chinese keyboard, some phones)
        "3508\u20140112\u20140390\u20140001",  # em dashes
        "3508  0112  0390  0001",
        "(3508) 0112 0390 0001",
        "3508\u200b0112\u200b0390\u200b0001",  # zero-width spaces from a copied web page
        "3508\n0112\n0390\n0001",
    ],
)
def test_formatting_variants_are_accepted(raw: str) -> None:
    result = nik.check(raw, today=TODAY)
    assert result.valid is True
    assert result.nik == "3508011203900001"
    assert nik.normalize(raw) == "3508011203900001"


@pytest.mark.parametrize("raw", ["3508O11203900001", "3508,0112,0390,0001", "3508*0112*0390*0001",
                                 "NIK 3508011203900001"])
def test_other_characters_are_kept_and_fail(raw: str) -> None:
    result = nik.check(raw, today=TODAY)
    assert result.valid is False
    assert codes(result) == {"panjang"}


# --------------------------------------------------------------------------- region lookup


@pytest.mark.parametrize(
    ("raw", "unknown_code"),
    [
        ("3508991203900001", "35.08.99"),  # Lumajang has 21 kecamatan
        ("3569011203900001", "35.69"),  # no such regency in Jawa Timur
    ],
)
def test_unknown_region_is_only_a_warning(raw: str, unknown_code: str) -> None:
    result = nik.check(raw, today=TODAY)
    assert result.valid is True
    assert result.unknown_region is True
    assert [w.code for w in result.warnings] == ["wilayah_tidak_dikenal"]
    assert unknown_code in result.warnings[0].message
    assert result.errors == ()


def test_kode_lama_is_valid_and_flagged() -> None:
    # 91.01 (Merauke) was renumbered to 93.01 (Papua Selatan); it is only in the kode-lama list.
    assert nik.region_name("93.01") == "Kabupaten Merauke"
    result = nik.check("9101011203900001", today=TODAY)
    assert result.valid is True
    assert result.old_code is True
    assert result.unknown_region is False
    assert [w.code for w in result.warnings] == ["kode_lama"]
    assert result.regency_code == "91.01" and result.regency == "KAB. MERAUKE"
    assert result.district == "Merauke"
    assert result.province == "Papua"


@pytest.mark.parametrize(
    ("code", "name"),
    [("35", "Jawa Timur"), ("3508", "Kabupaten Lumajang"), ("35.08.10", "Lumajang"),
     ("35.08.21", "Sumbersuko"), ("91.01", "KAB. MERAUKE"), ("35.99", None), ("x", None)],
)
def test_region_name(code: str, name: str | None) -> None:
    assert nik.region_name(code) == name


# --------------------------------------------------------------------------- birth date and century


@pytest.mark.parametrize(
    ("raw", "born"),
    [
        ("3508010101000001", date(2000, 1, 1)),
        ("3508012811260001", date(2026, 11, 28)),  # born today: not in the future
        ("3508010101260001", date(2026, 1, 1)),  # YY 26 <= 26 -> 2026
        ("3508010101270001", date(1927, 1, 1)),  # YY 27 > 26 -> 1927
        ("3508010101990001", date(1999, 1, 1)),
    ],
)
def test_century_choice(raw: str, born: date) -> None:
    result = nik.check(raw, today=TODAY)
    assert result.valid is True
    assert result.birth_date == born


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        ("3508012902240001", True),  # 29-02-2024: leap year
        ("3508012902000001", True),  # 29-02-2000: leap year (divisible by 400)
        ("3508012902250001", False),  # 29-02-2025: no such day
        ("3508016902230001", False),  # woman, 29-02-2023: no such day
    ],
)
def test_feb_29(raw: str, valid: bool) -> None:
    result = nik.check(raw, today=TODAY)
    assert result.valid is valid
    if not valid:
        assert codes(result) == {"tanggal_lahir"}
        assert result.birth_date is None


@pytest.mark.parametrize("raw", ["3508012911260001", "3508010112260001", "3508015112260001"])
def test_future_birth_date_is_invalid(raw: str) -> None:
    result = nik.check(raw, today=TODAY)
    assert result.valid is False
    assert codes(result) == {"tanggal_masa_depan"}
    assert result.birth_date is None


def test_default_today_is_the_real_date() -> None:
    assert nik.check("3508011203900001").valid is True


# --------------------------------------------------------------------------- service area


@pytest.mark.parametrize(
    ("raw", "prefixes", "outside"),
    [
        ("3508011203900001", ("35.08",), False),
        ("3508011203900001", ("3508",), False),  # undotted prefix accepted
        ("3508101203900001", ("35.08.10",), False),
        ("3508011203900001", ("35.08.10",), True),  # Tempursari, not kecamatan Lumajang
        ("3509011203900001", ("35.08",), True),  # Jember
        ("3509011203900001", ("35.08", "35.09"), False),
        ("3509011203900001", (), False),  # no restriction configured
    ],
)
def test_allowed_prefix_warns_by_default(raw: str, prefixes: tuple[str, ...], outside: bool) -> None:
    result = nik.check(raw, today=TODAY, allowed_prefixes=prefixes)
    assert result.valid is True  # a warning never rejects
    assert result.outside_allowed_region is outside
    assert ([w.code for w in result.warnings] == ["di_luar_wilayah"]) is outside


def test_allowed_prefix_refuse_makes_it_an_error() -> None:
    result = nik.check("3509011203900001", today=TODAY, allowed_prefixes=("35.08",), refuse_outside=True)
    assert result.valid is False
    assert [e.code for e in result.errors] == ["di_luar_wilayah"]
    assert "Kabupaten Lumajang" in result.errors[0].message
    inside = nik.check("3508011203900001", today=TODAY, allowed_prefixes=("35.08",), refuse_outside=True)
    assert inside.valid is True


@pytest.mark.parametrize("bad", ["35.0", "Lumajang", "3508101"])
def test_bad_prefix_configuration_fails_loudly(bad: str) -> None:
    with pytest.raises(ValueError):
        nik.check("3508011203900001", today=TODAY, allowed_prefixes=(bad,))


# --------------------------------------------------------------------------- mask


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("3508011203900001", "3508••••••••0001"),
        ("3508 0112 0390 0001", "3508••••••••0001"),
        ("35.08.01.120390.0001", "3508••••••••0001"),
        ("12345", "•••••"),  # too short to show 4+4 safely
        ("", ""),
    ],
)
def test_mask(raw: str, masked: str) -> None:
    assert nik.mask(raw) == masked


def test_mask_hides_the_birth_date() -> None:
    assert "120390" not in nik.mask("3508011203900001")
