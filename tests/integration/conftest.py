import pytest


@pytest.fixture(autouse=True)
def _needs_app(app):
    """Every integration test runs against the session app (and is cleaned up after)."""
    yield
