"""Text normalisation for OPD suggestion: citizens write informally (WhatsApp, LAPOR!), with
abbreviations, Javanese words, reduplication by "2" and stretched letters. Pure Python.

The normaliser maps those onto the words the agencies' duties and keywords use, so a cold-start model
built from formal text still recognises "jln rusak gk dibenahi" or "dalane bolong".
"""

from __future__ import annotations

import re
import unicodedata

# Abbreviations and regional words → the standard word. Kept to words that are unambiguous in a
# complaint; the character n-grams take care of typos and affixes.
SLANG: dict[str, str] = {
    # function words and common abbreviations
    "yg": "yang", "yng": "yang", "dgn": "dengan", "dg": "dengan", "krn": "karena", "karna": "karena",
    "utk": "untuk", "untk": "untuk", "buat": "untuk", "tdk": "tidak", "tak": "tidak", "gk": "tidak",
    "ga": "tidak", "gak": "tidak", "nggak": "tidak", "ngga": "tidak", "enggak": "tidak", "engga": "tidak",
    "ndak": "tidak", "gag": "tidak", "g": "tidak", "blm": "belum", "blum": "belum", "sdh": "sudah",
    "udh": "sudah", "udah": "sudah", "dah": "sudah", "wis": "sudah", "wes": "sudah", "sudh": "sudah",
    "skrg": "sekarang", "skg": "sekarang", "sekrg": "sekarang", "msh": "masih", "masi": "masih",
    "jg": "juga", "lg": "lagi", "tp": "tapi", "tpi": "tapi", "sm": "sama", "dr": "dari", "dri": "dari",
    "bs": "bisa", "bisa2": "bisa", "trs": "terus", "trus": "terus", "bnyk": "banyak", "byk": "banyak",
    "akeh": "banyak", "kalo": "kalau", "klo": "kalau", "kl": "kalau", "spt": "seperti", "kyk": "seperti",
    "kayak": "seperti", "kaya": "seperti", "sampe": "sampai", "smpe": "sampai", "sy": "saya", "aq": "saya",
    "aku": "saya", "gw": "saya", "gue": "saya", "kmi": "kami", "org": "orang", "uwong": "orang",
    "wong": "orang", "tlg": "tolong", "tolonk": "tolong", "tulung": "tolong", "mhn": "mohon",
    "thn": "tahun", "th": "tahun", "bln": "bulan", "hr": "hari", "mgg": "minggu", "kmrn": "kemarin",
    "kemaren": "kemarin", "gmn": "bagaimana", "gimana": "bagaimana", "knp": "kenapa", "bgt": "banget",
    "bngt": "banget", "pdhl": "padahal", "pd": "pada", "ok": "oke", "dll": "lain", "dsb": "lain",
    "bpk": "bapak", "pak": "bapak", "bu": "ibu", "mas": "mas", "bp": "bapak", "sdr": "saudara",
    "rb": "ribu", "jt": "juta", "jam2": "jam", "hrs": "harus", "hrus": "harus", "sgt": "sangat",
    "pake": "pakai", "make": "pakai", "ama": "sama", "ato": "atau", "atw": "atau",
    # places and administration
    "jln": "jalan", "jl": "jalan", "jaln": "jalan", "dalan": "jalan", "dalane": "jalan", "ndalan": "jalan",
    "dsn": "dusun", "ds": "desa", "kec": "kecamatan", "kel": "kelurahan", "kab": "kabupaten",
    "pemkab": "pemerintah kabupaten", "pemda": "pemerintah daerah", "kades": "kepala desa",
    "kasun": "kepala dusun", "sekdes": "sekretaris desa", "perangkat2": "perangkat", "rmh": "rumah",
    "omah": "rumah", "sklh": "sekolah", "sekolahan": "sekolah", "pkm": "puskesmas", "rs": "rumah sakit",
    "rsud": "rsud rumah sakit", "rsj": "rumah sakit jiwa", "igd": "igd gawat darurat", "ugd": "igd gawat darurat",
    "ktp": "ktp", "ektp": "ktp elektronik", "el": "elektronik", "kk": "kartu keluarga", "capil": "dukcapil",
    "alun2": "alun alun", "perempatan": "simpang", "prapatan": "simpang", "pertigaan": "simpang",
    # things people complain about (Javanese / Madurese / colloquial)
    "bolong": "berlubang", "bolongan": "lubang", "jeglongan": "lubang", "kubangan": "lubang",
    "growong": "berlubang", "gronjal": "rusak", "ancur": "hancur", "ajur": "hancur", "remuk": "rusak",
    "didandani": "diperbaiki", "ndandani": "memperbaiki", "dibenahi": "diperbaiki", "dibangun": "dibangun",
    "ambrol": "ambruk", "ambles": "ambles", "kalen": "selokan", "got": "selokan", "gorong2": "gorong gorong",
    "mampet": "tersumbat", "buntu": "tersumbat", "banyu": "air",
    "bok": "sampah", "uwuh": "sampah", "sampa": "sampah", "numpuk": "menumpuk", "mambu": "bau",
    "bacin": "bau busuk", "lampu2": "lampu", "peteng": "gelap", "sepur": "kereta", "montor": "motor",
    "dagangan": "dagangan", "bakul": "pedagang", "tibo": "jatuh", "ceblok": "jatuh", "kejeblos": "jatuh",
    "nyetrum": "setrum", "disetrum": "setrum", "dipecat": "phk", "diphk": "phk", "pecat": "phk",
    "bansos2": "bansos", "ngamuk": "mengamuk", "duwit": "uang", "duit": "uang", "pungutan2": "pungutan",
    "wa": "whatsapp", "medsos": "media sosial", "online": "daring", "onlen": "daring",
}

