"""Every text's features, with numpy and mmh3 only: training counts and weighs each text here (then
stacks the rows for scikit-learn), and a web worker suggesting an OPD does the same for one text without
importing scikit-learn or scipy (about 100 MB per worker).

Hashed word 1-2-grams exactly as scikit-learn's HashingVectorizer hashes them (MurmurHash3 of the UTF-8
bytes, seed 0, |h| mod n; the models stored before this module were trained with it, and
tests/unit/test_routing.py holds the two equal), hashed character 3-5-grams within words, each block weighted
by sublinear tf × idf and L2-normalised.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Mapping, NamedTuple

import mmh3
import numpy as np

N_FEATURES = 2 ** 20
# scikit-learn's default token_pattern (HashingVectorizer(analyzer="word")).
TOKEN = re.compile(r"(?u)\b\w\w+\b")
_INT32_MIN = -2 ** 31


class Row(NamedTuple):
    """One text's weighted features: column indices (word block, then char block offset by N_FEATURES)."""

    indices: np.ndarray
    data: np.ndarray


def word_index(feature: str) -> int:
    h = mmh3.hash(feature, 0, signed=True)
    if h == _INT32_MIN:  # as scikit-learn's _hashing_fast: abs(-2**31) overflows an int32
        return (2 ** 31 - 1 - (N_FEATURES - 1)) % N_FEATURES
    return abs(h) % N_FEATURES


def word_features(prepared: str, stop_words: frozenset[str]) -> list[str]:
    """HashingVectorizer's word analyzer with ngram_range=(1, 2): tokens without stop words, then pairs."""
    tokens = [t for t in TOKEN.findall(prepared) if t not in stop_words]
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


@lru_cache(maxsize=50_000)  # about 10 MB at most
def char_grams(word: str) -> np.ndarray:
    """Hashed character 3- to 5-grams of one word padded with spaces (as scikit-learn's "char_wb").
    Cached: a complaint repeats its words and the words of complaints repeat, so a long text costs a
    few dictionary look-ups per word instead of a dozen hashes."""
    padded = f" {word} "
    grams = [padded[i:i + n] for n in (3, 4, 5) for i in range(len(padded) - n + 1)]
    return np.fromiter((mmh3.hash(g, 0, signed=False) % N_FEATURES for g in grams), dtype=np.int32,
                       count=len(grams))


def _unique(columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.unique(columns, return_counts=True) if len(columns) else (columns, np.zeros(0, np.int64))


def counts(prepared: str, stop_words: frozenset[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per block, the columns a prepared text uses and how often."""
    words = np.fromiter((word_index(f) for f in word_features(prepared, stop_words)), dtype=np.int64)
    pieces = prepared.split()
    chars = np.concatenate([char_grams(w) for w in pieces]).astype(np.int64) if pieces else np.zeros(0, np.int64)
    return {"word": _unique(words), "char": _unique(chars)}


def weigh(block_counts: Mapping[str, tuple[np.ndarray, np.ndarray]], idf: Mapping[str, np.ndarray],
          weights: Iterable[tuple[str, float]]) -> Row:
    indices, data = [], []
    for offset, (block, weight) in enumerate(weights):
        columns, count = block_counts[block]
        values = (np.float32(1.0) + np.log(count.astype(np.float32))) * idf[block][columns]
        keep = values != 0
        columns, values = columns[keep], values[keep]
        if len(values):
            values *= np.float32(weight) / np.sqrt(np.sum(values ** 2, dtype=np.float32))
        indices.append(columns + offset * N_FEATURES)
        data.append(values)
    return Row(np.concatenate(indices), np.concatenate(data))
