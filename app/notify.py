"""Notifications: queued in the outbox inside the caller's transaction, delivered later by the
scheduler (never from a web request). Templates exist in Indonesian and English.

This module renders, queues and hands a message to a transport (SMTP, HTTP webhook). Which rows are
due, retries and the dead state are decided by `services.outbox.deliver_due`.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Callable, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy import select

from .extensions import db
from .models import OUTBOX_CHANNELS, Outbox
from .timeutil import utcnow

# template -> locale -> (subject, body); str.format fields come from `context`.
TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "submitted": {
        "id": ("Pengaduan {ticket} diterima",
               "Terima kasih. Pengaduan Anda tercatat dengan nomor tiket {ticket}.\n"
               "NIK Anda akan diverifikasi paling lambat {validation_deadline}.\n"
               "Lacak pengaduan di {track_url} dengan nomor tiket dan PIN Anda.\n"),
        "en": ("Complaint {ticket} received",
               "Thank you. Your complaint was recorded with ticket {ticket}.\n"
               "Your NIK will be checked by {validation_deadline}.\n"
               "Track it at {track_url} with your ticket and PIN.\n"),
    },
    "invalid": {
        "id": ("Pengaduan {ticket}: NIK tidak valid",
               "NIK pada pengaduan {ticket} tidak dapat diverifikasi.\nCatatan validator: {remark}\n"
               "Lacak di {track_url}.\n"),
        "en": ("Complaint {ticket}: NIK not valid",
               "The NIK given with complaint {ticket} could not be verified.\nValidator's remark: {remark}\n"
               "Track it at {track_url}.\n"),
    },
    "routed": {
        "id": ("Pengaduan {ticket} diteruskan ke {opd}",
               "Pengaduan {ticket} telah diverifikasi dan diteruskan ke {opd}.\n"
               "Jawaban paling lambat {answer_deadline}.\nLacak di {track_url}.\n"),
        "en": ("Complaint {ticket} sent to {opd}",
               "Complaint {ticket} was verified and sent to {opd}.\n"
               "An answer is due by {answer_deadline}.\nTrack it at {track_url}.\n"),
    },
    "dispatch": {
        "id": ("Pengaduan {ticket}: NIK valid, menunggu disposisi",
               "NIK pada pengaduan {ticket} telah diverifikasi.\n"
               "Anda tidak memilih OPD, jadi petugas disposisi akan meneruskannya ke OPD yang berwenang; "
               "tenggat jawaban dihitung sejak diteruskan. Anda akan diberi kabar.\nLacak di {track_url}.\n"),
        "en": ("Complaint {ticket}: NIK valid, waiting for dispatch",
               "The NIK given with complaint {ticket} was verified.\n"
               "You did not choose an agency, so the dispatch desk will send it to the one responsible; the "
               "answer is due counting from then. You will be told.\nTrack it at {track_url}.\n"),
    },
    "answered": {
        "id": ("Pengaduan {ticket} telah dijawab",
               "{opd} telah menjawab pengaduan {ticket}.\nBaca jawabannya di {track_url}.\n"),
        "en": ("Complaint {ticket} answered",
               "{opd} answered complaint {ticket}.\nRead the answer at {track_url}.\n"),
    },
    # Closed Selesai: accepted by the complainant, by silence after the answer, or by the Pimpinan.
    "closed": {
        "id": ("Pengaduan {ticket} selesai",
               "Pengaduan {ticket} telah ditutup dengan status Selesai.\n{how}\nLacak di {track_url}.\n"),
        "en": ("Complaint {ticket} closed",
               "Complaint {ticket} was closed as done (Selesai).\n{how_en}\nTrack it at {track_url}.\n"),
    },
    # --- PIN recovery (services/citizen.py): the only message that carries a PIN ---
    "pin_recovered": {
        "id": ("PIN baru untuk pengaduan {ticket}",
               "Anda meminta PIN baru untuk pengaduan {ticket}.\nPIN baru: {pin}\n"
               "PIN lama tidak berlaku lagi. Lacak di {track_url} dengan nomor tiket dan PIN ini.\n"
               "Jika Anda tidak memintanya, abaikan pesan ini; pengaduan Anda tetap aman.\n"),
        "en": ("New PIN for complaint {ticket}",
               "You asked for a new PIN for complaint {ticket}.\nNew PIN: {pin}\n"
               "The old PIN no longer works. Track it at {track_url} with the ticket and this PIN.\n"
               "If you did not ask for it, ignore this message; your complaint is safe.\n"),
    },
    # --- SLA watch (services/sla.py): staff notices; titles are the masked public rendering ---
    "validation_reminder": {
        "id": ("Pengingat: verifikasi NIK pengaduan {ticket} jatuh tempo {deadline}",
               "Pengaduan {ticket} ({title}) menunggu verifikasi NIK.\n"
               "Batas waktu 1 x 24 jam berakhir {deadline}.\nBuka meja validator: {desk_url}\n"),
        "en": ("Reminder: NIK check of complaint {ticket} due {deadline}",
               "Complaint {ticket} ({title}) is waiting for its NIK check.\n"
               "The 24-hour standard ends {deadline}.\nOpen the validator desk: {desk_url}\n"),
    },
    "answer_reminder": {
        "id": ("Pengingat: jawaban pengaduan {ticket} jatuh tempo {deadline}",
               "Pengaduan {ticket} ({title}) di {opd} belum dijawab.\n"
               "Batas waktu jawaban berakhir {deadline}.\nBuka meja OPD: {desk_url}\n"),
        "en": ("Reminder: answer to complaint {ticket} due {deadline}",
               "Complaint {ticket} ({title}) at {opd} has not been answered yet.\n"
               "The answer is due {deadline}.\nOpen the OPD desk: {desk_url}\n"),
    },
    "validation_overdue": {
        "id": ("Terlambat: verifikasi NIK pengaduan {ticket} melewati 24 jam",
               "Verifikasi NIK pengaduan {ticket} ({title}) belum diputuskan dan melewati batas waktu "
               "{deadline}.\nSesuai SOP Pengendalian, penyimpangan ini perlu ditindaklanjuti.\n"
               "Dasbor kendali: {dashboard_url}\n"),
        "en": ("Overdue: NIK check of complaint {ticket} past 24 hours",
               "The NIK check of complaint {ticket} ({title}) was not decided by its deadline "
               "{deadline}.\nUnder the control SOP this deviation needs follow-up.\n"
               "Control dashboard: {dashboard_url}\n"),
    },
    "answer_overdue": {
        "id": ("Terlambat: jawaban {opd} untuk pengaduan {ticket}",
               "Pengaduan {ticket} ({title}) belum dijawab oleh {opd} dan melewati batas waktu "
               "{deadline}.\nSesuai SOP Pengendalian, penyimpangan ini perlu ditindaklanjuti.\n"
               "Dasbor kendali: {dashboard_url}\n"),
        "en": ("Overdue: answer from {opd} to complaint {ticket}",
               "Complaint {ticket} ({title}) was not answered by {opd} by its deadline {deadline}.\n"
               "Under the control SOP this deviation needs follow-up.\n"
               "Control dashboard: {dashboard_url}\n"),
    },
    # One sweep's newly overdue open complaints, when there are more than ESCALATION_DIGEST_ABOVE.
    "overdue_digest": {
        "id": ("Terlambat: {total} pengaduan melewati batas waktu",
               "Putaran pemantauan {at} menemukan {total} pengaduan yang baru melewati batas waktu dan belum "
               "ditindaklanjuti: {validation} verifikasi NIK (1 x 24 jam) dan {answer} jawaban OPD.\n"
               "Sesuai SOP Pengendalian, penyimpangan ini perlu ditindaklanjuti.\n\n"
               "Yang paling lama terlambat (nomor tiket · OPD · batas waktu):\n{lines}\n{more_id}\n"
               "Daftar lengkap di dasbor kendali: {dashboard_url}\n"),
        "en": ("Overdue: {total} complaints past their deadline",
               "The watch run of {at} found {total} complaints newly past their deadline and still waiting: "
               "{validation} NIK checks (24 hours) and {answer} OPD answers.\n"
               "Under the control SOP these deviations need follow-up.\n\n"
               "The longest overdue (ticket · OPD · deadline):\n{lines}\n{more_en}\n"
               "The full list is on the control dashboard: {dashboard_url}\n"),
    },
    # --- sign-in (services/security.py): failures for one account from many addresses ---
    "sign_in_attack": {
        "id": ("Peringatan: percobaan masuk gagal ke akun {username} dari {addresses} alamat",
               "Sejak {since}, akun {username} menerima percobaan masuk yang gagal dari {addresses} alamat "
               "berbeda (dalam {minutes} menit).\n"
               "Akun tidak dikunci untuk alamat lain: setiap alamat yang gagal {limit} kali ditolak selama "
               "{lockout} menit, sehingga pemilik akun tetap dapat masuk.\n"
               "Periksa Riwayat Akses (aksi \"Masuk gagal\") dan, bila perlu, ganti kata sandi akun ini: "
               "{history_url}\n"),
        "en": ("Warning: failed sign-ins to account {username} from {addresses} addresses",
               "Since {since}, account {username} has had failed sign-ins from {addresses} different "
               "addresses (within {minutes} minutes).\n"
               "The account is not locked for other addresses: each address that fails {limit} times is "
               "refused for {lockout} minutes, so the account holder can still sign in.\n"
               "Check the history log (action \"Masuk gagal\") and, if needed, change this account's "
               "password: {history_url}\n"),
    },
    # --- SP4N-LAPOR! follow-ups (services/lapor.py): the body is what LAPOR! receives, the public rendering ---
    "lapor_answer": {
        "id": ("Tindak lanjut {ticket} ke LAPOR! {lapor_id}", "{text}"),
    },
    "lapor_return": {
        "id": ("Bukan wewenang: {ticket} ke LAPOR! {lapor_id}", "{text}"),
    },
    # --- the reporter of a complaint imported from SP4N-LAPOR! (services/lapor.py): they never used our form
    # and hold no PIN, they follow the report on LAPOR!, where our answer is pushed; no tracking link here ---
    "lapor_reporter_submitted": {
        "id": ("Laporan LAPOR! {lapor_id} diterima (tiket {ticket})",
               "Laporan SP4N-LAPOR! Anda nomor {lapor_id} telah diterima dan dicatat dengan nomor tiket {ticket}.\n"
               "NIK Anda akan diverifikasi paling lambat {validation_deadline}.\n"
               "Ikuti perkembangannya di SP4N-LAPOR! dengan nomor laporan {lapor_id}; "
               "tindak lanjut kami dikirim ke sana.\n"),
        "en": ("LAPOR! report {lapor_id} received (ticket {ticket})",
               "Your SP4N-LAPOR! report {lapor_id} was received and recorded with ticket {ticket}.\n"
               "Your NIK will be checked by {validation_deadline}.\n"
               "Follow it on SP4N-LAPOR! with report number {lapor_id}; our follow-up is sent there.\n"),
    },
    "lapor_reporter_invalid": {
        "id": ("Laporan LAPOR! {lapor_id}: NIK tidak valid",
               "NIK pada laporan SP4N-LAPOR! {lapor_id} (tiket {ticket}) tidak dapat diverifikasi.\n"
               "Catatan validator: {remark}\nIkuti laporan Anda di SP4N-LAPOR! dengan nomor {lapor_id}.\n"),
        "en": ("LAPOR! report {lapor_id}: NIK not valid",
               "The NIK given with SP4N-LAPOR! report {lapor_id} (ticket {ticket}) could not be verified.\n"
               "Validator's remark: {remark}\nFollow your report on SP4N-LAPOR! with number {lapor_id}.\n"),
    },
    "lapor_reporter_routed": {
        "id": ("Laporan LAPOR! {lapor_id} diteruskan ke {opd}",
               "Laporan SP4N-LAPOR! {lapor_id} (tiket {ticket}) telah diverifikasi dan diteruskan ke {opd}.\n"
               "Jawaban paling lambat {answer_deadline}; jawaban dikirim ke SP4N-LAPOR! pada laporan {lapor_id}.\n"),
        "en": ("LAPOR! report {lapor_id} sent to {opd}",
               "SP4N-LAPOR! report {lapor_id} (ticket {ticket}) was verified and sent to {opd}.\n"
               "An answer is due by {answer_deadline}; it is sent to SP4N-LAPOR! on report {lapor_id}.\n"),
    },
    "lapor_reporter_answered": {
        "id": ("Laporan LAPOR! {lapor_id} telah dijawab",
               "{opd} telah menjawab laporan SP4N-LAPOR! {lapor_id} (tiket {ticket}).\n"
               "Jawabannya dikirim ke SP4N-LAPOR!: baca di sana pada laporan {lapor_id}.\n"),
        "en": ("LAPOR! report {lapor_id} answered",
               "{opd} answered SP4N-LAPOR! report {lapor_id} (ticket {ticket}).\n"
               "The answer is sent to SP4N-LAPOR!: read it there on report {lapor_id}.\n"),
    },
}
# The outbox template of each LAPOR! follow-up kind (app/lapor.PUSH_KINDS).
LAPOR_TEMPLATES = {"answer": "lapor_answer", "return": "lapor_return"}
# The reporter's notices of an imported complaint: the same events, pointing to LAPOR! (no PIN, no tracking link).
LAPOR_REPORTER_TEMPLATES = {t: f"lapor_reporter_{t}" for t in ("submitted", "invalid", "routed", "answered")}

CHANNELS = OUTBOX_CHANNELS  # a new channel: its transport here, its value there (ck_outbox_channel)


def render(template: str, locale: str, context: dict[str, Any]) -> tuple[str, str]:
    variants = TEMPLATES[template]
    subject, body = variants.get(locale) or variants["id"]
    return subject.format(**context), body.format(**context)


def queue(channel: str, recipient: str, template: str, context: dict[str, Any], *,
          locale: str = "id", complaint_id: int | None = None, dedupe_key: str | None = None) -> Outbox | None:
    """Add a notice to the outbox in the current transaction; a repeated dedupe_key is not queued twice."""
    if dedupe_key is not None:
        exists = db.session.scalar(select(Outbox.id).where(Outbox.dedupe_key == dedupe_key))
        if exists is not None:
            return None
        # Also catch a twin added earlier in this same, not yet flushed, transaction.
        if any(isinstance(o, Outbox) and o.dedupe_key == dedupe_key for o in db.session.new):
            return None
    row = Outbox(**_pending(channel, recipient, template, locale, context, complaint_id, dedupe_key, utcnow()))
    db.session.add(row)
    return row


def _pending(channel: str, recipient: str, template: str, locale: str, context: Mapping[str, Any],
             complaint_id: int | None, dedupe_key: str | None, now) -> dict[str, Any]:
    """The columns of a notice waiting for its first delivery (`queue` and `queue_many`)."""
    subject, body = render(template, locale, dict(context))
    return {"channel": channel, "recipient": recipient, "template": template, "locale": locale,
            "subject": subject[:300], "body": body, "complaint_id": complaint_id, "dedupe_key": dedupe_key,
            "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}


@dataclass(frozen=True)
class Notice:
    """One notice for `queue_many`; `dedupe_key` is required there (these are the once-only ones)."""

    channel: str
    recipient: str
    template: str
    context: Mapping[str, Any]
    dedupe_key: str
    complaint_id: int | None = None
    locale: str = "id"


def queue_many(notices: Iterable[Notice]) -> int:
    """Queue many once-only notices with one look-up of the keys already used; returns how many
    were added. For the SLA jobs, which may produce a batch of reminders in one run."""
    notices = list(notices)
    if not notices:
        return 0
    keys = [n.dedupe_key for n in notices]
    taken: set[str] = set()
    for start in range(0, len(keys), 500):  # stay under the bound-parameter limits
        taken.update(db.session.scalars(select(Outbox.dedupe_key).where(Outbox.dedupe_key.in_(keys[start:start + 500]))))
    now = utcnow()
    rows = []
    for notice in notices:
        if notice.dedupe_key in taken:
            continue
        taken.add(notice.dedupe_key)
        rows.append(_pending(notice.channel, notice.recipient, notice.template, notice.locale, notice.context,
                             notice.complaint_id, notice.dedupe_key, now))
    # One executemany per chunk, not one ORM object each: after a long scheduler outage a sweep queues
    # tens of thousands (issue 13). Inserted at once in the transaction, so `queue`'s look-up sees them.
    for start in range(0, len(rows), 1000):
        db.session.execute(sa.insert(Outbox), rows[start:start + 1000])
    return len(rows)


def complainant_recipients(email: str | None, phone: str | None, notify_email: bool, notify_phone: bool,
                           webhook_enabled: bool) -> list[tuple[str, str]]:
    """(channel, recipient) of the complainant's notices, as they chose on the form: by e-mail when given and
    chosen; to the phone when chosen and a WhatsApp/SMS gateway is configured (WEBHOOK_URL)."""
    found = []
    if email and notify_email:
        found.append(("email", email))
    if phone and notify_phone and webhook_enabled:
        found.append(("webhook", phone))
    return found


def queue_complainant(complaint, template: str, context: dict[str, Any], *, locale: str = "id",
                      webhook_enabled: bool = False) -> list[Outbox]:
    """A notice to the complainant on each channel they chose (complainant_recipients)."""
    rows = [queue(channel, recipient, template, context, locale=locale, complaint_id=complaint.id)
            for channel, recipient in complainant_recipients(
                complaint.email, complaint.phone, complaint.notify_email is not False,
                complaint.notify_phone is not False, webhook_enabled)]
    return [r for r in rows if r is not None]


def queue_lapor(complaint, kind: str, text: str, dedupe_key: str) -> Outbox | None:
    """A follow-up for LAPOR! (kind "answer" or "return"), when the complaint was imported from it: in the
    caller's transaction, delivered by the outbox like every notice. Nothing for other complaints."""
    link = getattr(complaint, "lapor", None)
    if link is None:
        from .models import LaporImport

        link = db.session.scalar(select(LaporImport).where(LaporImport.complaint_id == complaint.id))
    if link is None:
        return None
    return queue("lapor", link.lapor_id, LAPOR_TEMPLATES[kind],
                 {"ticket": complaint.ticket, "lapor_id": link.lapor_id, "text": text},
                 complaint_id=complaint.id, dedupe_key=dedupe_key)


