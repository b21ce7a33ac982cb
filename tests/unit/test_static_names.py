"""Names the code uses exist: an undefined name hides on a rare path (the database dying under a
request) until that path runs, and then it is a 500. Found that way once: `logging` used without its
import in the session teardown, so an officer whose decision was saved saw an error page.

pyflakes reads the code without running it; only its findings that are bugs fail the test (an unused
import is untidy, not wrong)."""

from __future__ import annotations

from pathlib import Path

import pytest

pyflakes_api = pytest.importorskip("pyflakes.api")
from pyflakes import messages  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BUGS = (messages.UndefinedName, messages.UndefinedLocal, messages.UndefinedExport,
        messages.MultiValueRepeatedKeyLiteral, messages.MultiValueRepeatedKeyVariable,
        messages.ReturnOutsideFunction, messages.DefaultExceptNotLast, messages.TooManyExpressionsInStarredAssignment,
        messages.PercentFormatMissingArgument, messages.StringDotFormatMissingArgument, messages.IsLiteral)


class _Collect:
    def __init__(self):
        self.found: list[str] = []

    def flake(self, message):
        if isinstance(message, BUGS):
            self.found.append(str(message))

    def unexpectedError(self, filename, msg):  # noqa: N802 - pyflakes' reporter interface
        self.found.append(f"{filename}: {msg}")

    def syntaxError(self, filename, msg, lineno, offset, text):  # noqa: N802
        self.found.append(f"{filename}:{lineno}: {msg}")


@pytest.mark.parametrize("folder", ["app", "bench", "scripts", "tests", "migrations"])
def test_the_code_uses_no_undefined_name_and_no_repeated_key(folder):
    reporter = _Collect()
    pyflakes_api.checkRecursive([str(ROOT / folder)], reporter)
    assert reporter.found == []


def test_the_check_finds_an_undefined_name(tmp_path):
    # The check itself works: the bug it was written for is found.
    sample = tmp_path / "teardown.py"
    sample.write_text("def release():\n    logging.getLogger(__name__).warning('lost')\n"
                      "LABELS = {'address': 1, 'address': 2}\n")
    reporter = _Collect()
    pyflakes_api.checkRecursive([str(sample)], reporter)
    assert any("undefined name 'logging'" in f for f in reporter.found)
    assert any("dictionary key 'address' repeated" in f for f in reporter.found)
