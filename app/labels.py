"""Staff-facing labels shared by the desks, dashboard, recap, history log and exports (one wording per concept).

States have one table (STATES) with a column of plainer wording for the citizens' portal.
"""

from typing import NamedTuple

from flask_babel import lazy_gettext as _l

from .workflow import State, Visibility

# One table of the states' words: (desks, dashboard, recap, exports, e-mails to staff; the citizens' portal and
# the complainant's e-mails). The same words on both sides where they can be; the public column differs only
# where the office's term needs explaining to a citizen.
STATES = {
    State.MENUNGGU_VERIFIKASI: (_l("Menunggu verifikasi NIK"), _l("Menunggu verifikasi NIK")),
    State.TIDAK_VALID: (_l("NIK tidak valid"), _l("NIK tidak valid")),
    State.DITERUSKAN: (_l("Diteruskan ke OPD"), _l("Diteruskan ke OPD")),
    # A returned complaint and one whose complainant did not know the OPD wait alike: no "ulang" (again).
    State.PERLU_DISPOSISI: (_l("Menunggu disposisi"), _l("Menunggu disposisi")),
    State.DIJAWAB: (_l("Dijawab"), _l("Dijawab")),
    State.SELESAI: (_l("Selesai"), _l("Selesai")),
    State.DISANGGAH: (_l("Disanggah pelapor"), _l("Belum selesai menurut pelapor; ditinjau Pimpinan")),
}
STATE_LABELS = {state: words[0] for state, words in STATES.items()}
PUBLIC_STATE_LABELS = {state.value: words[1] for state, words in STATES.items()}

VISIBILITY_LABELS = {Visibility.PUBLIK: _l("Publik"), Visibility.ANONIM: _l("Anonim"),
                     Visibility.RAHASIA: _l("Rahasia")}

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
    "complaint.link": _l("Ditautkan ke pengaduan yang sama"),
    "complaint.unlink": _l("Tautan pengaduan dilepas"),
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
    "screen": _l("Layar"), "failures": _l("Jumlah gagal"), "ip_address": _l("Alamat IP"),
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


# --------------------------------------------------------------------------- roles and permissions

# What each permission FAB stores as (action, resource) allows, in plain words, grouped by desk: the role
# screens (app/security_screens.py) show these instead of "can_list on OpdView". Declared once here; a
# pair missing from these tables shows by its code (tests/unit/test_permission_labels.py finds it).
PERMISSION_DESKS = {
    "akun": _l("Akun dan peran"), "pengaturan": _l("Pengaturan"), "validasi": _l("Validasi NIK"),
    "disposisi": _l("Disposisi"), "opd": _l("Meja OPD"), "sanggahan": _l("Sanggahan pelapor"),
    "laporan": _l("Laporan dan riwayat akses"), "kendali": _l("Pengendalian"),
    "sistem": _l("Sistem dan integrasi"), "lainnya": _l("Lainnya"),
}