# --------------------------------------------------------------------------- transports


@dataclass(frozen=True)
class Message:
    """What a transport needs of an outbox row (a plain copy: transports run outside a transaction)."""

    id: int
    channel: str
    recipient: str
    subject: str
    body: str
    template: str
    locale: str
    complaint_id: int | None
    idempotency_key: str  # the same on every attempt: Message-ID / Idempotency-Key
    reference: str | None = None  # the complaint's ticket, for transports that send it (LAPOR!)

    @classmethod
    def of(cls, row: Outbox, reference: str | None = None) -> "Message":
        return cls(row.id, row.channel, row.recipient, row.subject, row.body, row.template, row.locale,
                   row.complaint_id, row.idempotency_key, reference)


class NotConfigured(Exception):
    """The channel has no transport settings: rows wait (pending) instead of burning their attempts."""


def smtp_configured(config: Mapping[str, Any]) -> bool:
    return bool(config.get("SMTP_HOST"))


def webhook_configured(config: Mapping[str, Any]) -> bool:
    return bool(config.get("WEBHOOK_URL"))


def lapor_configured(config: Mapping[str, Any]) -> bool:
    return str(config.get("LAPOR_MODE") or "off") != "off"


def configured(channel: str, config: Mapping[str, Any]) -> bool:
    return {"email": smtp_configured, "webhook": webhook_configured,
            "lapor": lapor_configured}.get(channel, lambda c: False)(config)


