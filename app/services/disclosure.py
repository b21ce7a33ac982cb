"""The one disclosure policy: what a viewer may see of a complaint and of the person who made it.

Every page, desk, REST serializer, export, staff notice, search and history screen asks this module;
nothing else decides it. The rule is a table (`RULES`) of viewer × visibility → `Disclosure`, and
`present()` turns a complaint row into a `ComplaintView` that carries only what the rule allows, so a
template or serializer never holds a `Complaint` row (tests/integration/test_disclosure_policy.py checks
both: the table, and that no template context carries a row).

Viewer. Anonymous readers are `PUBLIC`; a complainant who gave ticket + PIN is `COMPLAINANT`; staff are
their role. A screen belongs to some roles (`Screen.roles`); someone holding several roles gets the rule of
the most privileged of them that the screen belongs to (`workflow.ROLE_PRECEDENCE`). So a Validator who is
also Admin OPD reads the OPD desk as an Admin OPD and the NIK queue as a Validator.

Visibility (DESIGN.md): publik shows the complainant's name publicly; anonim hides the identity from the
public and from the OPD, which works on the masked public version of the text; rahasia hides the complaint
from the public. A NIK is never public and never shown to an OPD; in full only on the validator's check
page. Contact data (phone, e-mail, address) is never public.

Public renderings. `public_title`, `public_text` and `Answer.public_text` are made once, when the text is
written, by `public_rendering()`: personal data found by `redact` masked, and for anonim complaints the
complainant's own name (and each part of it) masked too. Search runs on these columns, so a public search
can never find an anonim complainant by name.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Sequence

import sqlalchemy as sa

from .. import audit, redact, textfold
from ..crypto import drop_sealed
from ..nik import mask as mask_nik
from ..timeutil import utcnow
from ..labels import NO_OPD_LABEL
from ..workflow import Role, State, Visibility, answer_overdue, highest_role, validation_overdue
from .common import Actor, Forbidden, setting

NAME_LABEL = "[nama disembunyikan]"
ANONYMOUS = "Anonim"


# --------------------------------------------------------------------------- the table


class Viewer(str, enum.Enum):
    PUBLIC = "publik"  # anyone, without signing in
    COMPLAINANT = "pengadu"  # the complainant, after ticket + PIN
    VALIDATOR = Role.VALIDATOR.value
    ADMIN_OPD = Role.ADMIN_OPD.value  # of the complaint's OPD (another OPD never reaches it: services.scope)
    PIMPINAN = Role.PIMPINAN.value
    ADMIN_SISTEM = Role.ADMIN_SISTEM.value


class NikShown(str, enum.Enum):
    NONE = "none"
    MASKED = "masked"  # 3508••••••••0001
    FULL = "full"  # the validator's check page only


class TextShown(str, enum.Enum):
    NONE = "none"
    PUBLIC = "public"  # the masked public rendering (title, text, answer)
    ORIGINAL = "original"  # as typed, except NIKs typed inside it, shown as a label
    AS_TYPED = "as_typed"  # exactly as typed, NIKs included: the complainant, and the validator's check page


@dataclass(frozen=True)
class Disclosure:
    """What one viewer may see of one complaint. `visible` False: the complaint does not exist for them."""

    visible: bool = True
    name: bool = False
    contact: bool = False  # phone and e-mail
    address: bool = False
    nik: NikShown = NikShown.NONE
    text: TextShown = TextShown.PUBLIC
    location: bool = False
    attachments: bool = False
    notes: bool = False  # internal notes and staff remarks on the timeline
    nik_check: bool = False  # structural findings and the SIAK verdict

    @property
    def identity(self) -> bool:
        return self.name or self.contact or self.address

    def personal_fields(self) -> list[str]:
        """The personal fields this disclosure shows (what a history row lists)."""
        out = [name for name in ("name", "contact", "address") if getattr(self, name)]
        if self.nik is not NikShown.NONE:
            out.append("nik_" + self.nik.value)
        return out


HIDDEN = Disclosure(visible=False, text=TextShown.NONE)
_PUBLIC_NAMED = Disclosure(name=True)
_PUBLIC_ANONYMOUS = Disclosure()
_OWN = Disclosure(name=True, contact=True, address=True, nik=NikShown.MASKED, text=TextShown.AS_TYPED,
                  location=True, attachments=True)
_VALIDATOR = Disclosure(name=True, nik=NikShown.MASKED, text=TextShown.ORIGINAL, location=True, attachments=True,
                        notes=True, nik_check=True)
_OVERSEER = Disclosure(name=True, contact=True, address=True, text=TextShown.ORIGINAL,
                       location=True, attachments=True, notes=True, nik_check=True)
_OPD_NAMED = Disclosure(name=True, contact=True, address=True, text=TextShown.ORIGINAL, location=True,
                        attachments=True, notes=True)
_OPD_ANONYMOUS = Disclosure(text=TextShown.PUBLIC, location=True, attachments=True, notes=True)

RULES: dict[tuple[Viewer, Visibility], Disclosure] = {
    (Viewer.PUBLIC, Visibility.PUBLIK): _PUBLIC_NAMED,
    (Viewer.PUBLIC, Visibility.ANONIM): _PUBLIC_ANONYMOUS,
    (Viewer.PUBLIC, Visibility.RAHASIA): HIDDEN,
    **{(Viewer.COMPLAINANT, v): _OWN for v in Visibility},
    **{(Viewer.VALIDATOR, v): _VALIDATOR for v in Visibility},
    (Viewer.ADMIN_OPD, Visibility.PUBLIK): _OPD_NAMED,
    (Viewer.ADMIN_OPD, Visibility.ANONIM): _OPD_ANONYMOUS,
    (Viewer.ADMIN_OPD, Visibility.RAHASIA): _OPD_NAMED,
    **{(Viewer.PIMPINAN, v): _OVERSEER for v in Visibility},
    **{(Viewer.ADMIN_SISTEM, v): _OVERSEER for v in Visibility},
}


class Screen(enum.Enum):
    """Where a complaint is shown, and the roles that screen belongs to."""

    PORTAL = ("portal", frozenset({Role.PUBLIK}))
    TRACKING = ("tracking", frozenset({Role.PUBLIK}))
    VALIDATOR_DESK = ("validator_desk", frozenset({Role.VALIDATOR, Role.ADMIN_SISTEM}))
    VALIDATOR_CHECK = ("validator_check", frozenset({Role.VALIDATOR}))  # the one page with a full NIK
    OPD_DESK = ("opd_desk", frozenset({Role.ADMIN_OPD, Role.PIMPINAN, Role.ADMIN_SISTEM}))
    DISPATCH = ("dispatch", frozenset({Role.ADMIN_SISTEM, Role.VALIDATOR}))
    RECORDS = ("records", frozenset({Role.PIMPINAN, Role.ADMIN_SISTEM}))
    DASHBOARD = ("dashboard", frozenset({Role.PIMPINAN, Role.ADMIN_SISTEM}))
    API = ("api", frozenset({Role.VALIDATOR, Role.ADMIN_OPD, Role.PIMPINAN, Role.ADMIN_SISTEM}))
    EXPORT = ("export", frozenset({Role.ADMIN_OPD, Role.PIMPINAN, Role.ADMIN_SISTEM}))

    @property
    def key(self) -> str:
        return self.value[0]

    @property
    def roles(self) -> frozenset[Role]:
        return self.value[1]


def viewer_for(actor: Actor | None, screen: Screen) -> Viewer:
    """The viewer whose rule applies: the most privileged of the actor's roles that `screen` belongs to."""
    if screen is Screen.PORTAL:
        return Viewer.PUBLIC
    if screen is Screen.TRACKING:
        return Viewer.COMPLAINANT
    role = highest_role((actor.roles if actor else frozenset()) & screen.roles)
    if role is None:
        raise Forbidden("Halaman ini bukan untuk peran Anda.")
    return Viewer(role.value)


