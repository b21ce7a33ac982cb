"""Demo data for `make run`: one account per role and complaints in every state (idempotent)."""

from __future__ import annotations

import os
from datetime import date, timedelta

import sqlalchemy as sa

from .extensions import db
from .models import Complaint, NikCheck, RegistryEntry, Routing, Staff
from .services import Actor, SubmitInput, answer, decide_nik, return_to_dispatch, submit
from .services.accounts import create_staff
from .services.common import unit_of_work
from .services.complaints import cipher, compute_answer_deadline
from .timeutil import utcnow
from .workflow import Role

ACCOUNTS = [
    # username, first, last, role, opd
    ("admin", "Admin", "Sistem", Role.ADMIN_SISTEM, None),
    ("validator", "Vina", "Validator", Role.VALIDATOR, None),
    ("pimpinan", "Kepala", "Bidang", Role.PIMPINAN, None),
    ("opd.dinkes", "Admin", "Dinkes", Role.ADMIN_OPD, "DINKESP2KB"),
    ("opd.dputr", "Admin", "DPUTR", Role.ADMIN_OPD, "DPUTR"),
]

# Structurally valid NIKs of Lumajang (35.08): invented, registered in the offline registry below.
CITIZENS = [
    ("Budi Santoso", "3508011203900001", date(1990, 3, 12), "aktif"),
    ("Siti Aminah", "3508105207850002", date(1985, 7, 12), "aktif"),
    ("Ahmad Fauzi", "3508150101800003", date(1980, 1, 1), "aktif"),
    ("Dewi Lestari", "3508204509950004", date(1995, 9, 5), "aktif"),
    ("Slamet Riyadi", "3508071506600005", date(1960, 6, 15), "meninggal"),
]

COMPLAINTS = [
    # key, citizen index, opd, visibility, title, text
    ("jalan", 0, "DPUTR", "publik", "Jalan berlubang di Jl. Panglima Sudirman",
     "Jalan berlubang besar di depan pasar, sudah dua bulan belum diperbaiki dan membahayakan pengendara."),
    ("puskesmas", 1, "DINKESP2KB", "anonim", "Antrean Puskesmas terlalu lama",
     "Antrean di Puskesmas Senduro sampai 4 jam. Mohon ditambah petugas pendaftaran. Hubungi saya 0812-3456-7890."),
    ("lampu", 2, "DPUTR", "anonim", "Lampu penerangan jalan mati",
     "Lampu PJU di Desa Kunir Lor mati sejak seminggu, jalan gelap pada malam hari."),
    ("vaksin", 3, "DINKESP2KB", "rahasia", "Pungutan di posyandu",
     "Ada pungutan tidak resmi saat imunisasi anak di posyandu."),
    ("sampah", 0, "DINKESP2KB", "publik", "Sampah menumpuk di saluran air",
     "Saluran air di Kelurahan Citrodiwangsan tersumbat sampah, mohon ditangani."),
    ("palsu", 4, "DPUTR", "publik", "Jembatan retak",
     "Jembatan kecil di Dusun Krajan retak, mohon diperiksa."),
    ("baru", 1, "DPUTR", "anonim", "Drainase meluap saat hujan",
     "Setiap hujan deras drainase di Jl. Ahmad Yani meluap ke rumah warga."),
    ("lama", 2, "DINKESP2KB", "publik", "Ambulans desa tidak tersedia",
     "Ambulans desa tidak bisa dihubungi saat ada warga yang harus dirujuk malam hari."),
]


def _password() -> str:
    return os.environ.get("DEMO_PASSWORD") or "lumajang-demo"


def seed() -> list[str]:
    """Create what is missing; a second run changes nothing."""
    lines: list[str] = []
    password = _password()
    users: dict[str, Staff] = {}
    for username, first, last, role, opd_code in ACCOUNTS:
        user = db.session.scalar(sa.select(Staff).where(Staff.username == username))
        if user is None:
            user = create_staff(username=username, email=f"{username}@demo.lumajangkab.go.id", first_name=first,
                                last_name=last, role=role.value, password=password, opd_code=opd_code)
        users[username] = user
        lines.append(f"  {username:<12} {role.value:<13} {opd_code or ''}")
    crypt = cipher()
    with unit_of_work():
        for name, nik, born, status in CITIZENS:
            digest = crypt.digest(nik)
            if db.session.scalar(sa.select(RegistryEntry.id).where(RegistryEntry.nik_hash == digest)) is None:
                db.session.add(RegistryEntry(nik_hash=digest, name=name, birth_date=born, status=status))
    if db.session.scalar(sa.select(sa.func.count(Complaint.id))) == 0:
        _seed_complaints(users)
        lines.append("  Pengaduan demo dibuat dalam setiap status.")
    return ["Akun demo (kata sandi: DEMO_PASSWORD, bawaan 'lumajang-demo'):", *lines]