# resource -> (desk, what the resource is, as the object of a sentence)
PERMISSION_RESOURCES = {
    "StaffUserView": ("akun", _l("akun staf")), "RoleModelView": ("akun", _l("peran")),
    "UserGroupModelView": ("akun", _l("grup pengguna")), "PermissionModelView": ("akun", _l("jenis izin")),
    "ViewMenuModelView": ("akun", _l("bagian aplikasi")),
    "PermissionViewModelView": ("akun", _l("daftar izin per bagian")),
    "UserInfoEditView": ("akun", _l("profil sendiri")), "ResetPasswordView": ("akun", _l("kata sandi akun lain")),
    "ResetMyPasswordView": ("akun", _l("kata sandi sendiri")), "SecurityApi": ("sistem", _l("masuk lewat API")),
    "OpdView": ("pengaturan", _l("OPD")), "NonWorkingDayView": ("pengaturan", _l("hari libur tambahan")),
    "RoutingModelView": ("pengaturan", _l("model saran OPD")),
    "ValidatorDesk": ("validasi", _l("antrean NIK")), "ValidatorStats": ("validasi", _l("statistik validasi")),
    "RegistryImport": ("validasi", _l("registri SIAK lokal")), "Complaint": ("validasi", _l("pengaduan (API)")),
    "Dispatch": ("disposisi", _l("antrean disposisi")), "OpdDesk": ("opd", _l("meja OPD")),
    "ComplaintDeskApi": ("opd", _l("meja OPD (API)")), "Dispute": ("sanggahan", _l("sanggahan pelapor")),
    "HistoryLog": ("laporan", _l("riwayat akses")), "Recap": ("laporan", _l("rekap pengaduan")),
    "ControlDashboard": ("kendali", _l("dasbor kendali")), "Outbox": ("sistem", _l("kotak keluar notifikasi")),
    "SystemHealth": ("sistem", _l("kesehatan sistem")), "Open311Key": ("sistem", _l("kunci API Open311")),
    "OpenApi": ("sistem", _l("uraian API (OpenAPI)")), "SwaggerView": ("sistem", _l("halaman uji API")),
    "MenuApi": ("sistem", _l("menu (API)")),
    "ValidatorQueueApi": ("validasi", _l("antrean NIK (API)")), "OpdQueueApi": ("opd", _l("antrean meja OPD (API)")),
    "DispatchQueueApi": ("disposisi", _l("antrean disposisi (API)")),
    "DisputeApi": ("sanggahan", _l("sanggahan pelapor (API)")),
    # screens every signed-in user reaches (no permission of their own)
    "StaffIndexView": ("sistem", _l("beranda staf")), "UtilView": ("sistem", _l("tombol kembali")),
    "LocaleView": ("sistem", _l("pilihan bahasa")), "StaffAuthDBView": ("akun", _l("halaman masuk")),
}

# menu name (FAB's menu_access resource) -> (desk, the menu's label)
PERMISSION_MENUS = {
    "Security": ("akun", _l("Keamanan")), "List Users": ("akun", _l("Daftar Pengguna")),
    "List Roles": ("akun", _l("Daftar Peran")), "List Groups": ("akun", _l("Daftar Grup")),
    "Base Permissions": ("akun", _l("Jenis izin")), "Views/Menus": ("akun", _l("Bagian aplikasi")),
    "Permission on Views/Menus": ("akun", _l("Izin per bagian")),
    "Pengaturan": ("pengaturan", _l("Pengaturan")), "OPD": ("pengaturan", _l("Daftar OPD")),
    "Hari Libur": ("pengaturan", _l("Hari libur tambahan")), "Model Saran OPD": ("pengaturan", _l("Model saran OPD")),
    "Validasi": ("validasi", _l("Validasi")), "Antrean NIK": ("validasi", _l("Antrean NIK")),
    "Statistik Validasi": ("validasi", _l("Statistik validasi")),
    "Registri SIAK Lokal": ("validasi", _l("Registri SIAK lokal")), "Disposisi": ("disposisi", _l("Disposisi")),
    "Meja OPD": ("opd", _l("Meja OPD")), "Sanggahan": ("sanggahan", _l("Sanggahan pelapor")),
    "Laporan": ("laporan", _l("Laporan")), "Riwayat Akses": ("laporan", _l("Riwayat akses")),
    "Rekap Pengaduan": ("laporan", _l("Rekap pengaduan")), "Pengendalian": ("kendali", _l("Pengendalian")),
    "Dasbor Kendali": ("kendali", _l("Dasbor kendali")), "Kotak Keluar": ("sistem", _l("Kotak keluar notifikasi")),
    "Kesehatan Sistem": ("sistem", _l("Kesehatan sistem")), "Kunci Open311": ("sistem", _l("Kunci API Open311")),
}

