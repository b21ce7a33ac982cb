"""The complaint life cycle: states, who may move them, and the time standards (SOP rows 4-8).

Pure Python: no Flask, no database. Services call `apply_transition`, which checks the table below
and hands back the event to store; deadlines are computed here so the SLA job, the desks and the
public pages agree on one definition.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Collection, Iterable

import holidays

from .timeutil import WIB, from_wib, to_wib


class State(str, enum.Enum):
    MENUNGGU_VERIFIKASI = "menunggu_verifikasi"  # awaiting the NIK check (24 h)
    TIDAK_VALID = "tidak_valid"  # NIK invalid: terminal, kept with the remark, never published
    DITERUSKAN = "diteruskan"  # routed to an OPD, published unless rahasia (7 days)
    PERLU_DISPOSISI = "perlu_disposisi"  # returned "bukan wewenang": waits for re-routing
    DIJAWAB = "dijawab"  # answered; the answer is published with the complaint
    SELESAI = "selesai"  # closed after the answer (accepted, or silence)
    DISANGGAH = "disanggah"  # the complainant said "belum selesai": waits for the Pimpinan's decision


class Role(str, enum.Enum):
    PUBLIK = "Publik"
    VALIDATOR = "Validator"
    ADMIN_OPD = "Admin OPD"
    PIMPINAN = "Pimpinan"
    ADMIN_SISTEM = "Admin Sistem"
    SYSTEM = "Sistem"  # the scheduler acting on its own


# The one order of roles, most privileged first: the role recorded for an actor holding several, the
# role whose disclosure rule applies on a screen (services.disclosure), the role the history log shows.
ROLE_PRECEDENCE: tuple[Role, ...] = (Role.ADMIN_SISTEM, Role.PIMPINAN, Role.VALIDATOR, Role.ADMIN_OPD,
                                     Role.SYSTEM, Role.PUBLIK)


def highest_role(roles: Iterable[Role]) -> Role | None:
    """The most privileged of `roles` by ROLE_PRECEDENCE, or None for no role."""
    held = set(roles)
    return next((r for r in ROLE_PRECEDENCE if r in held), None)


class Visibility(str, enum.Enum):
    PUBLIK = "publik"  # public, with the complainant's name
    ANONIM = "anonim"  # public as "Anonim"; identity hidden from the OPD too
    RAHASIA = "rahasia"  # never public; only the complainant via ticket + PIN


class Channel(str, enum.Enum):
    """How a complaint reached the service."""

    WEB = "web"  # the public form
    API = "api"
    OPEN311 = "open311"
    LAPOR = "lapor"  # imported from SP4N-LAPOR! (app/lapor.py)


OPEN_STATES = frozenset({State.MENUNGGU_VERIFIKASI, State.DITERUSKAN, State.PERLU_DISPOSISI, State.DISANGGAH})
CLOSED_STATES = frozenset({State.TIDAK_VALID, State.DIJAWAB, State.SELESAI})
# States a validated complaint can be in; these are the ones the public may see.
VALIDATED_STATES = frozenset({State.DITERUSKAN, State.PERLU_DISPOSISI, State.DIJAWAB, State.SELESAI,
                              State.DISANGGAH})
# States of a complaint the OPD has answered.
ANSWERED_STATES = frozenset({State.DIJAWAB, State.SELESAI, State.DISANGGAH})
# A complaint in these states is held by no OPD: it waits in the dispatch queue. The public page and the
# tracking page show "menunggu disposisi" without an OPD or a deadline (the old routing is only history).
AWAITING_DISPATCH_STATES = frozenset({State.PERLU_DISPOSISI})
# States a complaint may be in without an OPD: the complainant chose "Saya tidak tahu OPD-nya", and the
# complaint gets one when the dispatch queue routes it (a CHECK in app/models.py).
OPD_OPTIONAL_STATES = frozenset({State.MENUNGGU_VERIFIKASI, State.TIDAK_VALID, State.PERLU_DISPOSISI})


def held_by_opd(state: State) -> bool:
    """Whether an OPD currently holds a complaint in `state` (and so its answer deadline runs)."""
    return state not in AWAITING_DISPATCH_STATES


# The database checks each complaint row against these sets (CHECKs in app/models.py): a new state goes
# into every set it belongs to, and the migration that adds it replaces those CHECKs.


class Action(str, enum.Enum):
    SUBMIT = "submit"
    VALIDATE = "validate"
    INVALIDATE = "invalidate"
    ANSWER = "answer"
    RETURN = "return"  # bukan wewenang
    REROUTE = "reroute"
    CLOSE = "close"  # accepted by the complainant, closed by silence, or closed by the Pimpinan
    DISPUTE = "dispute"  # the complainant: "belum selesai", with a reason
    REOPEN = "reopen"  # the Pimpinan sends a disputed complaint back to the same OPD with a new deadline
    CLAIM = "claim"  # timeline only: a validator opened the complaint for checking (no transition)
    LINK = "link"  # timeline only: linked to an earlier complaint as the same problem (services.links)
    UNLINK = "unlink"  # timeline only: the link removed before the answer


@dataclass(frozen=True)
class Transition:
    action: Action
    source: State | None
    target: State
    roles: frozenset[Role]


# Only validators decide on a NIK: the validator's desk is the one place a full NIK is shown.
_VALIDATORS = frozenset({Role.VALIDATOR})
# Returned complaints are dispatched by Admin Sistem or a validator (SOP "disposisi").
_STAFF_DISPATCH = frozenset({Role.VALIDATOR, Role.ADMIN_SISTEM})

# A disputed complaint is decided by the Pimpinan (the control SOP).
_SUPERVISORS = frozenset({Role.PIMPINAN})

# The one table of allowed moves. `None` is "no complaint yet".
TRANSITIONS: tuple[Transition, ...] = (
    Transition(Action.SUBMIT, None, State.MENUNGGU_VERIFIKASI, frozenset({Role.PUBLIK})),
    Transition(Action.VALIDATE, State.MENUNGGU_VERIFIKASI, State.DITERUSKAN, _VALIDATORS),
    # A valid NIK on a complaint without an OPD ("Saya tidak tahu OPD-nya") goes to the dispatch queue.
    Transition(Action.VALIDATE, State.MENUNGGU_VERIFIKASI, State.PERLU_DISPOSISI, _VALIDATORS),
    Transition(Action.INVALIDATE, State.MENUNGGU_VERIFIKASI, State.TIDAK_VALID, _VALIDATORS),
    Transition(Action.ANSWER, State.DITERUSKAN, State.DIJAWAB, frozenset({Role.ADMIN_OPD})),
    Transition(Action.RETURN, State.DITERUSKAN, State.PERLU_DISPOSISI, frozenset({Role.ADMIN_OPD})),
    Transition(Action.REROUTE, State.PERLU_DISPOSISI, State.DITERUSKAN, _STAFF_DISPATCH),
    # Admin Sistem may move a routed complaint to another OPD without waiting for a return.
    Transition(Action.REROUTE, State.DITERUSKAN, State.DITERUSKAN, frozenset({Role.ADMIN_SISTEM})),
    Transition(Action.CLOSE, State.DIJAWAB, State.SELESAI, frozenset({Role.PUBLIK, Role.SYSTEM})),
    # The complainant's reply to the answer, once: "belum selesai" goes to the Pimpinan, never silently
    # back to the OPD. The Pimpinan re-opens it to the same OPD, re-routes it, or closes it with a reason.
    Transition(Action.DISPUTE, State.DIJAWAB, State.DISANGGAH, frozenset({Role.PUBLIK})),
    Transition(Action.REOPEN, State.DISANGGAH, State.DITERUSKAN, _SUPERVISORS),
    Transition(Action.REROUTE, State.DISANGGAH, State.DITERUSKAN, _SUPERVISORS),
    Transition(Action.CLOSE, State.DISANGGAH, State.SELESAI, _SUPERVISORS),
)

# The first row of an (action, source) is its usual target; a row with another target is asked for by
# name (apply_transition's `target`): the NIK decision on a complaint without an OPD.
_BY_KEY: dict = {}
for _t in TRANSITIONS:
    _BY_KEY.setdefault((_t.action, _t.source), _t)
_BY_TARGET = {(t.action, t.source, t.target): t for t in TRANSITIONS}

# Who may link a complaint to an earlier one as the same problem, or unlink it (services.links), and in
# which state of the complaint being linked: the OPD while it holds it unanswered, the validator before
# routing. A timeline event, no state change.
LINK_STATES: dict[Role, frozenset[State]] = {
    Role.ADMIN_OPD: frozenset({State.DITERUSKAN}),
    Role.VALIDATOR: frozenset({State.MENUNGGU_VERIFIKASI}),
}


def may_link(state: State, roles: Iterable[Role]) -> Role | None:
    """The role (highest first) under which someone holding `roles` may link a complaint in `state`."""
    return highest_role(r for r in roles if state in LINK_STATES.get(r, ()))


class WorkflowError(Exception):
    """A move the table does not allow. `code` is stable for APIs; the message is Indonesian."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Move:
    """What a service must store: the new state and the timeline event."""

    action: Action
    source: State | None
    target: State
    role: Role