def _seed_complaints(users: dict[str, Staff]) -> None:
    created: dict[str, Complaint] = {}
    for key, who, opd, visibility, title, text in COMPLAINTS:
        name, nik, _, _ = CITIZENS[who]
        result = submit(SubmitInput(name=name, nik=nik, phone="0812-3000-00%02d" % len(created), opd_code=opd,
                                    title=title, text=text, visibility=visibility, consent=True,
                                    email=f"warga{len(created)}@contoh.id"))
        created[key] = result.complaint
    validator = Actor.from_user(users["validator"])
    for key in ("jalan", "puskesmas", "lampu", "vaksin", "sampah"):
        decide_nik(created[key].id, validator, valid=True)
    decide_nik(created["palsu"].id, validator, valid=False,
               remark="NIK tercatat meninggal dunia di SIAK; pengaduan tidak dapat diproses.")
    answer(created["jalan"].id, Actor.from_user(users["opd.dputr"]),
           "Terima kasih. Tim DPUTR telah menambal lubang pada 20 November; pengaspalan ulang dijadwalkan.")
    answer(created["puskesmas"].id, Actor.from_user(users["opd.dinkes"]),
           "Mulai bulan depan Puskesmas Senduro membuka loket pendaftaran tambahan pada pukul 07.00-10.00.")
    return_to_dispatch(created["sampah"].id, Actor.from_user(users["opd.dinkes"]),
                       "Saluran air adalah kewenangan DPUTR / DLH.")
    # Back-date the story so the dashboards and recaps have a past: one answered last month within the
    # standard, one answered last month too late, one routed 12 days ago and still unanswered (answer
    # overdue), one never checked for 30 hours (validation overdue).
    now = utcnow()
    first_of_month = now.replace(day=1, hour=2, minute=0, second=0, microsecond=0)
    last_month = (first_of_month - timedelta(days=1)).replace(day=6)
    with unit_of_work():
        _shift(created["jalan"].id, now - last_month)
        _shift(created["puskesmas"].id, now - (last_month + timedelta(days=2)), answer_delay=timedelta(days=12))
        _shift(created["lampu"].id, timedelta(days=12))
        _shift(created["lama"].id, timedelta(hours=30))
        for minutes, key in zip((4, 7, 12, 6, 9, 3), ("jalan", "puskesmas", "lampu", "vaksin", "sampah", "palsu")):
            # Seeded decisions are instant; give them a believable time from opening to decision.
            for check in db.session.scalars(sa.select(NikCheck).where(NikCheck.complaint_id == created[key].id)):
                check.opened_at = check.decided_at - timedelta(minutes=minutes)


def _shift(complaint_id: int, delta: timedelta, answer_delay: timedelta | None = None) -> None:
    """Move a seeded complaint and everything about it `delta` into the past (demo data only)."""
    c = db.session.get(Complaint, complaint_id)
    for name in ("submitted_at", "validation_deadline", "validated_at", "routed_at", "answered_at", "closed_at",
                 "published_at"):
        if getattr(c, name) is not None:
            setattr(c, name, getattr(c, name) - delta)
    rows = [*c.events, *c.answers,
            *db.session.scalars(sa.select(NikCheck).where(NikCheck.complaint_id == c.id)),
            *db.session.scalars(sa.select(Routing).where(Routing.complaint_id == c.id))]
    for row in rows:
        for name in ("at", "created_at", "opened_at", "decided_at", "routed_at", "ended_at", "deadline"):
            if getattr(row, name, None) is not None:
                setattr(row, name, getattr(row, name) - delta)
    if c.routed_at is not None:
        c.answer_deadline = compute_answer_deadline(c.routed_at)
    if answer_delay is not None and c.answered_at is not None:
        answered = c.routed_at + answer_delay
        c.answered_at = c.closed_at = answered
        c.answer_overdue = answered > c.answer_deadline
        for row in c.answers:
            row.created_at = answered
        for event in c.events:
            if event.action == "answer":
                event.at = answered
        for hop in db.session.scalars(sa.select(Routing).where(Routing.complaint_id == c.id,
                                                               Routing.outcome == "answered")):
            hop.ended_at = answered
