"""The OPD-suggestion model: TF-IDF over word and character n-grams, one logistic regression per topic
(scikit-learn), a gazetteer for the kecamatan. Pure: no Flask, no database, no network.

Training imports scikit-learn and scipy; a loaded model suggests with numpy and mmh3 only (`vector`), so
a web worker that suggests never pays their memory.

Topics: each sectoral OPD is a topic of its own; every kecamatan shares one topic (`KECAMATAN_TOPIC`),
and the place names in the text say which kecamatan (see `places`).

Training data: the cold-start documents (each OPD's duties, split into clauses, and its keywords) and,
once there is history, the public text of answered complaints labelled with the OPD that finally
answered. A "bukan wewenang" return is negative evidence: in the returning OPD's own binary problem the
complaint counts `negative_weight` times as much as an ordinary negative.

Serialised models are a zip of numpy arrays and one JSON document, loaded with `allow_pickle=False`:
loading a stored model never runs code, whoever wrote the bytes.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable, NamedTuple, Sequence

import numpy as np

from . import vector
from .places import Gazetteer, Place
from .text import STOPWORDS, fold, normalise
from .vector import N_FEATURES

if TYPE_CHECKING:
    import scipy.sparse as sp

FORMAT = "lpo-routing/1"
KECAMATAN_TOPIC = "@kecamatan"
SUGGESTIONS_REMEMBERED = 1024  # per model; texts of at most Params.max_chars (4,000) characters

_CLAUSE = re.compile(r"[;:,.()]|\b(?:serta|dan juga|termasuk|meliputi|yang meliputi)\b")


@dataclass(frozen=True)
class OpdInfo:
    code: str
    name: str
    kind: str = "dinas"
    duties: str = ""
    keywords: str = ""  # ";"-separated


@dataclass(frozen=True)
class Example:
    """One past complaint: its public text, the OPD that finally answered it (None while unanswered),
    and the OPDs that returned it as "bukan wewenang"."""

    text: str
    opd: str | None
    returned_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    code: str
    name: str
    score: float


@dataclass(frozen=True)
class Params:
    word_weight: float = 1.0
    char_weight: float = 1.0
    C: float = 10.0
    cold_weight: float = 1.0  # each cold-start document
    history_weight: float = 1.0  # each answered complaint
    negative_weight: float = 3.0  # a "bukan wewenang" return, in the returning OPD's problem
    min_df: int = 1  # raised for large histories (features seen in fewer documents are dropped)
    max_chars: int = 4000


def topic_of(opd: OpdInfo) -> str:
    return KECAMATAN_TOPIC if opd.kind == "kecamatan" else opd.code


def kecamatan_name(opd: OpdInfo) -> str:
    return re.sub(r"^\s*kecamatan\s+", "", opd.name, flags=re.IGNORECASE)


def cold_start_documents(opd: OpdInfo) -> list[str]:
    """The duties as a whole and clause by clause, the keywords one by one, and the name."""
    docs = [opd.name]
    if opd.duties.strip():
        docs.append(opd.duties)
        docs += [c for c in (c.strip() for c in _CLAUSE.split(opd.duties)) if len(c) > 3]
    docs += [k.strip() for k in opd.keywords.split(";") if k.strip()]
    if opd.kind == "kecamatan":
        # The shared topic must not learn one kecamatan's name.
        docs = [re.sub(re.escape(kecamatan_name(opd)), " ", d, flags=re.IGNORECASE) for d in docs]
    return docs


class Features:
    """Hashed word (1-2) and character (3-5, within words) n-grams, TF-IDF weighted with the training
    documents' document frequencies, each block L2-normalised. Stateless apart from the IDF arrays.
    Every text is counted and weighed by `vector` (numpy and mmh3); training stacks the rows into a scipy
    matrix for scikit-learn, a suggestion uses its one row as it is."""

    def __init__(self, gazetteer: Gazetteer, params: Params, idf: dict[str, np.ndarray] | None = None):
        self.gazetteer = gazetteer
        self.params = params
        self.idf = idf or {}

    def _blocks(self) -> tuple[tuple[str, float], ...]:
        return (("word", self.params.word_weight), ("char", self.params.char_weight))

    def prepare(self, folded: str) -> str:
        """The topic text of a folded text: place names out, slang normalised, the regency's name out."""
        words = normalise(self.gazetteer.strip(folded, folded=True), folded=True).split()
        return " ".join(w for w in words if w != "lumajang")

    def counts(self, text: str, folded: bool = False) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per block, the columns one text uses and how often."""
        return vector.counts(self.prepare(text if folded else fold(text[: self.params.max_chars])), STOPWORDS)

    def fit_idf(self, counts: Sequence[dict[str, tuple[np.ndarray, np.ndarray]]]) -> None:
        n = len(counts)
        for block in ("word", "char"):
            used = [c[block][0] for c in counts]
            df = np.bincount(np.concatenate(used) if used else np.zeros(0, np.int64), minlength=N_FEATURES)
            idf = np.where(df >= self.params.min_df, np.log((1 + n) / (1 + df)) + 1.0, 0.0)
            self.idf[block] = idf.astype(np.float32)

    def weigh(self, counts: Sequence[dict[str, tuple[np.ndarray, np.ndarray]]]) -> "sp.csr_matrix":
        """The weighted rows of many texts as one matrix (texts × 2 · N_FEATURES), for training."""
        import scipy.sparse as sp

        rows = [vector.weigh(c, self.idf, self._blocks()) for c in counts]
        indptr = np.concatenate([[0], np.cumsum([len(r.data) for r in rows], dtype=np.int64)])
        indices = np.concatenate([r.indices for r in rows]) if rows else np.zeros(0, np.int64)
        data = np.concatenate([r.data for r in rows]) if rows else np.zeros(0, np.float32)
        return sp.csr_matrix((data, indices, indptr), shape=(len(rows), 2 * N_FEATURES))

    def transform(self, texts: Sequence[str], folded: bool = False) -> "sp.csr_matrix":
        return self.weigh([self.counts(t, folded) for t in texts])

    def vector(self, text: str, folded: bool = False) -> vector.Row:
        """One text's row of `transform`, without scipy."""
        return vector.weigh(self.counts(text, folded), self.idf, self._blocks())


