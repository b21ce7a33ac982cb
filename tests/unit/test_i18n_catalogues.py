"""The translation sources (app/translations/*.po): the Indonesian catalogue leaves nothing untranslated (FAB's
English strings included), and no translation drops, adds or renames a placeholder — a wrong placeholder is a
KeyError/TypeError at run time, i.e. a 500 on the page that shows it."""

from __future__ import annotations

import glob
import io
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import flask_appbuilder

TRANSLATIONS = Path(__file__).resolve().parents[2] / "app" / "translations"
PERCENT = re.compile(r"%(?:\([^)]+\))?[#0\- +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
BRACE = re.compile(r"\{[A-Za-z_0-9]*\}")


def _load(path: Path, locale=None):
    # Some of FAB's catalogues carry a date header babel cannot parse; the dates are irrelevant here.
    data = re.sub(rb'^"(POT-Creation-Date|PO-Revision-Date): .*\\n"$', b"", path.read_bytes(), flags=re.M)
    return read_po(io.BytesIO(data), locale=locale)


def _entries(catalog):
    return [m for m in catalog if m.id]


def _forms(message):
    return list(message.string) if message.pluralizable else [message.string]


def _placeholders(text: str, python_format: bool) -> Counter:
    found = Counter(BRACE.findall(text))
    if python_format:
        found.update(PERCENT.findall(text))
    return found


def _mismatches(catalog) -> list[str]:
    bad = []
    for message in _entries(catalog):
        python_format = "python-format" in message.flags
        ids = list(message.id) if message.pluralizable else [message.id]
        allowed = set().union(*(_placeholders(i, python_format) for i in ids))
        for form in _forms(message):
            if not form:
                continue
            got = _placeholders(form, python_format)
            if message.pluralizable:
                ok = set(got) <= allowed  # a plural form may leave out the count, never add a name
            else:
                ok = got == _placeholders(message.id, python_format)
            if not ok:
                bad.append(f"{message.id!r} -> {form!r}")
    return bad


@pytest.fixture(scope="module")
def id_catalog():
    return _load(TRANSLATIONS / "id" / "LC_MESSAGES" / "messages.po", locale="id")


@pytest.fixture(scope="module")
def en_catalog():
    return _load(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po", locale="en")


@pytest.fixture(scope="module")
def fab_id():
    return _load(TRANSLATIONS / "fab_id.po", locale="id")


def test_every_indonesian_entry_has_a_translation(id_catalog):
    untranslated = [m.id for m in _entries(id_catalog) if not all(_forms(m))]
    fuzzy = [m.id for m in _entries(id_catalog) if m.fuzzy]
    assert untranslated == []
    assert fuzzy == []
    assert id_catalog.num_plurals == 1
    assert id_catalog.plural_expr == "0"


def test_indonesian_catalogue_is_built_from_the_current_sources(id_catalog, fab_id):
    """Our extracted strings keep their Indonesian msgid; FAB's strings carry fab_id.po's wording.
    Fails when fab_id.po or messages.pot changed without `python scripts/i18n.py build`."""
    template = _load(TRANSLATIONS / "messages.pot")
    fab = {m.id: m.string for m in _entries(fab_id)}
    built = {m.id: m.string for m in _entries(id_catalog)}
    for message in _entries(template):
        assert message.id in built, message.id
        if message.id in fab:
            assert built[message.id] == fab[message.id]
        elif not message.pluralizable:
            assert built[message.id] == message.id
    for msgid, string in fab.items():
        assert built.get(msgid) == string, msgid


def test_flask_appbuilder_strings_are_all_translated(fab_id):
    """Every string in FAB's installed catalogues (bar its example apps' own) has an Indonesian wording."""
    ours = {m.id: m.string for m in _entries(fab_id)}
    package = Path(flask_appbuilder.__file__).parent
    missing = set()
    for path in glob.glob(str(package / "translations" / "*" / "LC_MESSAGES" / "messages.po")):
        for message in _entries(_load(Path(path))):
            examples_only = message.locations and all(f.startswith("examples/") for f, _ in message.locations)
            if message.id.isascii() and not examples_only and not ours.get(message.id):
                missing.add(message.id)
    assert sorted(missing) == []
    for msgid in ("Sign In", "Username", "Password", "List Users", "List Roles", "Search", "No records found",
                  "Access is Denied", "Logout"):
        assert ours[msgid] and ours[msgid] != msgid


@pytest.mark.parametrize("name", ["id_catalog", "en_catalog", "fab_id"])
def test_placeholders_match_between_msgid_and_msgstr(request, name):
    assert _mismatches(request.getfixturevalue(name)) == []


def test_placeholder_check_catches_a_renamed_or_dropped_placeholder():
    from babel.messages.catalog import Catalog

    catalog = Catalog(locale="en")
    catalog.add("Diteruskan ke %(opd)s", "Forwarded to %(agency)s", flags={"python-format"})
    catalog.add("Tenggat %(t)s", "Deadline", flags={"python-format"})
    catalog.add("Halo {name}", "Hello {name}")
    assert len(_mismatches(catalog)) == 2


def test_english_catalogue_translates_into_english(en_catalog, fab_id):
    # Spot checks, and no Indonesian sentence copied over as its "translation" (FAB's English msgids aside).
    fab = {m.id for m in _entries(fab_id)}
    strings = {m.id: m.string for m in _entries(en_catalog)}
    assert strings["Halaman ini untuk petugas. Silakan masuk."] == "This page is for staff. Please sign in."
    assert strings["Layanan Pengaduan Online"] == "Online Complaint Service"
    copied = [m.id for m in _entries(en_catalog) if m.string == m.id and " " in m.id and m.id not in fab]
    assert copied == []
