#!/usr/bin/env python3
"""Translation catalogues: extract our strings, merge Flask-AppBuilder's, build, check and compile.

Our msgids are Indonesian (the source language); Flask-AppBuilder's UI strings are English msgids and FAB ships
no Indonesian catalogue. So:

* ``app/translations/en/LC_MESSAGES/messages.po`` holds English translations of OUR strings (edited by hand).
* ``app/translations/fab_id.po`` holds Indonesian translations of FAB's strings and WTForms' messages
  (edited by hand).
* ``app/translations/id/LC_MESSAGES/messages.po`` is BUILT: our entries with msgstr = msgid, plus the FAB
  entries from fab_id.po. Flask-Babel loads FAB's translation folder first and ours over it, so these
  entries override FAB's strings. Do not edit it by hand.

Steps (``python scripts/i18n.py all`` runs extract, fab, build, compile):

  extract  pybabel extract -> app/translations/messages.pot; update the en catalogue from it
           (existing translations kept, no fuzzy guesses, vanished entries kept as obsolete #~).
  fab      add FAB's msgids (its installed catalogues + its sources) to fab_id.po; existing translations kept.
  build    write the id catalogue; fill en entries for FAB msgids our templates reuse; check both.
  check    only the checks: every id entry translated, placeholders equal; en gaps are reported.
  compile  pybabel compile -d app/translations -f

Every step is idempotent: a file is rewritten only when its entries change (not for header dates alone).
Pure stdlib + babel.
"""
from __future__ import annotations

import argparse
import glob
import io
import os
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
POT = TRANSLATIONS / "messages.pot"
FAB_ID = TRANSLATIONS / "fab_id.po"
PROJECT = "Layanan Pengaduan Online"
KEYWORDS = ["_l", "lazy_gettext", "lazy_ngettext:1,2", "lazy_pgettext:1c,2", "N_"]  # N_: pure modules (app/nik.py)
DATE_LINE = re.compile(rb'^"(POT-Creation-Date|PO-Revision-Date): .*\\n"$', re.M)

# %-style placeholders (python-format entries) and str.format fields (any entry).
PERCENT = re.compile(r"%(?:\([^)]+\))?[#0\- +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")
BRACE = re.compile(r"(?<!\{)\{[A-Za-z_0-9.\[\]]*(?:![rsa])?(?::[^{}]*)?\}(?!\})")


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def wtforms_pot() -> Path:
    import wtforms
    return Path(wtforms.__file__).resolve().parent / "locale" / "wtforms.pot"


def fab_package() -> Path:
    import flask_appbuilder
    return Path(flask_appbuilder.__file__).resolve().parent


# --------------------------------------------------------------------------- reading and writing catalogues

def load(path: Path, locale: str | None = None) -> Catalog:
    data = path.read_bytes()
    # Some FAB catalogues carry a date header babel cannot parse ("2025-01-21"); the dates don't matter here.
    data = DATE_LINE.sub(b"", data)
    return read_po(io.BytesIO(data), locale=locale)


def render(catalog: Catalog, **kwargs) -> bytes:
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, **kwargs)
    return buf.getvalue()


def save(path: Path, catalog: Catalog, **kwargs) -> bool:
    """Write the catalogue unless only its header dates would change. Returns True if written."""
    new = render(catalog, **kwargs)
    if path.exists() and DATE_LINE.sub(b"", path.read_bytes()) == DATE_LINE.sub(b"", new):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(new)
    return True


def entries(catalog: Catalog):
    return [m for m in catalog if m.id]


def is_empty(message) -> bool:
    if isinstance(message.string, (tuple, list)):
        return not all(message.string)
    return not message.string


def pybabel(*args: str) -> None:
    code = CommandLineInterface().run(["pybabel", "-q", *args])
    if code:
        sys.exit(f"pybabel {' '.join(args)} failed ({code})")


def new_catalog(locale: str, template: Catalog | None = None) -> Catalog:
    catalog = Catalog(locale=locale, project=PROJECT, version="1.0", fuzzy=False,
                      copyright_holder="Pemerintah Kabupaten Lumajang")
    if template is not None:
        catalog.creation_date = template.creation_date
    return catalog


# --------------------------------------------------------------------------- extract