def find_transition(action: Action, source: State | None, target: State | None = None) -> Transition | None:
    if target is not None:
        return _BY_TARGET.get((action, source, target))
    return _BY_KEY.get((action, source))


def apply_transition(action: Action, source: State | None, roles: Iterable[Role],
                     target: State | None = None) -> Move:
    """Check `action` from `source` (to `target`, when the action has more than one) for someone holding
    `roles`; return the move or raise."""
    transition = find_transition(action, source, target)
    if transition is None:
        raise WorkflowError(
            "invalid_state",
            f"Tindakan '{action.value}' tidak dapat dilakukan pada pengaduan berstatus "
            f"'{source.value if source else 'baru'}'.",
        )
    held = set(roles)
    allowed = held & transition.roles
    if not allowed:
        raise WorkflowError(
            "forbidden", f"Peran Anda tidak berwenang melakukan tindakan '{action.value}'."
        )
    # The acting role recorded on the event: the highest one (ROLE_PRECEDENCE) that the table allows.
    return Move(action, source, transition.target, highest_role(allowed))


# --------------------------------------------------------------------------- deadlines


class DayMode(str, enum.Enum):
    CALENDAR = "calendar"
    WORKING = "working"


@lru_cache(maxsize=64)
def _national_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("ID", years=year).keys())


