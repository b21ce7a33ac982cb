"""Exports of rows that hold what no form lets in today (old rows, request headers, another channel):
the XLSX recap, the recap and history-log CSVs and the desk export open cleanly, formulas stay inert."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from openpyxl import load_workbook


def _dirty(db) -> str:
    # PostgreSQL refuses NUL in text outright; everything else the boundary refuses it stores.
    return ("\x00" if db.engine.dialect.name == "sqlite" else "") + "\x01\x08\x0b\x1b\x1f\u202e\ufffe"


def test_exports_hold_no_character_the_formats_refuse(app, clients, probe, world):
    from app.extensions import db
    from app.models import AuditLog, Complaint, Opd

    complaint = world.answered()
    dirt = _dirty(db)
    original = db.session.scalar(sa.select(Opd.name).where(Opd.code == "DINKESP2KB"))
    db.session.execute(sa.update(Opd).where(Opd.code == "DINKESP2KB").values(name=f"=Dinas{dirt} Kesehatan"))
    db.session.execute(sa.update(Complaint).where(Complaint.id == complaint.id)
                       .values(title=f"{dirt}=HYPERLINK(\"http://x\")", public_title=f"{dirt}=HYPERLINK(\"http://x\")",
                                   name=f"Budi{dirt}"))
    db.session.add(AuditLog(at=complaint.submitted_at, kind="request", action="request", path=f"/x{dirt}",
                            user_agent=f"agent{dirt}", username=f"tamu{dirt}"))
    db.session.commit()
    try:
        client = clients["pimpinan"]
        for path in ("/rekap/xlsx?periode=tahun", "/rekap/xlsx?periode=tahun&kelompok=opd"):
            response = probe.call(client, "GET", path, label=path)
            assert response is not None and response.status_code == 200
            book = load_workbook(io.BytesIO(response.get_data()))
            cells = [c.value for row in book.active.iter_rows() for c in row if isinstance(c.value, str)]
            opd = next(c for c in cells if "Kesehatan" in c)
            assert opd == "'=Dinas Kesehatan"  # cleaned first, then made inert
        # The history CSV holds page views when asked for (?halaman=1), as the screen does.
        downloads = {"/rekap/csv?periode=tahun": "Kesehatan", "/riwayat/csv?halaman=1": "tamu",
                     "/staf/opd/ekspor.csv": "HYPERLINK"}
        for path, needle in downloads.items():
            who = clients["admin"] if path.startswith("/staf/opd") else client
            response = probe.call(who, "GET", path, label=path)
            assert response is not None and response.status_code == 200
            text = response.get_data().decode("utf-8")
            for ch in dirt:
                assert ch not in text, f"{path} holds {ch!r}"
            rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
            found = [cell for row in rows for cell in row if needle in cell]
            assert found and all(not cell.startswith(("=", "+", "-", "@")) for cell in found), found
        probe.assert_clean(stored=False)  # the dirt was put there on purpose
    finally:
        db.session.rollback()
        db.session.execute(sa.update(Opd).where(Opd.code == "DINKESP2KB")
                           .values(name=original))
        db.session.commit()