class Coef(NamedTuple):
    """The topics' weights, topics × (2 · N_FEATURES), as the arrays of a CSR matrix."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray


@dataclass
class TrainingReport:
    cold_documents: int = 0
    answered: int = 0
    returns: int = 0
    topics: int = 0
    features: int = 0


class Model:
    """A trained model: immutable after construction, so one instance serves every thread."""

    def __init__(self, opds: Sequence[OpdInfo], topics: list[str], features: Features, coef: Coef,
                 intercept: np.ndarray, report: TrainingReport | None = None):
        self.opds = {o.code: o for o in opds}
        self.topics = topics
        self.features = features
        self.coef = coef
        # The weights of the features some topic uses, dense (features × topics): a suggestion picks the
        # rows of its text's features.
        self._columns = np.unique(coef.indices)
        dense = np.zeros((len(topics), len(self._columns)), dtype=np.float32)
        rows = np.repeat(np.arange(len(topics)), np.diff(coef.indptr))
        dense[rows, np.searchsorted(self._columns, coef.indices)] = coef.data
        self._weights = np.ascontiguousarray(dense.T)
        self.intercept = intercept
        self.report = report or TrainingReport()
        self._kecamatan = [o for o in opds if o.kind == "kecamatan"]
        # A desk page shows the same complaints' suggestions on every request (the dispatch queue: 25 rows,
        # 0.2-0.3 ms each); the model never changes, so its answers are remembered.
        self._remembered = lru_cache(maxsize=SUGGESTIONS_REMEMBERED)(self._suggest)

    @property
    def params(self) -> Params:
        return self.features.params

    # ------------------------------------------------------------------ prediction

    def topic_scores(self, text: str, folded: bool = False) -> dict[str, float]:
        """Topic → share; empty when the text has no word or n-gram the model knows."""
        x = self.features.vector(text, folded)
        if len(x.data) == 0:
            return {}
        rows = np.searchsorted(self._columns, x.indices).clip(max=max(len(self._columns) - 1, 0))
        known = self._columns[rows] == x.indices if len(self._columns) else np.zeros(len(x.data), bool)
        raw = x.data[known] @ self._weights[rows[known]] + self.intercept
        prob = 1.0 / (1.0 + np.exp(-raw))
        total = float(prob.sum()) or 1.0
        return {t: float(p / total) for t, p in zip(self.topics, prob)}

    def suggest(self, text: str, k: int = 3) -> list[Suggestion]:
        """The k most likely OPDs for a complaint text, best first; scores sum to at most 1."""
        text = (text or "")[: self.params.max_chars]
        return list(self._remembered(text, k))

    def _suggest(self, text: str, k: int) -> tuple[Suggestion, ...]:
        folded = fold(text)
        scores = self.topic_scores(folded, folded=True)
        kec_score = scores.pop(KECAMATAN_TOPIC, 0.0)
        ranked = [(code, s) for code, s in scores.items()]
        if kec_score and self._kecamatan:
            for code, share in self.features.gazetteer.locate(folded, folded=True).items():
                if code in self.opds:
                    ranked.append((code, kec_score * share))
        ranked.sort(key=lambda cs: (-cs[1], cs[0]))
        return tuple(Suggestion(code, self.opds[code].name, round(score, 4)) for code, score in ranked[:k])

    # ------------------------------------------------------------------ storage

    def to_bytes(self) -> bytes:
        meta = {
            "format": FORMAT, "params": asdict(self.params), "topics": self.topics,
            "opds": [asdict(o) for o in self.opds.values()],
            "places": [asdict(p) for p in self.features.gazetteer.places],
            "report": asdict(self.report),
        }
        coef = self.coef
        arrays = {"coef_data": coef.data.astype(np.float32), "coef_indices": coef.indices.astype(np.int32),
                  "coef_indptr": coef.indptr.astype(np.int64), "intercept": self.intercept.astype(np.float64)}
        for block, idf in self.features.idf.items():
            nz = np.flatnonzero(idf)
            arrays[f"idf_{block}_index"] = nz.astype(np.int32)
            arrays[f"idf_{block}_value"] = idf[nz].astype(np.float32)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("meta.json", json.dumps(meta, ensure_ascii=False))
            for name, array in arrays.items():
                out = io.BytesIO()
                np.save(out, array, allow_pickle=False)
                archive.writestr(f"{name}.npy", out.getvalue())
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, payload: bytes) -> "Model":
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            meta = json.loads(archive.read("meta.json").decode("utf-8"))
            if meta.get("format") != FORMAT:
                raise ValueError(f"unknown model format {meta.get('format')!r}")

            def array(name: str) -> np.ndarray:
                return np.load(io.BytesIO(archive.read(f"{name}.npy")), allow_pickle=False)

            params = Params(**meta["params"])
            idf = {}
            for block in ("word", "char"):
                full = np.zeros(N_FEATURES, dtype=np.float32)
                full[array(f"idf_{block}_index")] = array(f"idf_{block}_value")
                idf[block] = full
            topics = list(meta["topics"])
            coef = Coef(array("coef_data"), array("coef_indices"), array("coef_indptr"))
            intercept = array("intercept")
        gazetteer = Gazetteer([Place(**p) for p in meta["places"]])
        opds = [OpdInfo(**o) for o in meta["opds"]]
        return cls(opds, topics, Features(gazetteer, params, idf), coef, intercept,
                   TrainingReport(**meta.get("report", {})))


def build_gazetteer(opds: Sequence[OpdInfo], desa_rows: Iterable[dict]) -> Gazetteer:
    return Gazetteer.build({o.code: kecamatan_name(o) for o in opds if o.kind == "kecamatan"}, list(desa_rows))


def train(opds: Sequence[OpdInfo], history: Iterable[Example] = (), *, desa_rows: Iterable[dict] = (),
          params: Params | None = None) -> Model:
    """Train on the cold-start documents of `opds` plus `history`. Examples naming an OPD outside
    `opds` (deactivated, removed) count only as negatives for the topics they were returned by."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    params = params or Params()
    opds = list(opds)
    by_code = {o.code: o for o in opds}
    topics = sorted({topic_of(o) for o in opds})
    index = {t: i for i, t in enumerate(topics)}

    texts: list[str] = []
    labels: list[int] = []  # topic index, -1 for none
    weights: list[float] = []
    negatives: list[list[int]] = []  # per document: topics it was returned by
    report = TrainingReport(topics=len(topics))
    seen_cold: set[tuple[str, str]] = set()
    for opd in opds:
        for doc in cold_start_documents(opd):
            key = (topic_of(opd), doc.lower())
            if key in seen_cold:  # the kecamatan share one text
                continue
            seen_cold.add(key)
            texts.append(doc)
            labels.append(index[topic_of(opd)])
            weights.append(params.cold_weight)
            negatives.append([])
            report.cold_documents += 1
    for example in history:
        final = by_code.get(example.opd) if example.opd else None
        final_topic = index[topic_of(final)] if final else -1
        returned = sorted({index[topic_of(by_code[c])] for c in example.returned_by if c in by_code} - {final_topic})
        if final_topic < 0 and not returned:
            continue
        texts.append(example.text)
        labels.append(final_topic)
        weights.append(params.history_weight)
        negatives.append(returned)
        report.answered += final_topic >= 0
        report.returns += len(returned)

    features = Features(gazetteer=build_gazetteer(opds, desa_rows), params=params)
    if report.answered + report.returns > 2000 and params.min_df == 1:
        features.params = params = Params(**{**asdict(params), "min_df": 2})
    counts = [features.counts(t) for t in texts]
    features.fit_idf(counts)
    x = features.weigh(counts)
    # Only the columns some document uses: the solver's cost then follows the data, not the hash size.
    used = np.unique(x.indices)
    x = x[:, used]
    labels_arr = np.asarray(labels)
    base = np.asarray(weights, dtype=np.float64)

    rows, intercepts = [], []
    for t in range(len(topics)):
        y = (labels_arr == t).astype(int)
        w = base.copy()
        returned_here = np.asarray([t in n for n in negatives])
        w[returned_here] *= params.negative_weight
        # Documents with no final OPD only teach the topics that returned them.
        keep = (labels_arr >= 0) | returned_here
        if y[keep].sum() == 0:
            rows.append(np.zeros(len(used), dtype=np.float32))
            intercepts.append(-10.0)
            continue
        clf = LogisticRegression(C=params.C, solver="liblinear", dual=True, max_iter=500)
        clf.fit(x[keep], y[keep], sample_weight=w[keep])
        rows.append(clf.coef_.ravel().astype(np.float32))
        intercepts.append(float(clf.intercept_[0]))
    dense = np.vstack(rows)
    nz_rows, nz_cols = np.nonzero(dense)
    coef = sp.csr_matrix((dense[nz_rows, nz_cols], (nz_rows, used[nz_cols])), shape=(len(topics), 2 * N_FEATURES))
    coef.eliminate_zeros()
    coef.sort_indices()
    report.features = int(sum(int(np.count_nonzero(v)) for v in features.idf.values()))
    return Model(opds, topics, features, Coef(coef.data.astype(np.float32), coef.indices.astype(np.int32),
                                              coef.indptr.astype(np.int64)), np.asarray(intercepts), report)