def _short(exc: BaseException) -> str:
    text = f"{exc.__class__.__name__}: {exc}".replace("\n", " ")
    return text[:480]


def _email(message: Message, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    domain = sender.rpartition("@")[2] or "localhost"
    # Stable across attempts: a resend after a crash is the same message to every mailbox.
    mail["Message-ID"] = f"<{message.idempotency_key}@{domain}>"
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    mail.set_content(message.body)
    return mail


def send_email(messages: Iterable[Message], config: Mapping[str, Any],
               on_result: Callable[[int, str | None], None] | None = None) -> dict[int, str | None]:
    """Send over one SMTP session. Returns {outbox id: None when accepted, else the error text}, and
    hands each result to `on_result` as soon as it is known (the outbox records it at once).

    A connection or login failure fails every message of the batch (each is retried later)."""
    messages = list(messages)
    if not messages:
        return {}
    if not smtp_configured(config):
        raise NotConfigured("SMTP_HOST is not set")
    host, port, timeout = config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25), float(config.get("SMTP_TIMEOUT") or 10)
    results: dict[int, str | None] = {}
    try:
        if config.get("SMTP_SSL"):
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        try:
            client.ehlo()
            if config.get("SMTP_STARTTLS") and not config.get("SMTP_SSL"):
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if config.get("SMTP_USER"):
                client.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            for message in messages:
                try:
                    refused = client.send_message(_email(message, config.get("MAIL_FROM") or "noreply@localhost"))
                    results[message.id] = f"refused: {refused}"[:480] if refused else None
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                    results[message.id] = _short(exc)
                    client.rset()
                if on_result is not None:
                    on_result(message.id, results[message.id])
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
    except (smtplib.SMTPException, OSError) as exc:
        error = _short(exc)
        for message in messages:
            if message.id not in results:
                results[message.id] = error
                if on_result is not None:
                    on_result(message.id, error)
    return results