def rule(visibility: Visibility, viewer: Viewer, screen: Screen | None = None) -> Disclosure:
    """The table's answer; the full NIK (and the text with its NIKs) only on the validator's check page."""
    found = RULES[(viewer, Visibility(visibility))]
    if screen is Screen.VALIDATOR_CHECK and viewer is Viewer.VALIDATOR:
        return replace(found, nik=NikShown.FULL, text=TextShown.AS_TYPED)
    return found


# Staff notices leave the system (e-mail, WhatsApp): whoever receives one, it carries the public rendering
# of the title and nothing about the complainant (services.sla builds them from `public_title`).
NOTICE = _PUBLIC_ANONYMOUS


# --------------------------------------------------------------------------- public renderings


def name_parts(name: str | None) -> list[str]:
    """The full name and each part of 3+ letters, folded as the detector reads text, longest first (what an
    anonim rendering hides)."""
    name = " ".join(textfold.fold(name or "").text.split())
    if not name:
        return []
    parts = {name, *(p for p in re.split(r"[\s.,'’\-]+", name) if len(p) >= 3)}
    return sorted((p for p in parts if p), key=len, reverse=True)


def mask_name(text: str | None, name: str | None) -> str:
    """`text` with the complainant's name and each part of it replaced by NAME_LABEL: whole words, any case,
    also when written with full-width letters, odd spaces or zero-width characters in between (matched on the
    folded text, replaced in the original, which otherwise stays as typed). Over-masking a word beats naming
    a person."""
    text = text or ""
    parts = name_parts(name)
    if not parts or not text:
        return text
    folded = textfold.fold(text)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(p).replace("\\ ", r"\s+") for p in parts)
                         + r")(?!\w)", re.IGNORECASE)
    out, pos = [], 0
    for m in pattern.finditer(folded.text):
        start, end = folded.span(m.start(), m.end())
        out += [text[pos:start], NAME_LABEL]
        pos = end
    return "".join(out) + text[pos:]


