"""Every route of the URL map has a hostile corpus in this package: a new route without one fails here."""

from __future__ import annotations

from . import test_api, test_citizen_loop, test_fab, test_links, test_open311, test_public, test_staff

# Served by Flask for every app from files on disk; no input reaches our code or the database.
NOT_INPUT = {"static", "appbuilder.static"}


def test_every_route_has_a_corpus(app):
    covered = set().union(test_api.ENDPOINTS, test_citizen_loop.ENDPOINTS, test_fab.ENDPOINTS, test_links.ENDPOINTS, test_open311.ENDPOINTS, test_public.ENDPOINTS,
                          test_staff.ENDPOINTS)
    for view in test_fab._model_views(app):  # FAB's generic ModelView routes, every one of them
        covered |= {f"{view.endpoint}.{method}" for method in test_fab.MODEL_VIEW_METHODS}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - NOT_INPUT
    missing = sorted(endpoints - covered)
    assert not missing, ("Routes without a hostile corpus (add them to a test in tests/integration/hostile/ and to "
                         "its ENDPOINTS): " + ", ".join(missing))
    stale = sorted(covered - endpoints - NOT_INPUT)
    assert not stale, "ENDPOINTS names routes that no longer exist: " + ", ".join(stale)
