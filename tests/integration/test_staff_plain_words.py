"""One vocabulary, in Indonesian (issue 16, items 2 and 5): every staff page of the permission matrix's URL
list, opened as each role that may open it, in `id`, holds none of 60+ common English UI words and none of
our raw codes (states, actions, columns).

FAB's own security screens (roles, permissions, view menus, groups) included: a permission reads by its
name and what it allows (app/labels.py), never "can_list on OpdView"."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD
from tests.integration.test_permission_matrix import _calls, resolve, world  # noqa: F401  (the seeded world)
from tests.permission_expectations import OK, STAFF, expectation_for

ENGLISH = ["List", "Search", "Save", "Edit", "Delete", "Add", "Show", "Cancel", "Actions", "Record Count",
           "Add Filter", "True", "False", "None", "Forbidden", "Not Found", "This field is required", "can_",
           "View", "Back", "Refresh", "Submit", "Select", "Remove", "Remove all items", "Name", "Email",
           "Roles", "Permissions", "User", "Users", "Login", "Logout", "Password", "Active", "First Name",
           "Last Name", "Detail", "Clear", "Filter", "Next", "Previous", "Page", "Yes", "No", "Close", "Confirm",
           "Are you sure", "Created", "Changed", "Description", "Security", "Reset", "Language", "Home",
           "Welcome", "Export", "Download", "Upload", "Print", "Total", "Count", "Items", "__None", "Su Mo Tu",
           "Info", "Warning", "Error", "Success", "Loading", "Sign In", "Sign Out", "Profile", "Settings"]
# Our own codes: states, actions of the history log, columns.
CODES = ["menunggu_verifikasi", "tidak_valid", "perlu_disposisi", "complaint.claim", "complaint.decide",
         "siak.precheck", "login.failed", "nik.view", "NOT_FOUND", "MISMATCH", "answered_at", "nik_findings",
         "author_id", "validation_deadline", "answer_deadline", "first_name", "opd_id", "username_tried"]

# A word on its own ("No" but not "No." of "No. HP", Indonesian for number).
WORD = {w: re.compile(r"(?<![\w-])" + re.escape(w) + r"(?![\w.-])") for w in ENGLISH + CODES}
# FAB's own codes: permission names ("can_list", "can list on OpdView", "menu_access") and class names of
# views and APIs ("StaffUserView", "OpdDesk", "ComplaintDeskApi"), which a crawl of every page finds wherever a
# permission or screen is shown by its code.
WORD["FAB permission"] = re.compile(r"\bcan_\w+|\bcan \w+ on \w|\bmenu_access\b|\bmenu access on\b")
WORD["class name"] = re.compile(r"\b(?!WhatsApp\b|GeoReport\b)[A-Z][a-z]+(?:[A-Z][a-z]+)+\b")  # not product names


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<a\b[^>]*\slang="en"[^>]*>.*?</a>', " ", html, flags=re.S)  # "English" names its language
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    # The seeded world's own permission, made to be deleted (test_permission_matrix): codes by design.
    return text.replace("can_matriks · MatriksKorban", " ").replace("MatriksKorban", " ")


def _pages(app, world):
    """(endpoint, url, roles that may open it) for every GET route that answers a page."""
    for method, rule in _calls(app):
        expected = expectation_for(method, rule.endpoint) if method == "GET" else None
        if expected is None or rule.endpoint in ("static", "appbuilder.static"):
            continue
        roles = [who for who in STAFF if expected.outcomes.get(who) == OK]
        if roles:
            yield rule.endpoint, resolve(app, rule, world, expected.params), roles


def test_every_staff_page_as_each_role_reads_in_indonesian(app, world):
    assert len(ENGLISH) >= 60
    clients = {}
    for who in STAFF:
        clients[who] = app.test_client()
        assert clients[who].post("/login/", data={"username": who, "password": PASSWORD}).status_code == 302
    found, pages = [], 0
    for endpoint, url, roles in _pages(app, world):
        for who in roles:
            response = clients[who].get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            pages += 1
            text = _visible_text(response.get_data(as_text=True))
            words = [w for w, pattern in WORD.items() if pattern.search(text)]
            if words:
                found.append(f"{who:10} {url}: {words}")
    assert pages > 40, pages
    assert not found, "English or raw codes on staff pages:\n  " + "\n  ".join(found)