def public_rendering(text: str | None, *, name: str | None, visibility: Visibility) -> str | None:
    """The public version of a title, text or answer: personal data masked; the complainant's own name too
    when the complaint is anonim. Made when the text is written (submission, the validator's edit, an
    answer and its edits) and by the rescan command."""
    if text is None:
        return None
    masked = redact.mask(drop_sealed(text), plates=setting("MASK_PLATES"))
    if Visibility(visibility) is Visibility.ANONIM:
        masked = mask_name(masked, name)
    return masked


# --------------------------------------------------------------------------- what a screen receives


@dataclass(frozen=True)
class ComplainantView:
    name: str | None  # None: not shown to this viewer
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    anonymised: bool = False  # retention erased the personal data


@dataclass(frozen=True)
class AttachmentView:
    id: int
    name: str
    size: int
    content_type: str
    from_opd: bool


@dataclass(frozen=True)
class AnswerView:
    text: str
    opd_name: str
    created_at: datetime
    edited_at: datetime | None
    edit_reason: str | None
    answered_with: str | None = None  # the main complaint's ticket: answered together with it (services.links)


@dataclass(frozen=True)
class ComplaintView:
    """A complaint as one viewer may see it. Personal fields the rule excludes are None."""

    disclosure: Disclosure
    viewer: Viewer
    id: int
    ticket: str
    state: State
    visibility: Visibility
    channel: str
    opd_id: int | None  # None: no OPD yet ("Saya tidak tahu OPD-nya"), waiting for dispatch
    opd_code: str | None
    opd_name: str  # labels.NO_OPD_LABEL when there is no OPD yet
    title: str  # original or public, as the rule says
    text: str | None
    public_title: str
    public_text: str | None
    public_edit_reason: str | None
    submitted_at: datetime
    validation_deadline: datetime
    validated_at: datetime | None
    routed_at: datetime | None
    answer_deadline: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    published: bool
    validation_overdue: bool
    answer_overdue: bool
    version: int
    complainant: ComplainantView | None = None
    nik: str | None = None  # masked, or in full on the validator's check page
    location: str | None = None
    attachments: tuple[AttachmentView, ...] = ()
    answer: AnswerView | None = None
    nik_structural_ok: bool | None = None
    siak_verdict: str | None = None
    siak_score: int | None = None
    siak_reason: str | None = None
    siak_checked_at: datetime | None = None
    siak_next_check_at: datetime | None = None  # SIAK unavailable: when the pre-check asks again
    claim_holder_id: int | None = None
    claim_expires_at: datetime | None = None
    lapor_id: str | None = None  # SP4N-LAPOR!'s tracking ID of an imported complaint: staff screens only
    linked_to_ticket: str | None = None  # the main complaint (never rahasia: services.links) it is linked to

    @property
    def overdue(self) -> bool:
        return self.validation_overdue or self.answer_overdue

    @property
    def citizen_files(self) -> list[AttachmentView]:
        return [a for a in self.attachments if not a.from_opd]

    @property
    def answer_files(self) -> list[AttachmentView]:
        return [a for a in self.attachments if a.from_opd]