# Words that say nothing about which agency is meant; left out of the word features (the character
# n-grams still see them, with a small weight after IDF).
STOPWORDS = frozenset("""
yang dan di ke dari ini itu dengan untuk pada adalah juga tidak sudah belum akan ada saya kami kita
mereka dia ia beliau anda bapak ibu mas mbak pak bu saudara warga masyarakat mohon tolong harap
segera bisa dapat karena sehingga agar supaya atau tapi tetapi namun padahal sangat sekali banget
lagi masih terus hanya cuma sama seperti kalau jika bila saat waktu ketika setiap tiap para oleh
dalam luar atas bawah sejak sampai hingga selama lalu kemarin sekarang nanti tahun bulan hari minggu
jam pagi siang sore malam apa siapa kenapa mengapa bagaimana dimana kapan mana pun lah kah nya
assalamualaikum wassalam terima kasih selamat salam hormat yth kepada bagi tentang mengenai soal
sebagai secara jadi menjadi buat bikin mau ingin minta meminta harus perlu sudah pernah sering
banyak sedikit semua seluruh beberapa lain sebuah satu dua tiga orang pihak hal kok ya iya oke
""".split())

_TOKEN = re.compile(r"[a-z]+(?:-[a-z]+)*|\d+")
_STRETCH = re.compile(r"([a-z])\1{2,}")
_REDUP = re.compile(r"\b([a-z]{2,})2\b")  # anak2 → anak anak


def fold(text: str) -> str:
    """Lower case, accents and punctuation away; digits kept (tokens of their own)."""
    text = text or ""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.lower()
    text = _REDUP.sub(r"\1 \1", text)
    return _STRETCH.sub(r"\1", text)


def tokens(text: str, folded: bool = False) -> list[str]:
    """The normalised words of a text: slang expanded, reduplications and hyphenated doubles merged."""
    out: list[str] = []
    for raw in _TOKEN.findall(text if folded else fold(text)):
        if raw.isdigit():
            continue
        # "anak-anak" → "anak", "ktp-el" → "ktp elektronik"
        words = [SLANG.get(w, w) for w in raw.split("-")]
        for part in " ".join(words).split():
            if out and out[-1] == part:  # "anak anak" → "anak"
                continue
            out.append(part)
    return out


def normalise(text: str, folded: bool = False) -> str:
    return " ".join(tokens(text, folded))


def content_words(text: str) -> list[str]:
    """The normalised words of an already normalised text without stop words (word features)."""
    return [w for w in text.split() if w not in STOPWORDS and len(w) > 1]
