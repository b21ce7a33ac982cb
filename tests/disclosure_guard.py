"""A guard over every template the suite renders: no context may hold a complaint row.

The disclosure policy (app/services/disclosure.py) is the one place that decides what of a complainant a
viewer sees; pages receive its `ComplaintView`s. A template handed a `Complaint`, `Answer` or `StatusEvent`
row could print any field of it (name, phone, the original text of an anonim complaint) without asking the
policy, so the guard fails the test that rendered it. Loaded by tests/conftest.py for the whole suite.
"""

from __future__ import annotations

import dataclasses

import pytest
from flask import template_rendered

_violations: list[str] = []


def _row_types():
    from app.models import Answer, Complaint, NikCheck, StatusEvent

    return (Complaint, Answer, StatusEvent, NikCheck)


def rows_in(value, depth: int = 0, seen: set | None = None):
    """Complaint-side ORM rows reachable from a template context value (containers and dataclasses)."""
    seen = set() if seen is None else seen
    if depth > 5 or id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, _row_types()):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from rows_in(item, depth + 1, seen)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from rows_in(item, depth + 1, seen)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from rows_in(getattr(value, f.name, None), depth + 1, seen)


def _record(sender, template, context, **extra):
    for name, value in context.items():
        for row in rows_in(value):
            _violations.append(f"{template.name}: context {name!r} holds a {type(row).__name__} row")


def take_violations() -> list[str]:
    found = list(_violations)
    _violations.clear()
    return found


@pytest.fixture(scope="session", autouse=True)
def _install_disclosure_guard():
    template_rendered.connect(_record)  # every app the suite builds
    yield
    template_rendered.disconnect(_record)


@pytest.fixture(autouse=True)
def _no_complaint_rows_in_templates(_install_disclosure_guard):
    _violations.clear()
    yield
    found = take_violations()
    assert not found, ("A template received a complaint row instead of the disclosure policy's view "
                       "(services.disclosure.present):\n  " + "\n  ".join(sorted(set(found))))