def cmd_extract() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "messages.pot"
        args = ["extract", "-F", str(ROOT / "babel.cfg"), "-o", str(out), "--add-comments", "TRANSLATORS:",
                "--project", PROJECT, "--version", "1.0", "--copyright-holder", "Pemerintah Kabupaten Lumajang",
                "--sort-by-file"]
        for keyword in KEYWORDS:
            args += ["-k", keyword]
        cwd = os.getcwd()
        os.chdir(ROOT)  # locations relative to the repository
        try:
            pybabel(*args, ".")
        finally:
            os.chdir(cwd)
        template = load(out)
        template.fuzzy = False
        save(POT, template, sort_by_file=True)
    template = load(POT)
    print(f"extract: {len(entries(template))} strings of ours in {POT.relative_to(ROOT)}")

    en_path = po_path("en")
    en = load(en_path, locale="en") if en_path.exists() else new_catalog("en", template)
    before = {m.id for m in entries(en)}
    # Same as `pybabel update --no-fuzzy-matching`: keeps translations, adds new ids, obsoletes vanished ones.
    en.update(template, no_fuzzy_matching=True, update_header_comment=False)
    en.fuzzy = False
    added = [m.id for m in entries(en) if m.id not in before]
    save(en_path, en)
    untranslated = [m for m in entries(en) if is_empty(m)]
    print(f"extract: en catalogue: {len(added)} new, {len(untranslated)} untranslated "
          f"(of {len(entries(en))}), {len(en.obsolete)} obsolete kept")


# --------------------------------------------------------------------------- fab

def fab_msgids() -> dict:
    """FAB's visible msgids: the union of its installed catalogues and what its own sources mark.

    Leaves out msgids that only FAB's example apps use (staff never see them) and non-ASCII msgids
    (one catalogue has a translated msgid by mistake).
    """
    package = fab_package()
    found: dict = {}
    catalogue_locations: dict = {}
    for path in sorted(glob.glob(str(package / "translations" / "*" / "LC_MESSAGES" / "messages.po"))):
        for message in entries(load(Path(path))):
            found.setdefault(message.id, message)
            catalogue_locations.setdefault(message.id, set()).update(f for f, _ in message.locations)
    in_source = set()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "fab.cfg"
        cfg.write_text("[python: **.py]\n[jinja2: **/templates/**.html]\n")
        out = Path(tmp) / "fab.pot"
        pybabel("extract", "-F", str(cfg), "-k", "_l", "-k", "lazy_gettext", "-o", str(out), str(package))
        for message in entries(load(out)):
            in_source.add(message.id)
            found.setdefault(message.id, message)
    # WTForms' own messages: no Indonesian catalogue ships either (app/extensions.FormMessages).
    for message in entries(load(wtforms_pot())):
        in_source.add(message.id)
        found.setdefault(message.id, message)
    result = {}
    for msgid, message in found.items():
        text = msgid if isinstance(msgid, str) else msgid[0]
        if not text.isascii():
            continue
        locations = catalogue_locations.get(msgid, set())
        if msgid not in in_source and locations and all(f.startswith("examples/") for f in locations):
            continue
        result[msgid] = message
    return result


def cmd_fab() -> None:
    fab = fab_msgids()
    catalog = load(FAB_ID, locale="id") if FAB_ID.exists() else new_catalog("id")
    current = {m.id for m in entries(catalog)}
    added = 0
    for msgid, message in sorted(fab.items(), key=lambda kv: str(kv[0]).lower()):
        if msgid in current:
            continue
        flags = {f for f in message.flags if f != "fuzzy"}
        catalog.add(msgid, "" if not message.pluralizable else ("",), flags=flags)
        added += 1
    gone = [m for m in entries(catalog) if m.id not in fab]
    for message in gone:  # FAB dropped them: keep the translation as obsolete, out of the build
        del catalog[message.id]
        catalog.obsolete[message.id] = message
    catalog.fuzzy = False
    # Alphabetical and without locations: the file is a dictionary, edited by hand.
    save(FAB_ID, catalog, sort_output=True, omit_header=False, no_location=True)
    untranslated = [m.id for m in entries(catalog) if is_empty(m)]
    print(f"fab: {len(fab)} FAB strings; fab_id.po: {added} new, {len(gone)} now obsolete, "
          f"{len(untranslated)} untranslated")
    for msgid in untranslated:
        print(f"  untranslated FAB string: {msgid!r}")


# --------------------------------------------------------------------------- build and check

def placeholders(text: str, python_format: bool) -> Counter:
    found = Counter(BRACE.findall(text))
    if python_format:
        found.update(p for p in PERCENT.findall(text) if p != "%%")
    return found