def _nik_for(complaint, shown: NikShown) -> str | None:
    from .complaints import cipher
    from .security import ERASED

    if shown is NikShown.NONE:
        return None
    token = complaint.nik_encrypted
    if not token or token == ERASED:
        return "–"
    try:
        nik = cipher().decrypt(token)
    except ValueError:
        return "\u2022" * 16
    return nik if shown is NikShown.FULL else mask_nik(nik)


def _title(complaint, d: Disclosure) -> str:
    if d.text in (TextShown.AS_TYPED, TextShown.ORIGINAL):
        return complaint.title
    return (complaint.public_title or "") if d.text is TextShown.PUBLIC else ""


def _texts(complaint, d: Disclosure) -> tuple[str, str | None]:
    title = _title(complaint, d)
    if d.text is TextShown.AS_TYPED:
        from .complaints import cipher

        return title, cipher().unseal_niks(complaint.text)
    if d.text is TextShown.ORIGINAL:
        return title, drop_sealed(complaint.text)
    if d.text is TextShown.PUBLIC:
        return title, complaint.public_text
    return title, None


def _answer_for(complaint, d: Disclosure) -> AnswerView | None:
    reply = complaint.current_answer
    if reply is None or d.text is TextShown.NONE:
        return None
    text = reply.public_text if d.text is TextShown.PUBLIC else drop_sealed(reply.text)
    main = reply.main_answer if reply.main_answer_id is not None else None
    return AnswerView(text=text, opd_name=reply.opd.name, created_at=reply.created_at, edited_at=reply.edited_at,
                      edit_reason=reply.edit_reason if d.notes else None,
                      answered_with=main.complaint.ticket if main is not None else None)


# What a `brief` view leaves out: the complaint's texts and its NIK, the large or encrypted columns.
_BRIEF_SKIPS = ("text", "public_text", "nik_encrypted")


def for_present(query, brief: bool = False):
    """`query` (a SELECT of Complaint rows for a list) loading what `present()` reads of each row, its answers
    and attachments, in one query each for the whole page instead of two per row; for `present(brief=True)`,
    neither, and the columns a brief view does not read are not fetched."""
    from ..models import Complaint

    if brief:
        return query.options(*(sa.orm.defer(getattr(Complaint, name)) for name in _BRIEF_SKIPS))
    return query.options(sa.orm.selectinload(Complaint.answers), sa.orm.selectinload(Complaint.attachments))