# action -> (name, description); %(obj)s is the resource's wording above.
PERMISSION_ACTIONS = {
    "can_list": (_l("Lihat daftar %(obj)s"), _l("Membuka daftar %(obj)s dan mencarinya.")),
    "can_show": (_l("Lihat rincian %(obj)s"), _l("Membuka halaman rincian %(obj)s.")),
    "can_add": (_l("Tambah %(obj)s"), _l("Menambahkan %(obj)s baru.")),
    "can_edit": (_l("Ubah %(obj)s"), _l("Mengubah data %(obj)s yang sudah ada.")),
    "can_delete": (_l("Hapus %(obj)s"), _l("Menghapus %(obj)s.")),
    "can_download": (_l("Unduh berkas %(obj)s"), _l("Mengunduh berkas yang dilampirkan pada %(obj)s.")),
    "can_read": (_l("Buka %(obj)s"), _l("Membuka dan membaca %(obj)s.")),
    "can_get": (_l("Baca %(obj)s"), _l("Membaca %(obj)s.")),
    "can_index": (_l("Buka %(obj)s"), _l("Membuka halaman %(obj)s.")),
    "can_export": (_l("Ekspor %(obj)s"), _l("Mengunduh %(obj)s sebagai berkas CSV.")),
    "can_create": (_l("Buat %(obj)s"), _l("Membuat %(obj)s baru.")),
    "can_revoke": (_l("Cabut %(obj)s"), _l("Mencabut %(obj)s sehingga tidak berlaku lagi.")),
    "can_resend": (_l("Kirim ulang dari %(obj)s"), _l("Mengirim ulang pemberitahuan yang gagal dari %(obj)s.")),
    "can_note": (_l("Catatan di %(obj)s"), _l("Menulis catatan internal pada pengaduan di %(obj)s.")),
    "can_answer": (_l("Jawab di %(obj)s"), _l("Menulis dan mengirim jawaban pengaduan di %(obj)s.")),
    "can_return": (_l("Kembalikan dari %(obj)s"),
                   _l("Mengembalikan pengaduan yang bukan wewenang OPD dari %(obj)s.")),
    "can_reroute": (_l("Disposisi ulang di %(obj)s"), _l("Meneruskan pengaduan ke OPD lain di %(obj)s.")),
    "can_versions": (_l("Versi di %(obj)s"), _l("Melihat versi lama pengaduan dan jawaban di %(obj)s.")),
    "can_decide": (_l("Putuskan di %(obj)s"), _l("Mengambil keputusan di %(obj)s.")),
    "can_link": (_l("Tautkan pengaduan di %(obj)s"),
                 _l("Menautkan pengaduan ke pengaduan sebelumnya dengan masalah yang sama, atau melepas tautannya, "
                    "di %(obj)s.")),
    "can_queue": (_l("Buka %(obj)s"), _l("Membuka %(obj)s dan mengambil pengaduan darinya.")),
    "can_check": (_l("Periksa di %(obj)s"), _l("Membuka halaman pemeriksaan NIK di %(obj)s.")),
    "can_attachment": (_l("Lampiran di %(obj)s"), _l("Membuka lampiran pengaduan di %(obj)s.")),
    "can_stats": (_l("Buka %(obj)s"), _l("Membuka angka %(obj)s.")),
    "can_form": (_l("Buka %(obj)s"), _l("Membuka formulir %(obj)s.")),
    "can_upload": (_l("Unggah ke %(obj)s"), _l("Mengunggah berkas ke %(obj)s.")),
    "can_userinfo": (_l("Lihat profil sendiri"), _l("Membuka halaman profil akun sendiri.")),
    "can_this_form_get": (_l("Buka formulir %(obj)s"), _l("Membuka formulir %(obj)s.")),
    "can_this_form_post": (_l("Simpan formulir %(obj)s"), _l("Menyimpan formulir %(obj)s.")),
    "resetmypassword": (_l("Ganti kata sandi sendiri"), _l("Mengganti kata sandi akun sendiri.")),
    "resetpasswords": (_l("Atur ulang kata sandi akun staf"), _l("Mengatur ulang kata sandi akun staf lain.")),
    "userinfoedit": (_l("Ubah profil sendiri"), _l("Mengubah nama pada profil akun sendiri.")),
    "unlock": (_l("Buka kunci akun staf"),
               _l("Membuka akun yang terkunci setelah terlalu banyak percobaan masuk gagal.")),
    "copyrole": (_l("Salin peran"), _l("Membuat peran baru dengan izin yang sama dengan peran terpilih.")),
    "menu_access": (_l("Menu “%(obj)s”"), _l("Menampilkan menu “%(obj)s” di bilah navigasi.")),
}

