#!/usr/bin/env python3
"""Fill a deploy template: `render.py TEMPLATE OUT NAME=VALUE ...` replaces every @NAME@ and refuses
to write a file with a placeholder left unfilled (or a NAME the template does not use). Standard library
only: install.sh runs it before the virtual environment exists. Writes OUT only when its content changes
(so a second install changes nothing) and prints "changed" or "unchanged"."""

import re
import sys
from pathlib import Path


def render(template: str, values: dict[str, str]) -> str:
    used = set(re.findall(r"@([A-Z][A-Z0-9_]*)@", template))
    missing, unknown = used - set(values), set(values) - used
    if missing or unknown:
        raise SystemExit(f"render: missing {sorted(missing)}, not in the template {sorted(unknown)}")
    return re.sub(r"@([A-Z][A-Z0-9_]*)@", lambda m: values[m.group(1)], template)


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        raise SystemExit(__doc__)
    template, out = Path(argv[1]), Path(argv[2])
    values = dict(arg.split("=", 1) for arg in argv[3:])
    text = render(template.read_text(), values)
    if out.exists() and out.read_text() == text:
        print("unchanged")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print("changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
