"""The input boundary (app/inputs.py): what every form, REST body and query parameter goes through."""

from __future__ import annotations

from datetime import date

import pytest

from app import inputs
from app.inputs import Problem, clean_text, is_blank, parse_date, parse_int, printable


def code_of(call, *args, **kwargs) -> str:
    with pytest.raises(Problem) as caught:
        call(*args, **kwargs)
    return caught.value.code


def test_text_is_nfc_trimmed_and_counted_after_normalising():
    decomposed = "Cafe\u0301 " * 3  # "é" typed as e + combining accent: one character after NFC
    assert clean_text(decomposed) == "Café Café Café"
    assert clean_text("e\u0301" * 5, limit=5) == "é" * 5
    assert code_of(clean_text, "é" * 6, limit=5) == "too_long"
    assert clean_text("\u200b  Judul \u200b") == "Judul"


@pytest.mark.parametrize("value", ["a\x00b", "a\x01b", "a\x1bb", "a\x7fb", "a\x85b", "a\ud800b", "a\ufffeb",
                                   "a\U0010ffffb", "a\ufdd0b"])
def test_control_characters_surrogates_and_noncharacters_are_refused_with_the_position(value):
    for multiline in (False, True):
        with pytest.raises(Problem) as caught:
            clean_text(value, multiline=multiline)
        assert caught.value.code == "control" and "posisi 2" in caught.value.message


def test_line_breaks_and_tabs_only_in_long_text():
    assert clean_text("satu\r\ndua\rtiga\u2028empat\tlima", multiline=True) == "satu\ndua\ntiga\nempat\tlima"
    for value in ("satu\ndua", "satu\r\ndua", "satu\tdua"):
        assert code_of(clean_text, value) == "line"
    assert clean_text("judul\n") == "judul"  # a trailing line break is a blank, not a second line


@pytest.mark.parametrize("mark", sorted(inputs.BIDI_CONTROLS))
def test_bidirectional_controls_are_refused_but_the_marks_allowed(mark):
    assert code_of(clean_text, f"abc{mark}def") == "bidi"
    assert clean_text("\u0627\u200f abc \u200e") == "\u0627\u200f abc"


@pytest.mark.parametrize("value", ["", "   ", "\u200b", "\u200b\u200c\u200d\ufeff", " \u3164 ", "\u2800",
                                   "\n\t\n", "\u00a0\u2003"])
def test_a_required_text_of_nothing_visible_is_missing(value):
    assert is_blank(value)
    assert clean_text(value, multiline=True) is None
    assert code_of(clean_text, value, multiline=True, required=True) == "required"


def test_emoji_and_zero_width_joiners_inside_a_text_stay():
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"
    assert clean_text(f"Keluarga {family} 👍") == f"Keluarga {family} 👍"
    assert not is_blank(family)


def test_seal_markers_become_ordinary_brackets():
    assert clean_text("\u27e6NIK:gAAAA\u27e7", multiline=True) == "[NIK:gAAAA]"


def test_wrong_types_are_refused():
    for value in (12, 1.5, True, ["a"], {"a": 1}, b"bytes"):
        assert code_of(clean_text, value) == "type"
    assert clean_text(None) is None


def test_printable_drops_what_no_file_can_hold_and_keeps_line_breaks():
    assert printable("a\x00b\x1f\ud800c\u202e\r\n\td") == "abc\r\n\td"
    assert printable("/lang/a\r\nb\tc", multiline=False) == "/lang/abc"
    assert printable(12) == 12


@pytest.mark.parametrize("value, expected", [("0", 0), ("42", 42), (" 7 ", 7), ("+3", 3), (2147483647, 2147483647),
                                             ("", None), (None, None)])
def test_integers_within_bounds(value, expected):
    assert parse_int(value) == expected


@pytest.mark.parametrize("value, code", [("-1", "range"), ("2147483648", "range"), ("99999999999999999999", "range"),
                                         ("9" * 100_000, "range"), ("1_000", "integer"), ("١٢", "integer"),
                                         ("1e3", "integer"), ("0x10", "integer"), ("12abc", "integer"),
                                         (True, "integer"), (1.0, "integer"), ([1], "integer")])
def test_integers_out_of_bounds_or_not_integers_are_refused(value, code):
    assert code_of(parse_int, value) == code