def present(complaint, actor: Actor | None, screen: Screen, *, log: bool = True,
            now: datetime | None = None, brief: bool = False) -> ComplaintView:
    """`complaint` as `actor` may see it on `screen`. A view that shows personal data (name, contact,
    address, NIK) writes a history row ("pii", "complaint.personal.view") in the caller's transaction, unless
    `log` is False (a list or export that logs once for the whole; the full NIK's own "nik.view" row is
    written by the claim that opens the check page).

    `brief`: a row of a list that shows no text (the NIK and OPD queues): the same decision, without the
    parts such a list never shows, left empty as if withheld (`text`, `public_text`, `nik`, `answer`,
    `attachments`). The validator's queue spent ~0.1 ms a row decrypting NIKs for masks it never shows."""
    now = now or utcnow()
    viewer = viewer_for(actor, screen)
    d = rule(complaint.visibility, viewer, screen)
    if not d.visible:
        from .common import NotFound

        raise NotFound("Pengaduan tidak ditemukan.")
    anonymised = complaint.anonymised_at is not None
    complainant = None
    if d.identity:
        complainant = ComplainantView(
            name=complaint.name if d.name else None,
            phone=complaint.phone if d.contact else None, email=complaint.email if d.contact else None,
            address=complaint.address if d.address else None, anonymised=anonymised)
    title, text = (_title(complaint, d), None) if brief else _texts(complaint, d)
    attachments: tuple[AttachmentView, ...] = ()
    if d.attachments and not brief:
        attachments = tuple(AttachmentView(a.id, a.original_name, a.size, a.content_type, a.answer_id is not None)
                            for a in complaint.attachments)
    view = ComplaintView(
        disclosure=d, viewer=viewer, id=complaint.id, ticket=complaint.ticket, state=complaint.state,
        visibility=complaint.visibility, channel=complaint.channel, opd_id=complaint.opd_id,
        opd_code=complaint.opd.code if complaint.opd is not None else None,
        opd_name=complaint.opd.name if complaint.opd is not None else str(NO_OPD_LABEL), title=title, text=text,
        public_title=complaint.public_title or "", public_text=None if brief else complaint.public_text,
        public_edit_reason=complaint.public_edit_reason if viewer is not Viewer.PUBLIC else None,
        submitted_at=complaint.submitted_at, validation_deadline=complaint.validation_deadline,
        validated_at=complaint.validated_at, routed_at=complaint.routed_at,
        answer_deadline=complaint.answer_deadline, answered_at=complaint.answered_at,
        closed_at=complaint.closed_at, published=complaint.published_at is not None,
        validation_overdue=validation_overdue(complaint.validation_deadline, complaint.validated_at, now),
        answer_overdue=answer_overdue(complaint.state, complaint.answer_deadline, complaint.answered_at, now),
        version=complaint.version, complainant=complainant,
        nik=_nik_for(complaint, NikShown.NONE if brief else d.nik),
        location=complaint.location if d.location else None, attachments=attachments,
        answer=None if brief else _answer_for(complaint, d),
        nik_structural_ok=complaint.nik_structural_ok if d.nik_check else None,
        siak_verdict=complaint.siak_verdict if d.nik_check else None,
        siak_score=complaint.siak_score if d.nik_check else None,
        siak_reason=complaint.siak_reason if d.nik_check else None,
        siak_checked_at=complaint.siak_checked_at if d.nik_check else None,
        siak_next_check_at=complaint.siak_next_check_at if d.nik_check else None,
        claim_holder_id=complaint.claimed_by_id if viewer is not Viewer.PUBLIC else None,
        claim_expires_at=complaint.claim_expires_at if viewer is not Viewer.PUBLIC else None,
        lapor_id=(complaint.lapor.lapor_id if complaint.lapor is not None else None)
        if viewer not in (Viewer.PUBLIC, Viewer.COMPLAINANT) else None,
        linked_to_ticket=complaint.linked_to.ticket if complaint.linked_to_id is not None and complaint.linked_to else None,
    )
    shown = d.personal_fields() if not anonymised else [f for f in d.personal_fields() if f.startswith("nik")]
    if log and shown and actor is not None and viewer not in (Viewer.PUBLIC, Viewer.COMPLAINANT):
        audit.record("pii", "complaint.personal.view", actor=actor, complaint_id=complaint.id,
                     detail={"fields": shown, "screen": screen.key})
    return view


def complainant_label(view: ComplaintView) -> str:
    """How a list or export names the complainant: the name, "Anonim", or "–" once erased."""
    if view.complainant is not None and view.complainant.anonymised:
        return "–"
    if view.complainant is not None and view.complainant.name:
        return view.complainant.name
    return ANONYMOUS


# --------------------------------------------------------------------------- search


def title_column(viewer: Viewer):
    """The title a viewer may read, as SQL, row by row: what a staff search matches, so a search never
    finds a complaint by words the viewer could not read (an anonim complainant's name, for an OPD)."""
    from ..models import Complaint

    original = {v for v in Visibility if RULES[(viewer, v)].text in (TextShown.ORIGINAL, TextShown.AS_TYPED)}
    if original == set(Visibility):
        return Complaint.title
    if not original:
        return Complaint.public_title
    return sa.case((Complaint.visibility.in_(sorted(original, key=str)), Complaint.title),
                   else_=Complaint.public_title)


__all__: Sequence[str] = (
    "ANONYMOUS", "NAME_LABEL", "NOTICE", "RULES", "AnswerView", "AttachmentView", "ComplainantView",
    "ComplaintView", "Disclosure", "NikShown", "Screen", "TextShown", "Viewer", "complainant_label", "mask_name",
    "for_present", "name_parts", "present", "public_rendering", "rule", "title_column", "viewer_for",
)
