"""Staff-facing labels shared by the desks, dashboard, recap, history log and exports (one wording per concept).

The citizens' portal keeps its own, plainer wording for states (`app/public.py`).
"""

from flask_babel import lazy_gettext as _l

from .workflow import State

STATE_LABELS = {
    State.MENUNGGU_VERIFIKASI: _l("Menunggu verifikasi"),
    State.TIDAK_VALID: _l("Tidak valid"),
    State.DITERUSKAN: _l("Diteruskan ke OPD"),
    State.PERLU_DISPOSISI: _l("Perlu disposisi"),
    State.DIJAWAB: _l("Dijawab"),
    State.SELESAI: _l("Selesai"),
    State.DISANGGAH: _l("Disanggah pelapor"),
}

# A complaint without an OPD yet ("Saya tidak tahu OPD-nya"), wherever an OPD's name is shown.
NO_OPD_LABEL = _l("Belum ada OPD (menunggu disposisi)")
# A complaint held by no OPD right now (returned "bukan wewenang", or without an OPD yet).
AWAITING_DISPATCH_LABEL = _l("Menunggu disposisi")


# --------------------------------------------------------------------------- history log (riwayat akses)

# Kinds and actions of history-log rows (app/audit writes them; screens and the CSV read these labels).
# Other modules may write more; the screens show an unknown one by its code.
AUDIT_KINDS = {"auth": _l("Masuk/keluar"), "request": _l("Akses halaman"), "action": _l("Tindakan"),
         "pii": _l("Lihat data pribadi"), "system": _l("Sistem")}

# Actions written by this product, with their labels for the filter list. Other modules may write
# more; the screens show unknown ones by their code.
AUDIT_ACTIONS = {
    "login": _l("Masuk berhasil"),
    "login.failed": _l("Masuk gagal"),
    "login.locked": _l("Masuk ditolak (akun terkunci)"),
    "lockout": _l("Akun dikunci"),
    "login.attack": _l("Masuk gagal dari banyak alamat"),
    "unlock": _l("Kunci akun dibuka"),
    "logout": _l("Keluar"),
    "request": _l("Akses halaman"),
    "nik.view": _l("Lihat NIK lengkap"),
    "contact.view": _l("Lihat kontak pengadu"),
    "complaint.identity_view": _l("Lihat identitas pengadu"),
    "attachment.download": _l("Unduh lampiran"),
    "complaint.export": _l("Ekspor pengaduan (OPD)"),
    "complaint.submit": _l("Pengaduan masuk"),
    "complaint.resubmit": _l("Formulir pengaduan dikirim ulang (PIN baru)"),
    "complaint.claim": _l("Pengaduan dibuka validator"),
    "complaint.decide": _l("Keputusan NIK"),
    "complaint.answer": _l("Jawaban"),
    "answer.edit": _l("Jawaban diubah"),
    "complaint.return": _l("Dikembalikan (bukan wewenang)"),
    "complaint.reroute": _l("Disposisi ulang"),
    "complaint.close": _l("Pengaduan selesai"),
    "complaint.pin_recovery": _l("Pemulihan PIN"),
    "complaint.reply": _l("Tanggapan pengadu atas jawaban"),
    "complaint.silence_close": _l("Ditutup karena pengadu tidak menanggapi"),
    "note.add": _l("Catatan internal"),
    "user.create": _l("Akun dibuat"),
    "user.update": _l("Akun diubah"),
    "user.delete": _l("Akun dihapus"),
    "role.create": _l("Peran dibuat"),
    "role.update": _l("Peran diubah"),
    "role.delete": _l("Peran dihapus"),
    "roles.sync": _l("Sinkronisasi peran"),
    "opd.create": _l("OPD ditambahkan"),
    "opd.update": _l("OPD diubah"),
    "opd.delete": _l("OPD dihapus"),
    "opd.import": _l("Impor daftar OPD"),
    "setting.create": _l("Pengaturan ditambahkan"),
    "setting.update": _l("Pengaturan diubah"),
    "setting.delete": _l("Pengaturan dihapus"),
    "export.history": _l("Ekspor riwayat akses"),
    "export.recap": _l("Ekspor rekap"),
    "export.opd": _l("Ekspor pengaduan (OPD)"),
    "complaint.personal.view": _l("Lihat data pribadi pengadu"),
    "siak.precheck": _l("Pemeriksaan awal SIAK"),
    "registry.import": _l("Impor registri SIAK"),
    "outbox.resend": _l("Pemberitahuan dikirim ulang"),
    "routing.train": _l("Model saran OPD dilatih"),
    "retention.anonymise": _l("Data pribadi dihapus (masa simpan)"),
    "personal_data.rescan": _l("Pemindaian ulang data pribadi"),
    "nik.rotate_key": _l("Kunci enkripsi NIK diganti"),
    "non_working_day.create": _l("Hari libur ditambahkan"),
    "open311.key.create": _l("Kunci Open311 dibuat"),
    "open311.key.revoke": _l("Kunci Open311 dicabut"),
    "open311.key.use": _l("Pengaduan masuk lewat Open311"),
    "open311.key.refused": _l("Kunci Open311 ditolak"),
    "lapor.pull": _l("Tarikan SP4N-LAPOR!"),
    "lapor.pull_failed": _l("Tarikan SP4N-LAPOR! gagal"),
    "lapor.import_refused": _l("Laporan SP4N-LAPOR! ditolak"),
}