def test_integer_bounds_are_the_callers():
    assert parse_int("9223372036854775807", maximum=inputs.BIGINT_MAX) == inputs.BIGINT_MAX
    assert code_of(parse_int, "0", minimum=1, maximum=100) == "range"
    with pytest.raises(Problem) as caught:
        parse_int("101", minimum=1, maximum=100)
    assert caught.value.message == "Harus bilangan bulat antara 1 dan 100."


def test_dates_are_iso_and_between_2000_and_2100():
    assert parse_date("2026-08-17") == date(2026, 8, 17)
    assert parse_date("2000-01-01") == inputs.DATE_MIN and parse_date("2100-12-31") == inputs.DATE_MAX
    assert parse_date("") is None
    with pytest.raises(Problem) as caught:
        parse_date("0001-01-01")
    assert caught.value.code == "date_range"
    assert caught.value.message == "Tanggal harus antara 01-01-2000 dan 31-12-2100."
    for value in ("9999-12-31", "1999-12-31", "2101-01-01"):
        assert code_of(parse_date, value) == "date_range"
    for value in ("2026-02-30", "2026-13-01"):
        assert code_of(parse_date, value) == "date"
    for value in ("20260817", "2026-W33-1", "17-08-2026", "2026-08-17T00:00", "٢٠٢٦-٠٨-١٧", 20260817):
        assert code_of(parse_date, value) == "date"


def test_messages_are_translatable_templates():
    problem = Problem("too_long", inputs.N_("Maksimal %(max)d karakter (saat ini %(n)d)."), max=5, n=6)
    assert problem.message == "Maksimal 5 karakter (saat ini 6)."
    seen = []
    assert problem.text(lambda template, **params: seen.append((template, params)) or "ok") == "ok"
    assert seen == [("Maksimal %(max)d karakter (saat ini %(n)d).", {"max": 5, "n": 6})]


def test_first_problem_of_a_query_string_names_the_parameter():
    from werkzeug.datastructures import MultiDict

    assert inputs.first_problem(MultiDict([("q", "jalan"), ("opd", "DINKES")])) is None
    name, problem = inputs.first_problem(MultiDict([("q", "jalan"), ("q", "ja\x00lan")]))
    assert name == "q" and problem.code == "control"
    name, _ = inputs.first_problem(MultiDict([("a\x01", "x")]))
    assert name == "a\x01"
    assert inputs.first_problem(MultiDict([("text", "baris\r\nbaru\t")]), multiline=True) is None


def test_w3c_datetimes_with_an_offset_or_read_in_the_local_zone():
    from datetime import datetime, timedelta, timezone

    from app.inputs import parse_w3c_datetime
    from app.timeutil import WIB

    utc = lambda value: parse_w3c_datetime(value, local=WIB).astimezone(timezone.utc).replace(tzinfo=None)  # noqa: E731
    assert utc("2026-01-31T08:15:30+07:00") == datetime(2026, 1, 31, 1, 15, 30)
    assert utc("2026-01-31T01:15:30Z") == datetime(2026, 1, 31, 1, 15, 30)
    assert utc("2026-01-31T08:15") == datetime(2026, 1, 31, 1, 15)  # no offset: WIB
    assert utc("2026-01-31") == datetime(2026, 1, 30, 17, 0)  # a day: its WIB midnight
    assert parse_w3c_datetime("2026-01-31T08:15:30.250-05:00", local=WIB).utcoffset() == timedelta(hours=-5)
    assert parse_w3c_datetime("  ", local=WIB) is None and parse_w3c_datetime(None, local=WIB) is None
    for value in ("kemarin", "2026-01-31 08:15", "20260131T081530Z", "2026-01-31T08:15:30+0700", "2026-W05",
                  "٢٠٢٦-٠١-٣١", "2026-01-31T08:15:30+07:00x", 20260131):
        assert code_of(parse_w3c_datetime, value, local=WIB) == "datetime", value
    for value in ("2026-02-30", "2026-01-31T24:00:00Z", "2026-01-31T08:61", "2026-01-31T08:00:00+25:00"):
        assert code_of(parse_w3c_datetime, value, local=WIB) == "datetime", value
    assert code_of(parse_w3c_datetime, "1999-12-31T23:00:00Z", local=WIB) == "date_range"
    assert code_of(parse_w3c_datetime, "2101-01-01", local=WIB) == "date_range"