# Pairs whose own wording says more than the action's general one.
PERMISSION_PAIRS = {
    ("can_decide", "ValidatorDesk"): (_l("Putuskan NIK"),
                                      _l("Menandai NIK pengaduan valid (diteruskan ke OPD) atau tidak valid.")),
    ("can_decide", "Complaint"): (_l("Putuskan NIK lewat API"), _l("Memutuskan NIK pengaduan lewat API.")),
    ("can_read", "Complaint"): (_l("Baca pengaduan lewat API"),
                                _l("Membaca pengaduan lewat API, terbatas pada pengaduan yang boleh dilihat.")),
    ("can_decide", "Dispute"): (_l("Putuskan sanggahan"),
                                _l("Menerima sanggahan pelapor (pengaduan kembali ke OPD) atau menolaknya.")),
    ("can_read", "SecurityApi"): (_l("Masuk lewat API"), _l("Meminta token masuk untuk memakai API.")),
    ("can_upload", "RegistryImport"): (_l("Impor registri SIAK"),
                                       _l("Mengunggah berkas registri penduduk untuk pemeriksaan NIK.")),
    ("can_list", "PermissionViewModelView"): (_l("Lihat daftar izin"),
                                              _l("Membuka daftar semua izin dengan uraiannya.")),
}

PERMISSION_UNKNOWN_DESK = "lainnya"


class PermissionText(NamedTuple):
    desk_key: str
    desk: str
    name: str
    description: str
    known: bool


def permission_text(action: str, resource: str) -> PermissionText:
    """One permission in plain words, in the request's language: its desk, name and what it allows."""
    if action == "menu_access" and resource in PERMISSION_MENUS:
        desk, obj = PERMISSION_MENUS[resource]
    elif resource in PERMISSION_RESOURCES:
        desk, obj = PERMISSION_RESOURCES[resource]
    else:
        desk, obj = PERMISSION_UNKNOWN_DESK, None
    words = PERMISSION_PAIRS.get((action, resource)) or PERMISSION_ACTIONS.get(action)
    if obj is None or words is None:
        # Not declared above: the codes, so the gap is seen (and the unit test fails).
        return PermissionText(PERMISSION_UNKNOWN_DESK, str(PERMISSION_DESKS[PERMISSION_UNKNOWN_DESK]),
                              f"{action} · {resource}", "", False)
    name, description = (str(w) % {"obj": obj} if "%(obj)s" in str(w) else str(w) for w in words)
    return PermissionText(desk, str(PERMISSION_DESKS[desk]), name[:1].upper() + name[1:], description, True)


def resource_text(resource: str) -> tuple[str, str]:
    """(desk, name) of a resource (FAB's "view menu"): a screen, an API or a menu."""
    if resource in PERMISSION_RESOURCES:
        desk, obj = PERMISSION_RESOURCES[resource]
    elif resource in PERMISSION_MENUS:
        desk, obj = PERMISSION_MENUS[resource]
        obj = _l("menu %(name)s") % {"name": obj}
    else:
        return str(PERMISSION_DESKS[PERMISSION_UNKNOWN_DESK]), resource
    text = str(obj)
    return str(PERMISSION_DESKS[desk]), text[:1].upper() + text[1:]


def action_text(action: str) -> str:
    """The general name of an action (FAB's "permission"), without its resource."""
    words = PERMISSION_ACTIONS.get(action)
    if words is None:
        return action
    return str(words[0]).replace("%(obj)s", "…").replace("“…”", "…").strip()
