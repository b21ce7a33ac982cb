"""What every service shares: the acting person, domain errors, and the one commit."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping

from flask import current_app
from sqlalchemy.orm.exc import StaleDataError

from .. import inputs
from ..extensions import db
from ..workflow import Role, WorkflowError, highest_role

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """A refusal the user can act on. `status` maps to HTTP; `errors` holds per-field messages."""

    status = 400

    def __init__(self, message: str, code: str = "invalid", errors: Mapping[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.errors: dict[str, str] = dict(errors or {})


class Invalid(ServiceError):
    status = 400


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class Unavailable(ServiceError):
    """A part outside the database failed (the attachment store is full or not writable): nothing was
    stored, and the same request can succeed later."""

    status = 503


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff user (with roles and, for Admin OPD, an agency), a citizen, or the system."""

    user_id: int | None = None
    username: str | None = None
    display_name: str | None = None
    roles: frozenset[Role] = field(default_factory=frozenset)
    opd_id: int | None = None

    @classmethod
    def public(cls) -> "Actor":
        return cls(roles=frozenset({Role.PUBLIK}), display_name="Pengadu")

    @classmethod
    def system(cls) -> "Actor":
        return cls(roles=frozenset({Role.SYSTEM}), username="sistem", display_name="Sistem")

    @classmethod
    def from_user(cls, user) -> "Actor":
        names = {r.name for r in getattr(user, "roles", [])}
        roles = frozenset(r for r in Role if r.value in names)
        return cls(
            user_id=user.id,
            username=user.username,
            display_name=f"{user.first_name} {user.last_name}".strip(),
            roles=roles,
            opd_id=getattr(user, "opd_id", None),
        )

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @property
    def main_role(self) -> str:
        return (highest_role(self.roles) or Role.PUBLIK).value


def read_text(errors: dict[str, str], field_name: str, value, **rules) -> str | None:
    """One text field through the input boundary (`inputs.clean_text(value, **rules)`): the clean value,
    or None with the field's message, translated, put into `errors`."""
    try:
        return inputs.clean_text(value, **rules)
    except inputs.Problem as problem:
        from flask_babel import gettext

        errors[field_name] = problem.text(gettext)
        return None


def require_text(field_name: str, value, missing: str, **rules) -> str:
    """A required text field of a one-field use case (answer, reason, note): clean, or `Invalid` whose
    message is `missing` when nothing was written and the field's own problem otherwise."""
    try:
        return inputs.clean_text(value, required=True, **rules)
    except inputs.Problem as problem:
        from flask_babel import gettext

        text = problem.text(gettext)
        raise Invalid(missing if problem.code == "required" else text, errors={field_name: text}) from None


def setting(name: str):
    return current_app.config[name]


class UnitOfWork:
    """The open transaction of one service call, with what must happen outside the database once its
    outcome is known: `after_commit` (delete a file the committed rows no longer name) and
    `after_rollback` (delete a file written for rows that were rolled back)."""

    def __init__(self) -> None:
        self._on_commit: list[Callable[[], None]] = []
        self._on_rollback: list[Callable[[], None]] = []

    def after_commit(self, hook: Callable[[], None]) -> None:
        self._on_commit.append(hook)

    def after_rollback(self, hook: Callable[[], None]) -> None:
        self._on_rollback.append(hook)

    @staticmethod
    def _run(hooks: list[Callable[[], None]], outcome: str) -> None:
        # The transaction's outcome is final: a hook that fails cannot change it, so it is logged
        # (an orphaned file at worst) and the others still run.
        for hook in hooks:
            try:
                hook()
            except Exception:
                log.exception("unit of work: a hook after %s failed", outcome)


_OPEN = "lpo_unit_of_work"


class NestedUnitOfWork(RuntimeError):
    """A service opened a transaction inside another one: a programming error, never a user's."""


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    """One transaction: commit on success, roll back everything on any error.

    Services are the only callers; views, APIs and jobs never commit (house rule). Units do not nest:
    an inner commit would make the outer unit's "all or nothing" false, and a savepoint would let a
    failed inner step pass silently. A service that needs another's work inside its own transaction
    calls a helper that does not open a unit (the way `audit.record` is called). Files and other
    effects outside the database are tied to the outcome with `after_commit` / `after_rollback`.
    """
    session = db.session()
    if session.info.get(_OPEN) is not None:
        raise NestedUnitOfWork("unit_of_work() opened inside another unit_of_work(); call the inner "
                               "service's helper instead of the service")
    unit = session.info[_OPEN] = UnitOfWork()
    try:
        try:
            yield unit
            session.commit()
        except StaleDataError as exc:
            session.rollback()
            raise Conflict(
                "Pengaduan ini baru saja diubah oleh petugas lain. Muat ulang halaman dan periksa lagi.",
                code="stale",
            ) from exc
        except WorkflowError as exc:
            session.rollback()
            cls = Forbidden if exc.code == "forbidden" else Conflict
            raise cls(exc.message, code=exc.code) from exc
        except BaseException:
            session.rollback()
            raise
    except BaseException:
        session.info.pop(_OPEN, None)
        unit._run(unit._on_rollback, "a rollback")
        raise
    session.info.pop(_OPEN, None)
    unit._run(unit._on_commit, "the commit")


def current_unit() -> UnitOfWork:
    """The unit of work open on this session; helpers that write (storage) require one."""
    unit = db.session().info.get(_OPEN)
    if unit is None:
        raise RuntimeError("no unit_of_work() is open: this must run inside a service's transaction")
    return unit