def is_working_day(day: date, extra_days_off: Collection[date] = ()) -> bool:
    """Mon-Fri, not an Indonesian public holiday, not a day off recorded by Admin Sistem."""
    return day.weekday() < 5 and day not in _national_holidays(day.year) and day not in extra_days_off


def validation_deadline(submitted_at: datetime, hours: int = 24) -> datetime:
    """SOP row 4: the NIK check is due 1 x 24 hours after the complaint was entered."""
    return submitted_at + timedelta(hours=hours)


def answer_deadline(
    routed_at: datetime,
    days: int = 7,
    mode: DayMode | str = DayMode.WORKING,
    extra_days_off: Collection[date] = (),
) -> datetime:
    """SOP row 6: the answer is due `days` after routing (naive UTC in, naive UTC out).

    Calendar mode: exactly `days` x 24 hours later. Working-day mode: the end (23:59:59 WIB) of the
    `days`-th working day after the day of routing, skipping weekends, national holidays and the extra
    days off (cuti bersama is decided every year and is not in the `holidays` package).
    """
    mode = DayMode(mode)
    if mode is DayMode.CALENDAR:
        return routed_at + timedelta(days=days)
    local_day = to_wib(routed_at).date()
    counted = 0
    while counted < days:
        local_day += timedelta(days=1)
        if is_working_day(local_day, extra_days_off):
            counted += 1
    end_of_day = datetime.combine(local_day, time(23, 59, 59), tzinfo=WIB)
    return from_wib(end_of_day)


def silence_close_due(answered_at: datetime, days: int = 10, extra_days_off: Collection[date] = ()) -> datetime:
    """When an answer the complainant neither accepted nor disputed closes by itself: the end (23:59:59 WIB)
    of the `days`-th working day after the day of the answer (LAPOR!: 10 working days)."""
    return answer_deadline(answered_at, days, DayMode.WORKING, extra_days_off)


def silence_cutoff(now: datetime, days: int = 10, extra_days_off: Collection[date] = ()) -> datetime:
    """The instant (naive UTC) before which an answer has been silent long enough at `now`: every answer
    given before it is due to close, none given at or after it. The due time depends only on the WIB day of
    the answer and grows with it, so one cut-off serves a set-based close (services.citizen)."""
    day = to_wib(now).date()
    while silence_close_due(from_wib(datetime.combine(day, time(12))), days, extra_days_off) >= now:
        day -= timedelta(days=1)
    return from_wib(datetime.combine(day + timedelta(days=1), time(0)))


def share_elapsed(start: datetime, deadline: datetime, now: datetime) -> float:
    """How much of the time between start and deadline has passed (0.0-1.0+), for reminders."""
    total = (deadline - start).total_seconds()
    if total <= 0:
        return 1.0
    return (now - start).total_seconds() / total


def is_overdue(deadline: datetime | None, now: datetime, done_at: datetime | None = None) -> bool:
    """Overdue when the step was not done by its deadline (done late counts as overdue too)."""
    if deadline is None:
        return False
    return (done_at or now) > deadline


# The one definition of "overdue" for the two time standards. `services.sql.validation_overdue` and
# `services.sql.answer_overdue` are the same definitions as SQL (a test checks they agree row by row);
# the flags the SLA sweep stores are these predicates, kept for fast queries and set once.


def validation_overdue(deadline: datetime | None, validated_at: datetime | None, now: datetime) -> bool:
    """SOP row 4: the NIK check was not decided by its deadline (still waiting, or decided late)."""
    return is_overdue(deadline, now, validated_at)


def answer_overdue(state: State, deadline: datetime | None, answered_at: datetime | None, now: datetime) -> bool:
    """SOP row 6: the OPD did not answer by the deadline of its current routing. The clock runs only
    while the complaint is at an OPD: a returned complaint waiting for re-routing is not the OPD's delay,
    and re-routing starts a new deadline."""
    waiting = state is State.DITERUSKAN and is_overdue(deadline, now)
    return waiting or (answered_at is not None and is_overdue(deadline, now, answered_at))


def overdue(state: State, validation_deadline: datetime | None, validated_at: datetime | None,
            answer_deadline: datetime | None, answered_at: datetime | None, now: datetime) -> bool:
    """Either standard missed: the public "Terlambat" badge."""
    return (validation_overdue(validation_deadline, validated_at, now)
            or answer_overdue(state, answer_deadline, answered_at, now))