# Names of the history log's detail fields and of the columns its diffs name (accounts, roles, OPDs,
# days off, complaints): "Nama depan: Budi → Budi S." rather than "first_name: ['Budi', 'Budi S.']".
FIELD_LABELS = {
    "_object": _l("Objek"), "result": _l("Hasil"), "public_edited": _l("Versi publik diubah"),
    "override": _l("Menyimpang dari SIAK"), "reason": _l("Alasan"), "opd": _l("OPD"), "ticket": _l("Tiket"),
    "channel": _l("Saluran"), "verdict": _l("Hasil SIAK"), "score": _l("Skor nama"),
    "attachment": _l("Lampiran"), "tab": _l("Tab"), "q": _l("Pencarian"), "fields": _l("Data yang dilihat"),
    "screen": _l("Layar"), "failures": _l("Jumlah gagal"), "address": _l("Alamat IP"),
    "addresses": _l("Alamat IP"), "minutes": _l("Menit"), "locked_until": _l("Terkunci sampai"),
    "user_id": _l("Akun"), "username": _l("Nama pengguna"), "username_tried": _l("Nama pengguna dicoba"),
    "was_locked": _l("Sebelumnya terkunci"), "format": _l("Format"), "created": _l("Dibuat"),
    "updated": _l("Diperbarui"), "unchanged": _l("Tidak berubah"), "outbox_id": _l("Pemberitahuan"),
    "previous_status": _l("Status sebelumnya"), "template": _l("Templat"), "role": _l("Peran"),
    "count": _l("Jumlah"), "cutoff": _l("Batas tanggal"), "version": _l("Versi"), "answered": _l("Dijawab"),
    "returns": _l("Dikembalikan"), "error": _l("Galat"), "first_name": _l("Nama depan"),
    "last_name": _l("Nama belakang"), "email": _l("E-mail"), "active": _l("Aktif"), "opd_id": _l("OPD"),
    "roles": _l("Peran"), "permissions": _l("Izin"), "password": _l("Kata sandi"), "code": _l("Kode"),
    "name": _l("Nama"), "kind": _l("Jenis"), "duties": _l("Tugas dan fungsi"), "keywords": _l("Kata kunci"),
    "day": _l("Tanggal"), "description": _l("Keterangan"), "title": _l("Judul"), "text": _l("Isi"),
    "public_title": _l("Judul versi publik"), "public_text": _l("Isi versi publik"), "state": _l("Status"),
    "answered_at": _l("Waktu dijawab"), "author_id": _l("Penulis"), "nik_findings": _l("Temuan data pribadi"),
    "nik": _l("NIK"), "phone": _l("Telepon"), "contact": _l("Kontak"), "identity": _l("Identitas"),
    "aksi": _l("Aksi"), "jenis": _l("Jenis"), "pengguna": _l("Pengguna"), "peran": _l("Peran"),
    "tiket": _l("Tiket"), "dari": _l("Dari"), "sampai": _l("Sampai"), "kelompok": _l("Kelompok"),
    "rotated": _l("Diganti"), "current": _l("Kunci aktif"), "complaints": _l("Pengaduan"),
    "answers": _l("Jawaban"), "changed_fields": _l("Kolom diubah"), "address": _l("Alamat"),
    "nik_full": _l("NIK lengkap"), "nik_masked": _l("NIK tersamar"),
    # columns of the complaint and answer versions (records: "Versi pengaduan", "Versi jawaban")
    "public_edit_reason": _l("Alasan perubahan versi publik"), "location": _l("Lokasi"),
    "visibility": _l("Tampilan"), "nik_structural_ok": _l("Struktur NIK benar"),
    "siak_verdict": _l("Hasil SIAK"), "siak_score": _l("Skor nama SIAK"), "siak_reason": _l("Keterangan SIAK"),
    "siak_checked_at": _l("Diperiksa SIAK"), "submitted_at": _l("Masuk"),
    "validation_deadline": _l("Tenggat pemeriksaan NIK"), "validated_at": _l("Diputuskan"),
    "routed_at": _l("Diteruskan"), "answer_deadline": _l("Tenggat jawaban"), "closed_at": _l("Ditutup"),
    "published_at": _l("Dipublikasikan"), "validation_overdue": _l("Pemeriksaan terlambat"),
    "answer_overdue": _l("Jawaban terlambat"), "validation_reminded_at": _l("Pengingat pemeriksaan"),
    "answer_reminded_at": _l("Pengingat jawaban"), "anonymised_at": _l("Data pribadi dihapus"),
    "created_at": _l("Dibuat"), "edited_at": _l("Diubah"), "edit_reason": _l("Alasan perubahan"),
}

# Codes inside detail values, by field: "Hasil: Tidak valid" rather than "result: tidak_valid".
VALUE_LABELS = {
    "result": {"valid": _l("Valid"), "tidak_valid": _l("Tidak valid")},
    "reason": {"password": _l("kata sandi salah"), "unknown_user": _l("nama pengguna tidak dikenal"),
               "inactive": _l("akun nonaktif"), "locked": _l("akun terkunci")},
    "previous_status": {"pending": _l("menunggu"), "sent": _l("terkirim"), "dead": _l("gagal")},
    "tab": {"menunggu": _l("Menunggu jawaban"), "dijawab": _l("Sudah dijawab")},
    "screen": {"validator_desk": _l("Meja validator"), "validator_check": _l("Pemeriksaan NIK"),
               "opd_desk": _l("Meja OPD"), "dispatch": _l("Disposisi"), "records": _l("Riwayat"),
               "dashboard": _l("Dasbor kendali"), "api": _l("API")},
}
YES, NO, EMPTY = _l("Ya"), _l("Tidak"), "–"
SECRET_LABEL = _l("(disembunyikan)")