def placeholder_errors(catalog: Catalog) -> list[str]:
    errors = []
    for message in entries(catalog):
        if is_empty(message):
            continue
        python_format = "python-format" in message.flags
        if message.pluralizable:
            ids = [message.id[0], message.id[1]]
            # A plural form may drop the count ("One complaint"), never add or rename a placeholder.
            allowed = set().union(*(placeholders(i, python_format) for i in ids))
            union = set()
            for form in message.string:
                got = set(placeholders(form, python_format))
                union |= got
                if not got <= allowed:
                    errors.append(f"{message.id[0]!r}: {form!r} has {sorted(got - allowed)}")
            if union != allowed and len(message.string) == 1:
                errors.append(f"{message.id[0]!r}: {message.string!r} lacks {sorted(allowed - union)}")
        else:
            want = placeholders(message.id, python_format)
            got = placeholders(message.string, python_format)
            if want != got:
                errors.append(f"{message.id!r} -> {message.string!r}: placeholders {dict(want)} != {dict(got)}")
    return errors


def build_id(template: Catalog, fab: Catalog) -> Catalog:
    fab_strings = {m.id: m for m in entries(fab)}
    catalog = new_catalog("id", template)
    for message in entries(template):
        if message.id in fab_strings:
            # An English FAB msgid reused in our own template: FAB's Indonesian wording.
            string = fab_strings[message.id].string
        elif message.pluralizable:
            # id has one plural form; the plural source text carries the count placeholder.
            string = (message.id[1],)
        else:
            string = message.id
        catalog.add(message.id, string, locations=message.locations, flags=message.flags,
                    auto_comments=message.auto_comments, context=message.context)
    for message in entries(fab):
        if catalog.get(message.id) is None:
            catalog.add(message.id, message.string, flags=message.flags,
                        auto_comments=["Flask-AppBuilder (from app/translations/fab_id.po)"])
    return catalog


def check(id_catalog: Catalog, en: Catalog) -> int:
    problems = 0
    empty = [m.id for m in entries(id_catalog) if is_empty(m)]
    for msgid in empty:
        print(f"  id: no translation for {msgid!r} (translate it in app/translations/fab_id.po)")
    problems += len(empty)
    if id_catalog.num_plurals != 1:
        print(f"  id: wrong plural forms {id_catalog.plural_forms!r}")
        problems += 1
    for name, catalog in (("id", id_catalog), ("en", en)):
        for error in placeholder_errors(catalog):
            print(f"  {name}: {error}")
            problems += 1
        fuzzy = [m.id for m in entries(catalog) if m.fuzzy]
        for msgid in fuzzy:
            print(f"  {name}: fuzzy entry {msgid!r} (check it and remove the fuzzy flag)")
        problems += len(fuzzy)
    untranslated = [m.id for m in entries(en) if is_empty(m)]
    print(f"check: id {len(entries(id_catalog))} entries, {len(empty)} untranslated; "
          f"en {len(entries(en))} entries, {len(untranslated)} untranslated (shown in English as their "
          f"Indonesian msgid until translated)")
    for msgid in untranslated:
        print(f"  en untranslated: {msgid!r}")
    return problems


def cmd_build() -> int:
    template = load(POT)
    fab = load(FAB_ID, locale="id")
    id_catalog = build_id(template, fab)
    written = save(po_path("id"), id_catalog)

    en = load(po_path("en"), locale="en")
    fab_ids = {m.id for m in entries(fab)}
    for message in entries(en):
        # English FAB msgids reused in our templates are already English.
        if message.id in fab_ids and is_empty(message):
            message.string = message.id if not message.pluralizable else tuple(message.id)
    save(po_path("en"), en)
    ours = sum(1 for m in entries(template) if m.id not in fab_ids)
    print(f"build: id catalogue {'written' if written else 'unchanged'}: {ours} of ours (msgstr = msgid) + "
          f"{len(entries(id_catalog)) - ours} FAB entries")
    problems = check(id_catalog, en)
    if problems:
        print(f"build: {problems} problem(s)")
    return 1 if problems else 0


def cmd_check() -> int:
    return 1 if check(load(po_path("id"), locale="id"), load(po_path("en"), locale="en")) else 0


def cmd_compile() -> None:
    pybabel("compile", "-d", str(TRANSLATIONS), "-f")
    print("compile: .mo files written")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["extract", "fab", "build", "check", "compile", "all"])
    step = parser.parse_args(argv).step
    if step in ("extract", "all"):
        cmd_extract()
    if step in ("fab", "all"):
        cmd_fab()
    code = 0
    if step in ("build", "all"):
        code = cmd_build()
    if step == "check":
        code = cmd_check()
    if step in ("compile", "all"):
        cmd_compile()
    return code


if __name__ == "__main__":
    sys.exit(main())
