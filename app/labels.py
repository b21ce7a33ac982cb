"""Staff-facing labels shared by the desks, dashboard and recap (one wording per concept).

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