# ---------------------------------------------------------------------- measurement


@dataclass(frozen=True)
class Labelled:
    text: str
    acceptable: frozenset[str]


@dataclass
class Evaluation:
    total: int = 0
    top1: int = 0
    top3: int = 0
    misses: list[tuple[str, list[str], list[str]]] = field(default_factory=list)  # text, wanted, got

    @property
    def top1_rate(self) -> float:
        return self.top1 / self.total if self.total else 0.0

    @property
    def top3_rate(self) -> float:
        return self.top3 / self.total if self.total else 0.0


def parse_labelled(tsv: str) -> list[Labelled]:
    """A TSV with a header naming at least `opd` (acceptable codes separated by "|") and `text`."""
    lines = [line for line in tsv.splitlines() if line.strip()]
    if not lines:
        return []
    header = [h.strip().lower() for h in lines[0].split("\t")]
    if "opd" not in header or "text" not in header:
        raise ValueError("kolom 'opd' dan 'text' wajib ada di baris judul")
    i_opd, i_text = header.index("opd"), header.index("text")
    out = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) <= max(i_opd, i_text):
            raise ValueError(f"baris {number}: kolom kurang")
        codes = frozenset(c.strip() for c in cells[i_opd].split("|") if c.strip())
        if not codes or not cells[i_text].strip():
            raise ValueError(f"baris {number}: opd atau text kosong")
        out.append(Labelled(cells[i_text].strip(), codes))
    return out


def evaluate(model: Model, rows: Iterable[Labelled]) -> Evaluation:
    result = Evaluation()
    for row in rows:
        got = [s.code for s in model.suggest(row.text, k=3)]
        result.total += 1
        result.top1 += bool(got) and got[0] in row.acceptable
        result.top3 += any(code in row.acceptable for code in got)
        if not got or got[0] not in row.acceptable:
            result.misses.append((row.text, sorted(row.acceptable), got))
    return result

