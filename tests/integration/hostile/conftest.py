"""Fixtures of the hostile-input suite: signed-in clients per role, a world of complaints in every state,
the probe, and the run's figures at the end."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, VALID_NIK, VALID_NIK_F
from tests.integration.opd_support import login

from .corpus import TALLY, Probe

ROLES = ("admin", "validator", "pimpinan", "opd.dinkes")


def pytest_terminal_summary(terminalreporter):
    if TALLY.requests:
        c = TALLY.classes
        terminalreporter.write_sep("-", "hostile input")
        terminalreporter.write_line(
            f"hostile input: {TALLY.requests} requests, 2xx {c['2xx']}, 3xx {c['3xx']}, 4xx {c['4xx']}, "
            f"5xx {c['5xx']}")


@pytest.fixture
def probe(app):
    from app.extensions import db

    return Probe(db)


@pytest.fixture
def clients(app):
    """role → a client signed in as that role's seeded account (each request in its own app context)."""
    made = {role: login(app, role, PASSWORD) for role in ROLES}
    made["anon"] = app.test_client()
    return made


class World:
    """Complaints in the states the desks act on, made through the services; `fresh(...)` makes another
    one when a success used the last one up (an answered complaint cannot be answered twice)."""

    def __init__(self, submission, actor):
        self.submission, self.actor = submission, actor
        self.n = 0

    def submit(self, **changes):
        from app import services

        self.n += 1
        nik = VALID_NIK if self.n % 2 else VALID_NIK_F
        return services.submit(self.submission(nik=nik, visibility="publik", email="warga@contoh.id",
                                               text=f"Pengaduan uji nomor {self.n}: jalan berlubang.",
                                               **changes)).complaint

    def waiting(self, claimed: bool = True):
        from app import services

        complaint = self.submit()
        if claimed:
            services.claim(complaint.id, self.actor("validator"))
        return complaint

    def routed(self, opd_code: str = "DINKESP2KB"):
        from app import services

        complaint = self.submit(opd_code=opd_code)
        services.decide_nik(complaint.id, self.actor("validator"), valid=True)
        return complaint

    def answered(self):
        from app import services

        complaint = self.routed()
        services.answer(complaint.id, self.actor("opd.dinkes"), "Sudah kami perbaiki minggu ini.")
        return complaint

    def returned(self):
        from app import services

        complaint = self.routed()
        services.return_to_dispatch(complaint.id, self.actor("opd.dinkes"), "Bukan wewenang kami.")
        return complaint

    def disputed(self):
        from app.services import citizen

        complaint = self.answered()
        citizen.reply(complaint.id, citizen.ReplyInput(accepted=False, rating="2", reason="Belum diperbaiki."))
        return complaint


@pytest.fixture
def world(app, submission, actor):
    return World(submission, actor)
