"""The receipt a citizen keeps: the printable page's content and its PDF (fpdf2), with a QR code (segno)
of the tracking address. The QR code never holds the PIN: a photo of the code alone opens nothing.

The text of the receipt is written once, in `receipt_lines`, for the page and the PDF alike.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import segno
from flask_babel import gettext as _

from .timeutil import format_wib


@dataclass(frozen=True)
class Receipt:
    ticket: str
    pin: str
    submitted_at: datetime
    validation_deadline: datetime
    opd: str | None  # None: the citizen did not know the OPD (the dispatcher chooses)
    track_url: str  # without the PIN
    answer_days: int
    calendar_days: bool
    email: bool
    repeated: bool = False  # the same form sent again: one complaint, this PIN replaces the earlier one


def next_steps(r: Receipt) -> list[str]:
    """What happens next, in the citizen's words; the receipt page and the PDF show this list."""
    days = r.answer_days
    if r.opd:
        routed = (_("Jika NIK valid, pengaduan diteruskan ke %(opd)s, yang menjawab paling lambat %(days)s hari "
                    "kemudian.", opd=r.opd, days=days) if r.calendar_days else
                  _("Jika NIK valid, pengaduan diteruskan ke %(opd)s, yang menjawab paling lambat %(days)s hari "
                    "kerja kemudian.", opd=r.opd, days=days))
    else:
        routed = _("Jika NIK valid, petugas memilih OPD yang berwenang dan meneruskan pengaduan Anda.")
    return [
        _("Validator memeriksa NIK Anda paling lambat %(when)s.", when=format_wib(r.validation_deadline)),
        routed,
        _("Jawaban tampil di halaman pelacakan dan, kecuali pengaduan rahasia, di daftar pengaduan publik."),
        _("Lupa PIN? Minta PIN baru di halaman pelacakan dengan nomor tiket dan e-mail atau nomor telepon "
          "yang Anda isi."),
    ]


def qr_png(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def _latin1(text: str) -> str:
    # The PDF's built-in font is Latin-1: typographic characters become their plain forms.
    table = {"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
             "\u2026": "...", "\u00a0": " "}
    text = "".join(table.get(ch, ch) for ch in text)
    return text.encode("latin-1", "replace").decode("latin-1")


def pdf(r: Receipt, title: str) -> bytes:
    """The receipt as an A4 PDF: ticket, PIN, date, OPD, next steps, tracking address and its QR code."""
    from fpdf import FPDF  # 58 MB (fontTools, Pillow): paid by the workers that make a PDF, not by every one

    doc = FPDF(format="A4")
    doc.set_title(_latin1(f"{title} {r.ticket}"))
    doc.set_creator("Layanan Pengaduan Online")
    doc.add_page()
    doc.set_margins(20, 20, 20)
    doc.set_font("helvetica", "B", 16)
    doc.multi_cell(0, 9, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    doc.ln(2)

    def row(label: str, value: str, big: bool = False) -> None:
        doc.set_font("helvetica", "", 10)
        doc.cell(0, 6, _latin1(label), new_x="LMARGIN", new_y="NEXT")
        doc.set_font("courier" if big else "helvetica", "B", 18 if big else 12)
        doc.multi_cell(0, 9 if big else 7, _latin1(value), new_x="LMARGIN", new_y="NEXT")
        doc.ln(1)

    row(_("Nomor tiket"), r.ticket, big=True)
    row(_("PIN pelacakan"), r.pin, big=True)
    row(_("Dikirim"), format_wib(r.submitted_at))
    row(_("OPD tujuan"), r.opd or _("Belum dipilih: petugas akan meneruskan ke OPD yang berwenang"))
    doc.set_font("helvetica", "B", 10)
    doc.multi_cell(0, 6, _latin1(_("Simpan PIN ini. PIN tidak tercantum pada kode QR dan tidak pernah dikirim "
                                   "kecuali Anda memintanya kembali.")), new_x="LMARGIN", new_y="NEXT")
    doc.ln(3)
    doc.set_font("helvetica", "B", 12)
    doc.cell(0, 7, _latin1(_("Langkah berikutnya")), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("helvetica", "", 10)
    for number, step in enumerate(next_steps(r), 1):
        doc.multi_cell(0, 6, _latin1(f"{number}. {step}"), new_x="LMARGIN", new_y="NEXT")
    doc.ln(3)
    doc.set_font("helvetica", "B", 12)
    doc.cell(0, 7, _latin1(_("Lacak pengaduan")), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("helvetica", "", 10)
    doc.multi_cell(0, 6, _latin1(r.track_url), new_x="LMARGIN", new_y="NEXT")
    doc.image(io.BytesIO(qr_png(r.track_url)), w=45)
    return bytes(doc.output())
