"""Who may call what: the expectation table of the permission matrix (tests/integration/test_permission_matrix.py).

One row per (HTTP method, endpoint); FAB's generic model-view endpoints are covered by patterns.
Adding a route: add a row here. Outcomes:

  OK     2xx                                    DENY   401/403, or a redirect to /login/
  REDIR  a redirect elsewhere (e.g. after a POST, or FAB refusing a GET delete with a flash)
  NF     404 (the row-level scope: another OPD's complaint does not exist for you)
  an int any other status that is the right answer (400 for an empty POST, 405 …)

Callers are called in CALLERS order (least privileged first), with one seeded complaint routed to
DINKESP2KB, published ("complaint"), one waiting for the NIK check ("waiting"), one returned to
dispatch ("returned"), an attachment of the complainant, and throw-away rows for FAB's security
screens. POST bodies are empty unless a row gives `data`/`json`, so a write is refused by validation
and the next caller still finds the row; deletes and sign-outs run last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

OK, DENY, NF, REDIR = "ok", "deny", "404", "redirect"
CALLERS = ("anon", "opd.dputr", "opd.dinkes", "pimpinan", "validator", "admin")
STAFF = CALLERS[1:]

# Served by Flask itself for every app; nothing to guard.
SKIP_ENDPOINTS = frozenset({"static", "appbuilder.static"})


@dataclass(frozen=True)
class Expect:
    outcomes: dict
    params: dict = field(default_factory=dict)  # URL parameter → world key ("waiting", …) or a literal
    data: dict | None = None  # form body of a POST
    json: dict | None = None  # JSON body of a POST
    full_nik: bool = False  # the page may show a full NIK (the validator's desk only)


def row(anon=DENY, *, default=DENY, params=None, data=None, json=None, full_nik=False, **by_caller) -> Expect:
    """row(OK) → everyone OK; row(admin=OK) → only admin; keyword names use _ for . (opd_dinkes)."""
    outcomes = {"anon": anon}
    for caller in STAFF:
        outcomes[caller] = by_caller.get(caller.replace(".", "_"), default)
    return Expect(outcomes, params or {}, data, json, full_nik)


def everyone(outcome, **kw) -> Expect:
    return row(outcome, default=outcome, **kw)


def staff_only(outcome=OK, **kw) -> Expect:
    return row(DENY, default=outcome, **kw)


ADMIN_ONLY = row(admin=OK)
SUPERVISION = row(pimpinan=OK, admin=OK)  # Pimpinan and Admin Sistem read everything but the full NIK
BOTH_OPDS = dict(opd_dputr=OK, opd_dinkes=OK)
# The seeded complaint is routed to DINKESP2KB: the other OPD must not learn that it exists.
ONE_OPD = dict(opd_dputr=NF, opd_dinkes=OK)

EXPECTATIONS: dict[tuple[str, str], Expect] = {
    # --- public pages, no sign-in (issue 3) ---
    ("GET", "health"): everyone(OK),
    ("GET", "public.home"): everyone(OK),
    ("GET", "public.language"): everyone(REDIR),
    ("GET", "public.new_complaint"): everyone(OK),
    ("POST", "public.new_complaint"): everyone(400),  # empty form: refused, nothing stored
    ("POST", "saran.saran_opd"): everyone(415),  # the OPD suggestion (issue 18) reads JSON only
    ("GET", "public.receipt"): everyone(OK),
    ("GET", "public.published_list"): everyone(OK),
    ("GET", "public.published_detail"): everyone(OK),
    ("GET", "public.statistics"): everyone(OK),
    ("GET", "public.track"): everyone(OK),
    ("POST", "public.track"): everyone(400),  # no ticket + PIN
    ("GET", "public.tracked"): everyone(REDIR),  # no ticket + PIN grant in the session: back to /lacak
    ("GET", "public.track_attachment"): everyone(NF),  # only with the grant of that complaint
    ("POST", "public.track_logout"): everyone(REDIR),
    ("GET", "public.receipt_pdf"): everyone(NF),  # only in the browser that was just shown its receipt
    ("GET", "public.recover_pin"): everyone(OK),
    ("POST", "public.recover_pin"): everyone(400),  # empty ticket and contact
    ("POST", "public.track_reply"): everyone(REDIR),  # no ticket + PIN grant: back to /lacak
    ("GET", "UtilView.back"): everyone(REDIR),
    ("GET", "LocaleView.index"): everyone(REDIR),
    ("GET", "StaffIndexView.index"): everyone(OK),  # a sign-in invitation for anonymous visitors
    # --- Open311 GeoReport v2 (issue 15): public reads; the POST authenticates by api_key, not by a sign-in ---
    ("GET", "open311.discovery"): everyone(OK, params={"fmt": "xml"}),
    ("GET", "open311.services"): everyone(OK, params={"fmt": "json"}),
    ("GET", "open311.service_definition"): everyone(OK, params={"code": "DINKESP2KB", "fmt": "xml"}),
    ("POST", "open311.create_request"): everyone(DENY, params={"fmt": "json"}),  # no api_key: 403 for everyone
    ("GET", "open311.list_requests"): everyone(OK, params={"fmt": "xml"}),
    ("GET", "open311.one_request"): everyone(OK, params={"fmt": "json"}),  # the published complaint
    # --- sign-in and sign-out ---
    ("GET", "StaffAuthDBView.login"): row(OK, default=REDIR),  # signed in: sent to the desk
    ("POST", "StaffAuthDBView.login"): row(OK, default=REDIR),  # empty form: shown again
    ("GET", "StaffAuthDBView.logout"): row(DENY, default=OK),  # a confirmation page, never a sign-out
    ("POST", "StaffAuthDBView.logout"): everyone(REDIR),
    ("POST", "SecurityApi.login"): everyone(400),  # empty body
    # An access token is not a refresh token: refused as no authentication (401, app/boundary.py).
    ("POST", "SecurityApi.refresh"): everyone(DENY),
    ("GET", "OpenApi.get"): ADMIN_ONLY,
    ("GET", "SwaggerView.show"): ADMIN_ONLY,
    ("GET", "MenuApi.get_menu_data"): ADMIN_ONLY,
    # --- own account ---
    ("GET", "StaffUserView.userinfo"): staff_only(),
    ("GET", "ResetMyPasswordView.this_form_get"): staff_only(),
    ("POST", "ResetMyPasswordView.this_form_post"): staff_only(),  # empty form: errors shown
    ("GET", "UserInfoEditView.this_form_get"): ADMIN_ONLY,  # names are kept by Admin Sistem
    ("POST", "UserInfoEditView.this_form_post"): ADMIN_ONLY,
    ("GET", "ResetPasswordView.this_form_get"): ADMIN_ONLY,
    ("POST", "ResetPasswordView.this_form_post"): ADMIN_ONLY,
    # --- settings ---
    ("GET", "OpdView.list"): row(validator=OK, pimpinan=OK, admin=OK),
    ("GET", "OpdView.show"): row(validator=OK, pimpinan=OK, admin=OK),
    ("GET", "NonWorkingDayView.list"): SUPERVISION,
    # OPD-suggestion models (issue 18): read-only, Admin Sistem only; the matrix's world stores no model.
    ("GET", "RoutingModelView.list"): ADMIN_ONLY,
    ("GET", "RoutingModelView.show"): row(admin=NF),
    ("GET", "RegistryImportView.form"): ADMIN_ONLY,
    ("POST", "RegistryImportView.upload"): row(admin=400),  # no file
    ("GET", "OutboxView.list"): ADMIN_ONLY,
    ("POST", "OutboxView.resend"): row(admin=REDIR),
    ("GET", "SystemHealthView.index"): ADMIN_ONLY,
    # Open311 API keys (issue 15): Admin Sistem only; an empty name is refused, an unknown key is 404.
    ("GET", "Open311KeyView.list"): ADMIN_ONLY,
    ("POST", "Open311KeyView.create"): row(admin=400),
    ("POST", "Open311KeyView.revoke"): row(admin=NF, params={"key_id": 2147483647}),
    # --- validator's desk (issue 4): the only place a full NIK is shown ---
    ("GET", "ValidatorDeskView.queue"): row(validator=OK, admin=OK),
    ("GET", "ValidatorDeskView.check"): row(validator=OK, params={"complaint_id": "waiting"}, full_nik=True),
    # An empty decision re-renders the check page (with the full NIK) and its error.
    ("POST", "ValidatorDeskView.decide"): row(validator=(REDIR, 400), params={"complaint_id": "waiting"},
                                              full_nik=True),
    # The seeded attachment belongs to the routed complaint, which this validator decided (in their scope).
    ("GET", "ValidatorDeskView.attachment"): row(validator=OK, admin=OK),
    ("GET", "ValidatorStatsView.stats"): row(validator=OK, pimpinan=OK, admin=OK),
    ("GET", "DispatchView.queue"): row(validator=OK, admin=OK),
    # --- disputed answers (issue 17): the Pimpinan decides; an empty decision is refused with a message ---
    ("GET", "DisputeView.queue"): row(pimpinan=OK, admin=OK),
    ("POST", "DisputeView.decide"): row(pimpinan=REDIR, admin=REDIR),
    ("POST", "DispatchView.reroute"): row(validator=REDIR, admin=REDIR, params={"complaint_id": "returned"}),
    # --- OPD desk (issue 5) ---
    ("GET", "OpdDeskView.queue"): row(**BOTH_OPDS, pimpinan=OK, admin=OK),
    ("GET", "OpdDeskView.export"): row(**BOTH_OPDS, pimpinan=OK, admin=OK),
    ("GET", "OpdDeskView.detail"): row(**ONE_OPD, pimpinan=OK, admin=OK),
    ("GET", "OpdDeskView.attachment"): row(**ONE_OPD, pimpinan=OK, admin=OK),
    ("GET", "OpdDeskView.versions"): SUPERVISION,
    ("POST", "OpdDeskView.add_note"): row(opd_dputr=NF, opd_dinkes=400, pimpinan=400, admin=400),
    ("POST", "OpdDeskView.answer"): row(opd_dputr=NF, opd_dinkes=400, admin=400),
    ("POST", "OpdDeskView.edit_answer"): row(opd_dputr=NF, opd_dinkes=400, admin=400),
    ("POST", "OpdDeskView.return_complaint"): row(opd_dputr=NF, opd_dinkes=400, admin=400),
    # Linking as the same problem (issue 18): no main complaint named → 400; not linked → 409; Admin Sistem
    # holds the desk's permission, the service refuses it (403: linking is the OPD's and the validator's).
    ("POST", "OpdDeskView.link"): row(opd_dputr=NF, opd_dinkes=400),
    ("POST", "OpdDeskView.unlink"): row(opd_dputr=NF, opd_dinkes=409, admin=409),
    ("POST", "ValidatorDeskView.link"): row(validator=400, params={"complaint_id": "waiting"}, full_nik=True),
    ("POST", "ValidatorDeskView.unlink"): row(validator=409, admin=(409, DENY), params={"complaint_id": "waiting"},
                                              full_nik=True),
    # --- REST API (JWT) ---
    ("GET", "ComplaintApi.get_list"): staff_only(),  # each caller sees its own scope
    ("GET", "ComplaintApi.get"): row(**ONE_OPD, pimpinan=OK, validator=OK, admin=OK),
    ("POST", "ComplaintApi.decision"): row(validator=400, admin=(400, DENY)),
    # An empty body is refused before the scope is looked at, so the other OPD also gets 400 here.
    ("POST", "ComplaintDeskApi.answer"): row(opd_dputr=400, opd_dinkes=400, admin=400),
    ("POST", "ComplaintDeskApi.return_complaint"): row(opd_dputr=400, opd_dinkes=400, admin=400),
    ("POST", "ComplaintDeskApi.reroute"): row(validator=400, admin=400),
    ("POST", "ComplaintDeskApi.edit_answer"): row(opd_dputr=400, opd_dinkes=400, admin=400),
    ("POST", "ComplaintDeskApi.add_note"): row(opd_dputr=400, opd_dinkes=400, pimpinan=400, admin=400),
    ("POST", "ComplaintDeskApi.link"): row(opd_dputr=400, opd_dinkes=400, validator=400, admin=400),
    ("POST", "ComplaintDeskApi.unlink"): row(opd_dputr=NF, opd_dinkes=409, validator=409, admin=409),
    # The claim is the validator's (Admin Sistem holds the permission, the service refuses it).
    ("POST", "ComplaintApi.claim"): row(validator=OK, params={"pk": "waiting"}),
    ("GET", "ComplaintApi.attachment"): row(**ONE_OPD, pimpinan=OK, validator=OK, admin=OK),
    ("GET", "OpdApi.get_list"): staff_only(),
    ("GET", "RecapApi.get"): SUPERVISION,
    ("GET", "HistoryLogApi.get_list"): SUPERVISION,
    ("GET", "DashboardApi.get"): SUPERVISION,
    # The desks' queues (app/api/queues.py): each opened by its screen's permission, so the same rows as the screens.
    ("GET", "ValidatorQueueApi.get_list"): row(validator=OK, admin=OK),
    ("GET", "OpdQueueApi.get_list"): row(**BOTH_OPDS, pimpinan=OK, admin=OK),
    ("GET", "DispatchQueueApi.get_list"): row(validator=OK, admin=OK),
    ("GET", "DisputeApi.get_list"): row(pimpinan=OK, admin=OK),
    # An empty body is refused before the complaint is looked at (Admin Sistem holds the permission; the
    # workflow leaves the decision to the Pimpinan).
    ("POST", "DisputeApi.decide"): row(pimpinan=400, admin=400),
    # --- supervision (issues 7, 8) ---
    ("GET", "ControlDashboardView.index"): SUPERVISION,
    ("GET", "HistoryLogView.index"): SUPERVISION,
    ("GET", "HistoryLogView.find_complaint"): SUPERVISION,
    ("GET", "HistoryLogView.complaint"): SUPERVISION,
    ("GET", "HistoryLogView.account"): SUPERVISION,
    ("GET", "HistoryLogView.export_csv"): SUPERVISION,
    ("GET", "RecapView.index"): SUPERVISION,
    ("GET", "RecapView.export_csv"): SUPERVISION,
    ("GET", "RecapView.export_xlsx"): SUPERVISION,
}

# FAB's generic ModelView endpoints: (regex on "METHOD Endpoint", expectation), first match wins.
_READ_ONLY = r"(PermissionModelView|ViewMenuModelView|PermissionViewModelView)"  # FAB: list only
_EDITABLE = r"(StaffUserView|RoleModelView|UserGroupModelView|NonWorkingDayView|OpdView)"
PATTERNS: list[tuple[re.Pattern, Expect]] = [
    # FAB's file download (FileColumn) is closed in this app (app/security.py): 404 for everyone.
    (re.compile(r"GET \w+\.download$"), everyone(NF)),
    # An action the view does not have (or a list-only one on one row) is a 404 (app/security.py).
    (re.compile(rf"(GET|POST) ({_READ_ONLY}|NonWorkingDayView|OpdView|UserGroupModelView|RoleModelView|RoutingModelView)"
                r"\.action$"), everyone(NF)),
    # GET action: FAB refuses state changes by GET once CSRFProtect is on (flash + redirect), for anyone.
    # POST action: FAB checks the action's permission inside and answers a refusal with a redirect too;
    # who may unlock an account is tested in test_security_signin.
    (re.compile(r"(GET|POST) StaffUserView\.action$"), everyone(REDIR)),
    (re.compile(r"POST \w+\.action_post$"), everyone(400)),  # no action name in the form
    (re.compile(rf"GET {_READ_ONLY}\.list$"), ADMIN_ONLY),
    (re.compile(rf"(GET|POST) {_READ_ONLY}\.(show|add|edit|delete)$"), everyone(DENY)),
    (re.compile(r"(GET|POST) OpdView\.delete$"), everyone(DENY)),  # OPDs are deactivated, never deleted
    (re.compile(r"(GET|POST) RoutingModelView\.(add|edit|delete)$"), everyone(DENY)),  # written by training only
    # Delete: by POST for Admin Sistem (the throw-away row); by GET refused with a flash.
    (re.compile(rf"(GET|POST) {_EDITABLE}\.delete$"), row(admin=REDIR)),
    (re.compile(rf"GET {_EDITABLE}\.(list|show|add|edit)$"), ADMIN_ONLY),
    (re.compile(rf"POST {_EDITABLE}\.(add|edit)$"), ADMIN_ONLY),  # empty form: errors shown, nothing saved
]


def expectation_for(method: str, endpoint: str) -> Expect | None:
    found = EXPECTATIONS.get((method, endpoint))
    if found is not None:
        return found
    key = f"{method} {endpoint}"
    return next((expect for pattern, expect in PATTERNS if pattern.match(key)), None)
