"""What every service shares: the acting person, domain errors, and the one commit."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Mapping

from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..workflow import Role, WorkflowError, highest_role


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


def setting(name: str):
    return current_app.config[name]


@contextmanager
def unit_of_work() -> Iterator[None]:
    """One transaction: commit on success, roll back everything on any error.

    Services are the only callers; views, APIs and jobs never commit (house rule).
    """
    session = db.session
    try:
        yield
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
    except IntegrityError:
        session.rollback()
        raise
    except BaseException:
        session.rollback()
        raise
