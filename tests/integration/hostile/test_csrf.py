"""Missing and forged CSRF tokens, with CSRF switched on: every form POST of the URL map (the REST API
authenticates by JWT and Open311 by its api_key: both are exempt, their refusals tested with them) answers 400 with a message in Indonesian and changes nothing."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD
from tests.integration.opd_support import login

from .corpus import form

# POSTs that change nothing and are exempt on purpose (their answer to a tokenless call is tested with them):
# the form's OPD suggestion (tests/integration/test_saran_opd.py).
CHANGES_NOTHING = {"saran.saran_opd"}


def _post_rules(app):
    for rule in app.url_map.iter_rules():
        if ("POST" in rule.methods and not rule.rule.startswith(("/api/", "/open311/"))
                and rule.endpoint not in CHANGES_NOTHING):
            yield rule


def _path(rule, complaint_id: int) -> str:
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:[a-z]+:)?{name}>", "action" if name == "name" else str(complaint_id), path)
    return path


def test_every_form_post_refuses_a_missing_or_forged_token(app, probe, world):
    complaint = world.routed()
    admin = login(app, "admin", PASSWORD)  # signed in before CSRF is on: the sign-in itself is tested below
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        rules = list(_post_rules(app))
        assert len(rules) > 20
        for rule in rules:
            path = _path(rule, complaint.id)
            for label, data in (("missing", {"text": "x"}), ("forged", {"csrf_token": "palsu", "text": "x"}),
                                ("another site's", {"csrf_token": "IjFhYmMi.ZZZ.abc", "text": "x"})):
                response = probe.call(admin, "POST", path, label=f"{rule.endpoint} {label} token", **form(data))
                if response is None:
                    continue
                text = response.get_data(as_text=True)
                if response.status_code != 400 or "Formulir kedaluwarsa" not in text:
                    probe.fail(f"{rule.endpoint} {label} token: expected 400 'Formulir kedaluwarsa…', got "
                               f"{response.status_code}")

        anon = app.test_client()
        response = probe.call(anon, "POST", "/login/", label="login without token",
                              **form({"username": "admin", "password": PASSWORD}))
        assert response is not None and response.status_code == 400
        response = probe.call(anon, "POST", "/pengaduan/baru", label="public form without token",
                              **form({"name": "Budi"}))
        assert response is not None and response.status_code == 400
        assert "Formulir kedaluwarsa" in response.get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    probe.assert_clean()