def send_webhook(message: Message, config: Mapping[str, Any]) -> str | None:
    """POST the notice as JSON to WEBHOOK_URL (a WhatsApp/SMS gateway). None when the gateway answered
    2xx, else the error text. The notice's idempotency key travels as Idempotency-Key so a gateway can drop a resend."""
    if not webhook_configured(config):
        raise NotConfigured("WEBHOOK_URL is not set")
    payload = {"id": message.id, "channel": message.channel, "recipient": message.recipient,
               "subject": message.subject, "body": message.body, "template": message.template,
               "locale": message.locale, "complaint_id": message.complaint_id}
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message.idempotency_key,
               "User-Agent": "layanan-pengaduan/1"}
    if config.get("WEBHOOK_TOKEN"):
        headers["Authorization"] = f"Bearer {config['WEBHOOK_TOKEN']}"
    request = urllib.request.Request(config["WEBHOOK_URL"], data=json.dumps(payload).encode(), headers=headers,
                                     method="POST")
    # No proxy from the environment: the gateway is named by configuration only.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=float(config.get("WEBHOOK_TIMEOUT") or config.get("SMTP_TIMEOUT") or 10)) as resp:
            if 200 <= resp.status < 300:
                return None
            return f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}: {exc.reason}"[:480]
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return _short(exc)


def send_lapor(messages: Iterable[Message], config: Mapping[str, Any], adapter=None) -> dict[int, str | None]:
    """Push follow-ups to LAPOR! (app/lapor.py adapter chosen by LAPOR_MODE). {outbox id: None when LAPOR!
    accepted it, else the error}. Once LAPOR! is unreachable the rest of the batch is not tried (each keeps
    its attempt and is retried later), so an outage costs one timeout per run, not one per message."""
    from . import lapor

    messages = list(messages)
    if not messages:
        return {}
    adapter = adapter or lapor.build_adapter(config)
    kinds = {template: kind for kind, template in LAPOR_TEMPLATES.items()}
    results: dict[int, str | None] = {}
    down: str | None = None
    for message in messages:
        if down is not None:
            results[message.id] = down
            continue
        item = lapor.PushItem(tracking_id=message.recipient, kind=kinds[message.template], text=message.body,
                              reference=message.reference or "", idempotency_key=message.idempotency_key)
        error = adapter.push(item)
        results[message.id] = None if error is None else str(error)[:480]
        if isinstance(error, lapor.Unreachable):
            down = f"{error} (tidak dicoba: LAPOR! tidak dapat dihubungi)"[:480]
            results[message.id] = str(error)[:480]
    return results
